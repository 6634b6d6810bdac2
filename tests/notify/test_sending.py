"""Sending, as the SMTP server and the database see it, on SQLite and PostgreSQL: skipped with
the reason when nobody can or may be written to, 4xx retried later, 5xx failed, a crash after
sending repeats the same message (same Message-ID), a worker that lost its lease sends nothing,
two workers send each notification once, one report's mails in order, STARTTLS with AUTH."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Reporter, utcnow
from bugline.notify import queue, store
from bugline.notify.runner import Notifier
from bugline.notify.sending import NO_SMTP, process, skip_reason
from tests.integration.test_intake import report_body
from tests.notify.conftest import Mailroom, plain, smtp_settings, start_mailroom
from tests.support.ports import refusing_port
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.anyio


def person(email: str | None, **extra: Any) -> dict[str, Any]:
    return {"id": f"u-{email}-{extra.get('tag', '')}", **({"email": email} if email else {}), "name": "Ana"}


async def test_an_unsubscribed_reporter_gets_nothing(mailroom: Mailroom) -> None:
    report_id = await mailroom.submit(report_body(reporter=person("gone@example.com")))
    async with make_sessionmaker(mailroom.b.engine)() as session, session.begin():
        await session.execute(
            update(Reporter).where(Reporter.email == "gone@example.com").values(unsubscribed=True)
        )
    assert await mailroom.notified() == {"skipped": 1}
    assert mailroom.mails_to("gone@example.com") == []
    [n] = await mailroom.notifications(report_id)
    assert n.state == "skipped" and n.last_error == "the reporter unsubscribed" and n.sent_at is None
    [event] = await mailroom.events(report_id, "notify_skipped")
    assert not event.public and event.data == {"kind": "received", "reason": "the reporter unsubscribed"}
    await mailroom.change([report_id], "resolved", public_note="Fixed.")
    assert await mailroom.notified() == {"skipped": 1}
    assert mailroom.mails_to("gone@example.com") == []


async def test_a_reporter_without_an_address_is_skipped(mailroom: Mailroom) -> None:
    report_id = await mailroom.submit(report_body(reporter=person(None, tag="no-mail")))
    assert await mailroom.notified() == {"skipped": 1}
    [n] = await mailroom.notifications(report_id)
    assert n.state == "skipped" and n.last_error == "the reporter left no email address"
    assert mailroom.smtp is not None and mailroom.smtp.messages == []


async def test_without_an_smtp_server_notifications_are_recorded_as_skipped(
    db_url: str, tmp_path: Path
) -> None:
    async for room in start_mailroom(smtp_settings(db_url, tmp_path, None), None):
        report_id = await room.submit(report_body(reporter=person("nosmtp@example.com")))
        assert await room.notified() == {"skipped": 1}
        [n] = await room.notifications(report_id)
        assert n.state == "skipped" and n.last_error == NO_SMTP


async def test_a_transient_refusal_is_retried_later(mailroom: Mailroom) -> None:
    assert mailroom.smtp is not None
    mailroom.smtp.fail_next(451)
    report_id = await mailroom.submit(report_body(reporter=person("later@example.com")))
    before = utcnow()
    assert await mailroom.notified() == {"retry": 1}
    [n] = await mailroom.notifications(report_id)
    assert n.state == "pending" and n.attempts == 1 and n.leased_until is None
    assert n.last_error is not None and "451" in n.last_error
    assert n.available_at > before  # backoff: not at once
    assert mailroom.mails_to("later@example.com") == []
    assert await mailroom.notifier.drain() == {}  # not due yet
    await mailroom.make_due()
    assert await mailroom.notifier.drain() == {"sent": 1}
    [mail] = mailroom.mails_to("later@example.com")
    [n] = await mailroom.notifications(report_id)
    assert n.state == "sent" and n.attempts == 2 and n.message_id == mail.message["Message-ID"]


@pytest.mark.parametrize("stage", ["data", "rcpt"])
async def test_a_permanent_refusal_fails_and_is_not_retried(mailroom: Mailroom, stage: str) -> None:
    assert mailroom.smtp is not None
    mailroom.smtp.fail_next(550, at=stage)  # type: ignore[arg-type]
    report_id = await mailroom.submit(report_body(reporter=person("never@example.com", tag=stage)))
    assert await mailroom.notified() == {"failed": 1}
    [n] = await mailroom.notifications(report_id)
    assert n.state == "failed" and n.last_error is not None and "550" in n.last_error
    [event] = await mailroom.events(report_id, "notify_failed")
    assert not event.public and "550" in event.data["error"]
    await mailroom.make_due()
    assert await mailroom.notifier.drain() == {}
    assert mailroom.mails_to("never@example.com") == []


async def test_a_server_that_is_down_is_retried(db_url: str, tmp_path: Path) -> None:
    with SmtpServer() as server:
        pass  # its settings, but not its port: another test's server may take that one now
    with refusing_port(server.host) as down:
        settings = smtp_settings(db_url, tmp_path, server, smtp_port=down)
        async for room in start_mailroom(settings, server):
            report_id = await room.submit(report_body(reporter=person("down@example.com")))
            assert await room.notified() == {"retry": 1}
            [n] = await room.notifications(report_id)
            assert n.state == "pending" and "connecting" in (n.last_error or "")


async def test_a_crash_after_sending_repeats_the_same_message(
    mailroom: Mailroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker dies after the server took the mail, before it recorded that: the lease runs
    out, another attempt sends it again, and it is the same message (same Message-ID), which
    mailboxes that de-duplicate keep once. It is recorded as sent once."""
    assert mailroom.smtp is not None
    real = store.sent
    crashes = [1]

    def crash_once(*args: Any, **kwargs: Any) -> bool:
        if crashes:
            crashes.pop()
            raise ConnectionError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "sent", crash_once)
    report_id = await mailroom.submit(report_body(reporter=person("twice@example.com")))
    assert await mailroom.notified() == {"error": 1}
    [n] = await mailroom.notifications(report_id)
    assert n.state == "pending" and n.leased_until is not None  # the lease still holds it
    assert await mailroom.notifier.drain() == {}  # ...so nobody takes it before it runs out
    await mailroom.make_due()  # the lease runs out
    assert await mailroom.notifier.drain() == {"sent": 1}
    first, second = mailroom.mails_to("twice@example.com")
    assert first.message["Message-ID"] == second.message["Message-ID"]
    assert first.message["Subject"] == second.message["Subject"] and plain(first) == plain(second)
    assert len(await mailroom.events(report_id, "notified")) == 1


