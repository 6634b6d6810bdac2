"""Rendering dashboard pages: one autoescaped Jinja2 environment over templates/dash, the
signed-in agent and CSRF token in every page, and the headers every page carries.

Pages run only our own scripts (``script-src 'self'``: no inline script, so an injected
``<script>`` in a customer's text could not run even if escaping failed) and load media
only from the origins a page names (the S3 endpoint of presigned URLs). Customer content
is never served from the app's origin as HTML: it is text in these templates, escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bugline.dashboard.auth import DashError, LoginRequired, current_agent, login_url
from bugline.dashboard.sessions import Agent
from bugline.routes.edge import app_state

HERE = Path(__file__).resolve().parent.parent
SEVERITIES = ("critical", "high", "medium", "low")


def when(at: datetime | None) -> str:
    if at is None:
        return ""
    at = at.astimezone(UTC)
    return f"{at:%Y-%m-%d %H:%M} UTC"


def ago(at: datetime | None, now: datetime | None = None) -> str:
    """ "5 min ago", "3 h ago", "12 d ago": the inbox's age column."""
    if at is None:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - at).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


templates = Environment(
    loader=FileSystemLoader(HERE / "templates" / "dash"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["when"] = when
templates.filters["ago"] = ago
templates.globals["SEVERITIES"] = SEVERITIES
templates.globals["urlencode"] = urlencode


def csp(media_origins: Iterable[str] = ()) -> str:
    media = " ".join(sorted({o for o in media_origins if o}))
    src = f"'self' {media}".strip()
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {src} data:; "
        f"media-src {src}; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def render(
    request: Request,
    agent: Agent | None,
    name: str,
    *,
    status: int = 200,
    media_origins: Iterable[str] = (),
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A dashboard page. Templates extend ``base.html`` and get ``agent``, ``csrf``,
    ``base`` (the path prefix), ``path`` and ``project`` (None unless given)."""
    base = urlsplit(app_state(request).settings.effective_public_url).path.rstrip("/")
    context.setdefault("project", None)
    html = templates.get_template(name).render(
        agent=agent, csrf=agent.csrf if agent else "", base=base, path=request.url.path, **context
    )
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": csp(media_origins),
            "Cache-Control": "no-store",
            "Referrer-Policy": "same-origin",
            "X-Robots-Tag": "noindex, nofollow",
            **(headers or {}),
        },
    )


def redirect(path: str, **query: str) -> RedirectResponse:
    """303 See Other after a POST (the browser then GETs ``path``)."""
    url = path + ("?" + urlencode(query) if query else "")
    return RedirectResponse(url, status_code=303)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or bool(
        request.headers.get("x-csrf-token")
    )


async def handle_dash_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DashError)
    if _wants_json(request):
        return JSONResponse(
            {"error": {"code": exc.status, "message": exc.title, "detail": exc.text}}, exc.status
        )
    agent = await current_agent(request)
    return render(request, agent, "error.html", status=exc.status, title=exc.title, text=exc.text)


async def handle_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if _wants_json(request):
        return JSONResponse({"error": {"code": 401, "message": "sign in first"}}, 401)
    return RedirectResponse(login_url(exc.next_path), status_code=303)
