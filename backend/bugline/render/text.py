"""Plain text (email text parts, fields that show text as typed).

Nothing is markup in plain text, so escaping is only ``common.clean``: no control
characters, no bidi overrides. Links show their URL after the label.
"""

from __future__ import annotations

from bugline.connectors.document import ReportDocument, Update
from bugline.render import common as c
from bugline.render import outline
from bugline.render.outline import Code, Items, Line, Para, Section


def report(doc: ReportDocument) -> str:
    return c.fitted(lambda budget: render(outline.report(doc, budget)), len, c.BODY_LIMIT)


def update(change: Update) -> str:
    return render(outline.update(change))


def render(sections: tuple[Section, ...]) -> str:
    out: list[str] = []
    for section in sections:
        if section.heading:
            out.append(f"{section.heading}\n{'-' * len(section.heading)}")
        for block in section.blocks:
            out.append(_block(block))
    return "\n\n".join(out) + "\n"


def _block(block: Para | Items | Code) -> str:
    if isinstance(block, Para):
        return _line(block.spans)
    if isinstance(block, Items):
        rows = []
        for i, item in enumerate(block.items, 1):
            marker = f"{i}. " if block.ordered else "- "
            rows.append(marker + _line(item).replace("\n", "\n" + " " * len(marker)))
        return "\n".join(rows)
    return "\n".join("    " + line if line else "" for line in block.text.split("\n"))


def _line(spans: Line) -> str:
    parts = []
    for span in spans:
        if span.style == "link" and span.url != span.text:
            parts.append(f"{span.text} <{span.url}>")
        else:
            parts.append(span.text)
    return "".join(parts)
