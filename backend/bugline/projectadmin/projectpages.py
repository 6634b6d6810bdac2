"""The projects list, a new project, and a project's overview: its name, widget key (rotated
only after a confirmation), allowed origins, and the embed snippet ready to copy.

    GET  /projects                        the agent's projects (admins: all) with their role
    POST /projects                        new project (admins; the creator becomes its admin)
    GET  /projects/{id}                   overview: widget key, origins, snippet
    POST /projects/{id}/name | /key | /origins     (lead)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bugline.cli import snippet
from bugline.dashboard.auth import DashError, read_form, require_agent
from bugline.dashboard.sessions import Agent
from bugline.dashboard.view import redirect, render
from bugline.db.models import Membership, Project
from bugline.projectadmin import page
from bugline.projectadmin.origins import parse_origins
from bugline.projectadmin.problems import Problems, one
from bugline.routes.edge import app_state
from bugline.tokens import public_key

MAX_NAME = 200
NOTICES = {
    "created": "The project is ready. Add its allowed origins, then paste the snippet into your site.",
    "name": "The name is saved.",
    "key": "A new widget key is in place. Replace the snippet on your site: the old key no longer works.",
    "origins": "The allowed origins are saved (the widget follows within a few seconds).",
}


def project_name(raw: str | None) -> str:
    name = (raw or "").strip()
    if not name or len(name) > MAX_NAME:
        raise one("name", f"a name of 1 to {MAX_NAME} characters")
    return name


async def projects(request: Request) -> Response:
    agent = await require_agent(request)
    return render(request, agent, "projects/list.html", problems=[], bad=set(), values={}, notice="")


async def create(request: Request) -> Response:
    agent = await require_agent(request)
    if not agent.is_admin:
        raise DashError(403, "Not allowed", "Only admins create projects.")
    form = await read_form(request, agent)
    found: list[tuple[str, str]] = []
    name, origins = "", list[str]()
    try:
        name = project_name(form.get("name"))
    except Problems as exc:
        found += exc.items
    try:
        origins = parse_origins(form.get("origins") or "")
    except Problems as exc:
        found += exc.items
    if found:
        return render(
            request,
            agent,
            "projects/list.html",
            status=400,
            problems=found,
            bad={field for field, _ in found},
            values={k: v for k, v in form.items() if k != "csrf"},
            notice="",
        )

    def make(s: Session) -> str:
        project = Project(name=name, public_key=public_key(), allowed_origins=origins, settings={})
        s.add(project)
        s.flush()
        s.add(Membership(project_id=project.id, user_id=agent.user_id, role="admin"))
        return project.id

    project_id = await page.write(request, make)
    return redirect(f"/projects/{project_id}", done="created")


async def overview(request: Request) -> Response:
    agent, project = await page.opened(request)
    return _overview(request, agent, project, notice=page.notice_of(request, NOTICES))


def _overview(
    request: Request, agent: Agent, project: Project, *, status: int = 200, **context: Any
) -> Response:
    settings = app_state(request).settings
    context.setdefault("origins_text", "\n".join(project.allowed_origins or []))
    return page.section(
        request,
        agent,
        project,
        "overview",
        status=status,
        snippet=snippet(settings, project.public_key),
        **context,
    )


async def rename(request: Request) -> Response:
    agent, project, form = await page.posted(request)
    try:
        name = project_name(form.get("name"))
    except Problems as exc:
        return _overview(request, agent, project, status=400, problems=exc)

    def save(s: Session) -> None:
        row = s.get(Project, project.id)
        assert row is not None
        row.name = name

    await page.write(request, save)
    return redirect(f"/projects/{project.id}", done="name")


async def rotate_key(request: Request) -> Response:
    agent, project, form = await page.posted(request)
    if form.get("confirm") != "yes":
        problems = one(
            "confirm", "tick the box to confirm: the snippet on your site stops working until replaced"
        )
        return _overview(request, agent, project, status=400, problems=problems)
    old = project.public_key

    def save(s: Session) -> None:
        row = s.get(Project, project.id, with_for_update=True)
        assert row is not None
        row.public_key = public_key()

    await page.write(request, save)
    app_state(request).projects.entries.pop(old, None)  # this process stops taking the old key at once
    return redirect(f"/projects/{project.id}", done="key")


async def origins(request: Request) -> Response:
    agent, project, form = await page.posted(request)
    text = form.get("origins") or ""
    try:
        allowed = parse_origins(text)
    except Problems as exc:
        return _overview(request, agent, project, status=400, problems=exc, origins_text=text)

    def save(s: Session) -> None:
        row = s.get(Project, project.id, with_for_update=True)
        assert row is not None
        row.allowed_origins = allowed

    await page.write(request, save)
    app_state(request).projects.entries.pop(project.public_key, None)
    return redirect(f"/projects/{project.id}", done="origins")
