"""Reports whose files never finished uploading: settled by the retention sweep.

A customer who closes the tab mid-upload leaves a report ``awaiting_media``: its words are
stored, but finalize never came, so nobody sees it and the half-uploaded bytes (and the parts
of an unfinished multipart recording) cost storage for ever. After
``BUGLINE_ABANDONED_UPLOAD_HOURS`` the sweep finishes what finalize would have done: the files
that did arrive are verified and kept, the others are marked rejected with a reason the agent
can read, and the report is accepted and triaged like any other, so the words are not lost.
A report that holds no words yet (the widget opens one as soon as a recording starts) cannot
be triaged or answered: it is dropped with its files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.models import Report, ReportStatus
from bugline.intake.finalize import OPEN, accept, check_one, claim, claim_for, record, release
from bugline.intake.service import attachments_of, has_description
from bugline.intake.uploads import size_cap, upload_key
from bugline.intake.verify import Verdict
from bugline.settings import Settings
from bugline.storage.base import MediaStore, StoreError

log = logging.getLogger("bugline.intake")

BATCH = 100  # reports settled per project and pass; the rest wait for the next pass


@dataclass(slots=True)
class Settled:
    accepted: int = 0
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class Abandoned:
    sessions: async_sessionmaker[AsyncSession]
    readers: async_sessionmaker[AsyncSession]
    store: MediaStore
    settings: Settings

    def before(self, now: datetime) -> datetime | None:
        """Reports created before this are given up on; None when the setting says wait."""
        hours = self.settings.abandoned_upload_hours
        return now - timedelta(hours=hours) if hours else None

    async def sweep(self, project_id: str, now: datetime) -> Settled:
        """Settle this project's reports that waited too long for their files."""
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
                            Report.created_at < before,
                            or_(Report.finalizing_until.is_(None), Report.finalizing_until < now),
                        )
                        .order_by(Report.created_at, Report.id)
                        .limit(BATCH)
                    )
                ).scalars()
            )
        for report in reports:
            outcome = await self.settle(report, now)
            if outcome == "accepted":
                settled.accepted += 1
            elif outcome == "dropped":
                settled.dropped += 1
        return settled

    async def settle(self, report: Report, now: datetime) -> str:
        """``accepted``, ``dropped``, or ``busy`` when a finalize holds it right now."""
        async with self.readers() as session:
            todo = [a for a in await attachments_of(session, report) if a.state in OPEN]
        if not await claim(self.sessions, report, claim_for(todo)):
            return "busy"
        if not has_description(report):
            return await self.drop(report)
        verdicts: dict[str, Verdict] = {}
        gave_up = f"the upload did not finish within {self.settings.abandoned_upload_hours} h"
        try:
            for attachment in todo:
                verdict = await check_one(self.store, attachment, size_cap(self.settings, attachment.kind))
                verdicts[attachment.id] = Verdict(False, error=gave_up) if verdict.missing else verdict
                if verdict.missing and attachment.upload_id is not None:
                    # The parts of an unfinished multipart upload are kept (and billed) until aborted.
                    await self._abort(upload_key(attachment), attachment.upload_id)
        except StoreError:
            await release(self.sessions, report)
            raise  # the sweep logs it; the next pass tries again
        to_delete: list[str] = []
        async with self.sessions() as session, session.begin():
            current = (
                await session.execute(select(Report).where(Report.id == report.id).with_for_update())
            ).scalar_one()
            if current.status != ReportStatus.AWAITING_MEDIA:
                return "busy"  # a late finalize won the race
            attachments = await attachments_of(session, current)
            for attachment in attachments:
                settled = verdicts.get(attachment.id)
                if settled is not None and attachment.state in OPEN:
                    record(session, current, attachment, settled, True, to_delete)
            current.finalizing_until = None
            accept(session, current, attachments, now)
        await self._delete(to_delete)
        log.info(
            "report %s accepted without the files its customer never finished uploading",
            report.id,
            extra={"report_id": report.id},
        )
        return "accepted"

    async def drop(self, report: Report) -> str:
        async with self.sessions() as session, session.begin():
            attachments = await attachments_of(session, report)
            gone = await session.execute(
                delete(Report).where(Report.id == report.id, Report.status == ReportStatus.AWAITING_MEDIA)
            )
            if not getattr(gone, "rowcount", 0):
                return "busy"  # its attachment and event rows go with it: ON DELETE CASCADE
        for a in attachments:
            if a.upload_id is not None and a.state in OPEN:
                await self._abort(upload_key(a), a.upload_id)
        await self._delete([key for a in attachments for key in (a.storage_key, upload_key(a))])
        log.info("report %s dropped: no words arrived, only files", report.id, extra={"report_id": report.id})
        return "dropped"

    async def _abort(self, key: str, upload_id: str) -> None:
        try:
            await self.store.abort_multipart(key, upload_id)
        except StoreError as exc:  # aborted by an earlier pass, or the bucket's lifecycle rule will
            log.warning("could not abort the upload of %s: %s", key, exc)

    async def _delete(self, keys: list[str]) -> None:
        for key in keys:
            try:
                await self.store.delete(key)
            except StoreError as exc:  # the row already says what happened; leave a trace
                log.warning("could not delete abandoned upload %s: %s", key, exc)
