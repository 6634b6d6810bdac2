"""What a connector puts into a ticket: the report as plain data, built once per delivery.

The outbox builds a ``ReportDocument`` from the database (``outbox/document.py``); every
connector renders the same document into its target's format through ``bugline.render``.
Everything here is the customer's text, unescaped: escaping is the renderer's job, per
format, so no connector can forget it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Level = Literal["critical", "high", "medium", "low"]


@dataclass(frozen=True, slots=True)
class Fact:
    """One line of the SOP checklist as the customer gave it."""

    key: str  # trying_to_do | expected | actual | error_text | steps_to_reproduce | frequency | affected
    label: str  # "Expected behaviour"
    value: str  # "" when the customer left it out
    missing: bool  # the triage engine found the fact missing (in the field and in the free text)


@dataclass(frozen=True, slots=True)
class Media:
    """A stored file. ``url`` is a time-limited presigned link; ``read()`` streams the bytes
    for connectors that upload files into the ticket."""

    name: str  # a safe file name (storage/sniff.py made it so)
    content_type: str  # as sniffed from the bytes, never as the browser declared
    size: int
    kind: str  # screenshot | recording | file | log
    url: str
    read: Callable[[], AsyncIterator[bytes]]


@dataclass(frozen=True, slots=True)
class ConsoleEntry:
    level: str  # error | warn | ...
    message: str
    source: str = ""  # file:line when the browser gave one


@dataclass(frozen=True, slots=True)
class FailedRequest:
    method: str
    url: str
    status: int | None  # None: the request never got an answer (network error, CORS, timeout)
    duration_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Reporter:
    name: str = ""
    email: str = ""
    account: str = ""
    plan: str = ""


@dataclass(frozen=True, slots=True)
class Environment:
    browser: str = ""  # "Chrome 131.0"
    os: str = ""  # "macOS 14.6"
    device: str = ""  # "desktop" | "mobile Apple iPhone" ...
    url: str = ""
    viewport: str = ""  # "1440x900"
    locale: str = ""
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class Duplicates:
    """The report's duplicate group: how many reports, people and accounts share the problem."""

    group_id: str = ""
    reports: int = 1
    people: int = 1
    accounts: int = 0


@dataclass(frozen=True, slots=True)
class ReportDocument:
    report_id: str
    number: int  # the per-project reference people see: #42
    project: str  # project name
    title: str
    description: str  # free text, as typed (API and email clients put everything here)
    facts: tuple[Fact, ...]
    severity: Level
    severity_score: float
    severity_reasons: tuple[str, ...]  # "+ mentions payment failure"
    completeness: int  # 0..100
    missing: tuple[str, ...]  # fact keys the engine found missing
    kind: str  # bug | feature_request | question
    categories: tuple[str, ...]  # billing, security, ...
    environment: Environment
    console: tuple[ConsoleEntry, ...]
    failed_requests: tuple[FailedRequest, ...]
    duplicates: Duplicates
    media: tuple[Media, ...]
    reporter: Reporter
    link: str  # the report in Bugline: {public_url}/reports/{id}
    created_at: datetime
    metadata: dict[str, str] = field(default_factory=dict)  # custom key/values from the host app
    # The report's language when triage does not read it ("Spanish"): its facts were not checked.
    unread_language: str = ""

    @property
    def reference(self) -> str:
        """Short reference for subjects and titles: "#42"."""
        return f"#{self.number}"


@dataclass(frozen=True, slots=True)
class Update:
    """A later event on a ticket that already exists: another duplicate arrived.

    ``report`` is the new report (its own details go into the comment); ``duplicates`` the
    group's counts after it joined."""

    report: ReportDocument
    note: str  # "Another customer reported this problem (#57): 14 people, 5 accounts affected."
