"""One leased notification, from its row to the customer's inbox, and what is recorded.

1. Read it, its report, reporter and project (only while this process holds the lease).
2. Decide whether to write at all: not when the project turned notifications off, the
   reporter left no usable address or unsubscribed, or no SMTP server is configured; each is
   recorded as ``skipped`` with the reason, so the decision is on record.
3. Choose the language (``locales``), build the variables (``context``), render (the
   project's templates where usable, ``templates``), compose (``message``).
4. Send, outside any transaction, in a thread (``bugline.mail.smtp``): every step bounded,
   so a hung server cannot outlive the lease.
5. Record ``sent`` (message id, time, a ``notified`` event), a retry with backoff
   (``bugline.outbox.retry``: 4xx, timeouts, refused connections), or ``failed`` (5xx, or
   retries used up). A crash between 4 and 5 leaves the lease to expire; the retry sends
   the same message (same Message-ID) again: at least once, never two different mails.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.connectors.base import Failed, Retry
from bugline.db.engine import Writer
from bugline.db.models import utcnow
from bugline.mail import smtp
from bugline.notify import context, locales, store, templates
from bugline.notify.links import links_for
from bugline.notify.message import Mail, Sender, compose, message_id, thread_id
from bugline.outbox import retry
from bugline.tokens import status_token_for

log = logging.getLogger("bugline.notify")

NO_SMTP = "no SMTP server is configured (BUGLINE_SMTP_HOST)"


@dataclass(frozen=True, slots=True)
class Mailer:
    """What sending needs, the same for every notification of a process."""

    writer: Writer
    readers: async_sessionmaker[AsyncSession]
    server: smtp.Server | None  # None: no SMTP server configured
    sender: Sender | None
    problem: str  # why the configured server cannot be used ("" when it can)
    public_url: str
    secret_key: str
    owner: str
    secret_keys: tuple[str, ...] = ()  # the current key, then those before a rotation


def skip_reason(loaded: store.Loaded, mailer: Mailer) -> str:
    if loaded.settings.get("enabled") is False:
        return "the project turned customer notifications off"
    if loaded.facts.reporter_id is None:
        return "the report has no reporter"
    if not loaded.email:
        return "the reporter left no email address"
    if loaded.unsubscribed:
        return "the reporter unsubscribed"
    if not smtp.ADDRESS.match(loaded.email):
        return "the reporter's email address is not one we can send to (plain ASCII addresses only)"
    if mailer.server is None:
        return NO_SMTP
    return ""


def build(loaded: store.Loaded, mailer: Mailer) -> tuple[Mail, templates.Rendered]:
    assert mailer.sender is not None
    settings = loaded.settings
    locale = locales.choose(loaded.locales, settings)
    # The token the reporter already holds (made before a key rotation, perhaps).
    keys = mailer.secret_keys or (mailer.secret_key,)
    token = status_token_for(keys, loaded.report_id, loaded.status_token_hash)
    links = links_for(
        mailer.public_url, mailer.secret_key, loaded.report_id, loaded.facts.reporter_id, token=token
    )
    values = context.variables(
        loaded.facts, locale, public_url=mailer.public_url, secret_key=mailer.secret_key, links=links
    )
    rendered = templates.render(
        loaded.kind, locale, values, templates.overrides_for(loaded.kind, locale, settings)
    )
    domain = mailer.sender.domain
    from_name = settings.get("from_name")
    reply_to = settings.get("reply_to")
    mail = Mail(
        sender=mailer.sender,
        sender_name=from_name
        if isinstance(from_name, str) and from_name.strip()
        else mailer.sender.name or loaded.facts.project_name,
        to=loaded.email,
        to_name=loaded.facts.reporter_name,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=message_id(loaded.id, domain),
        thread=thread_id(loaded.report_id, domain),
        unsubscribe=links.unsubscribe,
        locale=locale,
        reply_to=reply_to if isinstance(reply_to, str) and smtp.ADDRESS.match(reply_to) else "",
        report_ref=f"#{loaded.facts.number}",
    )
    return mail, rendered


async def process(mailer: Mailer, notification_id: str) -> str:
    """Send one leased notification; the outcome: sent | skipped | retry | failed | lost-lease."""

    def load_or_skip(conn: Connection) -> tuple[store.Loaded | None, str]:
        """Read it (under the lease) and, when no mail is to be written, record the skip in
        the same transaction: one instead of two for the common case of no SMTP server or no
        address (nothing outside the database happens in between)."""
        loaded = store.load(conn, notification_id, mailer.owner)
        if loaded is None:
            return None, "lost-lease"
        reason = skip_reason(loaded, mailer)
        if not reason:
            return loaded, ""
        kept = store.skipped(conn, loaded=loaded, owner=mailer.owner, now=utcnow(), reason=reason)
        return loaded, "skipped" if kept else "lost-lease"

    loaded, outcome = await mailer.writer.run(load_or_skip)
    if outcome or loaded is None:
        return outcome or "lost-lease"
    result: Retry | Failed | None
    mail: Mail | None = None
    if mailer.problem:
        result = Retry(mailer.problem)  # a configuration mistake: sent once it is fixed
    else:
        try:
            mail, rendered = build(loaded, mailer)
            data = compose(mail)
        except Exception as exc:  # a bug in our templates or a header EmailMessage refuses
            log.exception("notification %s could not be rendered", loaded.id)
            result = Failed(f"notification: could not build the message: {type(exc).__name__}: {exc}"[:300])
        else:
            if rendered.problems:
                log.warning(
                    "project %s: its %s template was not used (%s); the built-in one was",
                    loaded.project_id,
                    loaded.kind,
                    "; ".join(rendered.problems),
                )
            assert mailer.server is not None and mailer.sender is not None
            result = await anyio.to_thread.run_sync(
                functools.partial(
                    smtp.send, mailer.server, mailer.sender.address, [mail.to], data, what="notification"
                )
            )
    if result is None:
        assert mail is not None
        return await _record(
            mailer,
            "sent",
            functools.partial(
                store.sent, loaded=loaded, owner=mailer.owner, message_id=mail.message_id, to=mail.to
            ),
        )
    if isinstance(result, Retry) and not retry.exhausted(loaded.attempts):
        at = utcnow() + timedelta(seconds=retry.delay(loaded.attempts, result.after))
        return await _record(
            mailer,
            "retry",
            functools.partial(_again, loaded=loaded, owner=mailer.owner, at=at, error=result.reason),
        )
    error = result.reason
    if isinstance(result, Retry):
        error = f"gave up after {loaded.attempts} attempts: {error}"
    log.error(
        "notification %s (%s for report %s) failed: %s", loaded.id, loaded.kind, loaded.report_id, error
    )
    return await _record(
        mailer, "failed", functools.partial(store.failed, loaded=loaded, owner=mailer.owner, error=error)
    )


def _again(conn: Connection, *, now: Any, loaded: store.Loaded, owner: str, at: Any, error: str) -> bool:
    return store.again(conn, loaded, owner, at=at, error=error)


async def _record(mailer: Mailer, outcome: str, write: Callable[..., bool]) -> str:
    def work(conn: Connection) -> bool:
        return write(conn, now=utcnow())

    kept = await mailer.writer.run(work)
    return outcome if kept else "lost-lease"
