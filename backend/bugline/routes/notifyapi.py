"""The agent API for customer notifications: a project's templates and settings, and previews.

Same rules as the rest of the agent API (``routes/agent.py``: personal tokens, 404 for a
project the caller is not in, rate-limited failures): reading and previewing need the agent
role, changing needs lead. A project's template is checked when saved (the sandbox's smaller
language, and a test render with a sample for its kind): a bad one is refused with 422
naming the part and the reason, and never stored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bugline.db.models import Project
from bugline.errors import ApiError
from bugline.notify import context, locales, preferences, preview, store, templates
from bugline.notify.context import Facts
from bugline.notify.queue import KINDS
from bugline.routes.agent import project_for
from bugline.routes.edge import app_state, json_body

MAX_BODY = 4 * templates.MAX_SOURCE + 4096


class TemplateIn(BaseModel):
    """A project's own template for one kind: any of the three parts (the others stay built in)."""

    model_config = ConfigDict(extra="forbid")
    subject: str | None = Field(default=None, max_length=templates.MAX_SOURCE)
    text: str | None = Field(default=None, max_length=templates.MAX_SOURCE)
    html: str | None = Field(default=None, max_length=templates.MAX_SOURCE)
    locale: str | None = Field(default=None, max_length=35)  # only for this language


class DraftIn(TemplateIn):
    """A template to preview before saving it, for a stored report or the sample."""

    report_id: str | None = Field(default=None, max_length=32)


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    locale: str | None = Field(default=None, max_length=35)
    locales: list[str] | None = Field(default=None, max_length=20)
    team: str | dict[str, str] | None = None
    teams: dict[str, str | dict[str, str]] | None = Field(default=None, max_length=preferences.MAX_TEAMS)
    from_name: str | None = Field(default=None, max_length=preferences.NAME_LIMIT)
    reply_to: str | None = Field(default=None, max_length=320)


def _kind(request: Request) -> str:
    kind = str(request.path_params["kind"])
    if kind not in KINDS:
        raise ApiError(404, "not_found", f"no notification kind {kind!r}; kinds: {', '.join(KINDS)}")
    return kind


def _locale(value: str | None, project: Project) -> str | None:
    if value is None:
        return None
    tag = locales.normalise(value)
    have = locales.available(context.notifications_settings(project.settings or {}))
    if tag is None or tag not in have:
        raise ApiError(422, "invalid_locale", f"locale must be one the project writes in: {', '.join(have)}")
    return tag


def _problem(exc: templates.TemplateProblem | preferences.PreferencesProblem) -> ApiError:
    fields = [{"field": k, "message": v} for k, v in exc.errors.items()]
    code = "invalid_template" if isinstance(exc, templates.TemplateProblem) else "invalid_fields"
    return ApiError(422, code, str(exc), fields=fields)


def _checked(kind: str, locale: str | None, body: TemplateIn, project: Project) -> dict[str, str]:
    key = f"{kind}.{locale}" if locale else kind
    raw = {p: v for p in templates.PARTS if (v := getattr(body, p)) is not None}
    try:
        return templates.check_override(key, raw, preview.samples(project.name, dict(project.settings or {})))
    except templates.TemplateProblem as exc:
        raise _problem(exc) from None


async def _facts(request: Request, project: Project, kind: str, report_id: str | None) -> Facts:
    if report_id is None:
        return context.sample(kind, project.name, dict(project.settings or {}))
    async with app_state(request).readers() as session:
        facts = await session.run_sync(
            lambda s: store.report_facts(s.connection(), project.id, report_id, kind)
        )
    if facts is None:
        raise ApiError(404, "not_found", "no such report in this project")
    return facts


async def overview(request: Request) -> Response:
    """What a template may use, the languages, and the project's own templates and settings."""
    _, project = await project_for(request, "agent")
    settings = context.notifications_settings(project.settings or {})
    return JSONResponse(
        {
            "kinds": list(KINDS),
            "locales": list(locales.available(settings)),
            "variables": list(templates.VARIABLES),
            "filters": list(templates.FILTERS),
            "templates": dict(settings.get("templates") or {}),
            "settings": {k: settings[k] for k in preferences.KEYS if k in settings},
        }
    )


