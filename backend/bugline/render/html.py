"""HTML (Zendesk ``comment.html_body``, Freshdesk ``description``, email HTML parts).

Only our own tags appear: h3, p, ul/ol/li, strong, code, pre, a, br. Every piece of the
customer's text goes through ``html.escape`` (quotes too), and a link's ``href`` is only
ever an http(s) URL (``common.safe_url``; javascript:, data: and the like stay text),
opened with ``rel="noopener noreferrer"`` so the target page cannot reach back
(https://html.spec.whatwg.org/multipage/links.html#link-type-noopener).
"""

from __future__ import annotations

from html import escape

from bugline.connectors.document import ReportDocument, Update
from bugline.render import common as c
from bugline.render import outline
from bugline.render.outline import Code, Items, Line, Para, Section, Span


def report(doc: ReportDocument) -> str:
    return c.fitted(lambda budget: render(outline.report(doc, budget)), len, c.BODY_LIMIT)


def update(change: Update) -> str:
    return render(outline.update(change))


def render(sections: tuple[Section, ...]) -> str:
    out: list[str] = []
    for section in sections:
        if section.heading:
            out.append(f"<h3>{escape(section.heading)}</h3>")
        out.extend(_block(b) for b in section.blocks)
    return "\n".join(out) + "\n"


def _block(block: Para | Items | Code) -> str:
    if isinstance(block, Para):
        return f"<p>{_spans(block.spans)}</p>"
    if isinstance(block, Items):
        tag = "ol" if block.ordered else "ul"
        items = "".join(f"<li>{_spans(item)}</li>" for item in block.items)
        return f"<{tag}>{items}</{tag}>"
    return f"<pre><code>{escape(block.text)}</code></pre>"


def _spans(spans: Line) -> str:
    return "".join(_span(s) for s in spans)


def _span(span: Span) -> str:
    body = text(span.text)
    if span.style == "strong":
        return f"<strong>{body}</strong>"
    if span.style == "code":
        return f"<code>{body}</code>"
    if span.style == "link" and span.url:
        href = escape(span.url, quote=True)
        return f'<a href="{href}" rel="noopener noreferrer" target="_blank">{body}</a>'
    return body


def text(value: str) -> str:
    """Escaped text; its line breaks shown as <br>."""
    return "<br>".join(escape(line) for line in value.split("\n"))
