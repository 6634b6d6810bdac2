"""The loop that sends what the outbox holds: one per worker (and per web process unless
turned off), any number at once, sharing the table safely through leases.

The loop itself is ``bugline.workloop.WorkLoop``; this adds what forwarding needs: the
HTTP client for vendors, the media store for attachments, and LISTEN/NOTIFY on PostgreSQL
so a worker wakes the moment another process writes a delivery. Up to ``concurrency``
deliveries are in flight, since sending is waiting on vendors, not work.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.db.models import utcnow
from bugline.outbox import queue
from bugline.outbox.delivery import Context, process
from bugline.outbox.wake import Listener, libpq_url
from bugline.storage.base import MediaStore
from bugline.workloop import WorkLoop, worker_name

log = logging.getLogger("bugline.outbox")

# Vendors answer in well under a second when healthy; 30 s covers a slow attachment upload.
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


__all__ = ["Outbox", "worker_name"]


class Outbox(WorkLoop):
    name = "outbox"

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
        super().__init__(writer, readers, concurrency=concurrency, interval=interval, lease=lease, log=log)
        self.store = store
        self.public_url = public_url
        self.link_ttl = link_ttl
        self._http = http
        self._own_http = http is None
        pg = libpq_url(database_url)
        self.listener = Listener(pg, self.poke) if pg else None
        if self.listener is None:
            self.interval = min(self.interval, 1.0)  # SQLite: another process cannot wake us

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

    def claim(self, conn: Connection, *, limit: int) -> list[str]:
        lease = timedelta(seconds=self.lease)
        return queue.claim(conn, owner=self.owner, now=utcnow(), limit=limit, lease=lease)

    async def process(self, row_id: str) -> str:
        return await process(self.context(), row_id)

    def due(self, conn: Connection) -> datetime | None:
        return queue.next_due(conn)

    def start(self) -> None:
        if self._task is None and self.listener is not None:
            self.listener.start()
        super().start()

    async def stop(self) -> None:
        await super().stop()
        if self.listener is not None:
            await self.listener.stop()
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None
