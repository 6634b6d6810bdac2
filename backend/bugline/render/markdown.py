"""GitHub-flavoured Markdown (GitHub issues, Linear descriptions).

A report is the customer's text, so nothing in it may become markup in the ticket:
- every Markdown metacharacter is backslash-escaped (CommonMark: any ASCII punctuation may
  be escaped, https://spec.commonmark.org/0.31.2/#backslash-escapes), ``<`` included, so no
  raw HTML, no HTML comment, no autolink ``<…>`` and no link can start; ``&`` too, so no
  entity (``&#64;``) can smuggle a character back in;
- line starts that would open a block (``1.`` lists, indentation) are neutralised;
- GitHub links bare URLs, ``www.`` and ``mailto:`` (GFM extended autolinks,
  https://github.github.com/gfm/#autolinks-extension-): those go into code spans;
- GitHub pings ``@name`` and links ``#123``/``GH-123`` after rendering
  (https://docs.github.com/en/get-started/writing-on-github/working-with-advanced-formatting/autolinked-references-and-urls):
  a zero-width joiner after ``@``/``#`` breaks them;
- code blocks use a backtick fence longer than any backtick run inside
  (https://spec.commonmark.org/0.31.2/#fenced-code-blocks), so content cannot close them.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from bugline.connectors.document import ReportDocument, Update
from bugline.render import common as c
from bugline.render import outline
from bugline.render.outline import Code, Items, Line, Para, Section, Span

ZWJ = "\u200d"
# Metacharacters escaped everywhere, and those that only open a block at a line's start
# (headings, list items, setext underlines; "." and ")" after a line's digits).
_SPECIAL = frozenset("\\`*_{}[]()<>!|~&$")
_LINE_START = frozenset("#+-=")
# @user, @org/team (not e-mail addresses); #123 and owner/repo#123 (a cross-reference would
# also post a back-link into the other repository's issue).
_MENTION = re.compile(r"(?<![\w`])@(?=[\w-])|#(?=\d)|(?<![\w`])#(?=[\w-])")
_GH_REF = re.compile(r"(?i)\b(GH)-(?=\d)")
_AUTOLINK = re.compile(r"(?i)\b(?:https?://|ftp://|www\.|mailto:|xmpp:)[^\s<>]*")
_LIST_NUMBER = re.compile(r"^(\d{1,9})([.)])")
_BACKTICKS = re.compile(r"`+")


def report(doc: ReportDocument) -> str:
    return c.fitted(lambda budget: render(outline.report(doc, budget)), len, c.BODY_LIMIT)


def update(change: Update) -> str:
    return render(outline.update(change))


def render(sections: tuple[Section, ...]) -> str:
    out: list[str] = []
    for section in sections:
        if section.heading:
            out.append(f"### {escape(section.heading)}")
        out.extend(_block(b) for b in section.blocks)
    return "\n\n".join(out) + "\n"


def _block(block: Para | Items | Code) -> str:
    if isinstance(block, Para):
        return _spans(block.spans)
    if isinstance(block, Items):
        rows = []
        for i, item in enumerate(block.items, 1):
            marker = f"{i}. " if block.ordered else "- "
            # Continuation lines are indented under the marker to stay in the item.
            rows.append(marker + _spans(item).replace("\n", "\n" + " " * len(marker)))
        return "\n".join(rows)
    return fence(block.text)


def _spans(spans: Line) -> str:
    return "".join(_span(s, line_start=i == 0) for i, s in enumerate(spans))


def _span(span: Span, line_start: bool) -> str:
    if span.style == "strong":
        return f"**{escape(span.text, line_start)}**"
    if span.style == "code":
        return code_span(span.text)
    if span.style == "link" and span.url:
        return f"[{escape(span.text, line_start)}](<{link_target(span.url)}>)"
    return escape(span.text, line_start)


def escape(text: str, line_start: bool = True) -> str:
    """The customer's text as Markdown that renders as exactly that text, and nothing else.

    ``line_start``: the text begins a line in the output, so its first line is treated
    like every following one (no leading indentation, no list marker)."""
    lines: list[str] = []
    for i, raw in enumerate(text.split("\n")):
        at_start = line_start or i > 0
        # Leading spaces would make an indented code block after a blank line.
        line = raw.lstrip() if at_start else raw
        if not line.strip() and (i > 0 or line_start):
            continue  # a blank line would end the paragraph or list item it sits in
        lines.append(_escape_line(line, at_start))
    return "\n".join(lines)


def _escape_line(line: str, at_start: bool) -> str:
    out: list[str] = []
    pos = 0
    for m in _AUTOLINK.finditer(line):
        out.append(_escape_words(line[pos : m.start()], at_start=at_start and pos == 0))
        out.append(code_span(m.group(0)))
        pos = m.end()
    out.append(_escape_words(line[pos:], at_start=at_start and pos == 0))
    return "".join(out)


def _escape_words(text: str, at_start: bool) -> str:
    if not text:
        return ""
    text = _MENTION.sub(lambda m: m.group(0) + ZWJ, text)
    text = _GH_REF.sub(lambda m: m.group(1) + "-" + ZWJ, text)
    escaped = "".join("\\" + ch if ch in _SPECIAL else ch for ch in text)
    if at_start:
        escaped = _LIST_NUMBER.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
        if escaped[0] in _LINE_START:
            escaped = "\\" + escaped
    return escaped


def code_span(text: str) -> str:
    """Inline code that no backtick run inside can close (CommonMark code spans)."""
    text = " ".join(text.split("\n"))
    longest = max((len(r) for r in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str) -> str:
    """A fenced code block whose fence is longer than any backtick run in ``text``."""
    longest = max((len(r) for r in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def link_target(url: str) -> str:
    """A link destination inside ``<…>``: anything else (non-ASCII) is percent-encoded;
    ``safe_url`` already refused ``<``, ``>``, spaces and backslashes."""
    return quote(url, safe="!#$%&'()*+,/:;=?@[]~-._")
