"""An agent moves a report's status through ``lifecycle.change``: the public timeline
entry, the customer's mail (cannot reproduce, resolved, closed, reopened) and the SLA timers
all follow from there, exactly as when a helpdesk's webhook moves it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bugline.agentops.actor import Actor
from bugline.agentops.errors import OpError
from bugline.db.models import Report, ReportStatus
from bugline.lifecycle import status as lifecycle

NOTE_MAX = 5_000  # what a mail quotes (notify.context.NOTE_LIMIT)
# What an agent may set by hand. received and needs_info belong to intake and triage, and
# escalated to forwarding (it means the team's tool has it).
AGENT_SETTABLE = (
    ReportStatus.IN_PROGRESS,
    ReportStatus.CANNOT_REPRODUCE,
    ReportStatus.RESOLVED,
    ReportStatus.CLOSED,
    ReportStatus.REOPENED,
)


def note_text(value: str | None, name: str) -> str:
    text = (value or "").strip()
    if len(text) > NOTE_MAX:
        raise OpError(
            422,
            "note_too_long",
            f"the note is {len(text):,} characters long; shorten it to {NOTE_MAX:,}",
            name,
        )
    return text


def change(
    s: Session,
    report: Report,
    to: str,
    actor: Actor,
    now: datetime,
    *,
    public_note: str = "",
    internal_note: str = "",
) -> lifecycle.Changed:
    target = (to or "").strip().lower()
    if target not in AGENT_SETTABLE:
        raise OpError(
            422,
            "invalid_status",
            f"status must be one of {', '.join(str(x) for x in AGENT_SETTABLE)}",
            "status",
        )
    public_note = note_text(public_note, "public_note")
    internal_note = note_text(internal_note, "internal_note")
    if report.status == ReportStatus.AWAITING_MEDIA:
        raise OpError(409, "awaiting_media", "the customer is still uploading this report's files")
    if report.status == target:
        raise OpError(409, "unchanged", f"the report is already {target.replace('_', ' ')}", "status")
    changed = lifecycle.change(
        s.connection(),
        [report.id],
        target,
        source=actor.source(),
        now=now,
        public_note=public_note,
        internal_note=internal_note,
    )
    if not changed:  # another change won the race: nothing happened twice
        raise OpError(409, "conflict", "the report changed meanwhile; reload and try again")
    return changed[0]
