"""A project's members. Everyone in the project sees the list; only the project's admins
(and Bugline admins) add people, change roles and remove them, since a membership opens
every customer report of the project. The last admin member stays.

    GET  /projects/{id}/members                    (agent)
    POST /projects/{id}/members                    add an existing user by email (admin)
    POST /projects/{id}/members/{user_id}          change role (admin)
    POST /projects/{id}/members/{user_id}/remove   (admin)
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bugline.apitokens import ROLES
from bugline.dashboard.auth import DashError
from bugline.dashboard.sessions import Agent
from bugline.dashboard.view import redirect
from bugline.db.models import Project
from bugline.projectadmin import members, page
from bugline.projectadmin.problems import Problems

NOTICES = {
    "added": "The member is added.",
    "changed": "The role is changed.",
    "removed": "The member is removed from the project.",
}
NO_MEMBER = "This project has no such member."


async def _page(
    request: Request, agent: Agent, project: Project, *, status: int = 200, **context: Any
) -> Response:
    rows = await page.read(request, lambda s: members.listing(s, project.id))
    context.setdefault("values", {})
    return page.section(
        request, agent, project, "members", status=status, members=rows, roles=ROLES, **context
    )


async def listing(request: Request) -> Response:
    agent, project = await page.opened(request)
    return await _page(request, agent, project, notice=page.notice_of(request, NOTICES))


async def add(request: Request) -> Response:
    agent, project, form = await page.posted(request, "admin")
    email, role = form.get("email") or "", form.get("role") or ""
    try:
        await page.write(request, lambda s: members.add(s, project.id, email, role))
    except Problems as exc:
        values = {"email": email, "role": role}
        return await _page(request, agent, project, status=400, problems=exc, values=values)
    return redirect(f"/projects/{project.id}/members", done="added")


async def change(request: Request) -> Response:
    agent, project, form = await page.posted(request, "admin")
    user_id = str(request.path_params["user_id"])
    try:
        found = await page.write(
            request, lambda s: members.change(s, project.id, user_id, form.get("role") or "")
        )
    except Problems as exc:
        return await _page(request, agent, project, status=400, problems=exc)
    if not found:
        raise DashError(404, "Not found", NO_MEMBER)
    return redirect(f"/projects/{project.id}/members", done="changed")


async def remove(request: Request) -> Response:
    agent, project, _ = await page.posted(request, "admin")
    user_id = str(request.path_params["user_id"])
    try:
        found = await page.write(request, lambda s: members.remove(s, project.id, user_id))
    except Problems as exc:
        return await _page(request, agent, project, status=400, problems=exc)
    if not found:
        raise DashError(404, "Not found", NO_MEMBER)
    if user_id == agent.user_id and not agent.is_admin:
        return redirect("/projects")  # they left the project: its pages are no longer theirs
    return redirect(f"/projects/{project.id}/members", done="removed")
