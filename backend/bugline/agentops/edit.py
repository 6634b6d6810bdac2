"""An agent edits and completes the checklist; the verdict follows (``retriage``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from bugline.agentops import fields, retriage
from bugline.agentops.actor import Actor
from bugline.agentops.errors import OpError
from bugline.db.models import Report, ReportEvent, ReportStatus

EVENTS = cast(Table, ReportEvent.__table__)
BEFORE_KEPT = 2_000  # of each old value, on the timeline (what was there before the edit)


@dataclass(frozen=True, slots=True)
class Edited:
    fields: tuple[str, ...]
    backlog: bool  # the triage backlog has the report again: poke it


def edit(s: Session, report: Report, values: Mapping[str, object], actor: Actor, now: datetime) -> Edited:
    wanted = fields.checked(values)
    changed = {k: v for k, v in wanted.items() if (getattr(report, k) or None) != (v or None)}
    if not changed:
        raise OpError(422, "no_changes", "nothing to save: the values are the same as the report's")
    if report.status == ReportStatus.AWAITING_MEDIA:
        raise OpError(
            409, "awaiting_media", "the customer is still uploading this report's files; edit it after"
        )
    before = {k: str(getattr(report, k) or "")[:BEFORE_KEPT] for k in changed}
    for name, value in changed.items():
        setattr(report, name, value if value is not None or fields.BY_NAME[name].choices else "")
    report.updated_at = now
    s.flush()
    s.connection().execute(
        insert(EVENTS).values(
            project_id=report.project_id,
            report_id=report.id,
            at=now,
            kind="edited",
            actor_type="agent",
            actor=actor.email,
            public=False,
            data={"fields": sorted(changed), "before": before, "via": actor.via},
        )
    )
    done = retriage.run(s, report, actor, now, "re-triaged after an agent's edit")
    return Edited(tuple(sorted(changed)), done.backlog)
