"""Agent API: one report, read and acted on with a personal API token (issue 7).

    GET   /api/v1/projects/{project_id}/reports/{report_id}          everything the report page shows
    PATCH /api/v1/projects/{project_id}/reports/{report_id}          fields, severity (with a reason), status
    POST  /api/v1/projects/{project_id}/reports/{report_id}/notes    an internal note or a public reply
    POST  /api/v1/projects/{project_id}/reports/{report_id}/merge    into another report's duplicate group
    POST  /api/v1/projects/{project_id}/reports/{report_id}/split    out of its duplicate group

"Forward now" is ``POST .../forward`` in routes/agent.py, which runs the same
``agentops.forward``. The work is ``bugline.agentops``, shared with the report page, so the
API and the page behave the same; ``report_id`` is the report's id or its number ("42").
Members with the agent role may act on reports; a project the caller is not a member of
answers 404 like a missing one (``routes.agent.project_for``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bugline.agentops import duplicates, edit, fields, lookup, notes, view
from bugline.agentops import severity as severities
from bugline.agentops import status as statuses
from bugline.agentops.actor import Actor
from bugline.agentops.errors import OpError
from bugline.apitokens import Caller
from bugline.db.models import Project, Report, utcnow
from bugline.errors import ApiError
from bugline.intake.triage import refresh_severity
from bugline.routes.agent import project_for
from bugline.routes.edge import app_state, json_body

MAX_BODY = 256 * 1024  # the biggest update: every checklist field at its cap fits


class ReportUpdate(BaseModel):
    """Only what is given changes. Text fields: an empty string clears them; ``frequency``
    and ``people_affected``: null clears them. ``severity`` needs a ``reason``; "auto" hands
    the severity back to triage. ``status`` may carry a note for the customer (in their mail
    and on their status page) and an internal one."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=300)
    trying_to_do: str | None = Field(default=None, max_length=20_000)
    expected: str | None = Field(default=None, max_length=20_000)
    actual: str | None = Field(default=None, max_length=20_000)
    error_text: str | None = Field(default=None, max_length=20_000)
    steps: str | None = Field(default=None, max_length=20_000)
    description: str | None = Field(default=None, max_length=100_000)
    frequency: Literal["always", "sometimes", "once", "unknown"] | None = None
    people_affected: Literal["just_me", "some", "everyone", "unknown"] | None = None
    severity: Literal["critical", "high", "medium", "low", "auto"] | None = None
    reason: str | None = Field(default=None, max_length=severities.REASON_MAX)
    status: Literal["in_progress", "cannot_reproduce", "resolved", "closed", "reopened"] | None = None
    public_note: str | None = Field(default=None, max_length=statuses.NOTE_MAX)
    internal_note: str | None = Field(default=None, max_length=statuses.NOTE_MAX)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=notes.NOTE_MAX)
    visibility: Literal["internal", "public"] = "internal"


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: str = Field(
        min_length=1, max_length=40, description="The id or number of the report whose group it joins"
    )


def actor_of(who: Caller) -> Actor:
    return Actor(who.user_id, who.email, "agent API")


def api_error(exc: OpError) -> ApiError:
    fields_at_fault = [{"field": exc.field, "message": exc.message}] if exc.field else None
    return ApiError(exc.status, exc.code, exc.message, fields=fields_at_fault)


async def shown(request: Request, project: Project, report_id: str) -> dict[str, Any]:
    state = app_state(request)

    def read(s: Session) -> dict[str, Any] | None:
        report = lookup.find(s, report_id, project.id)
        return view.build(s, report) if report is not None else None

    async with state.readers() as session:
        data = await session.run_sync(read)
    if data is None:
        raise ApiError(404, "not_found", "no such report in this project")
    await view.media_links(state.store, data, state.settings.media_link_ttl)
    for a in data["attachments"]:
        a["download_url"] = a.pop("url")
    return data


async def must_exist(request: Request, project: Project, report_id: str) -> None:
    """404 before anything else about the request is judged: a report of another project (or
    none) answers the same whatever the body says."""
    async with app_state(request).readers() as session:
        found = await session.run_sync(lambda s: lookup.find(s, report_id, project.id))
    if found is None:
        raise ApiError(404, "not_found", "no such report in this project")


