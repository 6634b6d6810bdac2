"""The agent API for set-up: connectors, routing rules and their dry-run, re-delivery.

Authenticated by a personal API token (``Authorization: Bearer blt_…``, `bugline
create-token`). Every route is per project and checks membership first: a project the
caller is not a member of answers 404, exactly like one that does not exist, so ids cannot
be probed. Reading needs the agent role; changing set-up needs lead. Failed authentications
are rate limited per client IP (token guessing).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bugline.agentops import forward as forwarding
from bugline.agentops import lookup
from bugline.agentops.actor import Actor
from bugline.agentops.errors import OpError
from bugline.apitokens import Caller, authenticate
from bugline.connectors import configs, registry
from bugline.connectors.base import Connector, Delivered, InvalidSettings, Result
from bugline.connectors.sample import attempt, sample_report, send_test_report
from bugline.db.models import Project, Report, utcnow
from bugline.errors import ApiError
from bugline.outbox import queue
from bugline.outbox.plan import Subject, connectors_of, facts_of, plan_for
from bugline.ratelimit import retry_after_header
from bugline.routes.edge import app_state, client_ip, ip_identity, json_body
from bugline.routing import Facts, RoutingError, RoutingSettings, explain, lint, load_rules

MAX_BODY = 64 * 1024


class ConnectorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=40)
    name: str | None = Field(default=None, max_length=100)
    roles: list[str] | None = Field(default=None, max_length=10)
    enabled: bool = True
    settings: dict[str, Any] = Field(default_factory=dict, max_length=50)


class ConnectorPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[str] | None = Field(default=None, max_length=10)
    enabled: bool | None = None
    settings: dict[str, Any] | None = Field(default=None, max_length=50)


class DryRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report_id: str | None = Field(default=None, max_length=32)
    facts: dict[str, Any] | None = None
    routing: dict[str, Any] | None = None  # try rules before saving them


class RoutingIn(BaseModel):
    model_config = ConfigDict(extra="allow")


async def caller(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    state = app_state(request)
    ip = ip_identity(client_ip(request, state.settings.trusted_proxies))
    who = None
    if scheme.lower() == "bearer" and token.strip():
        async with state.sessions() as session, session.begin():
            who = await session.run_sync(lambda s: authenticate(s, token.strip()))
    if who is None:
        wait = state.failed_auth.hit(ip)
        if wait:
            raise ApiError(
                429, "rate_limited", "too many failed sign-ins; wait a minute", headers={"Retry-After": "60"}
            )
        raise ApiError(
            401,
            "unauthorized",
            "send a personal API token as 'Authorization: Bearer blt_…' (bugline create-token EMAIL)",
            headers={"WWW-Authenticate": 'Bearer realm="bugline"'},
        )
    return who


async def project_for(request: Request, needed: str) -> tuple[Caller, Project]:
    who = await caller(request)
    project_id = request.path_params["project_id"]
    if who.role(project_id) is None:
        raise ApiError(404, "not_found", "no such project (or you are not a member of it)")
    async with app_state(request).readers() as session:
        project = await session.get(Project, project_id)
    if project is None:
        raise ApiError(404, "not_found", "no such project (or you are not a member of it)")
    if not who.may(project_id, needed):
        raise ApiError(403, "forbidden", f"changing a project's set-up needs the {needed} role")
    return who, project


def _config_error(exc: configs.ConfigError) -> ApiError:
    fields = [{"field": k, "message": v} for k, v in exc.errors.items()]
    first = fields[0]
    return ApiError(422, "invalid_fields", f"{first['field']}: {first['message']}", fields=fields)


async def list_kinds(request: Request) -> Response:
    await caller(request)
    kinds = []
    for kind in registry.kinds():
        cls = registry.get(kind)
        kinds.append(
            {
                "kind": kind,
                "title": cls.title,
                "uploads_files": cls.uploads_files,
                "settings": [
                    {
                        "name": s.name,
                        "help": s.help,
                        "type": s.kind,
                        "required": s.required and s.default is None,
                        "secret": s.secret,
                        **({"choices": list(s.choices)} if s.choices else {}),
                        **({"default": s.default} if s.default is not None else {}),
                    }
                    for s in cls.settings
                ],
            }
        )
    return JSONResponse({"kinds": kinds})


async def list_connectors(request: Request) -> Response:
    _, project = await project_for(request, "agent")
    async with app_state(request).readers() as session:
        rows = await session.run_sync(lambda s: configs.listing(s, project.id))
    return JSONResponse({"connectors": [configs.shown(r) for r in rows]})


async def add_connector(request: Request) -> Response:
    _, project = await project_for(request, "lead")
    body, _ = await json_body(request, ConnectorIn, MAX_BODY)

    def add(s: Session) -> dict[str, Any]:
        row = configs.add(
            s, project.id, body.kind, body.settings, name=body.name, roles=body.roles, enabled=body.enabled
        )
        return configs.shown(row)

    try:
        async with app_state(request).sessions() as session, session.begin():
            shown = await session.run_sync(add)
    except configs.ConfigError as exc:
        raise _config_error(exc) from None
    return JSONResponse(shown, status_code=201)


async def one_connector(request: Request) -> Response:
    needed = "agent" if request.method == "GET" else "lead"
    _, project = await project_for(request, needed)
    ref = request.path_params["connector_id"]
    patch = None
    if request.method == "PATCH":
        patch, _ = await json_body(request, ConnectorPatch, MAX_BODY)

    def act(s: Session) -> dict[str, Any] | None:
        row = configs.find(s, project.id, ref)
        if row is None:
            raise ApiError(404, "not_found", f"project has no connector {ref!r}")
        if request.method == "DELETE":
            s.delete(row)
            return None
        if patch is not None:
            configs.change(s, row, settings=patch.settings, roles=patch.roles, enabled=patch.enabled)
        return configs.shown(row)

    try:
        async with app_state(request).sessions() as session, session.begin():
            shown = await session.run_sync(act)
    except configs.ConfigError as exc:
        raise _config_error(exc) from None
    if shown is None:
        return Response(status_code=204)
    return JSONResponse(shown)


async def _saved_connector(request: Request) -> tuple[Project, Connector]:
    """The connector to try, as saved; each try reaches the vendor, so a few a minute each."""
    _, project = await project_for(request, "lead")
    ref = request.path_params["connector_id"]
    state = app_state(request)
    async with state.readers() as session:
        row = await session.run_sync(lambda s: configs.find(s, project.id, ref))
    if row is None:
        raise ApiError(404, "not_found", f"project has no connector {ref!r}")
    wait = state.connector_tries.hit(row.id)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            f"this connector was tried too often; try again in {max(1, round(wait))} s",
            headers=retry_after_header(wait),
        )
    try:
        return project, configs.instance(row, state.outbox.http)
    except InvalidSettings as exc:
        why = f"the saved settings no longer validate ({exc}); update the connector"
        raise ApiError(409, "invalid_saved_settings", why) from None


async def check_connector(request: Request) -> Response:
    _, connector = await _saved_connector(request)
    return _outcome(await attempt(connector.check(), connector.kind))


async def test_connector(request: Request) -> Response:
    """A sample report through the connector's ``deliver``: a real ticket or message."""
    project, connector = await _saved_connector(request)
    link = f"{app_state(request).settings.effective_public_url}/projects/{project.id}/connectors"
    result = await send_test_report(connector, sample_report(project.name, link))
    if isinstance(result, Delivered):
        return JSONResponse({"ok": True, "ticket": {"id": result.ticket.remote_id, "url": result.ticket.url}})
    return _outcome(result)


