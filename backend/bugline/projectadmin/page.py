"""What every project set-up page does: the project (404 for a non-member, exactly like a
missing id; 403 for a role too low), the form (CSRF-checked), and one way to render a
section, with the form's problems at the top and next to their fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response

from bugline.dashboard.auth import DashError, read_form, require_agent, require_project
from bugline.dashboard.sessions import Agent
from bugline.dashboard.view import render
from bugline.db.models import Project
from bugline.projectadmin.problems import Problems
from bugline.routes.edge import app_state

T = TypeVar("T")

SECTIONS = (
    ("overview", "", "Widget"),
    ("connectors", "/connectors", "Connectors"),
    ("routing", "/routing", "Routing"),
    ("sla", "/sla", "SLA targets"),
    ("notifications", "/notifications", "Notifications"),
    ("triage", "/triage", "Triage"),
    ("members", "/members", "Members"),
)
NOT_FOUND = "There is no such page, or you are not a member of its project."


async def project_of(request: Request, agent: Agent, needed: str = "agent") -> Project:
    project_id = str(request.path_params["project_id"])
    require_project(agent, project_id, needed)
    async with app_state(request).readers() as session:
        project = await session.get(Project, project_id)
    if project is None:  # an admin sees every project id as theirs; a made-up one is still missing
        raise DashError(404, "Not found", NOT_FOUND)
    return project


async def opened(request: Request, needed: str = "agent") -> tuple[Agent, Project]:
    agent = await require_agent(request)
    return agent, await project_of(request, agent, needed)


async def posted(
    request: Request, needed: str = "lead"
) -> tuple[Agent, Project, ImmutableMultiDict[str, str]]:
    """A set-up POST: signed in, member with ``needed``, CSRF checked, in that order."""
    agent, project = await opened(request, needed)
    form = await read_form(request, agent)
    return agent, project, form


async def write(request: Request, work: Callable[[Session], T]) -> T:
    """``work`` in one write transaction (Problems raised inside roll it back)."""
    async with app_state(request).sessions() as session, session.begin():
        return await session.run_sync(work)


async def read(request: Request, work: Callable[[Session], T]) -> T:
    async with app_state(request).readers() as session:
        return await session.run_sync(work)


def section(
    request: Request,
    agent: Agent,
    project: Project,
    name: str,
    *,
    status: int = 200,
    problems: Problems | None = None,
    notice: str = "",
    **context: Any,
) -> Response:
    """templates/dash/projects/<name>.html with the section nav, role, problems and notice."""
    role = agent.role(project.id) or "agent"
    return render(
        request,
        agent,
        f"projects/{name}.html",
        status=status,
        project=project,
        role=role,
        can_edit=agent.may(project.id, "lead"),
        is_project_admin=agent.may(project.id, "admin"),
        sections=SECTIONS,
        current=name,
        problems=problems.items if problems else [],
        bad=problems.fields if problems else set(),
        notice=notice,
        **context,
    )


def notice_of(request: Request, notices: Mapping[str, str]) -> str:
    """A fixed message chosen by ``?done=``: query text itself is never shown."""
    return notices.get(request.query_params.get("done", ""), "")


Handler = Callable[[Request], Awaitable[Response]]