async def test_a_worker_that_lost_its_lease_sends_nothing(mailroom: Mailroom) -> None:
    assert mailroom.smtp is not None
    report_id = await mailroom.submit(report_body(reporter=person("stalled@example.com")))
    await mailroom.b.delivered()
    state = mailroom.b.app.state.bugline
    stalled = Notifier(state.writer, state.readers, state.settings, lease=20)
    [claimed] = await state.writer.run(
        lambda conn: store.claim(
            conn, owner=stalled.owner, now=utcnow(), limit=1, lease=timedelta(seconds=20)
        )
    )
    await mailroom.make_due()  # it stalled past its lease; another worker takes over
    assert await mailroom.notifier.drain() == {"sent": 1}
    assert await process(stalled.mailer, claimed) == "lost-lease"  # it wakes up: nothing to do
    assert len(mailroom.mails_to("stalled@example.com")) == 1
    [n] = await mailroom.notifications(report_id)
    assert n.state == "sent" and n.lease_owner == mailroom.notifier.owner


async def test_two_workers_send_each_notification_once(mailroom: Mailroom) -> None:
    assert mailroom.smtp is not None
    people = [f"crowd{i}@example.com" for i in range(8)]
    for i, p in enumerate(people):
        await mailroom.submit(report_body(title=f"Crowd {i}", reporter=person(p)))
    await mailroom.b.delivered()
    state = mailroom.b.app.state.bugline
    other = Notifier(state.writer, state.readers, state.settings, lease=20, concurrency=3)
    counts = await asyncio.gather(mailroom.notifier.drain(), other.drain())
    assert sum(c.get("sent", 0) for c in counts) == 8
    mailroom.smtp.wait(8)
    for p in people:
        assert len(mailroom.mails_to(p)) == 1
    assert len({m.message["Message-ID"] for m in mailroom.smtp.messages}) == 8