async def act(
    request: Request, project: Project, report_id: str, work: Callable[[Session, Report], Any]
) -> Any:
    def run(s: Session) -> Any:
        try:
            report = lookup.must(s, report_id, project.id, lock=True)
            return work(s, report)
        except OpError as exc:
            raise api_error(exc) from None

    async with app_state(request).sessions() as session, session.begin():
        return await session.run_sync(run)


async def one_report(request: Request) -> Response:
    who, project = await project_for(request, "agent")
    report_id = request.path_params["report_id"]
    if request.method == "GET":
        return JSONResponse(await shown(request, project, report_id))
    await must_exist(request, project, report_id)
    body, _ = await json_body(request, ReportUpdate, MAX_BODY)
    given = body.model_dump(exclude_unset=True)
    if not given:
        raise ApiError(422, "no_changes", "send at least one field to change")
    actor = actor_of(who)
    edits = {k: v for k, v in given.items() if k in fields.BY_NAME}
    if "reason" in given and "severity" not in given:
        raise ApiError(422, "severity_required", "a reason goes with a severity; send both")
    if ("public_note" in given or "internal_note" in given) and "status" not in given:
        raise ApiError(
            422, "status_required", "notes here go with a status change; for a note alone use POST .../notes"
        )
    state = app_state(request)

    def work(s: Session, report: Report) -> bool:
        now = utcnow()
        backlog = False
        if edits:
            backlog = edit.edit(s, report, edits, actor, now).backlog
            s.refresh(report)
        if "severity" in given:
            severities.change(
                s.connection(), report, given["severity"], given.get("reason") or "", actor, now
            )
            s.refresh(report)
        if "status" in given:
            statuses.change(
                s,
                report,
                given["status"],
                actor,
                now,
                public_note=given.get("public_note") or "",
                internal_note=given.get("internal_note") or "",
            )
        return backlog

    backlog = await act(request, project, report_id, work)
    if backlog:
        state.backlog.poke()
    state.outbox.poke()
    state.notifier.poke()
    return JSONResponse(await shown(request, project, report_id))


async def add_note(request: Request) -> Response:
    who, project = await project_for(request, "agent")
    await must_exist(request, project, request.path_params["report_id"])
    body, _ = await json_body(request, NoteIn, MAX_BODY)
    actor = actor_of(who)

    def work(s: Session, report: Report) -> notes.Noted:
        return notes.add(s, report, body.text, body.visibility, actor, utcnow())

    noted: notes.Noted = await act(request, project, request.path_params["report_id"], work)
    if noted.mailed:
        app_state(request).notifier.poke()
    return JSONResponse(
        {
            "event_id": noted.event_id,
            "visibility": body.visibility,
            "mailed": noted.mailed,
            "not_mailed_because": noted.why_not or None,
        },
        status_code=201,
    )


async def regroup(request: Request) -> Response:
    who, project = await project_for(request, "agent")
    merging = request.url.path.endswith("/merge")
    await must_exist(request, project, request.path_params["report_id"])
    into = (await json_body(request, MergeIn, MAX_BODY))[0].into if merging else ""
    actor = actor_of(who)

    def work(s: Session, report: Report) -> duplicates.Regrouped:
        if merging:
            return duplicates.merge(s, project, report, into, actor, utcnow())
        return duplicates.split(s, project, report, actor, utcnow())

    report_id = request.path_params["report_id"]
    done: duplicates.Regrouped = await act(request, project, report_id, work)
    state = app_state(request)
    if done.refresh:
        await refresh_severity(state.writer, state.readers, project.id, list(done.refresh))
    return JSONResponse(await shown(request, project, report_id))


BASE = "/api/v1/projects/{project_id:str}/reports/{report_id:str}"
routes: list[BaseRoute] = [
    Route(BASE, one_report, methods=["GET", "PATCH"]),
    Route(BASE + "/notes", add_note, methods=["POST"]),
    Route(BASE + "/merge", regroup, methods=["POST"]),
    Route(BASE + "/split", regroup, methods=["POST"]),
]
