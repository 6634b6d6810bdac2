"""Breaches for the monthly review: "Which bug reports took the longest to resolve, and why?
Were there any escalation failures?" (support-sop-for-bug-reports-guide.txt, step 6).

A breach is an ``sla_breached`` event (written by the scheduler when a first-response or
resolution target passed unmet). How late it ended up is known only later: the breached
timer's ``met_at`` (set by the policy when the report got its response or its resolution
after all); until then a breach is open and its overdue time grows with ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from bugline.db.models import Report, ReportEvent, Timer
from bugline.sla.targets import SEVERITIES, SlaError, format_duration

EVENTS = cast(Table, ReportEvent.__table__)
REPORTS = cast(Table, Report.__table__)
TIMERS = cast(Table, Timer.__table__)


@dataclass(frozen=True, slots=True)
class Breach:
    report_id: str
    number: int  # the report's "#42"
    title: str
    target: str  # first_response | resolution
    severity: str
    due_at: datetime
    breached_at: datetime  # when the scheduler recorded it
    met_at: datetime | None  # when the target was met after all; None: still unmet
    overdue: timedelta  # met_at (or now) - due_at

    @property
    def open(self) -> bool:
        return self.met_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "report": {"id": self.report_id, "number": self.number, "title": self.title},
            "target": self.target,
            "severity": self.severity,
            "due_at": self.due_at.isoformat(),
            "breached_at": self.breached_at.isoformat(),
            "met_at": self.met_at.isoformat() if self.met_at else None,
            "overdue_seconds": int(self.overdue.total_seconds()),
            "overdue": format_duration(self.overdue),
            "open": self.open,
        }


def month_range(month: str | date) -> tuple[datetime, datetime]:
    """ "2025-06" (or any date in it) -> [first instant, first instant of the next month), UTC."""
    if isinstance(month, str):
        try:
            year, mon = (int(x) for x in month.split("-"))
            start = datetime(year, mon, 1, tzinfo=UTC)
        except ValueError as exc:
            raise SlaError(f"month must look like 2025-06, not {month!r}") from exc
    else:
        start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def breaches(
    conn: Connection,
    project_id: str,
    *,
    month: str | date | None = None,
    severity: str | None = None,
    target: str | None = None,
    now: datetime,
) -> list[Breach]:
    """The project's breaches recorded in ``month`` (all when None), oldest first, optionally
    of one severity or one target."""
    if severity is not None and severity not in SEVERITIES:
        raise SlaError(f"severity must be one of {', '.join(SEVERITIES)}")
    q = (
        select(EVENTS.c.report_id, EVENTS.c.at, EVENTS.c.data, REPORTS.c.number, REPORTS.c.title)
        .join(REPORTS, REPORTS.c.id == EVENTS.c.report_id)
        .where(EVENTS.c.project_id == project_id, EVENTS.c.kind == "sla_breached")
        .order_by(EVENTS.c.at, EVENTS.c.id)
    )
    if month is not None:
        start, end = month_range(month)
        q = q.where(EVENTS.c.at >= start, EVENTS.c.at < end)
    rows = conn.execute(q).all()
    picked = [
        r
        for r in rows
        if (severity is None or r.data.get("severity") == severity)
        and (target is None or r.data.get("target") == target)
    ]
    met = _met(conn, [str(r.data.get("timer")) for r in picked])
    out = []
    for r in picked:
        due = datetime.fromisoformat(str(r.data["due_at"]))
        met_at = met.get(str(r.data.get("timer")))
        out.append(
            Breach(
                report_id=r.report_id,
                number=int(r.number or 0),
                title=str(r.title or ""),
                target=str(r.data.get("target")),
                severity=str(r.data.get("severity")),
                due_at=due,
                breached_at=r.at,
                met_at=met_at,
                overdue=max(timedelta(0), (met_at or now) - due),
            )
        )
    return out


def summary(found: Sequence[Breach]) -> dict[str, dict[str, int]]:
    """Counts by severity and target: {"critical": {"first_response": 1, "resolution": 2}}."""
    out: dict[str, dict[str, int]] = {}
    for b in found:
        by_target = out.setdefault(b.severity, {})
        by_target[b.target] = by_target.get(b.target, 0) + 1
    return out


def _met(conn: Connection, timer_ids: list[str]) -> dict[str, datetime]:
    if not timer_ids:
        return {}
    rows = conn.execute(select(TIMERS.c.id, TIMERS.c.data).where(TIMERS.c.id.in_(timer_ids)))
    return {
        r.id: datetime.fromisoformat(str(r.data["met_at"]))
        for r in rows
        if isinstance(r.data, dict) and r.data.get("met_at")
    }
