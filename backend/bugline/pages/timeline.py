"""A report's public timeline in plain words, for its customer (pure).

Only events stored with ``public = true`` are ever passed in, and of those only a chosen few
things are shown: the status an event moved to, who moved it in the customer's terms (you,
the support team, or automatically), the team's public note or the customer's own comment,
and the customer's own answers. Actors, the tool or connector behind a change, triage's
reasons and anything else an event carries stay inside.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bugline.db.models import ReportEvent, ReportStatus
from bugline.pages.answers import BY_NAME

MAX_NOTE = 5_000

# status -> (what it is called, what it means for the customer)
STATUS_WORDS: dict[str, tuple[str, str]] = {
    ReportStatus.AWAITING_MEDIA: ("Receiving your files", "We are still receiving the files you attached."),
    ReportStatus.RECEIVED: ("Received", "We have your report and are looking at it."),
    ReportStatus.NEEDS_INFO: (
        "Waiting for your answers",
        "We need a few more details before the team can act on it.",
    ),
    ReportStatus.ESCALATED: ("With the team", "Your report is with the team who can fix it."),
    ReportStatus.IN_PROGRESS: ("Being worked on", "Someone on the team is working on it."),
    ReportStatus.RESOLVED: ("Fixed", "The team says this is fixed. If you still see the problem, tell us."),
    ReportStatus.CANNOT_REPRODUCE: (
        "We could not reproduce it",
        "The team tried but could not make the problem happen. Anything more you can tell us "
        "helps; we keep the report open for 14 days.",
    ),
    ReportStatus.CLOSED: ("Closed", "This report is closed."),
    ReportStatus.REOPENED: ("Reopened", "The report is open again and back with the team."),
}
BY: dict[str, str] = {
    "reporter": "by you",
    "agent": "by the support team",
    "connector": "by the support team",
}


def status_words(status: str) -> tuple[str, str]:
    return STATUS_WORDS.get(status, ("Open", "We have your report."))


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    title: str  # "Fixed", "You added details"
    by: str  # "by you", "by the support team", or "" (automatic)
    note_label: str = ""  # "Note from the team" or "Your comment"
    note: str = ""
    answers: tuple[tuple[str, str], ...] = ()  # (what it answers, the customer's words)


def entries(events: Iterable[ReportEvent]) -> list[Entry]:
    return [entry(e) for e in events if e.public]


def entry(event: ReportEvent) -> Entry:
    data: dict[str, Any] = event.data if isinstance(event.data, dict) else {}
    by = BY.get(event.actor_type, "")
    if event.kind == "created":
        return Entry(event.at, "You sent this report", "")
    if event.kind == "answered":
        return Entry(event.at, "You added details", "", answers=_answers(data.get("answers")))
    status = data.get("to", data.get("status"))
    title = status_words(status)[0] if isinstance(status, str) else "Update"
    if event.actor_type == "reporter" and status == ReportStatus.RECEIVED:
        by = "after your answers"  # needs_info -> received: the answers sent it back to triage
    note = data.get("note")
    note = note.strip()[:MAX_NOTE] if isinstance(note, str) else ""
    label = ("Your comment" if event.actor_type == "reporter" else "Note from the team") if note else ""
    return Entry(event.at, title, by, label, note)


def _answers(raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        return ()
    out = []
    for name, value in raw.items():
        f = BY_NAME.get(str(name))
        if f is not None and isinstance(value, str):
            out.append((f.label, f.words(value)))
    return tuple(out)
