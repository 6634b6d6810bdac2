"""A project's connectors: list (secrets masked as the agent API shows them), add (the kind's
own settings, validated by ``connectors.configs`` like the API and CLI), edit, enable or
disable, remove, "check connection" (the connector's ``check`` against the real destination:
credentials and reachability, nothing created) and "send a test report" (a sample report
through the connector's ``deliver``, as every real one goes: a real ticket or message), each
outcome shown on the page.

    GET  /projects/{id}/connectors               list (agent)
    GET  /projects/{id}/connectors/new?kind=…    the kind's form (lead)
    POST /projects/{id}/connectors               add (lead)
    GET  /projects/{id}/connectors/{cid}         edit form (lead)
    POST /projects/{id}/connectors/{cid}         save (lead)
    POST /projects/{id}/connectors/{cid}/enabled | /remove | /check | /test   (lead)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bugline.connectors import configs, registry
from bugline.connectors.base import Connector, Delivered, InvalidSettings, Result, Retry
from bugline.connectors.sample import attempt, sample_report, send_test_report
from bugline.dashboard.auth import DashError
from bugline.dashboard.sessions import Agent
from bugline.dashboard.view import redirect
from bugline.db.models import Project
from bugline.projectadmin import page
from bugline.projectadmin.connectorform import PREFIX, inputs, problems_of, read_settings
from bugline.projectadmin.problems import Problems, one
from bugline.ratelimit import retry_after_header
from bugline.render.common import safe_url
from bugline.routes.edge import app_state

NOTICES = {
    "added": "The connector is added. “Check connection” tries its credentials; “Send a test report” "
    "shows what a report looks like there.",
    "saved": "The connector is saved.",
    "enabled": "The connector is enabled: routing sends reports to it again.",
    "disabled": "The connector is disabled: routing skips it until it is enabled.",
    "removed": "The connector is removed.",
}
NO_CONNECTOR = "This project has no such connector."


def kinds() -> list[dict[str, str]]:
    return [{"kind": k, "title": registry.get(k).title} for k in registry.kinds()]


async def _listing(request: Request, project: Project) -> list[dict[str, Any]]:
    rows = await page.read(request, lambda s: configs.listing(s, project.id))
    return [configs.shown(r) for r in rows]


async def _list_page(
    request: Request, agent: Agent, project: Project, *, status: int = 200, **context: Any
) -> Response:
    return page.section(
        request,
        agent,
        project,
        "connectors",
        status=status,
        connectors=await _listing(request, project),
        kinds=kinds(),
        **context,
    )


async def listing(request: Request) -> Response:
    agent, project = await page.opened(request)
    return await _list_page(request, agent, project, notice=page.notice_of(request, NOTICES), outcome=None)


def _kind(raw: str | None) -> str:
    if raw not in registry.KINDS:
        raise DashError(400, "Unknown connector kind", f"Choose one of {', '.join(registry.kinds())}.")
    return raw


def _form_page(
    request: Request,
    agent: Agent,
    project: Project,
    kind: str,
    *,
    connector: dict[str, Any] | None,
    values: dict[str, str],
    status: int = 200,
    problems: Problems | None = None,
) -> Response:
    cls = registry.get(kind)
    return page.section(
        request,
        agent,
        project,
        "connector",
        status=status,
        problems=problems,
        kind=kind,
        title=cls.title,
        fields=inputs(cls.settings),
        connector=connector,
        values=values,
    )


async def new(request: Request) -> Response:
    agent, project = await page.opened(request, "lead")
    kind = _kind(request.query_params.get("kind"))
    return _form_page(request, agent, project, kind, connector=None, values={"name": kind})


async def add(request: Request) -> Response:
    agent, project, form = await page.posted(request)
    kind = _kind(form.get("kind"))
    cls = registry.get(kind)
    settings = read_settings(cls.settings, form, editing=False)

    def save(s: Session) -> None:
        configs.add(
            s,
            project.id,
            kind,
            settings,
            name=(form.get("name") or "").strip() or None,
            roles=(form.get("roles") or "").strip() or None,
            enabled=form.get("enabled") == "on",
        )

    try:
        await page.write(request, save)
    except configs.ConfigError as exc:
        values = _kept(form, kind)
        return _form_page(
            request,
            agent,
            project,
            kind,
            connector=None,
            values=values,
            status=400,
            problems=problems_of(exc),
        )
    return redirect(f"/projects/{project.id}/connectors", done="added")


def _kept(form: Any, kind: str) -> dict[str, str]:
    """What the form sent, to fill it in again: never a secret (those fields stay empty)."""
    secret = {PREFIX + st.name for st in registry.get(kind).settings if st.secret}
    return {k: v for k, v in form.items() if k != "csrf" and k not in secret}


async def _one(request: Request, project: Project) -> dict[str, Any]:
    ref = str(request.path_params["connector_id"])
    row = await page.read(request, lambda s: configs.find(s, project.id, ref))
    if row is None:
        raise DashError(404, "Not found", NO_CONNECTOR)
    return configs.shown(row)


async def edit(request: Request) -> Response:
    agent, project = await page.opened(request, "lead")
    connector = await _one(request, project)
    values = {"roles": ", ".join(connector["roles"])}
    secret = {i.setting.name for i in inputs(registry.get(connector["kind"]).settings) if i.setting.secret}
    for name, value in connector["settings"].items():
        if name in secret:
            continue  # masked values are shown beside the field, never as its value
        values[f"setting.{name}"] = (
            ", ".join(value)
            if isinstance(value, list)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
    return _form_page(request, agent, project, connector["kind"], connector=connector, values=values)


async def save(request: Request) -> Response:
    agent, project, form = await page.posted(request)
    connector = await _one(request, project)
    cls = registry.get(connector["kind"])
    settings = read_settings(cls.settings, form, editing=True)

    def change(s: Session) -> None:
        row = configs.find(s, project.id, connector["id"])
        if row is None:
            raise DashError(404, "Not found", NO_CONNECTOR)
        configs.change(s, row, settings=settings, roles=form.get("roles") or "")

    try:
        await page.write(request, change)
    except configs.ConfigError as exc:
        return _form_page(
            request,
            agent,
            project,
            connector["kind"],
            connector=connector,
            values=_kept(form, connector["kind"]),
            status=400,
            problems=problems_of(exc),
        )
    return redirect(f"/projects/{project.id}/connectors", done="saved")


async def enabled(request: Request) -> Response:
    agent, project, form = await page.posted(request)
    connector = await _one(request, project)
    wanted = form.get("enabled")
    if wanted not in ("on", "off"):
        return await _list_page(
            request, agent, project, status=400, problems=one("enabled", "send on or off"), outcome=None
        )

    def change(s: Session) -> None:
        row = configs.find(s, project.id, connector["id"])
        if row is not None:
            configs.change(s, row, enabled=wanted == "on")

    await page.write(request, change)
    return redirect(f"/projects/{project.id}/connectors", done="enabled" if wanted == "on" else "disabled")


async def remove(request: Request) -> Response:
    agent, project, form = await page.posted(request)
    connector = await _one(request, project)
    if form.get("confirm") != "yes":
        problems = one("confirm", f"tick the box to confirm removing {connector['name']}")
        return await _list_page(request, agent, project, status=400, problems=problems, outcome=None)

    def delete(s: Session) -> None:
        row = configs.find(s, project.id, connector["id"])
        if row is not None:
            s.delete(row)

    await page.write(request, delete)
    return redirect(f"/projects/{project.id}/connectors", done="removed")


async def check(request: Request) -> Response:
    """Check connection: the connector's ``check`` (credentials and reachability; nothing is created)."""

    def said(_: Delivered) -> dict[str, str]:
        return {"text": "it answered: the connection and credentials work"}

    return await _try(request, "Check connection", lambda c, _: attempt(c.check(), c.kind), said)


