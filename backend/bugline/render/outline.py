"""The report as a format-neutral outline: what a ticket says, decided once.

Every renderer walks the same outline, so the five formats carry the same content in the
same order and only the markup differs. Text in the outline is cleaned (``common.clean``)
and clipped but NOT escaped: escaping belongs to each renderer. Link URLs in the outline
are already checked to be http(s) (``common.safe_url``); a URL that is not stays text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bugline.connectors.document import Fact, Media, ReportDocument, Update
from bugline.render import common as c
from bugline.render.common import DEFAULT_BUDGET, Budget

Style = Literal["plain", "strong", "code", "link"]


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text. Plain text may hold newlines; strong, code and link text never do."""

    text: str
    style: Style = "plain"
    url: str = ""  # links only: an http(s) URL


Line = tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Para:
    spans: Line


@dataclass(frozen=True, slots=True)
class Items:
    items: tuple[Line, ...]
    ordered: bool = False


@dataclass(frozen=True, slots=True)
class Code:
    """A code block: console output, stack traces. Shown verbatim in a monospace block."""

    text: str


Block = Para | Items | Code


@dataclass(frozen=True, slots=True)
class Section:
    heading: str  # "" for the summary at the top
    blocks: tuple[Block, ...]


# ---- span helpers ------------------------------------------------------------------------


def text(value: str) -> Span:
    return Span(value)


def strong(value: str) -> Span:
    return Span(c.one_line(value), "strong")


def code(value: str) -> Span:
    return Span(c.one_line(value, c.URL_LIMIT + 20), "code")


def link(label: str, url: str) -> Span:
    """A link when ``url`` is http(s); otherwise the label as text (the URL is dropped)."""
    safe = c.safe_url(url)
    label = c.one_line(label) or (c.one_line(url, c.URL_LIMIT) if safe else "")
    return Span(label, "link", safe) if safe else Span(label)


def field(name: str, *value: Span) -> Line:
    return (strong(f"{name}:"), text(" "), *value)


# ---- the report --------------------------------------------------------------------------


def report(doc: ReportDocument, budget: Budget = DEFAULT_BUDGET) -> tuple[Section, ...]:
    sections = [
        summary(doc),
        Section("What happened", facts(doc, budget)),
        description(doc, budget),
        severity(doc, budget),
        environment(doc, budget),
        console(doc, budget),
        requests(doc, budget),
        attachments(doc.media, budget),
        reporter(doc, budget),
        metadata(doc, budget),
    ]
    return tuple(s for s in sections if s.blocks)


def summary(doc: ReportDocument) -> Section:
    lines: list[Line] = [
        field(
            "Severity",
            text(f"{c.severity_name(doc.severity)} (score {c.score(doc.severity_score)})"),
        ),
        field("Completeness", text(_completeness(doc))),
        field("Kind", text(c.kind_name(doc.kind))),
    ]
    if doc.categories:
        lines.append(field("Categories", text(", ".join(c.one_line(x, 60) for x in doc.categories[:20]))))
    dup = c.duplicates_line(doc.duplicates)
    if dup:
        lines.append(field("Duplicates", text(dup)))
    back = link(f"Report {doc.reference} in {c.one_line(doc.project, 80)}", doc.link)
    lines.append(field("In Bugline", back))
    return Section("", (Items(tuple(lines)),))


def _completeness(doc: ReportDocument) -> str:
    said = f"{max(0, min(100, doc.completeness))} %"
    if doc.unread_language:
        # Otherwise a Spanish report reads "0 %" with nothing missing, and looks empty.
        name = c.one_line(doc.unread_language, 40)
        said += f" (written in {name}, which triage does not read: not checked)"
    return said


def _fact_value(fact: Fact, missing: bool, budget: Budget) -> Line:
    value = c.block_text(fact.value, budget.fact)
    if not value:
        return (text(c.MISSING if missing else c.NOT_GIVEN),)
    if missing:
        return (text(value), text(f" {c.MISSING}"))
    return (text(value),)


def ordered_facts(doc: ReportDocument) -> list[Fact]:
    """The checklist facts in the SOP's order; a fact the engine named missing but the
    document does not carry is added, empty, so that the ticket still asks for it."""
    by_key: dict[str, Fact] = {}
    for f in doc.facts:
        by_key.setdefault(f.key, f)
    for key in doc.missing:
        if key in c.FACT_ORDER and key not in by_key:
            by_key[key] = Fact(key, c.FACT_LABELS[key], "", True)
    rank = {key: i for i, key in enumerate(c.FACT_ORDER)}
    return sorted(by_key.values(), key=lambda f: rank.get(f.key, len(rank)))


def facts(doc: ReportDocument, budget: Budget = DEFAULT_BUDGET) -> tuple[Block, ...]:
    blocks: list[Block] = []
    for f in ordered_facts(doc):
        label = c.one_line(f.label, 80) or c.FACT_LABELS.get(f.key, c.one_line(f.key, 80))
        blocks.append(Para(field(label, *_fact_value(f, f.missing or f.key in doc.missing, budget))))
    return tuple(blocks)


def description(doc: ReportDocument, budget: Budget = DEFAULT_BUDGET) -> Section:
    body = c.block_text(doc.description, budget.description)
    paras = [p.strip("\n") for p in body.split("\n\n") if p.strip()]
    return Section("Description", tuple(Para((text(p),)) for p in paras))


