"""A project's routing rules: edit them as TOML or JSON (the agent API's shape), checked by
``bugline.routing`` with the line or key path of any error, and a dry-run that shows, in
plain words, where a made-up or stored report would go and why (``routing.explain``).

    GET  /projects/{id}/routing            rules, warnings, dry-run form (agent)
    POST /projects/{id}/routing            save (lead)
    POST /projects/{id}/routing/dry-run    the trace (agent: it changes nothing)
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bugline.dashboard.sessions import Agent
from bugline.dashboard.view import redirect
from bugline.db.models import Project, Report
from bugline.outbox.plan import Subject, connectors_of, facts_of, plan_for
from bugline.projectadmin import page
from bugline.projectadmin.dryrun import read_dry_run
from bugline.projectadmin.problems import Problems, one
from bugline.projectadmin.routingtext import EXAMPLE, parse_rules_text, shown
from bugline.routing import Connection, Facts, RoutingError, explain, lint, load_rules
from bugline.routing.facts import CATEGORIES, KINDS

NOTICES = {
    "saved": "The routing rules are saved; new reports are routed by them.",
    "reset": "The project's own rules are removed: the shipped defaults apply.",
}


def _connections(s: Session, project_id: str) -> tuple[Connection, ...]:
    return tuple(Connection(n, k, r, e) for _, n, k, r, e in connectors_of(s.connection(), project_id))


async def _page(
    request: Request,
    agent: Agent,
    project: Project,
    *,
    status: int = 200,
    text: str | None = None,
    **context: Any,
) -> Response:
    raw = (project.settings or {}).get("routing")
    rules: list[dict[str, Any]] = []
    warnings: tuple[str, ...] = ()
    load_error = ""
    try:
        effective = load_rules(raw)
        rules = effective.to_json()
        connections = await page.read(request, lambda s: _connections(s, project.id))
        warnings = lint(effective, connections)
    except RoutingError as exc:
        load_error = str(exc)
    context.setdefault("dry", {})
    context.setdefault("trace", "")
    return page.section(
        request,
        agent,
        project,
        "routing",
        status=status,
        text=shown(raw) if text is None else text,
        example=EXAMPLE,
        rules=[{**r, "when_text": json.dumps(r["when"]), "send_text": json.dumps(r["send"])} for r in rules],
        warnings=warnings,
        load_error=load_error,
        kinds=KINDS,
        categories=CATEGORIES,
        **context,
    )


async def show(request: Request) -> Response:
    agent, project = await page.opened(request)
    return await _page(request, agent, project, notice=page.notice_of(request, NOTICES))


async def save(request: Request) -> Response:
    agent, project, form = await page.posted(request)
    text = form.get("rules") or ""
    try:
        parsed = parse_rules_text(text)
    except Problems as exc:
        return await _page(request, agent, project, status=400, text=text, problems=exc)

    def store(s: Session) -> None:
        row = s.get(Project, project.id, with_for_update=True)
        assert row is not None
        settings = dict(row.settings or {})
        if parsed is None:
            settings.pop("routing", None)
        else:
            settings["routing"] = parsed.to_json()
        row.settings = settings

    await page.write(request, store)
    return redirect(f"/projects/{project.id}/routing", done="saved" if parsed is not None else "reset")


async def dry_run(request: Request) -> Response:
    agent, project, form = await page.posted(request, "agent")
    dry = {k: v for k, v in form.items() if k != "csrf"}
    try:
        wanted = read_dry_run(form)

        def facts(s: Session) -> Facts:
            connectors = connectors_of(s.connection(), project.id)
            if wanted.facts is not None:
                data = {
                    **wanted.facts,
                    "connectors": [
                        {"name": n, "kind": k, "roles": list(r), "enabled": e} for _, n, k, r, e in connectors
                    ],
                }
                try:
                    return Facts.from_json(data)
                except RoutingError as exc:
                    raise one("facts", str(exc)) from None
            report = s.execute(
                select(Report).where(Report.project_id == project.id, Report.number == wanted.number)
            ).scalar_one_or_none()
            if report is None:
                raise one("report", f"this project has no report #{wanted.number}")
            if report.triage is None:
                raise one(
                    "report", f"report #{wanted.number} has not been triaged yet; try again in a moment"
                )
            return facts_of(Subject.of_report(s, report), report.status, connectors)

        made = await page.read(request, facts)
    except Problems as exc:
        return await _page(request, agent, project, status=400, problems=exc, dry=dry)
    trace = explain(plan_for(project.settings or {}, made))
    return await _page(request, agent, project, dry=dry, trace=trace)
