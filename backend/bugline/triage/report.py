"""What the triage engine reads: a report as plain, immutable data (pure, no I/O).

The same shape serves the widget's structured fields and free text from email and API
clients (``description``), so the engine never needs to know where a report came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ConsoleLine:
    level: str  # debug | log | info | warn | error
    message: str
    stack: str = ""


@dataclass(frozen=True, slots=True)
class FailedRequest:
    method: str
    url: str
    status: int  # 0: no response at all


LOCALE_CHARS = 35  # a BCP 47 tag as browsers send it fits; a hostile line's 1 MB does not
# The fields the reporter writes in, title first: what every rule reads.
TEXT_FIELDS = ("title", "description", "trying_to_do", "expected", "actual", "error_text", "steps")
# Those in the reporter's own words, what tells the language they write in: not the error text,
# the screen's words ("No hay stock" in an English report is a Spanish shop's message).
OWN_WORDS_FIELDS = tuple(name for name in TEXT_FIELDS if name != "error_text")


@dataclass(frozen=True, slots=True)
class TriageInput:
    """One report. Every field is optional: an API client may send only a title."""

    title: str = ""
    description: str = ""  # free text: everything in one box (email, API, imported tickets)
    trying_to_do: str = ""
    expected: str = ""
    actual: str = ""
    error_text: str = ""
    steps: str = ""
    frequency: str | None = None  # always | sometimes | once | unknown
    people_affected: str | None = None  # just_me | some | everyone | unknown
    page_url: str | None = None
    browser: str | None = None  # "Chrome 131"
    os: str | None = None  # "Windows 11"
    device: str | None = None  # desktop | mobile | tablet ...
    console: tuple[ConsoleLine, ...] = ()
    network: tuple[FailedRequest, ...] = ()
    attachments: tuple[str, ...] = ()  # kinds: screenshot | recording | file | log
    account: str | None = None
    plan: str | None = None  # the host app's plan name for the reporter's account
    metadata: Mapping[str, Any] = field(default_factory=dict)
    locale: str | None = None  # the customer's (browser's) language tag, "es-MX": a hint only
    # When the report arrived: reports of one outage are told apart from the next by time.
    received_at: datetime | None = None

    def texts(self) -> tuple[str, ...]:
        """What the reporter wrote in their own words, field by field (``OWN_WORDS_FIELDS``,
        title first): what tells the language they write in."""
        return tuple(getattr(self, name) for name in OWN_WORDS_FIELDS)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TriageInput:
        """Builds an input from loosely typed JSON (the ``bugline triage`` command's lines).

        Never raises on odd values: wrong types are dropped, not trusted.
        """

        def text(key: str) -> str:
            v = data.get(key)
            if isinstance(v, list):
                return "\n".join(f"{i}. {s}" for i, s in enumerate((str(x) for x in v), 1))
            return v if isinstance(v, str) else ""

        def opt(key: str) -> str | None:
            return _nonempty(data.get(key))

        ctx = data.get("context")
        ctx = ctx if isinstance(ctx, Mapping) else {}
        console: list[ConsoleLine] = []
        for c in _items(ctx.get("console")) or _items(data.get("console")):
            if isinstance(c, Mapping) and isinstance(c.get("message"), str):
                console.append(
                    ConsoleLine(str(c.get("level") or "error"), c["message"], str(c.get("stack") or ""))
                )
        network: list[FailedRequest] = []
        for n in _items(ctx.get("network")) or _items(data.get("network")):
            if isinstance(n, Mapping) and isinstance(n.get("url"), str):
                status = n.get("status")
                network.append(
                    FailedRequest(
                        str(n.get("method") or "GET"), n["url"], status if isinstance(status, int) else 0
                    )
                )
        reporter = data.get("reporter")
        reporter = reporter if isinstance(reporter, Mapping) else {}
        attachments = tuple(
            str(a.get("kind") or "file") if isinstance(a, Mapping) else str(a)
            for a in _items(data.get("attachments"))
            if isinstance(a, Mapping | str)
        )
        meta = data.get("metadata")
        url = ctx.get("url") if isinstance(ctx.get("url"), str) else opt("page_url")
        return cls(
            title=text("title"),
            description=text("description"),
            trying_to_do=text("trying_to_do"),
            expected=text("expected"),
            actual=text("actual"),
            error_text=text("error_text"),
            steps=text("steps"),
            frequency=opt("frequency"),
            people_affected=opt("people_affected"),
            page_url=url,
            browser=opt("browser"),
            os=opt("os"),
            device=opt("device"),
            console=tuple(console),
            network=tuple(network),
            attachments=attachments,
            account=reporter.get("account") if isinstance(reporter.get("account"), str) else opt("account"),
            plan=reporter.get("plan") if isinstance(reporter.get("plan"), str) else opt("plan"),
            metadata=meta if isinstance(meta, Mapping) else {},
            # The line's own locale, or the customer's browser language as the widget captures
            # it (the server reads the same: the report's captured context).
            locale=_tag(data.get("locale")) or _tag(ctx.get("locale")),
            received_at=_moment(data.get("received_at")),
        )


def _nonempty(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _tag(value: Any) -> str | None:
    """A language tag, bounded: "es-MX" or "es_ES.UTF-8" is short; only its first part is read."""
    tag = _nonempty(value)
    return tag[:LOCALE_CHARS] if tag else None


def _moment(value: Any) -> datetime | None:
    """An ISO 8601 time ("2026-03-04T09:14:00Z"); without a zone it is UTC; anything else None."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _items(value: Any) -> list[Any]:
    """A JSON list, or nothing: a hostile line may put any type where a list belongs."""
    return value if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class GroupStats:
    """The duplicate group a report belongs to, as severity sees it."""

    reports: int = 1
    reporters: int = 1  # distinct people
    accounts: int = 1  # distinct customer accounts
