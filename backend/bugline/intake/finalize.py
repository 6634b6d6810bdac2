"""Finishing a report: complete multipart uploads, verify every object, then accept.

No storage call ever runs inside a database transaction (on SQLite a transaction holds
the write lock; on PostgreSQL it pins a pooled connection). Finalize claims the report
for a few minutes so concurrent finalize calls don't repeat the work, moves each upload
to a key no URL was signed for, verifies it there, and writes the verdicts in one short
transaction. A report whose files fail stays ``awaiting_media`` with the failures
recorded, so the client can upload replacements (or accept the report without them) and
finalize again: nothing is half-written, nothing is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
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
from bugline.intake.service import (
    accepted_event,
    attachments_of,
    empty_report,
    has_description,
    report_for_token,
)
from bugline.intake.uploads import size_cap, upload_key
from bugline.intake.verify import Verdict, verify
from bugline.observe import metrics
from bugline.settings import Settings
from bugline.storage.base import MediaStore, StoreError

log = logging.getLogger("bugline.intake")

OPEN = (AttachmentState.PENDING, AttachmentState.UPLOADED)
# How long one finalize holds the report while it verifies the files: long enough for what it
# has to read (a floor, plus the bytes at a slow 2 MiB/s, so a 500 MB recording gets ~4 min),
# short enough that a process killed mid-check frees a screenshot's report in seconds, not
# minutes: meanwhile the widget's retries get 409 (tests/soak found 5 min for every report).
CLAIM = timedelta(minutes=5)
CLAIM_FLOOR = timedelta(seconds=20)
CLAIM_BYTES_PER_SECOND = 2 * 1024 * 1024


def claim_for(attachments: list[Attachment]) -> timedelta:
    """The claim for verifying these attachments (pure)."""
    total = sum(max(0, a.declared_size or 0) for a in attachments)
    return min(CLAIM, CLAIM_FLOOR + timedelta(seconds=total / CLAIM_BYTES_PER_SECOND))


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
    readers: async_sessionmaker[AsyncSession],
    store: MediaStore,
    project: Project,
    report_id: str,
    token: str,
    attachment_id: str,
    parts: list[tuple[int, str]],
) -> Attachment:
    numbers = [n for n, _ in parts]
    if numbers != sorted(set(numbers)):
        raise ApiError(422, "invalid_parts", "list each part once, in ascending part_number order")
    async with readers() as session:
        report = await report_for_token(session, project, report_id, token)
        attachment = await attachment_for(session, report, attachment_id)
        require_open(report, attachment)
    if attachment.upload_id is None:
        raise ApiError(409, "not_multipart", "this attachment is uploaded in one request; just finalize")
    if attachment.state == AttachmentState.UPLOADED:
        return attachment  # a retried complete: already done
    try:
        await store.complete_multipart(upload_key(attachment), attachment.upload_id, parts)
    except StoreError as exc:
        # An earlier call may have assembled it and died before recording that: the object is there.
        if await store.stat(upload_key(attachment)) is None:
            raise ApiError(
                422,
                "upload_incomplete",
                f"the parts could not be assembled ({exc}); upload the missing parts and retry",
            ) from None
    async with sessions() as session, session.begin():
        await session.execute(
            update(Attachment)
            .where(Attachment.id == attachment.id, Attachment.state == AttachmentState.PENDING)
            .values(state=AttachmentState.UPLOADED)
        )
    attachment.state = AttachmentState.UPLOADED
    return attachment


async def claim(sessions: async_sessionmaker[AsyncSession], report: Report, hold: timedelta = CLAIM) -> bool:
    """Take the report for ``hold`` to verify it, unless another finalize holds a live claim."""
    now = utcnow()
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Report)
            .where(
                Report.id == report.id,
                Report.status == ReportStatus.AWAITING_MEDIA,
                or_(Report.finalizing_until.is_(None), Report.finalizing_until < now),
            )
            .values(finalizing_until=now + hold)
        )
    return bool(getattr(result, "rowcount", 0))


async def check_one(store: MediaStore, attachment: Attachment, cap: int) -> Verdict:
    """Move the upload out of the client's reach, then verify it where it now is."""
    if await store.stat(attachment.storage_key) is None:  # not moved by an earlier try
        if await store.stat(upload_key(attachment)) is None:
            if attachment.upload_id is not None:
                return Verdict(False, missing=True, error="recording not completed: call complete_url")
            return Verdict(False, missing=True, error="not uploaded yet")
        await store.move(upload_key(attachment), attachment.storage_key)
    return await verify(store, attachment, cap)


