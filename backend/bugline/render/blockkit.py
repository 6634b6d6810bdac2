"""Slack Block Kit (incoming webhooks and ``chat.postMessage``).

Shape: ``{"text": fallback, "blocks": [header, summary], "attachments": [{"color", "blocks"}]}``;
the attachment's colour bar shows the severity, its blocks carry the details.

Escaping in mrkdwn (https://api.slack.com/reference/surfaces/formatting#escaping):
- ``&``, ``<`` and ``>`` become ``&amp;`` ``&lt;`` ``&gt;``: so ``<!here>``, ``<!channel>``,
  ``<@U123>``, ``<#C1>`` and ``<url|text>`` in the customer's text stay text;
- text objects are ``verbatim`` so Slack does not auto-link or auto-mention raw text
  (https://api.slack.com/reference/block-kit/composition-objects#text), and a zero-width
  joiner after ``@`` keeps "@here" from being read as a mention anywhere else;
- ``*_~``` `` ` `` have no escape in mrkdwn: a zero-width space around each keeps them from
  opening or closing bold, italic, strike or code; one before a line's ``>`` keeps it from
  quoting the line.
Limits (https://api.slack.com/reference/block-kit/blocks): 50 blocks a message, 3,000
characters a section text, 150 a header; longer text is cut and ends in "…".
"""

from __future__ import annotations

import re
from typing import Any

from bugline.connectors.document import ReportDocument, Update
from bugline.render import common as c
from bugline.render import outline
from bugline.render.outline import Code, Items, Line, Para, Section, Span

Block = dict[str, Any]

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
FALLBACK_LIMIT = 3000  # "text" may be 40,000, but it is a notification line

ZWSP = "\u200b"
ZWJ = "\u200d"
_MENTION = re.compile(r"(?<!\w)@(?=\w)")
_BROADCAST = re.compile(r"(?i)@(?=(?:here|channel|everyone)\b)")
_FORMAT = re.compile(r"[*_~`]")
_FENCE = re.compile(r"```")
_QUOTE = re.compile(r"^(?=&gt;)", re.M)  # ">" opening a line quotes it
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")


def message(doc: ReportDocument) -> dict[str, Any]:
    sections = outline.report(doc)
    summary, details = sections[0], sections[1:]
    blocks: list[Block] = [
        {"type": "header", "text": plain(header_text(c.title(doc)))},
        *sections_blocks((summary,)),
    ]
    return {
        "text": fallback(doc),
        "blocks": blocks,
        "attachments": [
            {
                "color": c.severity_colour(doc.severity),
                "blocks": sections_blocks(details, MAX_BLOCKS - len(blocks)),
            }
        ],
    }


def update(change: Update) -> dict[str, Any]:
    """A short message (a thread reply or a new message): ``{"text", "blocks"}``."""
    doc = change.report
    note = c.one_line(change.note, 500) or f"Another report: {doc.reference}"
    return {
        "text": escape(c.clip(f"{note} {doc.link}", FALLBACK_LIMIT)),
        "blocks": sections_blocks(outline.update(change)),
    }


def sections_blocks(sections: tuple[Section, ...], room: int = MAX_BLOCKS) -> list[Block]:
    """Section blocks for ``sections``: each outline section starts a new block, and its
    pieces (paragraphs, list items, code blocks) are packed into blocks of at most 3,000
    characters; past ``room`` blocks, the last one says the rest is in Bugline."""
    texts: list[str] = []
    for s in sections:
        current = f"*{escape(s.heading)}*" if s.heading else ""
        for piece in _pieces(s.blocks):
            piece = fit(piece, SECTION_LIMIT)
            if current and len(current) + 1 + len(piece) > SECTION_LIMIT:
                texts.append(current)
                current = piece
            else:
                current = f"{current}\n{piece}" if current else piece
        if current:
            texts.append(current)
    if len(texts) > room:
        texts = [*texts[: room - 1], escape(f"{c.ELLIPSIS} more in Bugline")]
    return [section(t) for t in texts]


def fallback(doc: ReportDocument) -> str:
    """The notification and screen-reader text: title, then the link to the report."""
    return escape(c.clip(f"{c.title(doc)} {doc.link}", FALLBACK_LIMIT))


def header_text(title: str) -> str:
    """The title for a header block: entities for & < > (Slack decodes those three in
    every text object) and at most 150 characters counted after them."""
    limit = HEADER_LIMIT
    while len(out := entities(c.clip(title, limit))) > HEADER_LIMIT:
        limit -= len(out) - HEADER_LIMIT
    return out


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text or " ", "emoji": False}


def section(mrkdwn: str) -> Block:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": fit(mrkdwn, SECTION_LIMIT) or " ", "verbatim": True},
    }


def fit(text: str, limit: int) -> str:
    """mrkdwn cut to ``limit`` characters without breaking an entity or leaving a code
    block open."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - 5].rstrip())
    if len(_FENCE.findall(cut)) % 2:
        cut += "\n```"
    return cut + c.ELLIPSIS


def _pieces(blocks: tuple[Para | Items | Code, ...]) -> list[str]:
    pieces: list[str] = []
    for block in blocks:
        if isinstance(block, Para):
            pieces.append(_spans(block.spans))
        elif isinstance(block, Items):
            for i, item in enumerate(block.items, 1):
                pieces.append((f"{i}. " if block.ordered else "• ") + _spans(item))
        else:
            pieces.append(code_block(block.text))
    return pieces


def _spans(spans: Line) -> str:
    return "".join(_span(s) for s in spans)


def _span(span: Span) -> str:
    if span.style == "strong":
        return f"*{escape(span.text)}*"
    if span.style == "code":
        return code_span(span.text)
    if span.style == "link" and span.url:
        return f"<{link_target(span.url)}|{escape(span.text)}>"
    return escape(span.text)


def entities(text: str) -> str:
    """The three characters Slack reads as control sequences, as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape(text: str) -> str:
    """The customer's text as mrkdwn that shows exactly that text: no mention, no link,
    no formatting."""
    text = entities(c.clean(text))
    text = _MENTION.sub("@" + ZWJ, text)
    text = _QUOTE.sub(ZWSP, text)
    return _FORMAT.sub(lambda m: ZWSP + m.group(0) + ZWSP, text)


def code_span(text: str) -> str:
    """Inline code: inside, only entities and broadcasts matter; a backtick would end it,
    so it is replaced by a look-alike (U+02CB)."""
    body = _BROADCAST.sub("@" + ZWJ, entities(c.one_line(text, c.URL_LIMIT + 20)))
    return "`" + body.replace("`", "\u02cb") + "`"


def code_block(text: str) -> str:
    """A preformatted block; a run of three backticks inside would close it, so every
    backtick gets a zero-width space after it. Code stays as typed, but for a joiner in
    @here, @channel and @everyone, in case a workspace ever parses them there."""
    body = _BROADCAST.sub("@" + ZWJ, entities(text)).replace("`", "`" + ZWSP)
    return f"```\n{body}\n```"


def link_target(url: str) -> str:
    """A URL inside ``<…|…>``: entities for & < >, and | (the label separator) encoded."""
    return entities(url).replace("|", "%7C")
