"""The reporter's view of their report: by its unguessable token, and nothing else of anyone's."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bugline.db.models import Project, Report, ReportEvent, ReportStatus
from bugline.errors import ApiError
from bugline.intake.triage import public_view
from bugline.routes.edge import app_state, check_origin, limit_ip
from bugline.tokens import token_hash


async def report_status(request: Request) -> Response:
    state = app_state(request)
    limit_ip(request)
    token = request.path_params["token"]
    if not 20 <= len(token) <= 100:
        raise ApiError(404, "report_not_found", "no report has this status link")
    async with state.readers() as session:
        row = (
            await session.execute(
                select(Report, Project)
                .join(Project, Project.id == Report.project_id)
                .where(Report.status_token_hash == token_hash(token))
            )
        ).one_or_none()
        if row is None:
            raise ApiError(404, "report_not_found", "no report has this status link")
        report, project = row
        check_origin(request, project)
        events = (
            await session.execute(
                select(ReportEvent)
                .where(ReportEvent.report_id == report.id, ReportEvent.public.is_(True))
                .order_by(ReportEvent.id)
            )
        ).scalars()
        timeline = [{"at": e.at.isoformat(), "kind": e.kind, **_public_data(e)} for e in events]
    return JSONResponse(
        {
            "reference": f"#{report.number}",
            "project": project.name,
            "title": report.title or report.actual[:120],
            "status": report.status,
            "created_at": report.created_at.isoformat(),
            "updated_at": report.updated_at.isoformat(),
            "timeline": timeline,
            # While facts are missing, the plain-words questions that would complete it.
            "questions": (public_view(report) or {}).get("questions", [])
            if report.status == ReportStatus.NEEDS_INFO
            else [],
        },
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )


def _public_data(event: ReportEvent) -> dict[str, str]:
    # Only the status a public event moved to; internal notes and actors never leave.
    data = event.data or {}
    out = {}
    for key in ("to", "status"):
        if isinstance(data.get(key), str):
            out["status"] = data[key]
    return out


routes = [Route("/api/v1/status/{token:str}", report_status, methods=["GET"])]
