"""The five renderers behind one interface, so tests can be tables over formats."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from typing import Any

from bugline.connectors.document import ReportDocument, Update
from bugline.render import adf, blockkit, html, markdown, text
from tests.render import inspect


@dataclass(frozen=True)
class Format:
    name: str
    report: Callable[[ReportDocument], Any]
    update: Callable[[Update], Any]
    shown: Callable[[Any], str]  # the text a reader sees, normalised (inspect.shown)
    links: Callable[[Any], list[tuple[str, str]]]  # (href, label) of every live link

    def __repr__(self) -> str:
        return self.name


_TEXT_LINK = re.compile(r"<(https?://[^\s<>]+)>")


_UNDERLINE = re.compile(r"^-+$", re.M)


def _text_shown(out: str) -> str:
    return inspect.shown(_UNDERLINE.sub("", out))


def _text_links(out: str) -> list[tuple[str, str]]:
    return [(m.group(1), "") for m in _TEXT_LINK.finditer(out)]


def _slack_shown(payload: dict[str, Any]) -> str:
    parts = [inspect.slack_shown(t) for t in inspect.mrkdwn_texts(payload)]
    for block in inspect.all_blocks(payload):
        if block["type"] == "header":
            parts.append(inspect.shown(unescape(block["text"]["text"])))
    return " ".join(parts)


def _slack_links(payload: dict[str, Any]) -> list[tuple[str, str]]:
    links = []
    for mrkdwn in inspect.mrkdwn_texts(payload):
        for control in inspect.slack_controls(mrkdwn):
            url, _, label = control.partition("|")
            links.append((url.replace("&amp;", "&"), label))
    return links


FORMATS: tuple[Format, ...] = (
    Format("text", text.report, text.update, _text_shown, _text_links),
    Format(
        "markdown",
        markdown.report,
        markdown.update,
        lambda out: inspect.shown(inspect.read_markdown(out).text),
        lambda out: inspect.read_markdown(out).links,
    ),
    Format(
        "html",
        html.report,
        html.update,
        lambda out: inspect.shown(inspect.read_html(out).text),
        lambda out: inspect.read_html(out).links,
    ),
    Format(
        "adf", adf.report, adf.update, lambda out: inspect.shown(inspect.adf_text(out)), inspect.adf_links
    ),
    Format("blockkit", blockkit.message, blockkit.update, _slack_shown, _slack_links),
)
