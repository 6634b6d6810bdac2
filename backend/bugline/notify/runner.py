"""The loop that sends customer notifications: one per worker (and per web process while
``BUGLINE_NOTIFY_IN_WEB`` is on), any number at once, sharing the table through leases.

The loop is ``bugline.workloop.WorkLoop``, like the outbox's: it sleeps until poked or until
the next notification is due (a retry's time), never longer than ``interval``; then it
leases due rows as slots free up and sends up to ``concurrency`` at once (sending is
waiting on the SMTP server, not work). Notifications are not urgent to the second, so other processes'
notifications are found by that polling (a read of one indexed minimum when idle).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.db.models import utcnow
from bugline.mail import smtp
from bugline.notify import store
from bugline.notify.message import Sender
from bugline.notify.sending import Mailer, process, skip_reason
from bugline.observe import metrics
from bugline.settings import Settings
from bugline.workloop import WorkLoop

log = logging.getLogger("bugline.notify")

LEASE = 120.0  # seconds; BUGLINE_OUTBOX_LEASE is the natural value to pass
SKIP_BATCH = 50  # rows claimed at once when none can be sent (screened, not processed)


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
        secret_keys=settings.secret_keys,
        owner=owner,
    )


class Notifier(WorkLoop):
    name = "notify"

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
        super().__init__(writer, readers, concurrency=concurrency, interval=interval, lease=lease, log=log)
        self.mailer = mailer_for(settings, writer, readers, owner=self.owner, lease=lease)
        if self.mailer.problem:
            log.error("customer notifications cannot be sent: %s", self.mailer.problem)

    def claim(self, conn: Connection, *, limit: int) -> list[str]:
        lease = timedelta(seconds=self.lease)
        if self.mailer.server is None:
            # Without an SMTP server every row is skipped in ``screen``, in this transaction:
            # nothing waits on a slot, so take a batch (each transaction costs more than a row).
            limit = max(limit, SKIP_BATCH)
        return store.claim(conn, owner=self.owner, now=utcnow(), limit=limit, lease=lease)

    def screen(self, conn: Connection, ids: list[str]) -> tuple[list[str], dict[str, int]]:
        """Record every notification that will not be written (no address, unsubscribed,
        notifications off, no SMTP server) right in the claim's transaction, with one read and
        one write for the batch: those need no slot and no transaction of their own. The rest
        are sent by ``process``, which reads them again under the lease and decides again."""
        skips = []
        for row in store.load_rows(conn, ids, self.owner):
            try:
                loaded = store.loaded(row)
                reason = skip_reason(loaded, self.mailer)
            except Exception:  # one odd row must not hold up the batch: process() meets it alone
                log.exception("notification %s could not be screened; it is processed alone", row.id)
                continue
            if reason:
                skips.append((loaded, reason))
        if not skips:
            return ids, {}
        store.skipped_many(conn, skips, self.owner, now=utcnow())
        settled = {loaded.id for loaded, _ in skips}
        return [i for i in ids if i not in settled], {"skipped": len(skips)}

    def settled(self, counts: dict[str, int]) -> None:
        for outcome, n in counts.items():
            metrics.NOTIFICATIONS.labels(outcome).inc(n)

    async def process(self, row_id: str) -> str:
        outcome = await process(self.mailer, row_id)
        metrics.NOTIFICATIONS.labels(outcome).inc()
        return outcome

    def due(self, conn: Connection) -> datetime | None:
        return store.next_due(conn)
