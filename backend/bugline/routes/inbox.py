"""Dashboard: the inbox at /reports, and the agent's saved views at /reports/views (issue 7).

GET /reports                          every report of the agent's projects, filtered, searched,
                                      sorted, keyset-paged (bugline.inbox)
GET /reports/views                    the agent's saved views
POST /reports/views                   save the current filters under a name (same name: replaced)
POST /reports/views/{view_id}/delete  delete one of one's own views

A bad filter answers 400 with the page, the form and what to fix; a project the agent is not
a member of answers 404 like a missing one; views are only ever their owner's.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bugline.dashboard.auth import DashError, read_form, require_agent, require_project
from bugline.dashboard.sessions import Agent
from bugline.dashboard.view import redirect, render
from bugline.db.models import SavedView
from bugline.inbox import filters, query
from bugline.inbox.filters import Filter, FilterError
from bugline.routes.edge import app_state
from bugline.triage.rules import defaults

MAX_VIEWS = 50
VIEW_NAME = 100
_VIEW_ID = re.compile(r"[0-9a-f]{32}")

STATUS_NAMES = {
    "awaiting_media": "Awaiting media",
    "received": "Received",
    "needs_info": "Needs info",
    "escalated": "Escalated",
    "in_progress": "In progress",
    "resolved": "Resolved",
    "cannot_reproduce": "Cannot reproduce",
    "closed": "Closed",
    "reopened": "Reopened",
}
KIND_NAMES = {
    "bug": "Bug",
    "feature_request": "Feature request",
    "question": "Question",
    "none": "Not triaged",
}
CONNECTOR_NAMES = {
    "not_forwarded": "Not forwarded",
    "pending": "Pending",
    "delivered": "Delivered",
    "failed": "Failed",
}
SORT_NAMES = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "severity": "Severity (critical first)",
    "completeness": "Least complete first",
    "group": "Biggest duplicate group first",
}


def _categories() -> list[str]:
    return sorted(defaults("classification").get("categories", {}))


def _views_of(s: Session, user_id: str) -> list[SavedView]:
    return list(
        s.execute(select(SavedView).where(SavedView.user_id == user_id).order_by(SavedView.name)).scalars()
    )


def _choices(names: dict[str, str], chosen: tuple[str, ...]) -> list[tuple[str, str, bool]]:
    """(value, label, selected) for a select; a list from the URL (critical,high) is one option."""
    joined = ",".join(chosen)
    out = [(v, label, chosen == (v,)) for v, label in names.items()]
    if len(chosen) > 1:
        out.append((joined, " or ".join(names.get(v, v) for v in chosen), True))
    return out


def _page_context(agent: Agent, f: Filter) -> dict[str, Any]:
    return {
        "f": f,
        "names": {p.id: p.name for p in agent.projects},
        "status_choices": _choices(STATUS_NAMES, f.status),
        "severity_choices": _choices(
            {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "none": "Not triaged"},
            f.severity,
        ),
        "kind_choices": _choices(KIND_NAMES, f.kind),
        "connector_choices": _choices(CONNECTOR_NAMES, f.connector),
        "sort_choices": [(v, label, f.sort == v) for v, label in SORT_NAMES.items()],
        "categories": _categories(),
        "status_names": STATUS_NAMES,
        "kind_names": KIND_NAMES,
        "connector_names": CONNECTOR_NAMES,
    }


async def inbox(request: Request) -> Response:
    agent = await require_agent(request)
    state = app_state(request)
    error: FilterError | None = None
    try:
        f = filters.parse(request.query_params.multi_items())
    except FilterError as exc:
        error, f = exc, Filter()
    if f.project is not None:
        require_project(agent, f.project)
    scope = [f.project] if f.project else agent.project_ids
    async with state.readers() as session:
        views = await session.run_sync(lambda s: _views_of(s, agent.user_id))
        page = query.Page([], None)
        if error is None:
            page = await session.run_sync(lambda s: query.page(s, scope, f))
    current = f.query() if error is None else None
    return render(
        request,
        agent,
        "inbox.html",
        status=400 if error else 200,
        error=error,
        page=page,
        views=views,
        current=current,
        next_query=f.query(page.next) if page.next else None,
        **_page_context(agent, f),
    )


async def list_views(request: Request) -> Response:
    agent = await require_agent(request)
    async with app_state(request).readers() as session:
        views = await session.run_sync(lambda s: _views_of(s, agent.user_id))
    return render(request, agent, "inbox/views.html", views=views)


def _view_query(agent: Agent, raw: str) -> str:
    """The view's query, canonical, checked as the inbox would check it."""
    if len(raw) > 4000:
        raise DashError(
            400, "This view cannot be saved", "Its filters are too long (at most 4000 characters)."
        )
    try:
        f = filters.parse(parse_qsl(raw, keep_blank_values=True))
    except FilterError as exc:
        raise DashError(400, "This view cannot be saved", f"{exc.field}: {exc.message}") from None
    if f.project is not None:
        require_project(agent, f.project)
    return f.query()


async def save_view(request: Request) -> Response:
    agent = await require_agent(request)
    form = await read_form(request, agent)
    name = " ".join((form.get("name") or "").split())
    if not name:
        raise DashError(400, "This view cannot be saved", "Give the view a name.")
    if len(name) > VIEW_NAME:
        raise DashError(
            400, "This view cannot be saved", f"The name is {len(name)} characters; at most {VIEW_NAME}."
        )
    saved = _view_query(agent, form.get("query") or "")

    def save(s: Session) -> None:
        same = s.execute(
            select(SavedView).where(SavedView.user_id == agent.user_id, SavedView.name == name)
        ).scalar_one_or_none()
        if same is not None:
            same.query = saved  # saving under a name one already has replaces it
            return
        count = s.execute(select(func.count()).where(SavedView.user_id == agent.user_id)).scalar_one()
        if count >= MAX_VIEWS:
            raise DashError(
                400, "This view cannot be saved", f"You have {MAX_VIEWS} views; delete one first."
            )
        s.add(SavedView(user_id=agent.user_id, name=name, query=saved))

    async with app_state(request).sessions() as session, session.begin():
        await session.run_sync(save)
    return redirect("/reports" + ("?" + saved if saved else ""))


async def delete_view(request: Request) -> Response:
    agent = await require_agent(request)
    await read_form(request, agent)
    view_id = request.path_params["view_id"]
    gone = 0
    if _VIEW_ID.fullmatch(view_id):
        async with app_state(request).sessions() as session, session.begin():
            result = await session.execute(
                delete(SavedView).where(SavedView.id == view_id, SavedView.user_id == agent.user_id)
            )
            gone = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if not gone:
        raise DashError(404, "Not found", "There is no such saved view, or it is not yours.")
    return redirect("/reports/views")


routes: list[BaseRoute] = [
    Route("/reports", inbox, methods=["GET"]),
    Route("/reports/views", list_views, methods=["GET"]),
    Route("/reports/views", save_view, methods=["POST"]),
    Route("/reports/views/{view_id}/delete", delete_view, methods=["POST"]),
]
