"""Finishing a report: complete multipart uploads, verify every object, then accept.

Verification reads from storage outside any database transaction; the results are
written in one short transaction. A report whose files fail stays ``awaiting_media``
with the failures recorded, so the client can upload replacements (or accept the
report without them) and finalize again: nothing is half-written, nothing is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.models import (
    Attachment,
    AttachmentState,
    Project,
    Report,
    ReportEvent,
    ReportStatus,
    utcnow,
)
from bugline.errors import ApiError
from bugline.intake.service import accepted_event, attachments_of, report_for_token
from bugline.intake.uploads import size_cap
from bugline.intake.verify import Verdict, verify
from bugline.settings import Settings
from bugline.storage.base import MediaStore, StoreError

log = logging.getLogger("bugline.intake")

OPEN = (AttachmentState.PENDING, AttachmentState.UPLOADED)


@dataclass(slots=True)
class Outcome:
    report: Report
    attachments: list[Attachment]
    missing: list[Attachment] = field(default_factory=list)
    rejected: list[Attachment] = field(default_factory=list)


async def attachment_for(session: AsyncSession, report: Report, attachment_id: str) -> Attachment:
    found = (
        await session.execute(
            select(Attachment).where(
                Attachment.id == attachment_id,
                Attachment.report_id == report.id,
                Attachment.project_id == report.project_id,
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise ApiError(404, "attachment_not_found", "this report has no attachment with that id")
    return found


def require_open(report: Report, attachment: Attachment | None = None) -> None:
    if report.status != ReportStatus.AWAITING_MEDIA:
        raise ApiError(
            409,
            "report_finalized",
            f"report #{report.number} was already accepted; its attachments can no longer change",
        )
    if attachment is not None and attachment.state not in OPEN:
        raise ApiError(409, "attachment_closed", f"attachment {attachment.id} is already {attachment.state}")


async def complete_upload(
    sessions: async_sessionmaker[AsyncSession],
    store: MediaStore,
    project: Project,
    report_id: str,
    token: str,
    attachment_id: str,
    parts: list[tuple[int, str]],
) -> Attachment:
    async with sessions() as session, session.begin():
        report = await report_for_token(session, project, report_id, token)
        attachment = await attachment_for(session, report, attachment_id)
        require_open(report, attachment)
        if attachment.upload_id is None:
            raise ApiError(409, "not_multipart", "this attachment is uploaded in one request; just finalize")
        if attachment.state == AttachmentState.UPLOADED:
            return attachment  # a retried complete: already done
        numbers = [n for n, _ in parts]
        if numbers != sorted(set(numbers)):
            raise ApiError(422, "invalid_parts", "list each part once, in ascending part_number order")
        try:
            await store.complete_multipart(attachment.storage_key, attachment.upload_id, parts)
        except StoreError as exc:
            raise ApiError(
                422,
                "upload_incomplete",
                f"the parts could not be assembled: {exc}; upload missing parts and retry",
            ) from None
        attachment.state = AttachmentState.UPLOADED
    return attachment


async def finalize(
    sessions: async_sessionmaker[AsyncSession],
    store: MediaStore,
    settings: Settings,
    project: Project,
    report_id: str,
    token: str,
    *,
    skip_rejected: bool,
) -> Outcome:
    async with sessions() as session:
        report = await report_for_token(session, project, report_id, token)
        if report.status != ReportStatus.AWAITING_MEDIA:
            return Outcome(report, await attachments_of(session, report))  # a retried finalize
        todo = [a for a in await attachments_of(session, report) if a.state in OPEN]

    verdicts: dict[str, Verdict] = {}
    for attachment in todo:
        if attachment.upload_id is not None and attachment.state == AttachmentState.PENDING:
            verdicts[attachment.id] = Verdict(
                False, missing=True, error="recording not completed: call complete_url"
            )
            continue
        try:
            verdicts[attachment.id] = await verify(store, attachment, size_cap(settings, attachment.kind))
        except StoreError as exc:
            raise ApiError(
                503,
                "storage_unavailable",
                f"media storage did not answer ({exc}); retry shortly",
                headers={"Retry-After": "5"},
            ) from None

    to_delete: list[str] = []
    now = utcnow()
    async with sessions() as session, session.begin():
        report = (
            await session.execute(select(Report).where(Report.id == report.id).with_for_update())
        ).scalar_one()
        attachments = await attachments_of(session, report)
        if report.status != ReportStatus.AWAITING_MEDIA:  # a concurrent finalize won
            return Outcome(report, attachments)
        outcome = Outcome(report, attachments)
        for attachment in attachments:
            verdict = verdicts.get(attachment.id)
            if verdict is not None and attachment.state in OPEN:
                if verdict.ok:
                    attachment.state = AttachmentState.STORED
                    attachment.content_type = verdict.content_type
                    attachment.size = verdict.size
                    attachment.sha256 = verdict.sha256
                    attachment.verified_at = now
                    attachment.error = None
                elif verdict.missing and not skip_rejected:
                    attachment.error = verdict.error
                else:
                    attachment.state = AttachmentState.REJECTED
                    attachment.error = verdict.error
                    attachment.size = verdict.size
                    to_delete.append(attachment.storage_key)
                    session.add(
                        ReportEvent(
                            project_id=report.project_id,
                            report_id=report.id,
                            at=now,
                            kind="attachment_rejected",
                            actor_type="system",
                            data={"attachment": attachment.id, "reason": verdict.error},
                        )
                    )
            if attachment.state in OPEN:
                outcome.missing.append(attachment)
            elif attachment.state == AttachmentState.REJECTED:
                outcome.rejected.append(attachment)
        if not outcome.missing and (skip_rejected or not outcome.rejected):
            report.status = ReportStatus.RECEIVED
            report.accepted_at = now
            report.updated_at = now
            stored = sum(a.state == AttachmentState.STORED for a in attachments)
            session.add(
                ReportEvent(
                    project_id=report.project_id,
                    report_id=report.id,
                    at=now,
                    kind="media_verified",
                    actor_type="system",
                    data={"stored": stored, "rejected": len(outcome.rejected)},
                )
            )
            session.add(accepted_event(report, now))
    for key in to_delete:  # the bytes of a refused file are not kept
        try:
            await store.delete(key)
        except StoreError as exc:  # the record already says rejected; leave a trace for the operator
            log.warning("could not delete refused upload %s: %s", key, exc)
    return outcome
