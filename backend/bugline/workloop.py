"""The loops of background work. WorkLoop, shared by the outbox and the customer
notifications: lease due rows of a work table (``bugline.leases``), run up to
``concurrency`` at once, sleep until poked or the next row is due. Periodic (below): a pass
every few minutes, for the ticket poll and the retention sweep.

It sleeps until woken (``poke``: a row was written in this process, or NOTIFY from another)
or until the next row is due (a retry's time), never longer than ``interval``. Rows are
leased only when a slot is free and a slot is refilled as soon as one ends, so one slow
vendor or SMTP server holds up one slot, not a batch, and no leased row waits in memory
while its lease runs down. Subclasses say what to claim, how to process one row, and when
the next is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import uuid
from abc import ABC, abstractmethod
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.db.models import utcnow


def worker_name() -> str:
    """``host:pid:random``: whose lease a row is under, readable in the table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def due_soon(now: datetime, at: datetime | None, ceiling: float) -> float:
    """Seconds to sleep until ``at`` (the next due row), at most ``ceiling``."""
    if at is None:
        return ceiling
    return max(0.0, min(ceiling, (at - now).total_seconds()))


class Background:
    """One asyncio task that runs :meth:`run` from :meth:`start` until :meth:`stop` cancels it:
    how every loop of the web process and ``bugline worker`` lives (outbox, notifications,
    triage backlog, SLA timers, LISTEN, ticket poll, retention)."""

    name = "background"  # the task is called bugline-<name>; the logs say it too

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name=f"bugline-{self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class WorkLoop(Background, ABC):
    name = "work"  # the task's name and the log's word for one pass

    def __init__(
        self,
        writer: Writer,
        readers: async_sessionmaker[AsyncSession],
        *,
        concurrency: int,
        interval: float,
        lease: float,
        log: logging.Logger,
    ) -> None:
        self.writer = writer
        self.readers = readers
        self.concurrency = concurrency
        self.interval = interval
        self.lease = lease
        self.owner = worker_name()
        self.log = log
        self._wake = asyncio.Event()
        super().__init__()

    @abstractmethod
    def claim(self, conn: Connection, *, limit: int) -> list[str]:
        """Lease up to ``limit`` due rows for ``self.owner``; their ids."""

    @abstractmethod
    async def process(self, row_id: str) -> str:
        """Work one leased row; the outcome's name (counted by ``drain``)."""

    @abstractmethod
    def due(self, conn: Connection) -> datetime | None:
        """When the next row is due, if any (a read of one indexed minimum)."""

    def screen(self, conn: Connection, ids: list[str]) -> tuple[list[str], dict[str, int]]:
        """Settle rows in their claim's own transaction, without ``process``: the ids still
        to process and how many ended each way. By default every row is processed."""
        return ids, {}

    def settled(self, counts: dict[str, int]) -> None:
        """Called with what ``screen`` settled once its transaction has committed (metrics)."""

    def _claim(self, conn: Connection, *, limit: int) -> tuple[list[str], dict[str, int]]:
        return self.screen(conn, self.claim(conn, limit=limit))

    def poke(self) -> None:
        self._wake.set()

    async def drain(self) -> dict[str, int]:
        """Work everything due now; how many rows ended each way."""
        counts: dict[str, int] = {}
        running: set[asyncio.Task[str]] = set()

        async def one(row_id: str) -> str:
            try:
                return await self.process(row_id)
            except Exception:  # the database went away mid-row: the lease expires, retried
                self.log.exception("%s %s failed to run; it will be retried", self.name, row_id)
                return "error"

        try:
            while True:
                free = self.concurrency - len(running)
                ids: list[str] = []
                settled: dict[str, int] = {}
                if free > 0:
                    ids, settled = await self.writer.run(functools.partial(self._claim, limit=free))
                    self.settled(settled)
                    for outcome, n in settled.items():
                        counts[outcome] = counts.get(outcome, 0) + n
                running |= {asyncio.create_task(one(i)) for i in ids}
                if settled and len(running) < self.concurrency:
                    continue  # rows settled at once gave their slots back: more may be due
                if not running:
                    return counts
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    outcome = task.result()
                    counts[outcome] = counts.get(outcome, 0) + 1
        finally:
            for task in running:  # cancelled mid-call (shutdown): the lease brings it back
                task.cancel()

    async def next_due(self) -> datetime | None:
        async with self.readers() as session:
            return await session.run_sync(lambda s: self.due(s.connection()))

    async def run(self) -> None:
        poked = True  # a first pass at start-up picks up what an earlier run left
        while True:
            try:
                nxt = await self.next_due()  # a read: idle workers write nothing
                if poked or (nxt is not None and nxt <= utcnow()):
                    await self.drain()
                    nxt = await self.next_due()
                sleep = due_soon(utcnow(), nxt, self.interval)
            except Exception:  # the database is down: try again later
                self.log.exception("%s: a pass failed; retrying in %.0f s", self.name, self.interval)
                sleep = self.interval
            poked = False
            if sleep > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=sleep)
                    poked = True
            self._wake.clear()


class Periodic(Background, ABC):
    """A pass every ``interval`` seconds (0 turns it off), the first at start: the ticket poll
    and the retention sweep. A failed pass (the database or a vendor is down) is logged and
    the next one tries again."""

    name = "periodic"  # the task's name and the log's word for one pass

    def __init__(self, *, interval: float, log: logging.Logger) -> None:
        self.interval = interval
        self.log = log
        super().__init__()

    @abstractmethod
    async def tick(self) -> None:
        """One pass."""

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                self.log.exception("%s failed; next pass in %.0f s", self.name, self.interval)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self.interval > 0:
            super().start()
