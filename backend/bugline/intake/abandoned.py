"""Reports whose files never finished uploading: settled by the retention sweep.

A customer who closes the tab mid-upload leaves a report ``awaiting_media``: its words are
stored, but finalize never came, so nobody sees it and the half-uploaded bytes (and the parts
of an unfinished multipart recording) cost storage for ever. Once it has not changed for
``BUGLINE_ABANDONED_UPLOAD_HOURS`` the sweep finishes what finalize would have done: the files
that did arrive are verified and kept, the others are marked rejected with a reason the agent
can read, and the report is accepted and triaged like any other, so the words are not lost.
A report that holds no words yet (the widget opens one as soon as a recording starts) cannot
be triaged or answered: it is dropped, its files through the retention sweep's own deletion
path (marked ``deleting`` first, so a crash leaves nothing unaccounted for).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.db.models import Attachment, AttachmentState, Report, ReportStatus
from bugline.intake.finalize import OPEN, check_all, claim, claim_for, settle
from bugline.intake.service import attachments_of, has_description
from bugline.intake.uploads import upload_key
from bugline.intake.verify import Verdict
from bugline.retention.files import delete_files
from bugline.settings import Settings
from bugline.storage.base import MediaStore, StoreError

log = logging.getLogger("bugline.intake")

BATCH = 100  # reports settled per project and pass; the rest wait for the next pass


@dataclass(slots=True)
class Settled:
    accepted: int = 0
    dropped: int = 0
    failed: int = 0  # left for the next pass (the store did not answer, say)


@dataclass(frozen=True, slots=True)
class Abandoned:
    writer: Writer
    sessions: async_sessionmaker[AsyncSession]
    readers: async_sessionmaker[AsyncSession]
    store: MediaStore
    settings: Settings

    def before(self, now: datetime) -> datetime | None:
        """Reports untouched since before this are given up on; None when the setting says wait."""
        hours = self.settings.abandoned_upload_hours
        return now - timedelta(hours=hours) if hours else None

    async def sweep(self, project_id: str, now: datetime) -> Settled:
        """Settle this project's reports that waited too long for their files. One report that
        fails is logged and left for the next pass; it never stops the others."""
        settled = Settled()
        before = self.before(now)
        if before is None:
            return settled
        async with self.readers() as session:
            reports = list(
                (
                    await session.execute(
                        select(Report)
                        .where(
                            Report.project_id == project_id,
                            Report.status == ReportStatus.AWAITING_MEDIA,
                            # Any change (new words, a finalize that failed) restarts the wait.
                            Report.updated_at < before,
                            or_(Report.finalizing_until.is_(None), Report.finalizing_until < now),
                        )
                        .order_by(Report.updated_at, Report.id)
                        .limit(BATCH)
                    )
                ).scalars()
            )
        for report in reports:
            try:
                outcome = await self.settle(report)
            except Exception:  # one report's failure must not stop the sweep
                log.exception(
                    "abandoned report %s left for the next pass", report.id, extra={"report_id": report.id}
                )
                settled.failed += 1
                continue
            if outcome == "accepted":
                settled.accepted += 1
            elif outcome == "dropped":
                settled.dropped += 1
        return settled

    async def settle(self, report: Report) -> str:
        """``accepted``, ``dropped``, or ``busy`` when a finalize holds it or it changed meanwhile."""
        async with self.readers() as session:
            todo = [a for a in await attachments_of(session, report) if a.state in OPEN]
        if not await claim(self.sessions, report, claim_for(todo)):
            return "busy"
        if not has_description(report):
            return await self.drop(report)
        verdicts = await check_all(self.sessions, self.store, self.settings, report, todo)
        gave_up = f"the upload did not finish within {self.settings.abandoned_upload_hours} h"
        for attachment in todo:
            if verdicts[attachment.id].missing:
                verdicts[attachment.id] = Verdict(False, error=gave_up)
                if attachment.upload_id is not None:
                    # The parts of an unfinished multipart upload are kept (and billed) until aborted.
                    await self._abort(upload_key(attachment), attachment.upload_id)
        outcome = await settle(self.sessions, self.store, report, verdicts, skip_rejected=True)
        if outcome.report.status != ReportStatus.RECEIVED:
            return "busy"
        log.info(
            "report %s accepted without the files its customer never finished uploading",
            report.id,
            extra={"report_id": report.id},
        )
        return "accepted"

    async def drop(self, report: Report) -> str:
        async with self.sessions() as session, session.begin():
            current = (
                await session.execute(select(Report).where(Report.id == report.id).with_for_update())
            ).scalar_one_or_none()
            if current is None or current.status != ReportStatus.AWAITING_MEDIA or has_description(current):
                return "busy"  # words arrived since it was read: the next pass accepts it
            attachments = await attachments_of(session, current)
            await session.execute(
                update(Attachment)
                .where(Attachment.report_id == report.id, Attachment.state != AttachmentState.DELETED)
                .values(state=AttachmentState.DELETING)
            )
            current.finalizing_until = None
        for a in attachments:
            if a.upload_id is not None and a.state in OPEN:
                await self._abort(upload_key(a), a.upload_id)
        files = [(a.id, a.storage_key) for a in attachments if a.state != AttachmentState.DELETED]
        gone = await delete_files(self.writer, self.store, files)
        if gone < len(files):
            return "busy"  # the rest stay marked; the sweep deletes them, then this report goes
        async with self.sessions() as session, session.begin():
            # Its attachment and event rows go with it (ON DELETE CASCADE).
            await session.execute(
                delete(Report).where(Report.id == report.id, Report.status == ReportStatus.AWAITING_MEDIA)
            )
        log.info("report %s dropped: no words arrived, only files", report.id, extra={"report_id": report.id})
        return "dropped"

    async def _abort(self, key: str, upload_id: str) -> None:
        try:
            await self.store.abort_multipart(key, upload_id)
        except StoreError as exc:  # aborted by an earlier pass, or the bucket's lifecycle rule will
            log.warning("could not abort the upload of %s: %s", key, exc)
