"""POST /api/v1/reports/form: a whole report with its files in one multipart/form-data request.

For servers, scripts and curl. Files are streamed to disk while parsed, checked by
their bytes, stored, and only then is the report written, in one transaction: a
refused file means no report, and a failed write removes the stored files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bugline.db.models import Attachment, AttachmentKind, AttachmentState, ReportStatus, new_id, utcnow
from bugline.errors import ApiError
from bugline.intake.formdata import FormData, read_form
from bugline.intake.schema import ReportIn
from bugline.intake.service import Created, submit_report
from bugline.intake.uploads import size_cap
from bugline.intake.useragent import hints_from_headers
from bugline.routes.edge import (
    app_state,
    client_ip,
    idempotency_key,
    parse_json,
    read_body,
    require_project,
    validate,
)
from bugline.routes.reports import created_response
from bugline.storage.base import StoreError
from bugline.storage.sniff import matches_declared, safe_filename, sniff

# Form fields that map straight onto report fields, so `curl -F actual=...` just works.
SIMPLE_FIELDS = (
    "title",
    "description",
    "trying_to_do",
    "expected",
    "actual",
    "error_text",
    "steps",
    "frequency",
    "people_affected",
)
REPORTER_FIELDS = {
    "email": "email",
    "name": "name",
    "reporter_id": "id",
    "account": "account",
    "plan": "plan",
}
FILE_KINDS = {
    "screenshot": AttachmentKind.SCREENSHOT,
    "recording": AttachmentKind.RECORDING,
    "log": AttachmentKind.LOG,
}


def kind_of(field_name: str) -> AttachmentKind:
    return FILE_KINDS.get(field_name, AttachmentKind.FILE)


def report_from_fields(fields: dict[str, str]) -> ReportIn:
    nul = sorted(k for k, v in fields.items() if "\x00" in v)
    if nul:  # PostgreSQL's text columns cannot store a NUL
        raise ApiError(
            400,
            "nul_character",
            f"{', '.join(nul)} contains a NUL character; remove it",
            fields=[{"field": k, "message": "contains a NUL character"} for k in nul],
        )
    if "report" in fields:
        extra = sorted(set(fields) - {"report"})
        if extra:
            raise ApiError(
                422,
                "invalid_fields",
                f"send either a 'report' JSON field or simple fields, not both (also got {', '.join(extra)})",
            )
        data: dict[str, Any] = parse_json(fields["report"].encode())
        if isinstance(data, dict) and data.get("attachments"):
            raise ApiError(422, "invalid_fields", "attach files as form parts, not in report.attachments")
        return validate(ReportIn, data)
    data = {k: fields[k] for k in SIMPLE_FIELDS if k in fields}
    reporter = {v: fields[k] for k, v in REPORTER_FIELDS.items() if fields.get(k)}
    if reporter:
        data["reporter"] = reporter
    if fields.get("url"):
        data["context"] = {"url": fields["url"]}
    unknown = sorted(set(fields) - set(SIMPLE_FIELDS) - set(REPORTER_FIELDS) - {"url"})
    if unknown:
        raise ApiError(
            422,
            "invalid_fields",
            f"unknown form field {', '.join(unknown)}",
            fields=[{"field": k, "message": "is not a known field"} for k in unknown],
        )
    return validate(ReportIn, data)


def request_hash(form: FormData) -> str:
    h = hashlib.sha256(json.dumps(form.fields, sort_keys=True).encode())
    for f in form.files:
        h.update(f"{f.field}:{f.filename}:{f.sha256}".encode())
    return h.hexdigest()


async def submit_form(request: Request) -> Response:
    state = app_state(request)
    settings = state.settings
    project = await require_project(request)
    key = idempotency_key(request)
    max_body = (
        settings.max_report_bytes
        + settings.max_recording_bytes
        + (settings.max_attachments * settings.max_attachment_bytes)
    )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_body:
        raise ApiError(
            413, "body_too_large", f"the body is {declared} bytes; at most {max_body} are accepted"
        )
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":  # curl -d: text fields only
        body = await read_body(request, settings.max_report_bytes)
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise ApiError(400, "malformed_form", "the form body is not UTF-8") from None
        form = FormData(fields=dict(pairs))
    else:
        form = await read_form(
            request.stream(),
            request.headers.get("content-type", ""),
            tmpdir=settings.data_dir / "tmp",
            file_cap=lambda name: size_cap(settings, kind_of(name)),
            max_files=settings.max_attachments,
            max_body=max_body,
        )
    stored: list[str] = []
    try:
        data = report_from_fields(form.fields)
        report_id = new_id()
        attachments = []
        for f in form.files:
            if f.size == 0:
                raise ApiError(422, "empty_file", f"{f.filename!r} is empty")
            found = sniff(f.head, declared_type=f.content_type, filename=f.filename)
            if not found.allowed or found.content_type is None:
                raise ApiError(415, "unsupported_media_type", f"{f.filename!r}: {found.reason}")
            if f.content_type != "application/octet-stream" and not matches_declared(
                found.content_type, f.content_type
            ):
                raise ApiError(
                    415,
                    "content_mismatch",
                    f"{f.filename!r} is sent as {f.content_type} but its bytes are {found.content_type}",
                )
            attachment_id = new_id()
            attachments.append(
                Attachment(
                    id=attachment_id,
                    project_id=project.id,
                    report_id=report_id,
                    kind=str(kind_of(f.field)),
                    filename=safe_filename(f.filename),
                    declared_type=f.content_type,
                    content_type=found.content_type,
                    declared_size=f.size,
                    size=f.size,
                    sha256=f.sha256,
                    storage_key=f"projects/{project.id}/reports/{report_id}/{attachment_id}",
                    state=AttachmentState.STORED,
                    verified_at=utcnow(),
                )
            )
        for f, a in zip(form.files, attachments, strict=True):
            try:
                await state.store.put_file(a.storage_key, f.path, content_type=a.content_type or "")
            except StoreError as exc:
                raise ApiError(
                    503,
                    "storage_unavailable",
                    f"media storage did not answer ({exc}); retry shortly",
                    headers={"Retry-After": "5"},
                ) from None
            stored.append(a.storage_key)
        created: Created = await submit_report(
            state.writer,
            state.readers,
            settings,
            project,
            data,
            idempotency_key=key,
            request_hash=request_hash(form),
            client_ip=client_ip(request, settings.trusted_proxies),
            headers=request.headers,
            hints_from_headers=hints_from_headers(request.headers),
            source="form",
            status=ReportStatus.RECEIVED,
            extra_attachments=attachments,
            report_id=report_id,
        )
        if created.replayed:  # the first submission already stored its own copies
            await _delete(state.store, stored)
        stored = []
        return await created_response(state, created)
    finally:
        form.cleanup()
        await _delete(state.store, stored)


async def _delete(store: Any, keys: list[str]) -> None:
    for key in keys:
        with contextlib.suppress(StoreError):
            await store.delete(key)


routes = [Route("/api/v1/reports/form", submit_form, methods=["POST"])]