async def show_preview(request: Request) -> Response:
    """GET: the kind as the project's saved templates render it; POST: a draft, unsaved."""
    _, project = await project_for(request, "agent")
    kind = _kind(request)
    state = app_state(request)
    draft: dict[str, str] | None = None
    if request.method == "POST":
        body, _ = await json_body(request, DraftIn, MAX_BODY)
        locale = _locale(body.locale, project)
        draft = _checked(kind, locale, body, project)
        report_id = body.report_id
    else:
        locale = _locale(request.query_params.get("locale"), project)
        report_id = request.query_params.get("report_id")
        if report_id is not None and not 1 <= len(report_id) <= 32:
            raise ApiError(422, "invalid_query", "report_id must be a report's id")
    facts = await _facts(request, project, kind, report_id)
    rendered = preview.render(
        facts, public_url=state.settings.effective_public_url, locale=locale, draft=draft
    )
    return JSONResponse({"kind": kind, **preview.as_json(rendered, sample=report_id is None)})


async def template(request: Request) -> Response:
    """PUT: save the project's template for a kind (all languages, or ``locale`` only);
    DELETE: back to the built-in one (``?locale=`` for one language's)."""
    _, project = await project_for(request, "lead")
    kind = _kind(request)
    state = app_state(request)
    saved: dict[str, str] | None = None
    if request.method == "PUT":
        body, _ = await json_body(request, TemplateIn, MAX_BODY)
        locale = _locale(body.locale, project)
        saved = _checked(kind, locale, body, project)
    else:
        locale = _locale(request.query_params.get("locale"), project)
    key = f"{kind}.{locale}" if locale else kind

    def save(s: Session) -> dict[str, Any]:
        row = s.get(Project, project.id, with_for_update=True)
        assert row is not None
        settings = dict(row.settings or {})
        notifications = dict(context.notifications_settings(settings))
        own = dict(notifications.get("templates") or {})
        if saved is None:
            own.pop(key, None)
        else:
            own[key] = saved
        notifications["templates"] = own
        row.settings = {**settings, "notifications": notifications}
        return dict(row.settings)

    async with state.sessions() as session, session.begin():
        settings = await session.run_sync(save)
    if saved is None:
        return Response(status_code=204)
    facts = context.sample(kind, project.name, settings)
    rendered = preview.render(facts, public_url=state.settings.effective_public_url, locale=locale)
    return JSONResponse(
        {
            "kind": kind,
            "locale": locale,
            "template": saved,
            "preview": preview.as_json(rendered, sample=True),
        }
    )


async def settings_route(request: Request) -> Response:
    """GET (agent) / PUT (lead) the project's notification settings (templates excluded:
    they are saved per kind). PUT replaces them all."""
    needed = "agent" if request.method == "GET" else "lead"
    _, project = await project_for(request, needed)
    if request.method == "GET":
        current = context.notifications_settings(project.settings or {})
        return JSONResponse({k: current[k] for k in preferences.KEYS if k in current})
    body, _ = await json_body(request, PreferencesIn, MAX_BODY)
    try:
        cleaned = preferences.check(body.model_dump(exclude_none=True))
    except preferences.PreferencesProblem as exc:
        raise _problem(exc) from None

    def save(s: Session) -> None:
        row = s.get(Project, project.id, with_for_update=True)
        assert row is not None
        settings = dict(row.settings or {})
        templates_saved = context.notifications_settings(settings).get("templates")
        notifications: dict[str, Any] = dict(cleaned)
        if templates_saved:
            notifications["templates"] = templates_saved
        row.settings = {**settings, "notifications": notifications}

    async with app_state(request).sessions() as session, session.begin():
        await session.run_sync(save)
    return JSONResponse(cleaned)


BASE = "/api/v1/projects/{project_id:str}/notifications"
routes = [
    Route(f"{BASE}/templates", overview, methods=["GET"]),
    Route(f"{BASE}/templates/{{kind:str}}", template, methods=["PUT", "DELETE"]),
    Route(f"{BASE}/templates/{{kind:str}}/preview", show_preview, methods=["GET", "POST"]),
    Route(f"{BASE}/settings", settings_route, methods=["GET", "PUT"]),
]
