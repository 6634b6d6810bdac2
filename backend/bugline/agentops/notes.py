"""Words about a report: an internal note (for the team only) or a public reply (on the
customer's status page, and mailed to them as a ``reply`` notification)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from bugline.agentops.actor import Actor
from bugline.agentops.errors import OpError
from bugline.db.models import Report, Reporter, ReportEvent
from bugline.notify import queue as notify_queue

EVENTS = cast(Table, ReportEvent.__table__)
NOTE_MAX = 5_000  # what a mail quotes (notify.context.NOTE_LIMIT)
VISIBILITY = ("internal", "public")


@dataclass(frozen=True, slots=True)
class Noted:
    event_id: int
    mailed: bool  # a mail to the customer is queued
    why_not: str = ""  # when a public reply is not mailed: "no email address", ...


def checked(text: str | None, visibility: str | None) -> tuple[str, str]:
    body = (text or "").strip()
    seen = (visibility or "internal").strip().lower()
    if seen not in VISIBILITY:
        raise OpError(422, "invalid_visibility", "visibility must be internal or public", "visibility")
    if not body:
        raise OpError(422, "note_required", "write the note first", "text")
    if len(body) > NOTE_MAX:
        raise OpError(
            422,
            "note_too_long",
            f"the note is {len(body):,} characters long; shorten it to {NOTE_MAX:,} or fewer",
            "text",
        )
    return body, seen


def add(s: Session, report: Report, text: str, visibility: str, actor: Actor, now: datetime) -> Noted:
    body, seen = checked(text, visibility)
    public = seen == "public"
    event_id = int(
        s.connection()
        .execute(
            insert(EVENTS)
            .values(
                project_id=report.project_id,
                report_id=report.id,
                at=now,
                kind="reply" if public else "note",
                actor_type="agent",
                actor=actor.email,
                public=public,
                data={"note": body, "via": actor.via},
            )
            .returning(EVENTS.c.id)
        )
        .scalar_one()
    )
    if not public:
        return Noted(event_id, mailed=False)
    if report.reporter_id is None:
        return Noted(event_id, mailed=False, why_not="the report has no known customer to mail")
    # Queued even for a customer without an address or who unsubscribed: the notifier skips
    # it at send time and the decision stays on record, like every other notification.
    notify_queue.enqueue(
        s.connection(),
        project_id=report.project_id,
        report_id=report.id,
        reporter_id=report.reporter_id,
        kind="reply",
        key=str(event_id),
        data={"note": body, "severity": report.severity or "medium"},
        now=now,
    )
    who = s.get(Reporter, report.reporter_id)
    if who is None or not who.email:
        return Noted(event_id, mailed=False, why_not="the customer left no email address")
    if who.unsubscribed:
        return Noted(event_id, mailed=False, why_not="the customer unsubscribed from mail")
    return Noted(event_id, mailed=True)
