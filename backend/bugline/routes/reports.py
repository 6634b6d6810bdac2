"""The public intake API the widget and scripts call: create, upload slots, complete, finalize."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bugline.db.models import Attachment, Project, Report, ReportEvent, ReportStatus, utcnow
from bugline.errors import ApiError
from bugline.intake.finalize import Outcome, attachment_for, complete_upload, finalize, require_open
from bugline.intake.schema import AttachmentsIn, CompleteIn, FinalizeIn, PartsIn, ReportIn, ReportPatch
from bugline.intake.service import Created, attachments_of, report_for_token, submit_report
from bugline.intake.triage import public_view
from bugline.intake.uploads import (
    Slots,
    check_declared,
    is_multipart,
    new_attachment,
    upload_content_type,
    upload_key,
)
from bugline.intake.useragent import hints_from_headers
from bugline.routes.edge import (
    app_state,
    body_hash,
    client_ip,
    idempotency_key,
    json_body,
    parse_json,
    read_body,
    report_token,
    require_json,
    require_project,
    validate,
)
from bugline.state import AppState

SMALL_BODY = 64 * 1024


def api_base(state: AppState, report_id: str) -> str:
    return f"{state.settings.effective_public_url}/api/v1/reports/{report_id}"


def status_url(state: AppState, token: str) -> str:
    return f"{state.settings.effective_public_url}/api/v1/status/{token}"


def environment_view(report: Report) -> dict[str, Any]:
    return {
        "browser": {"name": report.browser_name, "version": report.browser_version},
        "os": {"name": report.os_name, "version": report.os_version},
        "device": {"type": report.device_type, "vendor": report.device_vendor, "model": report.device_model},
    }


async def report_view(
    state: AppState, report: Report, attachments: list[Attachment], token: str
) -> dict[str, Any]:
    slots = Slots(state.settings, state.store, api_base(state, report.id))
    return {
        "id": report.id,
        "number": report.number,
        "status": report.status,
        "status_token": token,
        "status_url": status_url(state, token),
        "finalize_url": f"{api_base(state, report.id)}/finalize",
        "environment": environment_view(report),
        "attachments": [await slots.describe(a) for a in attachments],
        # Filled once the report is accepted: what is still missing, as questions to answer.
        "triage": public_view(report),
    }


async def created_response(state: AppState, created: Created) -> Response:
    if created.replayed:
        # Fresh signatures for any slot still open: the retry may come long after the first try.
        await ensure_started(state, created.report, created.attachments)
    body = await report_view(state, created.report, created.attachments, created.token)
    headers = {"Idempotent-Replayed": "true"} if created.replayed else {}
    if created.report.status == ReportStatus.RECEIVED:
        state.backlog.poke()  # accepted: the verdict follows in the triage loop
    return JSONResponse(body, status_code=200 if created.replayed else 201, headers=headers)


async def ensure_started(state: AppState, report: Report, attachments: list[Attachment]) -> None:
    """Open the multipart upload of each recording slot that has none yet.

    Outside any transaction (the store call may be slow); a conditional UPDATE settles a
    race between two retries, and the loser's upload is aborted.
    """
    for attachment in attachments:
        if attachment.upload_id is not None or not is_multipart(attachment.kind):
            continue
        key = upload_key(attachment)
        upload_id = await state.store.start_multipart(key, content_type=upload_content_type(attachment))
        async with state.sessions() as session, session.begin():
            won = await session.execute(
                update(Attachment)
                .where(Attachment.id == attachment.id, Attachment.upload_id.is_(None))
                .values(upload_id=upload_id)
            )
        if getattr(won, "rowcount", 0):
            attachment.upload_id = upload_id
            continue
        await state.store.abort_multipart(key, upload_id)
        async with state.readers() as session:
            attachment.upload_id = (
                await session.execute(select(Attachment.upload_id).where(Attachment.id == attachment.id))
            ).scalar_one()


async def create(request: Request) -> Response:
    state = app_state(request)
    project = await require_project(request)
    key = idempotency_key(request)
    data, raw = await json_body(request, ReportIn, state.settings.max_report_bytes)
    created = await submit_report(
        state.writer,
        state.readers,
        state.settings,
        project,
        data,
        idempotency_key=key,
        request_hash=body_hash(raw),
        client_ip=client_ip(request, state.settings.trusted_proxies),
        headers=request.headers,
        hints_from_headers=hints_from_headers(request.headers),
        source="widget" if request.headers.get("origin") else "api",
    )
    if not created.replayed:
        await ensure_started(state, created.report, created.attachments)
    return await created_response(state, created)


async def _open_report(request: Request) -> tuple[AppState, Project, str, str]:
    state = app_state(request)
    project = await require_project(request)
    report_id, token = request.path_params["report_id"], report_token(request)
    # Who may touch this report is settled before the body is even read.
    async with state.readers() as session:
        await report_for_token(session, project, report_id, token)
    return state, project, report_id, token


async def add_attachments(request: Request) -> Response:
    """More upload slots for a report still awaiting its media (a replacement, a late file)."""
    state, project, report_id, token = await _open_report(request)
    data, _ = await json_body(request, AttachmentsIn, SMALL_BODY)
    for i, spec in enumerate(data.attachments):
        check_declared(state.settings, spec, i)
    async with state.sessions() as session, session.begin():
        report = await report_for_token(session, project, report_id, token)
        require_open(report)
        existing = await attachments_of(session, report)
        live = [a for a in existing if a.state != "rejected"]
        if len(live) + len(data.attachments) > state.settings.max_attachments:
            raise ApiError(
                422,
                "too_many_attachments",
                f"a report may carry at most {state.settings.max_attachments} attachments",
            )
        added = [new_attachment(project.id, report.id, spec) for spec in data.attachments]
        session.add_all(added)
    await ensure_started(state, report, added)
    slots = Slots(state.settings, state.store, api_base(state, report.id))
    return JSONResponse({"attachments": [await slots.describe(a) for a in added]}, status_code=201)


async def edit_report(request: Request) -> Response:
    """Update the customer's words on a report still awaiting its media."""
    state, project, report_id, token = await _open_report(request)
    data, _ = await json_body(request, ReportPatch, state.settings.max_report_bytes)
    changes = data.model_dump(exclude_none=True)
    async with state.sessions() as session, session.begin():
        report = await report_for_token(session, project, report_id, token)
        require_open(report)
        for name, value in changes.items():
            setattr(report, name, value)
        report.updated_at = utcnow()
        if changes:
            session.add(
                ReportEvent(
                    project_id=report.project_id,
                    report_id=report.id,
                    kind="edited",
                    actor_type="reporter",
                    data={"fields": sorted(changes)},
                )
            )
        attachments = await attachments_of(session, report)
    return JSONResponse(await report_view(state, report, attachments, token))


