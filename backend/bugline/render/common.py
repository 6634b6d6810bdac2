"""What every renderer shares: names, colours, limits, cleaning, and the title and labels.

The customer's text arrives unescaped (``connectors/document.py``). ``clean`` makes it safe
to carry in any format (no control characters, no bidi overrides, no lone surrogates);
each renderer then escapes it for its own markup. ``title`` and ``labels`` are plain values
that connectors put into the vendor's own fields (summary, subject, labels, tags).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from bugline.connectors.document import (
    ConsoleEntry,
    Duplicates,
    FailedRequest,
    Level,
    ReportDocument,
)

ELLIPSIS = "…"
MISSING = "(missing — asked the customer)"
NOT_GIVEN = "(not given)"
LINKS_EXPIRE = "Download links expire after a while; the report in Bugline always has fresh ones."

SEVERITY_NAMES: dict[Level, str] = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
# Slack attachment colour bars: red, orange, yellow, grey.
SEVERITY_COLOURS: dict[Level, str] = {
    "critical": "#D0021B",
    "high": "#F5A623",
    "medium": "#F8E71C",
    "low": "#9B9B9B",
}
KIND_NAMES: dict[str, str] = {"bug": "Bug", "feature_request": "Feature request", "question": "Question"}

# The SOP's capture checklist, in its order (support SOP, Step 3; triage/result.py FACTS).
# The environment and the evidence have their own sections, so they are not listed here.
FACT_ORDER: tuple[str, ...] = (
    "trying_to_do",
    "expected",
    "actual",
    "error_text",
    "steps_to_reproduce",
    "frequency",
    "affected",
)
FACT_LABELS: dict[str, str] = {
    "trying_to_do": "Trying to do",
    "expected": "Expected behaviour",
    "actual": "Actual behaviour",
    "error_text": "Error text",
    "steps_to_reproduce": "Steps to reproduce",
    "frequency": "Frequency",
    "affected": "People affected",
    "environment": "Environment",
    "evidence": "Evidence (screenshot, recording, logs)",
}

TITLE_LIMIT = 250  # GitHub titles 256, Jira summaries 255
LABEL_LIMIT = 50  # GitHub label names: 50 characters
URL_LIMIT = 500  # a URL shown as text (a failed request, the page); links keep their whole URL
# Whole bodies, with room for what a connector adds (a marker, a footer): GitHub issue bodies
# take 65,536 characters; Jira text fields 32,767 (counted on the ADF JSON); Zendesk and
# Freshdesk bodies are similar to GitHub's.
BODY_LIMIT = 60_000
ADF_LIMIT = 30_000


@dataclass(frozen=True, slots=True)
class Budget:
    """How much of each part of a report a ticket shows. A 10k-character field is cut to
    ``fact`` or ``description`` characters; when the whole body is still over its target's
    limit, the renderer tries again with ``smaller()``."""

    line: int = 300  # one-line values: browser, account, a reason, a file name
    fact: int = 1500
    description: int = 6000
    console_entries: int = 5
    console_message: int = 1200
    console_lines: int = 25  # lines of one entry (its stack) shown
    requests: int = 10
    reasons: int = 15
    media: int = 20
    metadata: int = 20

    def smaller(self) -> Budget:
        return Budget(
            line=max(80, self.line // 2),
            fact=max(200, self.fact // 2),
            description=max(500, self.description // 2),
            console_entries=max(1, self.console_entries - 2),
            console_message=max(200, self.console_message // 2),
            console_lines=max(5, self.console_lines // 2),
            requests=max(3, self.requests // 2),
            reasons=max(5, self.reasons // 2),
            media=self.media,  # every file stays linked: it is the evidence
            metadata=max(5, self.metadata // 2),
        )


DEFAULT_BUDGET = Budget()
T = TypeVar("T")


def fitted(render: Callable[[Budget], T], measure: Callable[[T], int], limit: int) -> T:
    """``render`` with the default budget, or with smaller ones until ``measure`` of the
    result is within ``limit`` (after four halvings, the smallest result is returned)."""
    budget = DEFAULT_BUDGET
    out = render(budget)
    for _ in range(4):
        if measure(out) <= limit:
            break
        budget = budget.smaller()
        out = render(budget)
    return out


# Bidi embeddings/overrides/isolates can make a ticket read differently from what it holds.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_INVISIBLE = frozenset("\u200b\u2060\ufeff")  # zero-width space, word joiner, BOM
# Other format characters (soft hyphens, invisible operators, Unicode tag characters that can
# hide a whole sentence) go too; the joiners stay: emoji sequences and Persian or Indic
# spelling need them.
_JOINERS = frozenset("\u200c\u200d")
_WS = re.compile(r"\s+")


def clean(text: str) -> str:
    """The customer's text with only printable characters, tabs and newlines.

    Drops C0/C1 controls (NUL included), bidi controls, zero-width spaces and other format
    characters, lone surrogates and noncharacters; keeps letters of every script, emoji
    (also those newer than this Python's Unicode tables) and the joiners they need."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
            continue
        if ch in _BIDI or ch in _INVISIBLE:
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs") or (cat == "Cf" and ch not in _JOINERS) or _noncharacter(ch):
            continue
        out.append(ch)
    return "".join(out)


def _noncharacter(ch: str) -> bool:
    point = ord(ch)
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when cut."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    return text[: limit - 1].rstrip() + ELLIPSIS


def _head(text: str, limit: int) -> str:
    """Enough of a long text to fill ``limit`` after cleaning (which only removes), so a
    megabyte field is not cleaned in full to show its first lines."""
    return text[: limit * 4 + 256]


def one_line(text: str, limit: int = DEFAULT_BUDGET.line) -> str:
    """Cleaned, whitespace collapsed to single spaces, clipped: for titles, names, cells."""
    return clip(_WS.sub(" ", clean(_head(text, limit))).strip(), limit)


def block_text(text: str, limit: int) -> str:
    """Cleaned multi-line text: trailing spaces gone, runs of blank lines squeezed, clipped."""
    lines = [line.rstrip() for line in clean(_head(text, limit)).expandtabs(4).split("\n")]
    squeezed: list[str] = []
    for line in lines:
        if line or (squeezed and squeezed[-1]):
            squeezed.append(line)
    return clip("\n".join(squeezed).strip("\n"), limit)


def safe_url(url: str) -> str | None:
    """``url`` if it is an absolute http(s) URL fit to put in a link, else None.

    javascript:, data:, vbscript:, relative and protocol-relative URLs are refused, as are
    URLs with whitespace, control characters or characters RFC 3986 never allows unencoded
    (``<>"{}|\\^`` and the backtick): each markup would need them escaped differently, and
    a URL we made ourselves never has them."""
    url = url.strip()
    if not url or len(url) > 4096 or any(ch in _NOT_IN_URLS or _invisible(ch) for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


_NOT_IN_URLS = frozenset('<>"{}|\\^`')


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in ("C", "Z")


def human_size(size: int) -> str:
    """1234567 -> "1.2 MB" (decimal units, as file managers show them)."""
    if size < 1000:
        return f"{max(size, 0)} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}"
    return f"{value:.1f} TB"  # pragma: no cover - loop always returns


def score(value: float) -> str:
    """A severity score as people read it: 7.5, 12, 0.35."""
    return f"{round(value, 2):g}"


def severity_name(level: Level) -> str:
    return SEVERITY_NAMES.get(level, str(level).title())


def severity_colour(level: Level) -> str:
    return SEVERITY_COLOURS.get(level, SEVERITY_COLOURS["low"])


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, one_line(kind.replace("_", " ")).capitalize() or "Report")


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def duplicates_line(dup: Duplicates) -> str | None:
    """ "3 reports from 2 people in 1 account", or None for a report that stands alone."""
    if dup.reports <= 1:
        return None
    line = f"{plural(dup.reports, 'report')} from {plural(dup.people, 'person', 'people')}"
    if dup.accounts > 0:
        line += f" in {plural(dup.accounts, 'account')}"
    return line


def request_line(req: FailedRequest) -> str:
    """ "POST https://shop.example.com/api/checkout" (the part shown as code)."""
    return f"{one_line(req.method, 16).upper() or 'GET'} {one_line(req.url, URL_LIMIT)}"


def request_outcome(req: FailedRequest) -> str:
    """ "500, 1,234 ms" or "no response" """
    out = str(req.status) if req.status is not None else "no response"
    if req.duration_ms is not None and req.duration_ms >= 0:
        out += f", {round(req.duration_ms):,} ms"
    return out


def console_text(entries: tuple[ConsoleEntry, ...], budget: Budget = DEFAULT_BUDGET) -> str:
    """The first console entries as one code block's text: "[error] message" then the stack."""
    chunks: list[str] = []
    keep = budget.console_lines
    for entry in entries[: budget.console_entries]:
        message = block_text(entry.message, budget.console_message)
        lines = message.split("\n")
        if len(lines) > keep:
            lines = [*lines[:keep], f"    {ELLIPSIS} {len(lines) - keep} more lines"]
        head = f"[{one_line(entry.level, 16) or 'error'}] {lines[0]}"
        chunk = "\n".join([head, *lines[1:]])
        if entry.source.strip():
            chunk += f"\n    at {one_line(entry.source, budget.line)}"
        chunks.append(chunk)
    return "\n\n".join(chunks)


def missing_labels(doc: ReportDocument) -> list[str]:
    """Labels of the facts the engine found missing, in the SOP's order."""
    order = {key: i for i, key in enumerate((*FACT_ORDER, "environment", "evidence"))}
    keys = sorted(dict.fromkeys(doc.missing), key=lambda k: order.get(k, len(order)))
    return [FACT_LABELS.get(k, one_line(k.replace("_", " ")).capitalize()) for k in keys]


def title(doc: ReportDocument) -> str:
    """ "[High] Pay button does nothing (#42)": one line, at most 250 characters, the
    reference always kept (the customer's title is what gets cut)."""
    prefix = f"[{severity_name(doc.severity)}] "
    suffix = f" ({doc.reference})"
    room = TITLE_LIMIT - len(prefix) - len(suffix)
    text = one_line(doc.title, room) or "Untitled report"
    return f"{prefix}{text}{suffix}"


_LABEL_CHARS = re.compile(r"[^a-z0-9:_.\-]+")


def label(text: str) -> str:
    """A tracker-safe label: lower case, no spaces (Jira refuses them), at most 50 characters."""
    slug = _LABEL_CHARS.sub("-", one_line(text).lower()).strip("-")
    return slug[:LABEL_LIMIT].rstrip("-")


def labels(doc: ReportDocument) -> list[str]:
    """["bugline", "severity:high", "kind:bug", "category:billing", ...], unique, in order."""
    raw = ["bugline", f"severity:{doc.severity}", f"kind:{label(doc.kind) or 'bug'}"]
    raw += [f"category:{label(c)}" for c in doc.categories if label(c)]
    return list(dict.fromkeys(label(r) for r in raw if label(r)))