async def test_one_reports_mails_go_out_in_order(mailroom: Mailroom) -> None:
    """The receipt is still waiting (the server said "try later") when the fix lands: the fix
    waits for it, so the customer never reads "fixed" before "we have your report"."""
    assert mailroom.smtp is not None
    mailroom.smtp.fail_next(451)
    report_id = await mailroom.submit(report_body(reporter=person("order@example.com")))
    assert await mailroom.notified() == {"retry": 1}
    await mailroom.change([report_id], "resolved", public_note="Fixed.")
    await mailroom.make_due()
    assert await mailroom.notifier.drain() == {"sent": 2}
    subjects = [m.message["Subject"] for m in mailroom.mails_to("order@example.com")]
    assert subjects[0].startswith("We have your report") and subjects[1].startswith("Fixed:")


async def test_starttls_with_a_login(db_url: str, tmp_path: Path) -> None:
    with SmtpServer(security="starttls", auth=("bugline", "s3cret-pass")) as server:
        async for room in start_mailroom(smtp_settings(db_url, tmp_path, server), server):
            await room.submit(report_body(reporter=person("tls@example.com")))
            assert await room.notified() == {"sent": 1}
            [mail] = room.mails_to("tls@example.com")
            assert mail.secure and mail.login == "bugline"


async def test_a_wrong_password_fails_with_the_reason(db_url: str, tmp_path: Path) -> None:
    with SmtpServer(security="starttls", auth=("bugline", "s3cret-pass")) as server:
        settings = smtp_settings(db_url, tmp_path, server, smtp_password="wrong")
        async for room in start_mailroom(settings, server):
            report_id = await room.submit(report_body(reporter=person("auth@example.com")))
            assert await room.notified() == {"failed": 1}
            [n] = await room.notifications(report_id)
            assert "refused the login of 'bugline'" in (n.last_error or "")


async def test_plain_smtp_to_another_machine_is_refused(db_url: str, tmp_path: Path) -> None:
    """security=none sends the password and the customers' mail in clear: only to a relay on
    this machine. Elsewhere nothing is sent, and the notification waits for the fix."""
    settings = smtp_settings(
        db_url, tmp_path, None, smtp_host="mail.example.com", smtp_security="none", mail_from="a@acme.com"
    )
    async for room in start_mailroom(settings, None):
        report_id = await room.submit(report_body(reporter=person("clear@example.com")))
        assert await room.notified() == {"retry": 1}
        [n] = await room.notifications(report_id)
        assert "only for a relay on this machine" in (n.last_error or "")


async def test_a_project_can_turn_notifications_off(mailroom: Mailroom) -> None:
    await mailroom.set_project_settings({"notifications": {"enabled": False}})
    report_id = await mailroom.submit(report_body(reporter=person("off@example.com")))
    assert await mailroom.notified() == {"skipped": 1}
    [n] = await mailroom.notifications(report_id)
    assert n.last_error == "the project turned customer notifications off"


async def test_claims_take_their_limit_in_disjoint_batches(mailroom: Mailroom) -> None:
    for i in range(6):
        await mailroom.submit(report_body(title=f"Batch {i}", reporter=person(f"batch{i}@example.com")))
    await mailroom.b.delivered()
    writer = mailroom.b.app.state.bugline.writer
    lease = timedelta(seconds=20)
    first = await writer.run(lambda conn: store.claim(conn, owner="a", now=utcnow(), limit=2, lease=lease))
    second = await writer.run(lambda conn: store.claim(conn, owner="b", now=utcnow(), limit=2, lease=lease))
    assert len(first) == 2 and len(second) == 2 and not set(first) & set(second)
    rest = await writer.run(lambda conn: store.claim(conn, owner="c", now=utcnow(), limit=10, lease=lease))
    assert len(rest) == 2 and not set(rest) & (set(first) | set(second))


