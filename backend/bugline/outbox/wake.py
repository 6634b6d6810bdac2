"""Waking idle workers the moment a delivery is written.

On PostgreSQL, ``enqueue`` sends ``NOTIFY bugline_outbox`` in the deciding transaction;
each worker keeps one connection that LISTENs and pokes its outbox loop. So delivery starts
within milliseconds of the decision, without a tight polling loop. On SQLite (one machine,
usually one process) the process that decided pokes its own loop directly, and other
processes fall back to polling every second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg

from bugline.db.engine import make_url
from bugline.outbox.queue import CHANNEL
from bugline.workloop import Background

log = logging.getLogger("bugline.outbox")


def libpq_url(url: str) -> str | None:
    """The plain libpq URL for LISTEN, or None when the database is not PostgreSQL."""
    u = make_url(url)
    if u.get_backend_name() not in ("postgresql", "postgres"):
        return None
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener(Background):
    """LISTENs on the outbox channel and calls ``poke`` for every notification; reconnects
    with backoff if the database goes away (and pokes on reconnect, in case it missed one)."""

    name = "outbox-listen"

    def __init__(self, url: str, poke: Callable[[], None]) -> None:
        self.url = url
        self.poke = poke
        super().__init__()
        self.ready = asyncio.Event()

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    backoff = 0.5
                    self.ready.set()
                    self.poke()
                    async for _ in conn.notifies():
                        self.poke()
            except (psycopg.Error, OSError) as exc:
                self.ready.clear()
                log.warning("outbox listener: %s; reconnecting in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
