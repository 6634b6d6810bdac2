"""An agent merges a report into another report's duplicate group, or splits it out into a
group of its own. ``grouping.index`` keeps the counts (reports, people, accounts) right on
both groups, picks a new first report when the first one leaves, and deletes a group left
empty; a group's ticket stays with the group (one ticket per connector and group), so a
merged report's next delivery comments on its new group's ticket.

Both groups' severities read their counts: this report is re-scored here (unless an agent
set its severity), the other open members after the commit (``refresh``, by the caller,
through ``intake.triage.refresh_severity``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.orm import Session

from bugline.agentops import lookup
from bugline.agentops.actor import Actor
from bugline.agentops.errors import OpError
from bugline.db.models import DuplicateGroup, DuplicateMember, Project, Report, Reporter, ReportEvent
from bugline.grouping import Grouping, Match, assign, group_stats, refresh_status
from bugline.grouping.index import CLOSED, OPEN_GROUP, Candidate
from bugline.intake.triage import input_of, rules_for
from bugline.sla import policy as sla_policy
from bugline.triage import severity as severity_part
from bugline.triage.duplicates import signature

REPORTS = cast(Table, Report.__table__)
EVENTS = cast(Table, ReportEvent.__table__)
REFRESH_LIMIT = 50  # siblings re-scored after a merge or split (triage caps its recount too)


@dataclass(frozen=True, slots=True)
class Regrouped:
    group_id: str
    left_group: str | None
    refresh: tuple[str, ...]  # other open reports whose severity may change now


def merge(
    s: Session, project: Project, report: Report, target_ref: str, actor: Actor, now: datetime
) -> Regrouped:
    ref = (target_ref or "").strip()
    if not ref:
        raise OpError(
            422, "target_required", "give the number (#42) or id of the report to merge into", "into"
        )
    target = lookup.find(s, ref, project.id)
    if target is None:
        raise OpError(404, "target_not_found", f"there is no report {ref} in this project", "into")
    if target.id == report.id:
        raise OpError(422, "same_report", "a report cannot be merged into itself", "into")
    _triaged(report)
    if target.duplicate_group_id is None:
        raise OpError(409, "target_not_triaged", f"report #{target.number} has not been triaged yet", "into")
    if target.duplicate_group_id == report.duplicate_group_id:
        raise OpError(409, "already_merged", f"this report is already in #{target.number}'s group", "into")
    group = s.get(DuplicateGroup, target.duplicate_group_id)
    if group is None or group.project_id != project.id:
        raise OpError(409, "target_not_triaged", f"report #{target.number} has no group", "into")
    if group.status != OPEN_GROUP:
        raise OpError(
            409,
            "group_closed",
            f"#{target.number}'s group is closed (all its reports are resolved); reopen one first",
            "into",
        )
    match = Match(Candidate(target.id, group.id, 0), 1.0, (f"merged by {actor.email}",))
    return _regroup(s, project, report, match, actor, now, into=target)


def split(s: Session, project: Project, report: Report, actor: Actor, now: datetime) -> Regrouped:
    _triaged(report)
    group = s.get(DuplicateGroup, report.duplicate_group_id) if report.duplicate_group_id else None
    if group is None or group.report_count <= 1:
        raise OpError(409, "not_grouped", "this report is not grouped with any other report")
    return _regroup(s, project, report, None, actor, now, into=None)


def _triaged(report: Report) -> None:
    # Triage (re)groups a report by its words; before it has, a manual group would be undone.
    if report.triaged_at is None or report.duplicate_group_id is None:
        raise OpError(409, "not_triaged", "the report has not been triaged yet; try again in a moment")


def _regroup(
    s: Session,
    project: Project,
    report: Report,
    match: Match | None,
    actor: Actor,
    now: datetime,
    *,
    into: Report | None,
) -> Regrouped:
    conn = s.connection()
    account = plan = None
    if report.reporter_id:
        who = s.get(Reporter, report.reporter_id)
        if who is not None:
            account, plan = who.account, who.plan
    report_input = input_of(report, account=account, plan=plan, attachment_kinds=())
    rules = rules_for(project)
    left = report.duplicate_group_id
    left_members = _open_members(conn, left, report.id) if left else []
    grouping = assign(
        conn,
        project_id=project.id,
        report_id=report.id,
        reporter_id=report.reporter_id,
        sig=signature(report_input, rules.duplicates),
        rules=rules.duplicates,
        match=match,
    )
    if left and group_stats(conn, project.id, left) is not None:
        refresh_status(conn, project.id, left)
    _store(conn, report, grouping, report_input, rules, now)
    kind = "merged" if into is not None else "split"
    data: dict[str, Any] = {"from_group": left, "to_group": grouping.group_id, "via": actor.via}
    if into is not None:
        data["into"] = {"id": into.id, "number": into.number}
    events = [_event(report.project_id, report.id, now, kind, "agent", actor.email, data)]
    if into is not None:
        events.append(
            _event(
                into.project_id,
                into.id,
                now,
                "duplicate_added",
                "agent",
                actor.email,
                {"report": {"id": report.id, "number": report.number}, "group": grouping.group_id},
            )
        )
    conn.execute(insert(EVENTS), events)
    refresh = dict.fromkeys([*grouping.retriage, *left_members])
    refresh.pop(report.id, None)
    return Regrouped(grouping.group_id, left, tuple(refresh)[:REFRESH_LIMIT])


def _open_members(conn: Connection, group_id: str, without: str) -> list[str]:
    rows = conn.execute(
        select(REPORTS.c.id)
        .join(DuplicateMember, DuplicateMember.report_id == REPORTS.c.id)
        .where(
            DuplicateMember.group_id == group_id,
            REPORTS.c.id != without,
            REPORTS.c.status.not_in(CLOSED),
        )
        .order_by(DuplicateMember.created_at.desc())
        .limit(REFRESH_LIMIT)
    ).scalars()
    return [str(r) for r in rows]


def _store(
    conn: Connection, report: Report, grouping: Grouping, report_input: Any, rules: Any, now: datetime
) -> None:
    """The report's verdict with its new group: counts, and severity re-scored by them."""
    verdict = dict(report.triage or {})
    stats = grouping.stats
    verdict["duplicates"] = {
        "group_id": grouping.group_id,
        "joined": grouping.joined,
        "matched_report_id": grouping.matched_report_id,
        "reasons": list(grouping.reasons),
        "reports": stats.reports,
        "reporters": stats.reporters,
        "accounts": stats.accounts,
    }
    new = severity_part.assess(report_input, rules.severity, stats)
    verdict["severity"] = dataclasses.asdict(new)
    before = report.severity
    after = report.severity_override or new.level
    conn.execute(
        update(REPORTS)
        .where(REPORTS.c.id == report.id)
        .values(triage=verdict, severity=after, duplicate_group_id=grouping.group_id, updated_at=now)
    )
    if after != before:
        conn.execute(
            insert(EVENTS),
            [
                _event(
                    report.project_id,
                    report.id,
                    now,
                    "severity_changed",
                    "system",
                    None,
                    {
                        "from": before,
                        "to": after,
                        "reason": "duplicate group changed",
                        "reasons": list(new.reasons),
                    },
                )
            ],
        )
        sla_policy.on_severity(
            conn, project_id=report.project_id, report_id=report.id, before=before, after=after, now=now
        )


def _event(
    project_id: str,
    report_id: str,
    now: datetime,
    kind: str,
    actor_type: str,
    actor: str | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "report_id": report_id,
        "at": now,
        "kind": kind,
        "actor_type": actor_type,
        "actor": actor,
        "public": False,
        "data": data,
    }