async def test_one_pass_sends_to_some_and_records_the_rest_as_skipped(mailroom: Mailroom) -> None:
    # Skips are recorded in the claim's own transaction; the mails still go out, once each.
    with_mail = [
        await mailroom.submit(report_body(title=f"Mail {i}", reporter=person(f"m{i}@example.com")))
        for i in range(5)
    ]
    without = [
        await mailroom.submit(report_body(title=f"None {i}", reporter=person(None, tag=str(i))))
        for i in range(7)
    ]
    assert await mailroom.notified() == {"sent": 5, "skipped": 7}
    for i, report_id in enumerate(with_mail):
        [n] = await mailroom.notifications(report_id)
        assert n.state == "sent" and len(mailroom.mails_to(f"m{i}@example.com")) == 1
    for report_id in without:
        [n] = await mailroom.notifications(report_id)
        assert n.state == "skipped" and n.leased_until is None
        assert n.last_error == "the reporter left no email address"
        [event] = await mailroom.events(report_id, "notify_skipped")
        assert event.data == {"kind": "received", "reason": "the reporter left no email address"}
    assert await mailroom.notified() == {}


async def test_without_an_smtp_server_a_backlog_is_recorded_in_one_pass(db_url: str, tmp_path: Path) -> None:
    # More than one claim's batch: every notification gets its skip and its one event.
    async for room in start_mailroom(smtp_settings(db_url, tmp_path, None), None):
        ids = [
            await room.submit(report_body(title=f"Backlog {i}", reporter=person(f"b{i}@example.com")))
            for i in range(60)
        ]
        assert await room.notified() == {"skipped": 60}
        for report_id in ids:
            [n] = await room.notifications(report_id)
            assert n.state == "skipped" and n.last_error == NO_SMTP and n.leased_until is None
            assert len(await room.events(report_id, "notify_skipped")) == 1


async def test_two_mails_of_one_report_asked_together_go_one_at_a_time(mailroom: Mailroom) -> None:
    # Asked for in one statement (same clock), the second still waits for the first.
    report_id = await mailroom.submit(report_body(reporter=person("pair@example.com")))
    assert await mailroom.notified() == {"sent": 1}
    [first] = await mailroom.notifications(report_id)
    writer = mailroom.b.app.state.bugline.writer
    wanted = [
        queue.Wanted(first.project_id, report_id, first.reporter_id, "escalated", key="pair"),
        queue.Wanted(first.project_id, report_id, first.reporter_id, "resolved", key="pair"),
    ]
    assert await writer.run(lambda conn: queue.enqueue_many(conn, wanted, utcnow())) == 2
    lease = timedelta(seconds=20)
    claimed = await writer.run(lambda conn: store.claim(conn, owner="x", now=utcnow(), limit=10, lease=lease))
    kinds = {n.id: n.kind for n in await mailroom.notifications(report_id)}
    assert [kinds[i] for i in claimed] == ["escalated"]


async def test_a_row_that_cannot_be_screened_does_not_hold_up_the_others(
    mailroom: Mailroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bugline.notify import runner

    def fragile(loaded: store.Loaded, mailer: Any) -> str:
        if loaded.email == "odd@example.com":
            raise RuntimeError("a row nobody expected")
        return skip_reason(loaded, mailer)

    monkeypatch.setattr(runner, "skip_reason", fragile)
    odd = await mailroom.submit(report_body(title="Odd", reporter=person("odd@example.com")))
    quiet = [
        await mailroom.submit(report_body(title=f"Quiet {i}", reporter=person(None, tag=f"q{i}")))
        for i in range(3)
    ]
    assert await mailroom.notified() == {"sent": 1, "skipped": 3}  # the odd one goes the old way
    [n] = await mailroom.notifications(odd)
    assert n.state == "sent" and len(mailroom.mails_to("odd@example.com")) == 1
    for report_id in quiet:
        [n] = await mailroom.notifications(report_id)
        assert n.state == "skipped"
