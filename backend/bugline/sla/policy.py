"""What each status change does to a report's timers (the SLA helper extends this with the
per-severity targets; this first version keeps the SOP's two fixed rules)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from bugline.db.models import ReportStatus
from bugline.sla import timers

# "If the issue cannot be reproduced: tell the customer honestly. Keep the ticket open for
# 14 days before closing." (../shared/sop/support-sop-for-bug-reports-guide.txt, step 5)
CANNOT_REPRODUCE_CLOSE = timedelta(days=14)


def on_status(
    conn: Connection,
    *,
    project_id: str,
    report_id: str,
    severity: str | None,
    before: str,
    after: str,
    now: datetime,
) -> None:
    if after in (ReportStatus.RESOLVED, ReportStatus.CLOSED):
        timers.cancel(conn, report_id)
    elif after == ReportStatus.CANNOT_REPRODUCE:
        timers.schedule(
            conn,
            project_id=project_id,
            report_id=report_id,
            kind="close",
            key=f"close:{now.isoformat()}",
            due_at=now + CANNOT_REPRODUCE_CLOSE,
            now=now,
        )
    elif before == ReportStatus.CANNOT_REPRODUCE:
        timers.cancel(conn, report_id, ["close"])
