"""The loop that sends customer notifications: one per worker (and per web process while
``BUGLINE_NOTIFY_IN_WEB`` is on), any number at once, sharing the table through leases.

Like the outbox's loop (``bugline.outbox.runner``): it sleeps until poked or until the next
notification is due (a retry's time), never longer than ``interval``; then it leases due
rows as slots free up and sends up to ``concurrency`` at once (sending is waiting on the
SMTP server, not work). Notifications are not urgent to the second, so other processes'
notifications are found by that polling (a read of one indexed minimum when idle).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.db.models import utcnow
from bugline.mail import smtp
from bugline.notify import store
from bugline.notify.message import Sender
from bugline.notify.sending import Mailer, process
from bugline.outbox.delivery import due_soon
from bugline.outbox.runner import worker_name
from bugline.settings import Settings

log = logging.getLogger("bugline.notify")

LEASE = 120.0  # seconds; BUGLINE_OUTBOX_LEASE is the natural value to pass


def mailer_for(
    settings: Settings,
    writer: Writer,
    readers: async_sessionmaker[AsyncSession],
    *,
    owner: str,
    lease: float,
) -> Mailer:
    """The SMTP server and sender from the settings, and what is wrong with them, if anything."""
    server = None
    sender = None
    problem = ""
    if settings.smtp_host:
        # Each step of the conversation (connect, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA) is
        # bounded, so a whole conversation ends well inside the lease.
        step = max(1.0, min(30.0, lease * 0.8 / 7))
        try:
            sender = Sender.parse(settings.mail_from)
        except ValueError as exc:
            problem = str(exc)
        server = smtp.Server(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            ca_file=settings.smtp_ca_file,
            timeout=step,
            helo=sender.domain if sender else "localhost",
        )
        if settings.smtp_security == "none" and not smtp.is_local(settings.smtp_host):
            problem = (
                "BUGLINE_SMTP_SECURITY=none is only for a relay on this machine (localhost, 127.0.0.1, "
                "::1): elsewhere the password and the customers' mail would cross the network unencrypted"
            )
    return Mailer(
        writer=writer,
        readers=readers,
        server=server,
        sender=sender,
        problem=problem,
        public_url=settings.effective_public_url,
        secret_key=settings.secret_key,
        owner=owner,
    )


class Notifier:
    def __init__(
        self,
        writer: Writer,
        readers: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        concurrency: int = 4,
        interval: float = 2.0,
        lease: float = LEASE,
    ) -> None:
        if not settings.secret_key:
            raise ValueError("the notifier needs settings with a secret key (Settings.with_secret())")
        self.writer = writer
        self.readers = readers
        self.concurrency = concurrency
        self.interval = interval
        self.lease = lease
        self.owner = worker_name()
        self.mailer = mailer_for(settings, writer, readers, owner=self.owner, lease=lease)
        if self.mailer.problem:
            log.error("customer notifications cannot be sent: %s", self.mailer.problem)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        self._wake.set()

    async def drain(self) -> dict[str, int]:
        """Send everything due now; how many notifications ended each way."""
        counts: dict[str, int] = {}
        running: set[asyncio.Task[str]] = set()

        async def one(notification_id: str) -> str:
            try:
                return await process(self.mailer, notification_id)
            except Exception:  # the database went away mid-send: the lease expires, retried
                log.exception("notification %s failed to run; it will be retried", notification_id)
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
            for task in running:  # cancelled mid-send (shutdown): the lease brings it back
                task.cancel()

    def _claim(self, conn: Connection, *, limit: int) -> list[str]:
        return store.claim(
            conn, owner=self.owner, now=utcnow(), limit=limit, lease=timedelta(seconds=self.lease)
        )

    async def next_due(self) -> datetime | None:
        async with self.readers() as session:
            return await session.run_sync(lambda s: store.next_due(s.connection()))

    async def run(self) -> None:
        poked = True  # a first pass at start-up picks up what an earlier run left
        while True:
            try:
                nxt = await self.next_due()
                if poked or (nxt is not None and nxt <= utcnow()):
                    await self.drain()
                    nxt = await self.next_due()
                sleep = due_soon(utcnow(), nxt, self.interval)
            except Exception:  # the database is down: try again later
                log.exception("notifications: a pass failed; retrying in %.0f s", self.interval)
                sleep = self.interval
            poked = False
            if sleep > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=sleep)
                    poked = True
            self._wake.clear()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="bugline-notify")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
