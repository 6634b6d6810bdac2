"""Dashboard: the monthly review at /review, with charts, and its CSV at /review.csv (issue 7).

``?project=<id>&month=YYYY-MM``: the project defaults to the agent's first, the month to the
one just ended. A project the agent is not a member of answers 404 (as a missing one), a
month that cannot be read 400 with what to give instead. The queries are in
``bugline.review.data``; this module only picks, reads and renders.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bugline.dashboard.auth import DashError, require_agent, require_project
from bugline.dashboard.sessions import Agent, ProjectRef
from bugline.dashboard.view import render
from bugline.review import answers, data, export, visuals
from bugline.review import month as months
from bugline.review.figures import span
from bugline.review.month import Month, MonthError
from bugline.routes.edge import app_state
from bugline.sla import review as sla_review


def choice(request: Request, agent: Agent, now: datetime) -> tuple[ProjectRef | None, Month]:
    """The project and month asked for, checked: 404 for a project not the agent's, 400 for a
    month that cannot be read."""
    wanted = request.query_params.get("project", "").strip()
    raw = request.query_params.get("month", "").strip()
    try:
        month = months.parse(raw) if raw else months.default(now)
    except MonthError as exc:
        raise DashError(400, "That month cannot be shown", str(exc)) from None
    if not wanted:
        return (agent.projects[0] if agent.projects else None), month
    require_project(agent, wanted)
    project = next(p for p in agent.projects if p.id == wanted)
    return project, month


async def page(request: Request) -> Response:
    agent = await require_agent(request)
    now = datetime.now(UTC)
    project, month = choice(request, agent, now)
    context: dict[str, Any] = {"month": month, "months": months.recent(now), "project": project}
    if project is None:
        return render(request, agent, "review/page.html", review=None, **context)
    async with app_state(request).readers() as session:
        review = await session.run_sync(lambda s: data.collect(s.connection(), project.id, month, now))
    return render(
        request,
        agent,
        "review/page.html",
        review=review,
        answers={
            "slowest": answers.slowest(review),
            "responses": answers.responses(review),
            "failures": answers.failures(review),
            "severity": answers.severity(review),
            "repeated": answers.repeated(review),
        },
        charts=visuals.charts(review),
        caps={"rows": data.MAX_ROWS, "list": data.LIST_CAP},
        span=span,
        **context,
    )


async def csv(request: Request) -> Response:
    agent = await require_agent(request)
    now = datetime.now(UTC)
    project, month = choice(request, agent, now)
    if project is None:
        raise DashError(404, "Not found", "You are not a member of any project yet.")
    state = app_state(request)

    def read(conn: Connection) -> str:
        rows, _ = data.month_rows(conn, project.id, month)
        missed: dict[str, list[str]] = {}
        for b in sla_review.breaches(conn, project.id, month=month.label, now=now):
            missed.setdefault(b.report_id, []).append(b.target)
        return export.month_csv(
            rows,
            month=month,
            targets=data.project_targets(conn, project.id),
            missed=missed,
            changed=data.changes_by_report(conn, project.id, month),
            link=state.settings.effective_public_url.rstrip("/"),
        )

    async with state.readers() as session:
        body = await session.run_sync(lambda s: read(s.connection()))
    name = re.sub(r"[^a-z0-9]+", "-", project.name.lower()).strip("-")[:40] or "project"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="bugline-review-{name}-{month.label}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


routes: list[BaseRoute] = [
    Route("/review", page, methods=["GET"]),
    Route("/review.csv", csv, methods=["GET"]),
]