def severity(doc: ReportDocument, budget: Budget = DEFAULT_BUDGET) -> Section:
    blocks: list[Block] = [
        Para(
            (
                strong(c.severity_name(doc.severity)),
                text(f", score {c.score(doc.severity_score)}"),
            )
        )
    ]
    reasons = [c.one_line(r, budget.line) for r in doc.severity_reasons if r.strip()]
    if reasons:
        shown = [(text(r),) for r in reasons[: budget.reasons]]
        if len(reasons) > budget.reasons:
            shown.append((text(f"{c.ELLIPSIS} {len(reasons) - budget.reasons} more"),))
        blocks.append(Items(tuple(shown)))
    missing = c.missing_labels(doc)
    if missing:
        blocks.append(Para(field("Missing", text(", ".join(missing)))))
    return Section("Severity", tuple(blocks))


def environment(doc: ReportDocument, budget: Budget = DEFAULT_BUDGET) -> Section:
    env = doc.environment
    lines: list[Line] = []
    for name, value in (
        ("Browser", env.browser),
        ("Operating system", env.os),
        ("Device", env.device),
    ):
        if value.strip():
            lines.append(field(name, text(c.one_line(value, budget.line))))
    if env.url.strip():
        page = link(c.one_line(env.url, c.URL_LIMIT), env.url)
        lines.append(field("Page", page if page.style == "link" else code(env.url)))
    for name, value in (("Viewport", env.viewport), ("Locale", env.locale)):
        if value.strip():
            lines.append(field(name, text(c.one_line(value, 80))))
    if env.user_agent.strip():
        lines.append(field("User agent", code(env.user_agent)))
    if not lines:
        return Section("Environment", (Para((text("(not captured)"),)),))
    return Section("Environment", (Items(tuple(lines)),))


def console(doc: ReportDocument, budget: Budget = DEFAULT_BUDGET) -> Section:
    if not doc.console:
        return Section("Console errors", ())
    blocks: list[Block] = [Code(c.console_text(doc.console, budget))]
    if len(doc.console) > budget.console_entries:
        more = len(doc.console) - budget.console_entries
        more_text = c.plural(more, "more entry", "more entries")
        blocks.append(Para((text(f"{c.ELLIPSIS} {more_text} in Bugline."),)))
    return Section(f"Console errors ({len(doc.console)})", tuple(blocks))


def requests(doc: ReportDocument, budget: Budget = DEFAULT_BUDGET) -> Section:
    reqs = doc.failed_requests
    if not reqs:
        return Section("Failed requests", ())
    lines: list[Line] = [
        (code(c.request_line(r)), text(f" → {c.request_outcome(r)}")) for r in reqs[: budget.requests]
    ]
    if len(reqs) > budget.requests:
        lines.append((text(f"{c.ELLIPSIS} {len(reqs) - budget.requests} more in Bugline"),))
    return Section(f"Failed requests ({len(reqs)})", (Items(tuple(lines)),))


def media_line(m: Media) -> Line:
    name = c.one_line(m.name, 120) or "file"
    kind = c.one_line(m.kind, 30)
    details = ", ".join(x for x in (kind, c.one_line(m.content_type, 80), c.human_size(m.size)) if x)
    return (link(name, m.url), text(f" ({details})"))


def attachments(media: tuple[Media, ...], budget: Budget = DEFAULT_BUDGET) -> Section:
    if not media:
        return Section("Attachments", ())
    lines = [media_line(m) for m in media[: budget.media]]
    if len(media) > budget.media:
        lines.append((text(f"{c.ELLIPSIS} {len(media) - budget.media} more in Bugline"),))
    return Section(f"Attachments ({len(media)})", (Items(tuple(lines)), Para((text(c.LINKS_EXPIRE),))))


def reporter(doc: ReportDocument, budget: Budget = DEFAULT_BUDGET) -> Section:
    r = doc.reporter
    lines = [
        field(name, text(c.one_line(value, budget.line)))
        for name, value in (("Name", r.name), ("Email", r.email), ("Account", r.account), ("Plan", r.plan))
        if value.strip()
    ]
    lines.append(field("Reported", text(doc.created_at.strftime("%Y-%m-%d %H:%M %Z").strip())))
    return Section("Reporter", (Items(tuple(lines)),))


def metadata(doc: ReportDocument, budget: Budget = DEFAULT_BUDGET) -> Section:
    pairs = list(doc.metadata.items())
    lines: list[Line] = [
        field(c.one_line(k, 60) or "(empty)", text(c.one_line(v, budget.line)))
        for k, v in pairs[: budget.metadata]
    ]
    if len(pairs) > budget.metadata:
        lines.append((text(f"{c.ELLIPSIS} {len(pairs) - budget.metadata} more in Bugline"),))
    return Section("Metadata", (Items(tuple(lines)),) if lines else ())


# ---- an update ---------------------------------------------------------------------------


def update(change: Update) -> tuple[Section, ...]:
    doc = change.report
    head: list[Block] = []
    note = c.block_text(change.note, DEFAULT_BUDGET.fact)
    if note:
        head.append(Para((text(note),)))
    lines: list[Line] = [
        field("New report", link(f"{doc.reference} {c.one_line(doc.title, 200)}", doc.link)),
    ]
    who = ", ".join(
        c.one_line(x, 120) for x in (doc.reporter.name, doc.reporter.email, doc.reporter.account) if x.strip()
    )
    if who:
        lines.append(field("Reporter", text(who)))
    dup = c.duplicates_line(doc.duplicates)
    if dup:
        lines.append(field("Now", text(dup)))
    head.append(Items(tuple(lines)))
    return tuple(s for s in (Section("", tuple(head)), attachments(doc.media)) if s.blocks)
