"""An agent's severity: set with a reason, recorded for the monthly review, and kept.

Every change by hand is a ``severity_changed`` event with ``actor_type`` "agent" and data
``{"from", "to", "reason"}``, so the review counts them with one query. The level is also
stored as the report's ``severity_override``: automatic verdicts (a re-triage after the
customer's answers or an edit, a duplicate group that grew) still compute and store the
engine's own level and reasons in ``reports.triage``, but the report's ``severity`` stays
the agent's until an agent hands it back ("auto"), which is recorded the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update

from bugline.agentops.actor import Actor
from bugline.agentops.errors import OpError
from bugline.db.models import Report, ReportEvent
from bugline.sla import policy as sla_policy
from bugline.triage.result import LEVELS

REPORTS = cast(Table, Report.__table__)
EVENTS = cast(Table, ReportEvent.__table__)

AUTO = "auto"  # hand the severity back to triage
REASON_MAX = 1_000
CHOICES = (*LEVELS, AUTO)


def overrides(conn: Connection, report_ids: Sequence[str]) -> dict[str, str]:
    """The agents' severities among these reports (for triage, which must keep them)."""
    if not report_ids:
        return {}
    rows = conn.execute(
        select(REPORTS.c.id, REPORTS.c.severity_override).where(
            REPORTS.c.id.in_(list(report_ids)), REPORTS.c.severity_override.is_not(None)
        )
    )
    return {str(r[0]): str(r[1]) for r in rows}


def engine_level(report: Report) -> str | None:
    """What triage last said, whatever an agent set."""
    verdict = report.triage if isinstance(report.triage, dict) else {}
    level = (verdict.get("severity") or {}).get("level")
    return level if isinstance(level, str) and level in LEVELS else None


def checked(to: str | None, reason: str | None) -> tuple[str, str]:
    """The level and reason an agent gave, or why they cannot be used (pure)."""
    level = (to or "").strip().lower()
    if level not in CHOICES:
        raise OpError(422, "invalid_severity", f"severity must be one of {', '.join(CHOICES)}", "severity")
    text = (reason or "").strip()
    if not text:
        raise OpError(
            422, "reason_required", "say why the severity changes (the monthly review reads it)", "reason"
        )
    if len(text) > REASON_MAX:
        raise OpError(
            422,
            "reason_too_long",
            f"the reason is {len(text):,} characters long; shorten it to {REASON_MAX:,} or fewer",
            "reason",
        )
    return level, text


def change(conn: Connection, report: Report, to: str, reason: str, actor: Actor, now: datetime) -> str:
    """Set (or with "auto", hand back) the report's severity; returns the new level."""
    level, reason = checked(to, reason)
    before = report.severity
    values: dict[str, Any]
    if level == AUTO:
        if report.severity_override is None:
            raise OpError(409, "not_overridden", "triage already decides this report's severity", "severity")
        after = engine_level(report) or before
        values = {"severity_override": None, "severity_override_by": None, "severity_override_at": None}
    else:
        if level == before and report.severity_override == level:
            raise OpError(409, "unchanged", f"the severity is already {level}", "severity")
        after = level
        values = {
            "severity_override": level,
            "severity_override_by": actor.email,
            "severity_override_at": now,
        }
    conn.execute(
        update(REPORTS).where(REPORTS.c.id == report.id).values(severity=after, updated_at=now, **values)
    )
    data: dict[str, Any] = {"from": before, "to": after, "reason": reason}
    if level == AUTO:
        data["override"] = "cleared"
    conn.execute(
        insert(EVENTS).values(
            project_id=report.project_id,
            report_id=report.id,
            at=now,
            kind="severity_changed",
            actor_type="agent",
            actor=actor.email,
            public=False,
            data=data,
        )
    )
    # Pending SLA targets follow the new severity (from the same anchor), as after triage.
    sla_policy.on_severity(
        conn, project_id=report.project_id, report_id=report.id, before=before, after=after, now=now
    )
    return str(after)
