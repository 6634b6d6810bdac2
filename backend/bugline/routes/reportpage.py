"""Dashboard: the report page at /reports/{id} and its actions (issue 7).

GET shows everything about the report (``agentops.view``); each action is a POST form
(CSRF-checked by ``read_form``) that runs one ``agentops`` function in one transaction and
answers 303 back to the page with a notice (post/redirect/get), or, when the action is
refused, the page again with the reason next to the form (422/409). A report of a project
the agent is not a member of answers 404, exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bugline.agentops import duplicates, edit, fields, lookup, notes, status, view, words
from bugline.agentops import forward as forwarding
from bugline.agentops import severity as severities
from bugline.agentops.actor import Actor
from bugline.agentops.errors import OpError
from bugline.dashboard.auth import DashError, read_form, require_agent, require_project
from bugline.dashboard.sessions import Agent
from bugline.dashboard.view import origin_of, redirect, render
from bugline.db.models import Project, Report, utcnow
from bugline.intake.triage import refresh_severity
from bugline.routes.edge import app_state

NOT_FOUND = ("Not found", "There is no such page, or you are not a member of its project.")
# Notices after a successful action: fixed words chosen by key, never text from the URL.
NOTICES = {
    "edited": "Saved. The report was triaged again with the new words.",
    "edited-backlog": "Saved. The report is complete now and goes back to triage to be routed.",
    "severity": "Severity changed; the reason is on the timeline.",
    "severity-auto": "Severity handed back to triage.",
    "status": "Status changed; the customer is told when their status page says so.",
    "note": "Internal note added (the customer does not see it).",
    "reply": "Reply sent to the customer and shown on their status page.",
    "reply-unsent": "Reply shown on the customer's status page; no mail was sent (see the timeline).",
    "forwarded": "Forwarding queued.",
    "forward-nothing": "Nothing to forward: no failed delivery and no new destination.",
    "redelivered": "Re-delivery queued.",
    "merged": "Merged into the other report's group.",
    "split": "Split into a group of its own.",
}


@dataclass(frozen=True, slots=True)
class Done:
    notice: str
    backlog: bool = False
    outbox: bool = False
    notifier: bool = False
    refresh: tuple[str, ...] = ()


def actor_of(agent: Agent) -> Actor:
    return Actor(agent.user_id, agent.email, "dashboard")


def page_path(request: Request, report_id: str) -> str:
    base = urlsplit(app_state(request).settings.effective_public_url).path.rstrip("/")
    return f"{base}/reports/{report_id}"


async def _report_for(request: Request, agent: Agent) -> Report:
    """The report, if the agent may see it; 404 either way otherwise."""
    ref = request.path_params["report_id"]
    async with app_state(request).readers() as session:
        report = await session.run_sync(lambda s: lookup.find(s, ref))
    if report is None:
        raise DashError(404, *NOT_FOUND)
    require_project(agent, report.project_id)
    return report


async def show(
    request: Request,
    agent: Agent,
    report_id: str,
    *,
    status_code: int = 200,
    error: OpError | None = None,
    form: str = "",
    typed: dict[str, str] | None = None,
) -> Response:
    state = app_state(request)

    def read(s: Session) -> tuple[dict[str, Any], Project | None]:
        report = lookup.find(s, report_id)
        if report is None:
            return {}, None
        return view.build(s, report), s.get(Project, report.project_id)

    async with state.readers() as session:
        data, project = await session.run_sync(read)
    if not data or project is None:
        raise DashError(404, *NOT_FOUND)
    urls = await view.media_links(state.store, data, state.settings.media_link_ttl)
    notice = NOTICES.get(request.query_params.get("notice", ""), "") if error is None else ""
    return render(
        request,
        agent,
        "report/page.html",
        status=status_code,
        media_origins=[origin_of(u) for u in urls],
        project={"id": project.id, "name": project.name},
        r=data,
        fields=fields.FIELDS,
        severity_choices=severities.CHOICES,
        statuses=status.AGENT_SETTABLE,
        status_words=words.STATUS,
        describe=words.describe,
        notice=notice,
        error=error,
        error_form=form,
        typed=typed or {},
        caps={"note": notes.NOTE_MAX, "reason": severities.REASON_MAX},
    )


async def page(request: Request) -> Response:
    agent = await require_agent(request)
    report = await _report_for(request, agent)
    return await show(request, agent, report.id)


Action = Callable[[Session, Project, Report, Actor, ImmutableMultiDict[str, str]], Done]


def action(name: str, act: Action) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        agent = await require_agent(request)
        report = await _report_for(request, agent)
        form = await read_form(request, agent)
        state = app_state(request)
        who = actor_of(agent)

        def run(s: Session) -> Done:
            locked = lookup.must(s, report.id, report.project_id, lock=True)
            project = s.get(Project, report.project_id)
            assert project is not None
            return act(s, project, locked, who, form)

        try:
            async with state.sessions() as session, session.begin():
                done = await session.run_sync(run)
        except OpError as exc:
            typed = {k: v for k, v in form.items() if k != "csrf"}
            return await show(
                request, agent, report.id, status_code=exc.status, error=exc, form=name, typed=typed
            )
        if done.backlog:
            state.backlog.poke()
        if done.outbox:
            state.outbox.poke()
        if done.notifier:
            state.notifier.poke()
        if done.refresh:
            await refresh_severity(state.writer, state.readers, report.project_id, list(done.refresh))
        return redirect(page_path(request, report.id), notice=done.notice)

    endpoint.__name__ = f"report_{name}"
    return endpoint


def _edit(s: Session, p: Project, r: Report, a: Actor, form: ImmutableMultiDict[str, str]) -> Done:
    values = {f.name: form[f.name] for f in fields.FIELDS if f.name in form}
    done = edit.edit(s, r, values, a, utcnow())
    return Done("edited-backlog" if done.backlog else "edited", backlog=done.backlog, outbox=True)


def _severity(s: Session, p: Project, r: Report, a: Actor, form: ImmutableMultiDict[str, str]) -> Done:
    level = form.get("severity", "")
    severities.change(s.connection(), r, level, form.get("reason", ""), a, utcnow())
    return Done("severity-auto" if level == severities.AUTO else "severity")


def _status(s: Session, p: Project, r: Report, a: Actor, form: ImmutableMultiDict[str, str]) -> Done:
    status.change(
        s,
        r,
        form.get("status", ""),
        a,
        utcnow(),
        public_note=form.get("public_note", ""),
        internal_note=form.get("internal_note", ""),
    )
    return Done("status", outbox=True, notifier=True)


def _note(s: Session, p: Project, r: Report, a: Actor, form: ImmutableMultiDict[str, str]) -> Done:
    noted = notes.add(s, r, form.get("text", ""), form.get("visibility", "internal"), a, utcnow())
    if form.get("visibility", "internal") == "internal":
        return Done("note")
    return Done("reply" if noted.mailed else "reply-unsent", notifier=True)


def _forward(s: Session, p: Project, r: Report, a: Actor, form: ImmutableMultiDict[str, str]) -> Done:
    done = forwarding.forward_now(s, p, r, a, utcnow())
    return Done("forwarded" if done.retried or done.added else "forward-nothing", outbox=True)


def _redeliver(s: Session, p: Project, r: Report, a: Actor, form: ImmutableMultiDict[str, str]) -> Done:
    delivery_id = form.get("delivery", "").strip()
    if not delivery_id or len(delivery_id) > 32:
        raise OpError(422, "delivery_required", "choose a failed delivery to send again", "delivery")
    done = forwarding.forward_now(s, p, r, a, utcnow(), delivery_ids=[delivery_id])
    if not done.retried:
        raise OpError(409, "not_failed", "that delivery has not failed (or is not this report's)", "delivery")
    return Done("redelivered", outbox=True)


def _merge(s: Session, p: Project, r: Report, a: Actor, form: ImmutableMultiDict[str, str]) -> Done:
    done = duplicates.merge(s, p, r, form.get("into", ""), a, utcnow())
    return Done("merged", refresh=done.refresh)


def _split(s: Session, p: Project, r: Report, a: Actor, form: ImmutableMultiDict[str, str]) -> Done:
    done = duplicates.split(s, p, r, a, utcnow())
    return Done("split", refresh=done.refresh)


ACTIONS: dict[str, Action] = {
    "edit": _edit,
    "severity": _severity,
    "status": _status,
    "notes": _note,
    "forward": _forward,
    "redeliver": _redeliver,
    "merge": _merge,
    "split": _split,
}

routes: list[BaseRoute] = [
    Route("/reports/{report_id:str}", page, methods=["GET"]),
    *(
        Route(f"/reports/{{report_id:str}}/{name}", action(name, act), methods=["POST"])
        for name, act in ACTIONS.items()
    ),
]
