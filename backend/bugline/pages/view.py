"""Rendering the customer's pages: one Jinja2 environment (autoescaped), and the headers
every one of them carries.

The URLs hold capabilities (a status token, an unsubscribe token), so no page may leak its
URL (``Referrer-Policy: no-referrer``), be stored by a cache (``no-store``) or be indexed
(``X-Robots-Tag``). The pages run no script at all and load only our own stylesheet; forms
post only back to us (CSP ``form-action 'self'``), and nobody may frame them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse

from bugline.pages.language import Words

HERE = Path(__file__).resolve().parent.parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


templates = Environment(
    loader=FileSystemLoader(HERE / "templates" / "pages"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def prefix(public_url: str) -> str:
    """The path the app is served under ("" at a host's root), for links and the stylesheet:
    path-absolute links work whichever host name the customer used."""
    return urlsplit(public_url).path.rstrip("/")


def page(
    name: str,
    *,
    public_url: str,
    words: Words,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page in ``words``' language: templates say ``t("key", ...)`` for every sentence."""
    base = prefix(public_url)
    context.setdefault("project_name", "")
    html = templates.get_template(name).render(
        base=base, stylesheet=f"{base}/static/pages.css", t=words, lang=words.locale, **context
    )
    return HTMLResponse(
        html,
        status_code=status,
        # The page's language follows the report (and the visitor's Accept-Language): caches
        # are already told not to store it; Content-Language says which one it is.
        headers={**HEADERS, "Content-Language": words.locale, **(headers or {})},
    )