async def test(request: Request) -> Response:
    """Send a test report: a sample report through ``deliver``, a real ticket or message."""
    public_url = app_state(request).settings.effective_public_url

    def send(connector: Connector, project: Project) -> Awaitable[Result]:
        link = f"{public_url}/projects/{project.id}/connectors"
        return send_test_report(connector, sample_report(project.name, link))

    def said(done: Delivered) -> dict[str, str]:
        ticket = done.ticket
        where = f": {done.detail}" if done.detail else (f" as {ticket.remote_id}" if ticket.remote_id else "")
        return {"text": "it arrived" + where, "url": safe_url(ticket.url) or ""}

    return await _try(request, "Send a test report", send, said)


async def _try(
    request: Request,
    what: str,
    act: Callable[[Connector, Project], Awaitable[Result]],  # through sample.attempt: never raises
    said: Callable[[Delivered], dict[str, str]],
) -> Response:
    """Run ``act`` on the connector as saved and show its outcome above the list. Each try
    reaches the vendor (a test report makes a real ticket), so a connector takes a few a
    minute (``AppState.connector_tries``), from any page or token."""
    agent, project, _ = await page.posted(request)
    connector = await _one(request, project)
    state = app_state(request)
    row = await page.read(request, lambda s: configs.find(s, project.id, connector["id"]))
    assert row is not None
    outcome: dict[str, Any] = {"id": row.id, "name": row.name, "what": what, "ok": False, "url": ""}
    wait = state.connector_tries.hit(row.id)
    if wait:
        outcome["text"] = f"tried too often; try again in {max(1, round(wait))} s"
        refused = await _list_page(request, agent, project, status=429, outcome=outcome)
        refused.headers.update(retry_after_header(wait))
        return refused
    try:
        made = configs.instance(row, state.outbox.http)
    except InvalidSettings as exc:  # saved by an older version with other rules: say so, do not crash
        outcome["text"] = f"the saved settings no longer validate ({exc}); edit the connector"
        return await _list_page(request, agent, project, outcome=outcome)
    result = await act(made, project)
    if isinstance(result, Delivered):
        outcome |= {"ok": True, **said(result)}
    else:
        kind = "did not work this time (try again later)" if isinstance(result, Retry) else "failed"
        status = f" (HTTP {result.status})" if result.status else ""
        outcome["text"] = f"{kind}{status}: {result.reason}"
    return await _list_page(request, agent, project, outcome=outcome)
