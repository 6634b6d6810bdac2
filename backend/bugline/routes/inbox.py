"""Dashboard: the inbox at /reports (issue 7). A placeholder the inbox work replaces: the
newest reports of the agent's projects."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bugline.dashboard.auth import require_agent
from bugline.dashboard.view import render
from bugline.db.models import Report
from bugline.routes.edge import app_state


async def inbox(request: Request) -> Response:
    agent = await require_agent(request)
    async with app_state(request).readers() as session:
        rows = (
            await session.execute(
                select(
                    Report.id, Report.number, Report.title, Report.severity, Report.status, Report.created_at
                )
                .where(Report.project_id.in_(agent.project_ids))
                .order_by(Report.created_at.desc())
                .limit(50)
            )
        ).all()
    return render(request, agent, "inbox.html", rows=rows)


routes: list[BaseRoute] = [Route("/reports", inbox, methods=["GET"])]
