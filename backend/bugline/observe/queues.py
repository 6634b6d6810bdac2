"""The work queues' depth and age, read for /metrics: what waits to be triaged, forwarded,
mailed, and which timers are overdue. Each is one aggregate over an indexed column."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from bugline.db.models import Delivery, Notification, Report, ReportStatus, Timer

Row = tuple[str, str, int, datetime | None]


def read(conn: Connection, now: datetime) -> list[Row]:
    rows: list[Row] = []
    count, oldest = conn.execute(
        select(func.count(), func.min(Report.accepted_at)).where(
            Report.status == ReportStatus.RECEIVED, Report.triaged_at.is_(None)
        )
    ).one()
    rows.append(("triage", "waiting", int(count), oldest))
    for state, count, oldest in conn.execute(
        select(Delivery.state, func.count(), func.min(Delivery.created_at))
        .where(Delivery.state.in_(("pending", "failed")))
        .group_by(Delivery.state)
    ):
        rows.append(("deliveries", str(state), int(count), oldest if state == "pending" else None))
    for state, count, oldest in conn.execute(
        select(Notification.state, func.count(), func.min(Notification.created_at))
        .where(Notification.state.in_(("pending", "failed")))
        .group_by(Notification.state)
    ):
        rows.append(("notifications", str(state), int(count), oldest if state == "pending" else None))
    count, oldest = conn.execute(
        select(func.count(), func.min(Timer.due_at)).where(Timer.state == "pending", Timer.due_at <= now)
    ).one()
    rows.append(("timers", "overdue", int(count), oldest))
    return rows
