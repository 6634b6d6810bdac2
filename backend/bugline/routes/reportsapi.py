"""Agent API: GET /api/v1/projects/{project_id}/reports: the inbox, for scripts (issue 7).

The same filters, search, sorts and cursors as the dashboard's inbox (bugline.inbox), with
``limit`` (1-200, default 50). Bearer token like the rest of the agent API; a project the
caller is not a member of answers 404, exactly like a missing one. A bad parameter is a 400
naming it. ``next_cursor`` is null on the last page.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bugline.errors import ApiError
from bugline.inbox import filters, query
from bugline.inbox.cursor import encode
from bugline.inbox.filters import FilterError
from bugline.routes.agent import project_for
from bugline.routes.edge import app_state


def shown(r: query.Row) -> dict[str, Any]:
    return {
        "id": r.id,
        "number": r.number,
        "title": r.title,
        "status": r.status,
        "severity": r.severity,
        "kind": r.kind,
        "category": r.category,
        "completeness": r.completeness,
        "unread_language": r.unread_language or "",
        "reporter_email": r.reporter_email,
        "reporter_name": r.reporter_name,
        "account": r.account,
        "group_id": r.group_id,
        "group_size": r.group_size,
        "connector_state": r.connector,
        "created_at": r.created_at.isoformat(),
    }


async def list_reports(request: Request) -> Response:
    _, project = await project_for(request, "agent")
    try:
        f = filters.parse(request.query_params.multi_items(), api=True)
    except FilterError as exc:
        raise ApiError(
            400,
            "invalid_query",
            f"{exc.field}: {exc.message}",
            fields=[{"field": exc.field, "message": exc.message}],
        ) from None
    async with app_state(request).readers() as session:
        page = await session.run_sync(lambda s: query.page(s, [project.id], f))
    return JSONResponse(
        {
            "reports": [shown(r) for r in page.rows],
            "next_cursor": encode(page.next) if page.next else None,
        }
    )


routes: list[BaseRoute] = [
    Route("/api/v1/projects/{project_id:str}/reports", list_reports, methods=["GET"]),
]