def _outcome(result: Result) -> JSONResponse:
    if isinstance(result, Delivered):
        return JSONResponse({"ok": True})
    return JSONResponse(
        {
            "ok": False,
            "outcome": type(result).__name__.lower(),
            "reason": result.reason,
            "status": result.status,
        }
    )


async def routing(request: Request) -> Response:
    needed = "agent" if request.method == "GET" else "lead"
    _, project = await project_for(request, needed)
    state = app_state(request)
    if request.method == "PUT":
        body, _ = await json_body(request, RoutingIn, MAX_BODY)
        try:
            parsed = RoutingSettings.from_json(body.model_dump())
            effective = parsed.effective()
        except RoutingError as exc:
            raise ApiError(422, "invalid_routing", str(exc)) from None
        saved = parsed.to_json()

        def save(s: Session) -> tuple[str, ...]:
            row = s.get(Project, project.id)
            assert row is not None
            row.settings = {**(row.settings or {}), "routing": saved}
            return lint(effective, facts_of_connectors(s, project.id))

        async with state.sessions() as session, session.begin():
            warnings = await session.run_sync(save)
        return JSONResponse({"routing": saved, "effective": effective.to_json(), "warnings": list(warnings)})
    raw = (project.settings or {}).get("routing")
    try:
        effective = load_rules(raw)
    except RoutingError as exc:
        return JSONResponse({"routing": raw, "error": str(exc)})
    async with state.readers() as session:
        warnings = await session.run_sync(lambda s: lint(effective, facts_of_connectors(s, project.id)))
    return JSONResponse({"routing": raw, "effective": effective.to_json(), "warnings": list(warnings)})


def facts_of_connectors(s: Session, project_id: str) -> tuple[Any, ...]:
    from bugline.routing import Connection as Destination

    return tuple(
        Destination(name, kind, roles, enabled)
        for _, name, kind, roles, enabled in connectors_of(s.connection(), project_id)
    )