async def finalize(
    sessions: async_sessionmaker[AsyncSession],
    readers: async_sessionmaker[AsyncSession],
    store: MediaStore,
    settings: Settings,
    project: Project,
    report_id: str,
    token: str,
    *,
    skip_rejected: bool,
) -> Outcome:
    async with readers() as session:
        report = await report_for_token(session, project, report_id, token)
        if report.status != ReportStatus.AWAITING_MEDIA:
            return Outcome(report, await attachments_of(session, report))  # a retried finalize
        if not has_description(report):
            raise empty_report()
        todo = [a for a in await attachments_of(session, report) if a.state in OPEN]
    if not await claim(sessions, report, claim_for(todo)):
        async with readers() as session:
            current = await report_for_token(session, project, report_id, token)
            if current.status != ReportStatus.AWAITING_MEDIA:
                return Outcome(current, await attachments_of(session, current))
        raise ApiError(
            409,
            "finalize_in_progress",
            "another finalize of this report is checking its files; retry in a few seconds",
            headers={"Retry-After": "3"},
        )

    try:
        verdicts = await check_all(sessions, store, settings, report, todo)
    except StoreError as exc:
        raise ApiError(
            503,
            "storage_unavailable",
            f"media storage did not answer ({exc}); retry shortly",
            headers={"Retry-After": "5"},
        ) from None
    return await settle(sessions, store, report, verdicts, skip_rejected=skip_rejected)


async def check_all(
    sessions: async_sessionmaker[AsyncSession],
    store: MediaStore,
    settings: Settings,
    report: Report,
    todo: list[Attachment],
) -> dict[str, Verdict]:
    """Each open attachment's verdict, with the report claimed; a store failure releases the
    claim and raises StoreError."""
    verdicts: dict[str, Verdict] = {}
    try:
        for attachment in todo:
            verdicts[attachment.id] = await check_one(store, attachment, size_cap(settings, attachment.kind))
    except StoreError:
        await release(sessions, report)
        raise
    return verdicts


async def settle(
    sessions: async_sessionmaker[AsyncSession],
    store: MediaStore,
    report: Report,
    verdicts: dict[str, Verdict],
    *,
    skip_rejected: bool,
) -> Outcome:
    """Write the verdicts, release the claim and accept the report when nothing is left open
    (one short transaction), then count them and delete the bytes of refused files."""
    to_delete: list[str] = []
    now = utcnow()
    async with sessions() as session, session.begin():
        report = (
            await session.execute(select(Report).where(Report.id == report.id).with_for_update())
        ).scalar_one()
        attachments = await attachments_of(session, report)
        outcome = Outcome(report, attachments)
        if report.status != ReportStatus.AWAITING_MEDIA:
            return outcome  # accepted meanwhile (the claim ran out and another finalize won)
        report.finalizing_until = None
        for attachment in attachments:
            verdict = verdicts.get(attachment.id)
            if verdict is not None and attachment.state in OPEN:
                record(session, report, attachment, verdict, skip_rejected, to_delete)
            if attachment.state in OPEN:
                outcome.missing.append(attachment)
            elif attachment.state == AttachmentState.REJECTED:
                outcome.rejected.append(attachment)
        if not outcome.missing and (skip_rejected or not outcome.rejected):
            accept(session, report, attachments, now)
    for attachment in attachments:
        verdict = verdicts.get(attachment.id)
        if verdict is not None:
            checked = "stored" if verdict.ok else "missing" if verdict.missing else "rejected"
            metrics.UPLOADS.labels(attachment.kind, checked).inc()
    if report.status == ReportStatus.RECEIVED and report.accepted_at == now:
        metrics.REPORTS.labels(report.source).inc()
        log.info("report %s accepted with its media", report.id, extra={"report_id": report.id})
    for key in to_delete:  # the bytes of a refused file are not kept
        try:
            await store.delete(key)
        except StoreError as exc:  # the record already says rejected; leave a trace for the operator
            log.warning("could not delete refused upload %s: %s", key, exc)
    return outcome


def accept(session: AsyncSession, report: Report, attachments: list[Attachment], now: datetime) -> None:
    """Accept the report with the files it holds now (the caller's transaction)."""
    report.status = ReportStatus.RECEIVED
    report.accepted_at = now
    report.updated_at = now
    stored = sum(a.state == AttachmentState.STORED for a in attachments)
    rejected = sum(a.state == AttachmentState.REJECTED for a in attachments)
    session.add(
        ReportEvent(
            project_id=report.project_id,
            report_id=report.id,
            at=now,
            kind="media_verified",
            actor_type="system",
            data={"stored": stored, "rejected": rejected},
        )
    )
    session.add(accepted_event(report, now))


def record(
    session: AsyncSession,
    report: Report,
    attachment: Attachment,
    verdict: Verdict,
    skip_rejected: bool,
    to_delete: list[str],
) -> None:
    """Write one attachment's verdict onto its row (and the timeline when it is refused)."""
    if verdict.ok:
        attachment.state = AttachmentState.STORED
        attachment.content_type = verdict.content_type
        attachment.size = verdict.size
        attachment.sha256 = verdict.sha256
        attachment.verified_at = utcnow()
        attachment.error = None
        return
    if verdict.missing and not skip_rejected:
        attachment.error = verdict.error
        return
    attachment.state = AttachmentState.REJECTED
    attachment.error = verdict.error
    attachment.size = verdict.size
    to_delete += [attachment.storage_key, upload_key(attachment)]
    session.add(
        ReportEvent(
            project_id=report.project_id,
            report_id=report.id,
            kind="attachment_rejected",
            actor_type="system",
            data={"attachment": attachment.id, "reason": verdict.error},
        )
    )


async def release(sessions: async_sessionmaker[AsyncSession], report: Report) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(Report).where(Report.id == report.id).values(finalizing_until=None))
