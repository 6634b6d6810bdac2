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
from bugline.pages.language import ENGLISH, Words

MAX_NOTE = 5_000
_STATUSES = frozenset(ReportStatus)  # what may name a sentence: never an event's free text
# Who moved a report, in the customer's terms (a word key in pages/words/).
BY: dict[str, str] = {"reporter": "by_you", "agent": "by_team", "connector": "by_team"}


def status_words(status: str, t: Words = ENGLISH) -> tuple[str, str]:
    """What the status is called and what it means for the customer, in ``t``'s language."""
    key = f"status_{status}" if status in _STATUSES else "status_open"
    return t(key), t(f"{key}_meaning")


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    title: str  # "Fixed", "You added details"
    by: str  # "by you", "by the support team", or "" (automatic)
    note_label: str = ""  # "Note from the team" or "Your comment"
    note: str = ""
    answers: tuple[tuple[str, str], ...] = ()  # (what it answers, the customer's words)


def entries(events: Iterable[ReportEvent], t: Words = ENGLISH) -> list[Entry]:
    return [entry(e, t) for e in events if e.public]


def entry(event: ReportEvent, t: Words = ENGLISH) -> Entry:
    data: dict[str, Any] = event.data if isinstance(event.data, dict) else {}
    by = t(BY[event.actor_type]) if event.actor_type in BY else ""
    if event.kind == "created":
        return Entry(event.at, t("sent_report"), "")
    if event.kind == "answered":
        return Entry(event.at, t("added_details"), "", answers=_answers(data.get("answers"), t))
    status = data.get("to", data.get("status"))
    title = status_words(status, t)[0] if isinstance(status, str) else t("update")
    if event.actor_type == "reporter" and status == ReportStatus.RECEIVED:
        by = t("after_answers")  # needs_info -> received: the answers sent it back to triage
    note = data.get("note")
    note = note.strip()[:MAX_NOTE] if isinstance(note, str) else ""
    label = (t("your_comment") if event.actor_type == "reporter" else t("team_note")) if note else ""
    return Entry(event.at, title, by, label, note)


def _answers(raw: Any, t: Words) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        return ()
    out = []
    for name, value in raw.items():
        f = BY_NAME.get(str(name))
        if f is not None and isinstance(value, str):
            out.append((t(f"field_{f.name}"), t(f"choice_{value}") if value in f.choices else value))
    return tuple(out)
