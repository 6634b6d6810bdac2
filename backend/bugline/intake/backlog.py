"""The triage backlog: accepted reports waiting for their verdict, and the loop that drains it.

Every web process runs one loop (started with the app, stopped with it). Intake pokes it
after accepting a report, so a verdict usually follows within milliseconds; it also wakes
every few seconds to pick up what another process accepted or a crash left behind. Claims
are per report (``triage.claim_many``: triaged_at set only if empty, in the verdicts'
transaction), so any number of processes can run the loop at once.

Reports are triaged in batches of up to BATCH (``triage.triage_batch``: one transaction for
all their verdicts). A batch that fails is retried one report at a time, so the report that
breaks is found and left in the backlog (logged) while the others get their verdicts; it is
tried again on the next pass, not over and over in this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.intake.triage import Applied, triage_batch, triage_report, untriaged
from bugline.observe import metrics
from bugline.workloop import Background

log = logging.getLogger("bugline.backlog")

BATCH = 50


class Backlog(Background):
    name = "triage-backlog"

    def __init__(
        self,
        writer: Writer,
        readers: async_sessionmaker[AsyncSession],
        *,
        interval: float = 5.0,
        after: Callable[[], None] | None = None,
    ) -> None:
        """``after`` is called when a verdict decided deliveries (the outbox's poke)."""
        self.writer = writer
        self.after = after
        self.readers = readers
        self.interval = interval
        self._wake = asyncio.Event()
        super().__init__()

    def poke(self) -> None:
        """A report was accepted: triage it soon."""
        self._wake.set()

    async def drain(self) -> int:
        """Triage everything waiting now; returns how many reports got a verdict."""
        done = 0
        failed: set[str] = set()  # failed one by one in this pass: left for the next pass
        while ids := await self._waiting(failed):
            started = time.perf_counter()
            try:
                applied = await triage_batch(self.writer, self.readers, ids)
            except Exception:  # find the report that fails; the others must not wait for it
                log.exception("triage of a batch of %d reports failed; trying them one by one", len(ids))
                applied = await self._one_by_one(ids, failed)
            if applied:
                per_report = (time.perf_counter() - started) / len(applied)
                for _ in applied:
                    metrics.TRIAGE_SECONDS.observe(per_report)
            if any(a.enqueued for a in applied) and self.after is not None:
                self.after()
            done += len(applied)
            if not applied:  # another process holds them all; leave them to it
                break
            if len(ids) < BATCH:  # that was all that waited; what arrived since waits for the next pass
                break
        return done

    async def _waiting(self, failed: set[str]) -> list[str]:
        ids = await untriaged(self.readers, BATCH + len(failed))
        return [i for i in ids if i not in failed][:BATCH]

    async def _one_by_one(self, ids: list[str], failed: set[str]) -> list[Applied]:
        applied = []
        for report_id in ids:
            try:
                verdict = await triage_report(self.writer, self.readers, report_id)
            except Exception:  # one report's failure must not hold up the others (cancellation passes)
                log.exception("triage of report %s failed; it stays in the backlog", report_id)
                failed.add(report_id)
                continue
            if verdict is not None:
                applied.append(verdict)
        return applied

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()
            try:
                await self.drain()
            except Exception:  # the database is down or a report breaks a rule: try again later
                log.exception("triage backlog: a pass failed; retrying in %.0f s", self.interval)
