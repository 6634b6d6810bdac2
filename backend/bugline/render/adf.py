"""Atlassian Document Format (Jira Cloud v3 ``description`` and comment ``body``).

ADF is a JSON tree, so the customer's text can only ever be the ``text`` of a text node:
no markup in it is interpreted, by construction
(https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/).
What we add: headings, paragraphs with hard breaks, bullet lists, code blocks for console
output, and marks (strong, code, link). A link mark's ``href`` is only ever http(s).
Text nodes must not be empty, and the ``code`` mark combines with no mark but ``link``
(https://developer.atlassian.com/cloud/jira/platform/apis/document/marks/code/).
"""

from __future__ import annotations

import json
from typing import Any

from bugline.connectors.document import ReportDocument, Update
from bugline.render import common as c
from bugline.render import outline
from bugline.render.outline import Code, Items, Line, Para, Section, Span

Node = dict[str, Any]


def report(doc: ReportDocument) -> Node:
    return c.fitted(lambda budget: render(outline.report(doc, budget)), size, c.ADF_LIMIT)


def update(change: Update) -> Node:
    return render(outline.update(change))


def render(sections: tuple[Section, ...]) -> Node:
    content: list[Node] = []
    for section in sections:
        if section.heading:
            content.append({"type": "heading", "attrs": {"level": 3}, "content": [_text(section.heading)]})
        content.extend(_block(b) for b in section.blocks)
    return {"type": "doc", "version": 1, "content": content}


def _block(block: Para | Items | Code) -> Node:
    if isinstance(block, Para):
        return paragraph(block.spans)
    if isinstance(block, Items):
        return {
            "type": "orderedList" if block.ordered else "bulletList",
            "content": [{"type": "listItem", "content": [paragraph(item)]} for item in block.items],
        }
    content = [_text(block.text)] if block.text else []
    return {"type": "codeBlock", "attrs": {"language": "text"}, "content": content}


def size(node: Node) -> int:
    """How long Jira counts the document: its JSON, as sent."""
    return len(json.dumps(node))


def paragraph(spans: Line) -> Node:
    nodes: list[Node] = []
    for span in spans:
        nodes.extend(_inline(span))
    return {"type": "paragraph", "content": nodes}


def _inline(span: Span) -> list[Node]:
    marks: list[Node] = []
    if span.style == "strong":
        marks.append({"type": "strong"})
    elif span.style == "code":
        marks.append({"type": "code"})
    elif span.style == "link" and span.url:
        marks.append({"type": "link", "attrs": {"href": span.url}})
    nodes: list[Node] = []
    for i, line in enumerate(span.text.split("\n")):
        if i:
            nodes.append({"type": "hardBreak"})
        if line:
            nodes.append(_text(line, marks))
    return nodes


def _text(value: str, marks: list[Node] | None = None) -> Node:
    node: Node = {"type": "text", "text": value}
    if marks:
        node["marks"] = [dict(m) for m in marks]
    return node
