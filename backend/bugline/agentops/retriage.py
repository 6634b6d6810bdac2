"""The engine's verdict again, right after an agent changed what a report says.

Unlike the triage backlog this keeps the report where it is: its status (an escalated
report stays escalated), its duplicate group and its deliveries. Only the verdict is
renewed: completeness and its questions, kind and category, and severity (recounted with
the group's people, as triage does; an agent's severity is kept). A report waiting for the
customer's answers that is complete now goes back to the backlog, like after the customer's
own answers, so it is routed and the customer hears we have what we need.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.orm import Session

from bugline.agentops.actor import Actor
from bugline.db.models import (
    Attachment,
    AttachmentState,
    Project,
    Report,
    Reporter,
    ReportEvent,
    ReportStatus,
)
from bugline.grouping import group_stats
from bugline.intake.triage import evaluate, input_of, needs_info, unread_data, verdict_json
from bugline.lifecycle import status as lifecycle
from bugline.sla import policy as sla_policy
from bugline.triage import severity as severity_part
from bugline.triage.result import TriageResult

REPORTS = cast(Table, Report.__table__)
EVENTS = cast(Table, ReportEvent.__table__)


@dataclass(frozen=True, slots=True)
class Retriaged:
    result: TriageResult | None  # None: not triaged yet (the backlog will)
    backlog: bool  # sent back to the triage backlog: poke it


def verdict(s: Session, report: Report) -> tuple[TriageResult, Any]:
    """The engine on the report as it is now, with its group's counts (pure apart from reads)."""
    project = s.get(Project, report.project_id)
    assert project is not None
    account = plan = None
    if report.reporter_id:
        who = s.get(Reporter, report.reporter_id)
        if who is not None:
            account, plan = who.account, who.plan
    kinds = s.execute(
        select(Attachment.kind).where(
            Attachment.report_id == report.id, Attachment.state == AttachmentState.STORED
        )
    ).scalars()
    report_input = input_of(report, account=account, plan=plan, attachment_kinds=list(kinds))
    pending = evaluate(project, report, report_input)
    result = pending.result
    if report.duplicate_group_id:
        stats = group_stats(s.connection(), report.project_id, report.duplicate_group_id)
        if stats is not None and (stats.reporters > 1 or stats.accounts > 1):
            result = dataclasses.replace(
                result, severity=severity_part.assess(report_input, pending.rules.severity, stats)
            )
    return result, pending.rules


def run(s: Session, report: Report, actor: Actor, now: datetime, why: str) -> Retriaged:
    if report.triaged_at is None or not isinstance(report.triage, dict):
        return Retriaged(None, backlog=False)
    result, rules = verdict(s, report)
    conn: Connection = s.connection()
    data = verdict_json(result, None)
    if "duplicates" in report.triage:
        data["duplicates"] = report.triage["duplicates"]
    before = report.severity
    after = report.severity_override or result.severity.level
    conn.execute(
        update(REPORTS)
        .where(REPORTS.c.id == report.id)
        .values(
            triage=data,
            severity=after,
            category=result.classification.categories[0] if result.classification.categories else None,
            kind=result.classification.kind,
            completeness=result.completeness.score,
            updated_at=now,
        )
    )
    c, sev = result.completeness, result.severity
    events: list[dict[str, Any]] = [
        _event(
            report,
            now,
            "retriaged",
            {
                "why": why,
                "completeness": c.score,
                "missing": list(c.missing),
                **unread_data(c),
                "severity": sev.level,
                "severity_score": round(sev.score, 1),
                "reasons": list(sev.reasons),
                "kind": result.classification.kind,
                "categories": list(result.classification.categories),
            },
        )
    ]
    if after != before:
        events.append(
            _event(
                report,
                now,
                "severity_changed",
                {"from": before, "to": after, "reason": why, "reasons": list(sev.reasons)},
            )
        )
    conn.execute(insert(EVENTS), events)
    if after != before:
        sla_policy.on_severity(
            conn, project_id=report.project_id, report_id=report.id, before=before, after=after, now=now
        )
    if report.status == ReportStatus.NEEDS_INFO and not needs_info(result, rules):
        # Complete now: the backlog triages it as new (routing, the receipt, the SLA clock).
        lifecycle.change(
            conn,
            [report.id],
            ReportStatus.RECEIVED,
            source=actor.source(),
            now=now,
            only_from=(ReportStatus.NEEDS_INFO,),
        )
        conn.execute(update(REPORTS).where(REPORTS.c.id == report.id).values(triaged_at=None))
        return Retriaged(result, backlog=True)
    return Retriaged(result, backlog=False)


def _event(report: Report, now: datetime, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": report.project_id,
        "report_id": report.id,
        "at": now,
        "kind": kind,
        "actor_type": "system",
        "actor": None,
        "public": False,
        "data": data,
    }
