"""The loop that sends what the outbox holds: one per worker (and per web process unless
turned off), any number at once, sharing the table safely through leases.

It sleeps until woken (a delivery was written here, or NOTIFY from another process on
PostgreSQL) or until the next delivery is due (a retry's time), never longer than
``interval``; then it leases due rows in batches and sends up to ``concurrency`` at once,
since sending is waiting on vendors, not work.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.db.models import utcnow
from bugline.outbox import queue
from bugline.outbox.delivery import Context, due_soon, process
from bugline.outbox.wake import Listener, libpq_url
from bugline.storage.base import MediaStore

log = logging.getLogger("bugline.outbox")

# Vendors answer in well under a second when healthy; 30 s covers a slow attachment upload.
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Outbox:
    def __init__(
        self,
        writer: Writer,
        readers: async_sessionmaker[AsyncSession],
        store: MediaStore,
        *,
        database_url: str,
        public_url: str,
        link_ttl: int,
        concurrency: int = 8,
        interval: float = 5.0,
        lease: float = queue.LEASE.total_seconds(),
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.writer = writer
        self.readers = readers
        self.store = store
        self.public_url = public_url
        self.link_ttl = link_ttl
        self.concurrency = concurrency
        self.lease = lease
        self.interval = interval
        self.owner = worker_name()
        self._http = http
        self._own_http = http is None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        pg = libpq_url(database_url)
        self.listener = Listener(pg, self.poke) if pg else None
        if self.listener is None:
            self.interval = min(self.interval, 1.0)  # SQLite: another process cannot wake us

    def poke(self) -> None:
        self._wake.set()

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)
        return self._http

    def context(self) -> Context:
        return Context(
            writer=self.writer,
            readers=self.readers,
            store=self.store,
            http=self.http,
            owner=self.owner,
            public_url=self.public_url,
            link_ttl=self.link_ttl,
            lease=self.lease,
        )

    async def drain(self) -> dict[str, int]:
        """Send everything due now; returns how many deliveries ended each way.

        Up to ``concurrency`` deliveries are in flight, and a slot is refilled as soon as one
        ends, so one slow vendor holds up one slot, not a batch. Rows are leased only when a
        slot is free, so none waits in memory while its lease runs down."""
        counts: dict[str, int] = {}
        ctx = self.context()
        running: set[asyncio.Task[str]] = set()

        async def one(delivery_id: str) -> str:
            try:
                return await process(ctx, delivery_id)
            except Exception:  # the database went away mid-delivery: the lease expires, retried
                log.exception("delivery %s failed to run; it will be retried", delivery_id)
                return "error"

        try:
            while True:
                free = self.concurrency - len(running)
                ids: list[str] = []
                if free > 0:
                    ids = await self.writer.run(functools.partial(self._claim, limit=free))
                running |= {asyncio.create_task(one(i)) for i in ids}
                if not running:
                    return counts
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    outcome = task.result()
                    counts[outcome] = counts.get(outcome, 0) + 1
        finally:
            for task in running:  # cancelled mid-call (shutdown): the lease brings it back
                task.cancel()

    def _claim(self, conn: Connection, *, limit: int) -> list[str]:
        return queue.claim(
            conn, owner=self.owner, now=utcnow(), limit=limit, lease=timedelta(seconds=self.lease)
        )

    async def next_due(self) -> datetime | None:
        async with self.readers() as session:
            return await session.run_sync(lambda s: queue.next_due(s.connection()))

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
                log.exception("outbox: a pass failed; retrying in %.0f s", self.interval)
                sleep = self.interval
            poked = False
            if sleep > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=sleep)
                    poked = True
            self._wake.clear()

    def start(self) -> None:
        if self._task is None:
            if self.listener is not None:
                self.listener.start()
            self._task = asyncio.get_running_loop().create_task(self.run(), name="bugline-outbox")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.listener is not None:
            await self.listener.stop()
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None