async def sign_parts(request: Request) -> Response:
    state, project, report_id, token = await _open_report(request)
    data, _ = await json_body(request, PartsIn, SMALL_BODY)
    async with state.readers() as session:
        report = await report_for_token(session, project, report_id, token)
        attachment = await attachment_for(session, report, request.path_params["attachment_id"])
        require_open(report, attachment)
    if attachment.upload_id is None:
        raise ApiError(409, "not_multipart", "this attachment is uploaded in one request, not in parts")
    slots = Slots(state.settings, state.store, api_base(state, report.id))
    numbers = [p.part_number for p in data.parts]
    if len(set(numbers)) != len(numbers):
        raise ApiError(422, "invalid_parts", "ask for each part_number once")
    parts = [await slots.part(attachment, p.part_number, p.size) for p in data.parts]
    return JSONResponse({"parts": parts})


async def complete(request: Request) -> Response:
    state, project, report_id, token = await _open_report(request)
    data, _ = await json_body(request, CompleteIn, 2 * 1024 * 1024)
    attachment = await complete_upload(
        state.sessions,
        state.readers,
        state.store,
        project,
        report_id,
        token,
        request.path_params["attachment_id"],
        [(p.part_number, p.etag) for p in data.parts],
    )
    return JSONResponse({"id": attachment.id, "state": attachment.state})


async def finalize_report(request: Request) -> Response:
    state, project, report_id, token = await _open_report(request)
    body = await read_body(request, SMALL_BODY)
    if body.strip():  # the body is optional: no body means the defaults
        require_json(request)
        data = validate(FinalizeIn, parse_json(body))
    else:
        data = FinalizeIn()
    outcome = await finalize(
        state.sessions,
        state.readers,
        state.store,
        state.settings,
        project,
        report_id,
        token,
        skip_rejected=data.skip_rejected,
    )
    return await outcome_response(state, outcome, token)


async def outcome_response(state: AppState, outcome: Outcome, token: str) -> Response:
    body = await report_view(state, outcome.report, outcome.attachments, token)
    if outcome.report.status != ReportStatus.AWAITING_MEDIA:
        if outcome.report.status == ReportStatus.RECEIVED:
            state.backlog.poke()
        return JSONResponse(body)
    if outcome.missing:
        names = ", ".join(a.filename for a in outcome.missing)
        error = ApiError(
            409,
            "uploads_incomplete",
            f"not everything is uploaded yet ({names}); finish the uploads and finalize again",
        )
    else:
        problems = "; ".join(f"{a.filename}: {a.error}" for a in outcome.rejected)
        error = ApiError(
            422,
            "attachments_rejected",
            f"{problems}. Upload a replacement through /attachments, or finalize with "
            '{"skip_rejected": true} to send the report without it',
        )
    return JSONResponse(error.body() | {"report": body}, status_code=error.status)


routes = [
    Route("/api/v1/reports", create, methods=["POST"]),
    Route("/api/v1/reports/{report_id:str}/attachments", add_attachments, methods=["POST"]),
    Route(
        "/api/v1/reports/{report_id:str}/attachments/{attachment_id:str}/parts", sign_parts, methods=["POST"]
    ),
    Route(
        "/api/v1/reports/{report_id:str}/attachments/{attachment_id:str}/complete", complete, methods=["POST"]
    ),
    Route("/api/v1/reports/{report_id:str}", edit_report, methods=["PATCH"]),
    Route("/api/v1/reports/{report_id:str}/finalize", finalize_report, methods=["POST"]),
]
