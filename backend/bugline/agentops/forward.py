"""Forward now: failed deliveries of the report start again from their first attempt, and
a report that was never routed (it needed info, or no connector existed then) is routed.
The same for the page and the API (routes/agent.py's POST .../forward calls this)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from bugline.agentops.actor import Actor
from bugline.agentops.errors import OpError
from bugline.db.models import Project, Report, ReportEvent, ReportStatus
from bugline.outbox import queue
from bugline.outbox.plan import Subject, forward

EVENTS = cast(Table, ReportEvent.__table__)


@dataclass(frozen=True, slots=True)
class Forwarded:
    retried: int
    added: int


def forward_now(
    s: Session,
    project: Project,
    report: Report,
    actor: Actor | None,
    now: datetime,
    *,
    delivery_ids: list[str] | None = None,
) -> Forwarded:
    """``delivery_ids``: re-deliver only these failed deliveries of the report."""
    if report.triage is None:
        raise OpError(409, "not_triaged", "the report has no triage verdict yet; try again in a moment")
    conn = s.connection()
    retried = queue.restart(conn, project_id=project.id, now=now, report_id=report.id, ids=delivery_ids)
    added = 0
    if delivery_ids is None:
        added = forward(
            conn,
            project_id=project.id,
            project_settings=project.settings or {},
            report_id=report.id,
            subject=Subject.of_report(s, report),
            status=str(ReportStatus.RECEIVED),
            now=now,
        )
    if actor is not None:
        conn.execute(
            insert(EVENTS).values(
                project_id=report.project_id,
                report_id=report.id,
                at=now,
                kind="forward_requested" if delivery_ids is None else "redelivery_requested",
                actor_type="agent",
                actor=actor.email,
                public=False,
                data={"retried": retried, "added": added, "via": actor.via},
            )
        )
    return Forwarded(retried, added)
