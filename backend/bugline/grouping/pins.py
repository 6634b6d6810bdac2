"""Where an agent put a report: a manual merge or split outlives the report's re-triage.

Triage (re)groups a report by its words: an edit, or the customer's answers, send it through
again, and :class:`~bugline.grouping.index.Batch` takes it out of its group first so it lands
where its words now say. For a report an agent merged or split (``agentops.duplicates``) that
would undo their decision with a similarity score, so a report whose group is still the one
the agent's last merge or split put it in is placed there again: merged, into that group
(through one of its other members); split, into a group of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, select

from bugline.db.models import DuplicateMember, Report, ReportEvent
from bugline.grouping.index import Candidate, Match

EVENTS = cast(Table, ReportEvent.__table__)
REPORTS = cast(Table, Report.__table__)
MEMBERS = cast(Table, DuplicateMember.__table__)
SPLIT = "split"
KEPT = "kept in the group an agent merged it into"


def pins(conn: Connection, report_ids: Sequence[str]) -> dict[str, Match | None]:
    """For each report still where an agent's last merge or split put it, how to place it
    again: a match into the merged-into group, or None for a group of its own (split).
    Reports an agent never regrouped, or that moved since, are absent: they are matched."""
    if not report_ids:
        return {}
    last: dict[str, tuple[str, dict[str, Any]]] = {}
    rows = conn.execute(
        select(EVENTS.c.report_id, EVENTS.c.kind, EVENTS.c.data)
        .where(EVENTS.c.report_id.in_(report_ids), EVENTS.c.kind.in_(("merged", SPLIT)))
        .order_by(EVENTS.c.id)
    )
    for report_id, kind, data in rows:
        last[str(report_id)] = (str(kind), data if isinstance(data, dict) else {})
    if not last:
        return {}
    current = dict(
        conn.execute(
            select(REPORTS.c.id, REPORTS.c.duplicate_group_id).where(REPORTS.c.id.in_(list(last)))
        ).all()
    )
    out: dict[str, Match | None] = {}
    for report_id, (kind, data) in last.items():
        group_id = data.get("to_group")
        if not group_id or current.get(report_id) != group_id:
            continue  # regrouped since (by a later triage or agent): nothing to keep
        if kind == SPLIT:
            out[report_id] = None
            continue
        other = conn.execute(
            select(MEMBERS.c.report_id)
            .where(MEMBERS.c.group_id == group_id, MEMBERS.c.report_id != report_id)
            .limit(1)
        ).scalar()
        if other is not None:
            out[report_id] = Match(Candidate(str(other), str(group_id), 0), 1.0, (KEPT,))
    return out
