"""The retention sweep, hourly in ``bugline worker`` (and in the web process while
BUGLINE_NOTIFY_IN_WEB is on): per project, settle reports whose uploads were abandoned
(intake/abandoned.py), expire media and personal data older than its policy, then delete
the marked files from the store; and :func:`erase` for a reporter's
erasure request (``bugline erase``, the agent API)."""

from __future__ import annotations

import functools
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.db.models import Project, utcnow
from bugline.intake.abandoned import Abandoned
from bugline.retention import erase as steps
from bugline.retention.files import delete_files
from bugline.retention.policy import Policy, RetentionError, for_project
from bugline.storage.base import MediaStore
from bugline.workloop import Periodic

log = logging.getLogger("bugline.retention")


async def erase(
    writer: Writer, store: MediaStore, project_id: str, subject: str, *, requested_by: str
) -> steps.Erased:
    """A reporter's erasure request: rows blanked in one transaction, then their files deleted."""
    now = utcnow()
    erased = await writer.run(
        lambda conn: steps.erase_reporter(conn, project_id, subject, now=now, requested_by=requested_by)
    )
    await delete_files(writer, store, erased.files)
    log.info(
        "erasure %s: %d reports, %d files",
        erased.erasure_id,
        len(erased.reports),
        len(erased.files),
        extra={"project_id": project_id},
    )
    return erased


class Retention(Periodic):
    name = "retention"

    def __init__(
        self,
        writer: Writer,
        readers: async_sessionmaker[AsyncSession],
        store: MediaStore,
        defaults: Policy,
        *,
        abandoned: Abandoned | None = None,
        interval: float = 3600.0,
    ) -> None:
        super().__init__(interval=interval, log=log)
        self.writer = writer
        self.readers = readers
        self.store = store
        self.defaults = defaults
        self.abandoned = abandoned

    async def sweep(self, now: datetime | None = None) -> dict[str, int]:
        """One pass over every project; how many reports and files it expired."""
        now = now or utcnow()
        counts = {
            "media_reports": 0,
            "personal_reports": 0,
            "files": 0,
            "abandoned_accepted": 0,
            "abandoned_dropped": 0,
        }
        async with self.readers() as session:
            projects = (await session.execute(select(Project.id, Project.settings))).all()
        for project_id, settings in projects:
            if self.abandoned is not None:
                settled = await self.abandoned.sweep(project_id, now)
                counts["abandoned_accepted"] += settled.accepted
                counts["abandoned_dropped"] += settled.dropped
            try:
                policy = for_project(self.defaults, settings or {})
            except RetentionError as exc:
                log.error("project %s: retention settings ignored, nothing expired: %s", project_id, exc)
                continue
            if (before := policy.media_before(now)) is not None:
                while True:
                    erased = await self.writer.run(
                        functools.partial(steps.expire_media, project_id=project_id, before=before, now=now)
                    )
                    counts["media_reports"] += len(erased.reports)
                    counts["files"] += await delete_files(self.writer, self.store, erased.files)
                    if len(erased.reports) < steps.BATCH:
                        break
            if (before := policy.personal_before(now)) is not None:
                while True:
                    erased = await self.writer.run(
                        functools.partial(
                            steps.expire_personal, project_id=project_id, before=before, now=now
                        )
                    )
                    counts["personal_reports"] += len(erased.reports)
                    if len(erased.reports) < steps.BATCH:
                        break
        leftover = await self.writer.run(steps.unfinished)
        counts["files"] += await delete_files(self.writer, self.store, leftover)
        return counts

    async def tick(self) -> None:
        counts = await self.sweep()
        if any(counts.values()):
            log.info("retention sweep: %s", counts)
