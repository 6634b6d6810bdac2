"""Finding the report an agent acts on, always inside one project."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bugline.agentops.errors import OpError
from bugline.db.models import Report

MAX_REF = 32  # ids are 32 hex characters; anything longer is not one of ours


def find(s: Session, ref: str, project_id: str | None = None, *, lock: bool = False) -> Report | None:
    """The report with id ``ref`` (or, inside a project, number ``ref``: "42" or "#42").

    Without ``project_id`` the caller must check the report's project against the agent's
    memberships before showing anything (the page knows only the id)."""
    ref = ref.strip()
    if not ref or len(ref) > MAX_REF:
        return None
    query = select(Report)
    number = ref.removeprefix("#")
    if project_id is not None and number.isdigit() and len(number) <= 9:
        query = query.where(Report.project_id == project_id, Report.number == int(number))
    elif project_id is not None:
        query = query.where(Report.project_id == project_id, Report.id == ref)
    else:
        query = query.where(Report.id == ref)
    if lock:
        query = query.with_for_update()  # two agents acting at once take turns (PostgreSQL)
    return s.execute(query).scalar_one_or_none()


def must(s: Session, ref: str, project_id: str, *, lock: bool = False) -> Report:
    report = find(s, ref, project_id, lock=lock)
    if report is None:
        raise OpError(404, "not_found", "no such report in this project")
    return report
