"""A project's notification templates: the customer's mails per kind (received, resolved …),
for every language or one, edited in the sandboxed template language and checked as the
agent API checks them (``notify.templates.check_override``), with a preview of a draft before
it is saved. Previews use a made-up report and look-alike links (``notify.preview``).

    GET  /projects/{id}/notifications                      preferences; kinds, which are the project's own
    POST /projects/{id}/notifications                      save the preferences (lead)
    GET  /projects/{id}/notifications/{kind}?locale=       editor and the current mail (agent)
    POST /projects/{id}/notifications/{kind}               save (lead)
    POST /projects/{id}/notifications/{kind}/preview       the draft, rendered, unsaved (agent)
    POST /projects/{id}/notifications/{kind}/reset         back to the built-in mail (lead)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from bugline.dashboard.auth import DashError
from bugline.dashboard.sessions import Agent
from bugline.dashboard.view import redirect
from bugline.db.models import Project
from bugline.notify import context, locales, preview, templates
from bugline.notify.queue import KINDS
from bugline.projectadmin import page, preferencesform
from bugline.projectadmin.problems import Problems, one
from bugline.routes.edge import app_state

NOTICES = {
    "saved": "The template is saved; the next mails of this kind use it.",
    "reset": "The built-in template applies again.",
    "preferences": "The preferences are saved; the next mails use them.",
}
# Each language in its own name, as a customer would look for it.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français"}


def _kind(request: Request) -> str:
    kind = str(request.path_params["kind"])
    if kind not in KINDS:
        raise DashError(404, "Not found", "There is no such kind of notification.")
    return kind


def _locale(raw: str | None, project: Project) -> str | None:
    if not raw:
        return None
    tag = locales.normalise(raw)
    have = locales.available(context.notifications_settings(project.settings or {}))
    if tag is None or tag not in have:
        raise one("locale", f"choose one of the project's languages: {', '.join(have)}")
    return tag


def _own(project: Project) -> Mapping[str, Any]:
    value = context.notifications_settings(project.settings or {}).get("templates")
    return value if isinstance(value, Mapping) else {}


async def overview(request: Request) -> Response:
    agent, project = await page.opened(request)
    values = preferencesform.current(context.notifications_settings(project.settings or {}))
    return _overview(request, agent, project, values, notice=page.notice_of(request, NOTICES))


def _overview(
    request: Request, agent: Agent, project: Project, values: Mapping[str, Any], **extra: Any
) -> Response:
    own = _own(project)
    rows = []
    for kind in KINDS:
        keys = [k for k in own if k == kind or k.startswith(kind + ".")]
        rows.append({"kind": kind, "label": kind.replace("_", " "), "own": keys})
    return page.section(
        request,
        agent,
        project,
        "notifications",
        rows=rows,
        values=values,
        languages=[(lang, LANGUAGE_NAMES.get(lang, lang)) for lang in locales.builtin()],
        **extra,
    )


async def save_preferences(request: Request) -> Response:
    """Sender name, reply-to, languages and team names (lead), checked like the agent API."""
    agent, project, form = await page.posted(request, "lead")
    try:
        chosen = preferencesform.read(form)
    except Problems as exc:
        return _overview(request, agent, project, preferencesform.typed(form), status=400, problems=exc)
    await page.write(request, _store_preferences(project.id, chosen))
    return redirect(f"/projects/{project.id}/notifications?done=preferences")


def _store_preferences(project_id: str, chosen: Mapping[str, Any]) -> Any:
    def save(s: Session) -> None:
        row = s.get(Project, project_id, with_for_update=True)
        assert row is not None
        settings = dict(row.settings or {})
        settings["notifications"] = preferencesform.merged(context.notifications_settings(settings), chosen)
        row.settings = settings

    return save


def _rendered(
    request: Request, project: Project, kind: str, locale: str | None, draft: dict[str, str] | None
) -> templates.Rendered:
    facts = context.sample(kind, project.name, dict(project.settings or {}))
    return preview.render(
        facts, public_url=app_state(request).settings.effective_public_url, locale=locale, draft=draft
    )


def _editor(
    request: Request,
    agent: Agent,
    project: Project,
    kind: str,
    locale: str | None,
    values: Mapping[str, str],
    *,
    draft: dict[str, str] | None = None,
    status: int = 200,
    problems: Problems | None = None,
    notice: str = "",
) -> Response:
    rendered = None if problems else _rendered(request, project, kind, locale, draft)
    return page.section(
        request,
        agent,
        project,
        "notification",
        status=status,
        problems=problems,
        notice=notice,
        kind=kind,
        label=kind.replace("_", " "),
        locale=locale or "",
        languages=locales.available(context.notifications_settings(project.settings or {})),
        values=values,
        parts=templates.PARTS,
        variables=templates.VARIABLES,
        rendered=rendered,
        is_draft=draft is not None,
    )


async def editor(request: Request) -> Response:
    agent, project = await page.opened(request)
    kind = _kind(request)
    try:
        locale = _locale(request.query_params.get("locale"), project)
    except Problems as exc:
        raise DashError(404, "Not found", exc.items[0][1]) from None
    saved = _own(project).get(f"{kind}.{locale}" if locale else kind)
    values = {p: str(saved.get(p) or "") for p in templates.PARTS} if isinstance(saved, Mapping) else {}
    return _editor(request, agent, project, kind, locale, values, notice=page.notice_of(request, NOTICES))


def _read(form: Mapping[str, str], project: Project, kind: str) -> tuple[str | None, dict[str, str]]:
    """The locale and the checked parts; Problems names the part
    (``notifications.templates.resolved.html``)."""
    locale = _locale(form.get("locale"), project)
    raw = {p: form.get(p) or "" for p in templates.PARTS}
    for part, source in raw.items():
        if len(source) > templates.MAX_SOURCE:
            raise one(part, f"at most {templates.MAX_SOURCE} characters")
    key = f"{kind}.{locale}" if locale else kind
    try:
        checked = templates.check_override(
            key, raw, preview.samples(project.name, dict(project.settings or {}))
        )
    except templates.TemplateProblem as exc:
        raise Problems(exc.errors.items()) from None
    return locale, checked


async def _posted(request: Request, needed: str) -> tuple[Agent, Project, str, Mapping[str, str]]:
    agent, project, form = await page.posted(request, needed)
    return agent, project, _kind(request), form


async def save(request: Request) -> Response:
    agent, project, kind, form = await _posted(request, "lead")
    values = {p: form.get(p) or "" for p in templates.PARTS}
    try:
        locale, checked = _read(form, project, kind)
    except Problems as exc:
        return _editor(request, agent, project, kind, form.get("locale"), values, status=400, problems=exc)
    await page.write(request, _store(project.id, f"{kind}.{locale}" if locale else kind, checked or None))
    query = f"?done={'saved' if checked else 'reset'}" + (f"&locale={locale}" if locale else "")
    return redirect(f"/projects/{project.id}/notifications/{kind}{query}")


async def show_preview(request: Request) -> Response:
    agent, project, kind, form = await _posted(request, "agent")
    values = {p: form.get(p) or "" for p in templates.PARTS}
    try:
        locale, checked = _read(form, project, kind)
    except Problems as exc:
        return _editor(request, agent, project, kind, form.get("locale"), values, status=400, problems=exc)
    return _editor(request, agent, project, kind, locale, values, draft=checked)


async def reset(request: Request) -> Response:
    agent, project, kind, form = await _posted(request, "lead")
    try:
        locale = _locale(form.get("locale"), project)
    except Problems as exc:
        return _editor(request, agent, project, kind, None, {}, status=400, problems=exc)
    await page.write(request, _store(project.id, f"{kind}.{locale}" if locale else kind, None))
    query = "?done=reset" + (f"&locale={locale}" if locale else "")
    return redirect(f"/projects/{project.id}/notifications/{kind}{query}")


def _store(project_id: str, key: str, parts: dict[str, str] | None) -> Any:
    def save(s: Session) -> None:
        row = s.get(Project, project_id, with_for_update=True)
        assert row is not None
        settings = dict(row.settings or {})
        notifications = dict(context.notifications_settings(settings))
        own = dict(notifications.get("templates") or {})
        if parts:
            own[key] = parts
        else:
            own.pop(key, None)
        notifications["templates"] = own
        settings["notifications"] = notifications
        row.settings = settings

    return save
