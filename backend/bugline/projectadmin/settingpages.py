"""A project's SLA targets and triage settings (completeness threshold, fact weights,
severity keyword weights): forms over ``settings["sla"]`` and ``settings["triage"]``, each
value checked by the module that reads it (``sla.targets``, ``triage.rules``), so what the
form accepts the worker can load.

    GET/POST /projects/{id}/sla       (agent reads, lead saves)
    GET/POST /projects/{id}/triage
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bugline.dashboard.sessions import Agent
from bugline.dashboard.view import redirect
from bugline.db.models import Project
from bugline.projectadmin import page, slaform, triageform
from bugline.projectadmin.problems import Problems
from bugline.sla.targets import SEVERITIES

NOTICES = {"saved": "Saved. Reports from now on use these values."}


def _store(project_id: str, key: str, value: dict[str, Any]) -> Any:
    def save(s: Session) -> None:
        row = s.get(Project, project_id, with_for_update=True)
        assert row is not None
        settings = dict(row.settings or {})
        if value:
            settings[key] = value
        else:
            settings.pop(key, None)
        row.settings = settings

    return save


async def sla(request: Request) -> Response:
    if request.method == "GET":
        agent, project = await page.opened(request)
        values = slaform.current((project.settings or {}).get("sla"))
        return _sla_page(request, agent, project, values, notice=page.notice_of(request, NOTICES))
    agent, project, form = await page.posted(request)
    try:
        override = slaform.read_sla(form)
    except Problems as exc:
        values = {f.name: form.get(f.name, "") for f in slaform.FIELDS}
        return _sla_page(request, agent, project, values, status=400, problems=exc)
    await page.write(request, _store(project.id, "sla", override))
    return redirect(f"/projects/{project.id}/sla", done="saved")


def _sla_page(
    request: Request, agent: Agent, project: Project, values: dict[str, str], **context: Any
) -> Response:
    per = {f.name: f for f in slaform.FIELDS}
    rows = [(sev, [per[f"{sev}.{key}"] for key, _, _ in slaform.PER_SEVERITY]) for sev in SEVERITIES]
    general = [f for f in slaform.FIELDS if "." not in f.name]
    return page.section(
        request,
        agent,
        project,
        "sla",
        values=values,
        rows=rows,
        columns=[label for _, label, _ in slaform.PER_SEVERITY],
        general=general,
        **context,
    )


async def triage(request: Request) -> Response:
    if request.method == "GET":
        agent, project = await page.opened(request)
        values = triageform.current((project.settings or {}).get("triage"))
        return _triage_page(request, agent, project, values, notice=page.notice_of(request, NOTICES))
    agent, project, form = await page.posted(request)
    try:
        triage_settings = triageform.read_triage(form, (project.settings or {}).get("triage"))
    except Problems as exc:
        values = {f.name: form.get(f.name, "") for f in triageform.fields()}
        return _triage_page(request, agent, project, values, status=400, problems=exc)
    await page.write(request, _store(project.id, "triage", triage_settings))
    return redirect(f"/projects/{project.id}/triage", done="saved")


def _triage_page(
    request: Request, agent: Agent, project: Project, values: dict[str, str], **context: Any
) -> Response:
    every = triageform.fields()
    return page.section(
        request,
        agent,
        project,
        "triage",
        values=values,
        threshold=every[0],
        weights=[f for f in every if f.name.startswith("weight.")],
        severity=[f for f in every if f.name.startswith("severity.")],
        **context,
    )
