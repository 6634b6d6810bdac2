"""Changing a report's status, from whichever side it comes (a helpdesk's webhook, an agent,
the customer's "still broken" link, an SLA timer), and everything that follows from it, in
the caller's transaction: the report's row, the public timeline entry naming the source,
the customer's notification, and the SLA timers.

A ticket stands for a whole duplicate group (one ticket per connector and group), so a
change that comes from a ticket applies to every report of the group (``group_reports``):
every reporter hears that it is fixed, not just the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, or_, select, update

from bugline.db.models import Report, ReportEvent, ReportStatus, Ticket
from bugline.notify import queue as notify_queue
from bugline.outbox import plan
from bugline.sla import policy

REPORTS = cast(Table, Report.__table__)
EVENTS = cast(Table, ReportEvent.__table__)

# Statuses a change may set. awaiting_media and needs_info belong to intake and triage.
SETTABLE = frozenset(
    {
        ReportStatus.RECEIVED,
        ReportStatus.ESCALATED,
        ReportStatus.IN_PROGRESS,
        ReportStatus.RESOLVED,
        ReportStatus.CANNOT_REPRODUCE,
        ReportStatus.CLOSED,
        ReportStatus.REOPENED,
    }
)
# The statuses the customer is told about, by the notification of the same name.
NOTIFIED = frozenset(
    {
        ReportStatus.ESCALATED,
        ReportStatus.RESOLVED,
        ReportStatus.CANNOT_REPRODUCE,
        ReportStatus.CLOSED,
        ReportStatus.REOPENED,
    }
)
OPEN = frozenset(
    {
        ReportStatus.RECEIVED,
        ReportStatus.NEEDS_INFO,
        ReportStatus.ESCALATED,
        ReportStatus.IN_PROGRESS,
        ReportStatus.CANNOT_REPRODUCE,
        ReportStatus.REOPENED,
    }
)


@dataclass(frozen=True, slots=True)
class Source:
    """Who or what changed the status, as the timeline shows it."""

    actor_type: str  # connector | agent | reporter | system
    actor: str | None = None  # the connector's name, the agent's email, ...
    via: str = ""  # "Zendesk webhook", "still-broken link", "SLA timer", "agent API"


@dataclass(frozen=True, slots=True)
class Changed:
    report_id: str
    before: str
    after: str
    event_id: int


def group_reports(conn: Connection, ticket: Ticket) -> list[str]:
    """The reports a ticket stands for: its duplicate group's members, or its one report."""
    rows = conn.execute(
        select(REPORTS.c.id).where(
            REPORTS.c.project_id == ticket.project_id,
            or_(REPORTS.c.duplicate_group_id == ticket.group_key, REPORTS.c.id == ticket.group_key),
        )
    )
    return [r[0] for r in rows]


def change(
    conn: Connection,
    report_ids: Sequence[str],
    to: str,
    *,
    source: Source,
    now: datetime,
    public_note: str = "",
    internal_note: str = "",
    data: dict[str, Any] | None = None,
    only_from: Iterable[str] | None = None,
) -> list[Changed]:
    """Move the reports to ``to``; reports already there (or, with ``only_from``, not in one
    of those statuses) are left alone, so a repeated or late delivery changes nothing."""
    if to not in SETTABLE:
        raise ValueError(f"status {to!r} cannot be set; one of {', '.join(sorted(SETTABLE))}")
    if not report_ids:
        return []
    allowed = set(only_from) if only_from is not None else None
    rows = conn.execute(
        select(
            REPORTS.c.id,
            REPORTS.c.project_id,
            REPORTS.c.reporter_id,
            REPORTS.c.status,
            REPORTS.c.severity,
            REPORTS.c.escalated_at,
        ).where(REPORTS.c.id.in_(list(report_ids)))
    ).all()
    changed: list[Changed] = []
    for row in rows:
        before = row.status
        if (
            before == to
            or before == ReportStatus.AWAITING_MEDIA
            or (allowed is not None and before not in allowed)
        ):
            continue
        values: dict[str, Any] = {"status": to, "status_changed_at": now, "updated_at": now}
        if to == ReportStatus.ESCALATED and row.escalated_at is None:
            values["escalated_at"] = now
        if to in (ReportStatus.RESOLVED, ReportStatus.CLOSED):
            values["resolved_at"] = now
        if to == ReportStatus.REOPENED:
            values["resolved_at"] = None
        # Conditional on the status read above: two sources racing change it once.
        moved = conn.execute(
            update(REPORTS).where(REPORTS.c.id == row.id, REPORTS.c.status == before).values(**values)
        ).rowcount
        if not moved:
            continue
        event: dict[str, Any] = {"from": before, "to": to, "source": source.via or source.actor_type}
        if public_note:
            event["note"] = public_note
        if data:
            event.update(data)
        event_id = conn.execute(
            insert(EVENTS)
            .values(
                project_id=row.project_id,
                report_id=row.id,
                at=now,
                kind="status_changed",
                actor_type=source.actor_type,
                actor=source.actor,
                public=True,
                data=event,
            )
            .returning(EVENTS.c.id)
        ).scalar_one()
        if internal_note:
            conn.execute(
                insert(EVENTS).values(
                    project_id=row.project_id,
                    report_id=row.id,
                    at=now,
                    kind="note",
                    actor_type=source.actor_type,
                    actor=source.actor,
                    public=False,
                    data={"note": internal_note},
                )
            )
        if to in NOTIFIED:
            notify_queue.enqueue(
                conn,
                project_id=row.project_id,
                report_id=row.id,
                reporter_id=row.reporter_id,
                kind=str(to),
                key=str(event_id),
                data={"note": public_note, "from": before, "severity": row.severity or "medium"},
                now=now,
            )
        if to == ReportStatus.REOPENED and source.actor_type in ("reporter", "agent"):
            # The team's tool must hear it too (a reopen that came from the tool itself
            # needs no echo back).
            said = f": {public_note}" if public_note else ""
            plan.tell_tickets(
                conn,
                project_id=row.project_id,
                report_id=row.id,
                action=f"reopen:{event_id}",
                note=f"Reopened: the customer says the problem is still there ({source.via}){said}",
                now=now,
            )
        policy.on_status(
            conn,
            project_id=row.project_id,
            report_id=row.id,
            severity=row.severity,
            before=before,
            after=to,
            now=now,
        )
        changed.append(Changed(row.id, before, to, event_id))
    return changed
