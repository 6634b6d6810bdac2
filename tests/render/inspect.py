"""Reading rendered output the way its reader would: what is shown, what is live markup.

Markdown is rendered by cmark-gfm (GitHub's own parser, through ``cmarkgfm``) with raw HTML
allowed, then parsed like the HTML renderer's output with ``html.parser``; Block Kit mrkdwn
is read with Slack's control sequences (``<…>``) and entities; ADF is walked as a tree and
checked against a minimal structural schema of the node types Jira accepts.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import cmarkgfm
from cmarkgfm.cmark import Options

INVISIBLE = re.compile("[\u200b\u200d]")


@dataclass
class Tag:
    name: str
    attrs: dict[str, str]


@dataclass
class Page:
    """An HTML fragment as a browser sees it: tags, comments, visible text, text outside
    code (where GitHub looks for mentions and references)."""

    tags: list[Tag] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    text: str = ""
    prose: str = ""  # visible text outside <code>/<pre>
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, visible text)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._code = 0
        self._link: list[Any] | None = None
        self._text: list[str] = []
        self._prose: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append(Tag(tag, {k: v or "" for k, v in attrs}))
        if tag in ("code", "pre"):
            self._code += 1
        if tag == "a":
            self._link = [dict(attrs).get("href") or "", []]
        if tag in ("br", "p", "li", "h1", "h2", "h3", "pre"):
            self._text.append("\n")
            self._prose.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "pre"):
            self._code -= 1
        if tag == "a" and self._link is not None:
            self.page.links.append((self._link[0], "".join(self._link[1])))
            self._link = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if not self._code:
            self._prose.append(data)
        if self._link is not None:
            self._link[1].append(data)

    def handle_comment(self, data: str) -> None:
        self.page.comments.append(data)


def read_html(fragment: str) -> Page:
    reader = _Reader()
    reader.feed(fragment)
    reader.close()
    page = reader.page
    page.text = "".join(reader._text)
    page.prose = "".join(reader._prose)
    return page


def markdown_to_html(source: str) -> str:
    """GitHub's renderer with raw HTML let through (UNSAFE), so that escaping, not GitHub's
    sanitiser, is what the tests see."""
    return cmarkgfm.github_flavored_markdown_to_html(source, options=Options.CMARK_OPT_UNSAFE)


def read_markdown(source: str) -> Page:
    return read_html(markdown_to_html(source))


def shown(value: str) -> str:
    """Text as a reader sees it: invisible joiners gone, whitespace runs as one space."""
    return " ".join(INVISIBLE.sub("", value).split())


# ---- Slack mrkdwn ------------------------------------------------------------------------

CONTROL = re.compile(r"<([^<>]*)>")


def mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    """Every mrkdwn string Slack will parse: the fallback and every mrkdwn text object."""
    out = [payload["text"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload.get("blocks", []))
    walk(payload.get("attachments", []))
    return out


def slack_controls(mrkdwn: str) -> list[str]:
    """The ``<…>`` sequences Slack turns into links and mentions."""
    return CONTROL.findall(mrkdwn)


# Slack's formatting markers count at word boundaries only: after the start, whitespace or
# an opening bracket, before whitespace, the end or punctuation (a zero-width space is
# neither, which is how the renderer keeps the customer's own markers inert).
_OPEN = r"(?:(?<=^)|(?<=[\s(\[]))"
_CLOSE = r"(?=$|[\s.,:;!?)\]])"
FORMATTING = [
    re.compile(_OPEN + re.escape(m) + r"(?=\S)(.+?)(?<=\S)" + re.escape(m) + _CLOSE, re.S | re.M)
    for m in ("*", "_", "~")
]
CODE_BLOCK = re.compile(r"```(.*?)```", re.S)
CODE_SPAN = re.compile(_OPEN + r"`([^`\n]+)`" + _CLOSE, re.M)


def slack_formatted(mrkdwn: str) -> list[str]:
    """The runs Slack shows bold, italic, struck or as code (outside code blocks)."""
    text = CODE_BLOCK.sub(" ", mrkdwn)
    runs = [m.group(1) for m in CODE_SPAN.finditer(text)]
    text = CODE_SPAN.sub(" ", text)
    for pattern in FORMATTING:
        runs += [m.group(1) for m in pattern.finditer(text)]
    return runs


def slack_shown(mrkdwn: str) -> str:
    """mrkdwn as shown: formatting markers gone, links as their label, entities decoded,
    joiners gone."""
    text = CODE_BLOCK.sub(lambda m: m.group(1), mrkdwn)
    text = CODE_SPAN.sub(lambda m: m.group(1), text)
    for pattern in FORMATTING:
        text = pattern.sub(lambda m: m.group(1), text)
    text = CONTROL.sub(lambda m: m.group(1).split("|", 1)[-1], text)
    return shown(html.unescape(text))


def all_blocks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = list(payload.get("blocks", []))
    for attachment in payload.get("attachments", []):
        blocks.extend(attachment.get("blocks", []))
    return blocks


# ---- ADF ---------------------------------------------------------------------------------

BLOCK_NODES = {"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "rule", "table"}
CHILDREN: dict[str, set[str]] = {
    "doc": BLOCK_NODES,
    "paragraph": {"text", "hardBreak"},
    "heading": {"text", "hardBreak"},
    "bulletList": {"listItem"},
    "orderedList": {"listItem"},
    "listItem": {"paragraph", "bulletList", "orderedList", "codeBlock"},
    "codeBlock": {"text"},
    "table": {"tableRow"},
    "tableRow": {"tableHeader", "tableCell"},
    "tableHeader": {"paragraph"},
    "tableCell": {"paragraph"},
}
LEAVES = {"text", "hardBreak", "rule"}
MARKS = {"strong", "em", "code", "link", "strike", "underline"}


def adf_errors(doc: Any) -> list[str]:
    """Where ``doc`` breaks ADF's structure (empty list: fine). Checks node types against a
    known set, parents and children, text nodes (non-empty strings, the only place marks
    go), mark types, link marks only to http(s), the code mark only with link, and the
    code block holding unmarked text."""
    errors: list[str] = []
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return ["root is not {'type': 'doc', 'version': 1}"]
    _check(doc, "doc", errors, "doc")
    return errors


def _check(node: Any, parent: str, errors: list[str], path: str) -> None:
    if not isinstance(node, dict):
        errors.append(f"{path}: not an object")
        return
    kind = node.get("type")
    if parent != "doc" or kind != "doc":
        allowed = CHILDREN.get(parent, set())
        if kind not in allowed:
            errors.append(f"{path}: {kind!r} not allowed in {parent}")
            return
    extra = set(node) - {"type", "content", "attrs", "marks", "text", "version"}
    if extra:
        errors.append(f"{path}: unknown keys {sorted(extra)}")
    if "marks" in node and kind != "text":
        errors.append(f"{path}: marks on a {kind}")
    if kind == "text":
        _check_text(node, parent, errors, path)
        return
    if "text" in node:
        errors.append(f"{path}: text on a {kind}")
    if kind == "heading" and node.get("attrs", {}).get("level") not in range(1, 7):
        errors.append(f"{path}: heading level")
    if kind in LEAVES:
        if "content" in node:
            errors.append(f"{path}: content on a {kind}")
        return
    content = node.get("content", [])
    if not isinstance(content, list):
        errors.append(f"{path}: content is not a list")
        return
    if kind in ("bulletList", "orderedList", "listItem", "doc") and not content:
        errors.append(f"{path}: empty {kind}")
    for i, child in enumerate(content):
        _check(child, kind, errors, f"{path}/{kind}[{i}]")


def _check_text(node: dict[str, Any], parent: str, errors: list[str], path: str) -> None:
    text = node.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"{path}: text node without text")
    marks = node.get("marks", [])
    if parent == "codeBlock" and marks:
        errors.append(f"{path}: marks inside a code block")
    names = []
    for mark in marks:
        name = mark.get("type") if isinstance(mark, dict) else None
        names.append(name)
        if name not in MARKS:
            errors.append(f"{path}: unknown mark {name!r}")
        if name == "link":
            href = mark.get("attrs", {}).get("href", "")
            if not re.match(r"^https?://", href):
                errors.append(f"{path}: link to {href!r}")
    if "code" in names and set(names) - {"code", "link"}:
        errors.append(f"{path}: code mark combined with {names}")


def adf_text(node: Any) -> str:
    """The text an ADF tree shows, blocks and hard breaks as new lines."""
    if isinstance(node, list):
        return "".join(adf_text(n) for n in node)
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    inner = adf_text(node.get("content", []))
    return inner + "\n" if node.get("type") in BLOCK_NODES | {"listItem"} else inner


def adf_links(node: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(node, list):
        for n in node:
            out.extend(adf_links(n))
    elif isinstance(node, dict):
        for mark in node.get("marks", []):
            if mark.get("type") == "link":
                out.append((mark["attrs"]["href"], node.get("text", "")))
        out.extend(adf_links(node.get("content", [])))
    return out