async def dry_run(request: Request) -> Response:
    _, project = await project_for(request, "agent")
    body, _ = await json_body(request, DryRunIn, MAX_BODY)
    state = app_state(request)
    settings = dict(project.settings or {})
    if body.routing is not None:
        settings["routing"] = body.routing
    if (body.report_id is None) == (body.facts is None):
        raise ApiError(
            422, "invalid_body", "give either report_id (a stored report) or facts (a made-up one)"
        )

    def facts(s: Session) -> Facts:
        connectors = connectors_of(s.connection(), project.id)
        if body.facts is not None:
            data = {
                **body.facts,
                "connectors": [
                    {"name": n, "kind": k, "roles": list(r), "enabled": e} for _, n, k, r, e in connectors
                ],
            }
            return Facts.from_json(data)
        report = s.execute(
            select(Report).where(Report.id == body.report_id, Report.project_id == project.id)
        ).scalar_one_or_none()
        if report is None:
            raise ApiError(404, "not_found", "no such report in this project")
        if report.triage is None:
            raise ApiError(409, "not_triaged", "the report has no triage verdict yet; try again in a moment")
        return facts_of(Subject.of_report(s, report), report.status, connectors)

    try:
        async with state.readers() as session:
            made = await session.run_sync(facts)
        plan = plan_for(settings, made)
    except RoutingError as exc:
        raise ApiError(422, "invalid_routing", str(exc)) from None
    return JSONResponse({"plan": plan.to_json(), "explanation": explain(plan)})


async def forward_report(request: Request) -> Response:
    """Forward now: failed deliveries of the report are tried again from the start, and a
    report that was never routed (it needed info, or no connector existed then) is routed.
    The same action as the report page's button (``agentops.forward``), on the timeline."""
    who, project = await project_for(request, "agent")
    report_id = request.path_params["report_id"]
    state = app_state(request)
    actor = Actor(who.user_id, who.email, "agent API")

    def act(s: Session) -> dict[str, int]:
        try:
            report = lookup.must(s, report_id, project.id, lock=True)
            done = forwarding.forward_now(s, project, report, actor, utcnow())
        except OpError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        return {"retried": done.retried, "added": done.added}

    async with state.sessions() as session, session.begin():
        counts = await session.run_sync(act)
    state.outbox.poke()
    return JSONResponse(counts, status_code=202)


class RetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] | None = Field(default=None, max_length=500)  # None: every failed delivery


STATES = ("pending", "done", "failed")


async def list_deliveries(request: Request) -> Response:
    """The project's deliveries, newest first; ``?state=failed`` is the list to act on."""
    _, project = await project_for(request, "agent")
    state = request.query_params.get("state")
    if state is not None and state not in STATES:
        raise ApiError(422, "invalid_query", f"state must be one of {', '.join(STATES)}")
    raw_limit = request.query_params.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 500:
        raise ApiError(422, "invalid_query", "limit must be a number from 1 to 500")
    async with app_state(request).readers() as session:
        rows = await session.run_sync(
            lambda s: queue.listing(s.connection(), project_id=project.id, state=state, limit=int(raw_limit))
        )
    return JSONResponse({"deliveries": rows})


async def retry_deliveries(request: Request) -> Response:
    """Retry by hand: failed deliveries (all, or the ids given) start again from attempt one."""
    _, project = await project_for(request, "agent")
    body, _ = await json_body(request, RetryIn, MAX_BODY)
    state = app_state(request)
    async with state.sessions() as session, session.begin():
        count = await session.run_sync(
            lambda s: queue.restart(s.connection(), project_id=project.id, now=utcnow(), ids=body.ids)
        )
    state.outbox.poke()
    return JSONResponse({"retried": count}, status_code=202)


routes = [
    Route("/api/v1/connector-kinds", list_kinds, methods=["GET"]),
    Route("/api/v1/projects/{project_id:str}/connectors", list_connectors, methods=["GET"]),
    Route("/api/v1/projects/{project_id:str}/connectors", add_connector, methods=["POST"]),
    Route(
        "/api/v1/projects/{project_id:str}/connectors/{connector_id:str}",
        one_connector,
        methods=["GET", "PATCH", "DELETE"],
    ),
    Route(
        "/api/v1/projects/{project_id:str}/connectors/{connector_id:str}/check",
        check_connector,
        methods=["POST"],
    ),
    Route(
        "/api/v1/projects/{project_id:str}/connectors/{connector_id:str}/test",
        test_connector,
        methods=["POST"],
    ),
    Route("/api/v1/projects/{project_id:str}/routing", routing, methods=["GET", "PUT"]),
    Route("/api/v1/projects/{project_id:str}/routing/dry-run", dry_run, methods=["POST"]),
    Route(
        "/api/v1/projects/{project_id:str}/reports/{report_id:str}/forward", forward_report, methods=["POST"]
    ),
    Route("/api/v1/projects/{project_id:str}/deliveries", list_deliveries, methods=["GET"]),
    Route("/api/v1/projects/{project_id:str}/deliveries/retry", retry_deliveries, methods=["POST"]),
]
