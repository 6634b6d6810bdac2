"""A report's life after triage, on SQLite and PostgreSQL: forwarding is the escalation the
customer hears about, a ticket's status moves its whole duplicate group, the customer's
"still broken" reaches the team's tool, and an SLA escalation is said once on the ticket."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Notification, Report, ReportEvent, Ticket, utcnow
from bugline.lifecycle import status as lifecycle
from bugline.outbox.queue import Planned, enqueue
from tests.conftest import Bugline
from tests.integration.test_intake import report_body
from tests.integration.test_outbox import add_webhook, deliveries, submit
from tests.support.vendors.receiver import FakeReceiver

pytestmark = pytest.mark.anyio


async def notifications(b: Bugline, report_id: str) -> list[tuple[str, str]]:
    async with make_sessionmaker(b.engine)() as session:
        q = select(Notification.kind, Notification.state).where(Notification.report_id == report_id)
        return [tuple(r) for r in (await session.execute(q.order_by(Notification.created_at))).all()]


async def report(b: Bugline, report_id: str) -> Report:
    async with make_sessionmaker(b.engine)() as session:
        return (await session.execute(select(Report).where(Report.id == report_id))).scalar_one()


async def change(
    b: Bugline, ids: list[str], to: str, source: lifecycle.Source, **kw: str
) -> list[lifecycle.Changed]:
    return await b.app.state.bugline.writer.run(
        lambda conn: lifecycle.change(conn, ids, to, source=source, now=utcnow(), **kw)
    )


async def test_forwarding_escalates_and_the_customer_is_told(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        report_id = await submit(bugline, report_body())
        await bugline.delivered()
        r = await report(bugline, report_id)
        assert r.status == "escalated" and r.escalated_at is not None
        assert await notifications(bugline, report_id) == [("received", "pending"), ("escalated", "pending")]
        async with make_sessionmaker(bugline.engine)() as session:
            events = (
                (
                    await session.execute(
                        select(ReportEvent).where(
                            ReportEvent.report_id == report_id, ReportEvent.kind == "status_changed"
                        )
                    )
                )
                .scalars()
                .all()
            )
        [escalated] = [e for e in events if e.data.get("to") == "escalated"]
        assert (
            escalated.public
            and escalated.data["to"] == "escalated"
            and escalated.data["source"] == "forwarded to webhook"
        )


async def test_a_tickets_resolution_moves_the_whole_group(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        first = await submit(bugline, report_body())
        await bugline.delivered()
        second = await submit(
            bugline, report_body(reporter={"id": "u-77", "email": "lee@example.com", "account": "B"})
        )
        await bugline.delivered()
        async with make_sessionmaker(bugline.engine)() as session:
            ticket = (
                await session.execute(select(Ticket).where(Ticket.project_id == bugline.project.id))
            ).scalar_one()
        members = await bugline.app.state.bugline.writer.run(
            lambda conn: lifecycle.group_reports(conn, ticket)
        )
        assert set(members) == {first, second}
        source = lifecycle.Source("connector", "hook", via="Webhook")
        changed = await change(
            bugline,
            members,
            "resolved",
            source,
            public_note="Fixed in 2.4.1",
            internal_note="root cause: cache",
        )
        assert {c.report_id for c in changed} == {first, second}
        for rid in (first, second):
            kinds = [k for k, _ in await notifications(bugline, rid)]
            assert kinds[-1] == "resolved"
            r = await report(bugline, rid)
            assert r.status == "resolved" and r.resolved_at is not None
        async with make_sessionmaker(bugline.engine)() as session:
            rows = (
                (
                    await session.execute(
                        select(Notification).where(
                            Notification.report_id == first, Notification.kind == "resolved"
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert rows[0].data["note"] == "Fixed in 2.4.1" and "cache" not in str(rows[0].data)
        # The same change again (a repeated webhook) changes nothing and notifies nobody twice.
        assert await change(bugline, members, "resolved", source) == []


async def test_still_broken_reaches_the_ticket_once(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        report_id = await submit(bugline, report_body())
        await bugline.delivered()
        await change(bugline, [report_id], "resolved", lifecycle.Source("connector", "hook", via="Webhook"))
        customer = lifecycle.Source("reporter", None, via="still-broken link")
        [reopened] = await change(
            bugline, [report_id], "reopened", customer, public_note="Still fails on Safari"
        )
        assert reopened.before == "resolved"
        assert await bugline.delivered() == {"updated": 1}
        said = receiver.received[-1]
        assert said["ticket"]["id"] == "T-1" and "still there" in said["note"] and "Safari" in said["note"]
        assert (await report(bugline, report_id)).status == "escalated"  # back with the team
        assert [d.action for d in await deliveries(bugline, report_id)] == [
            "create",
            f"reopen:{reopened.event_id}",
        ]
        # A reopen the helpdesk itself sent is not echoed back to it.
        await change(bugline, [report_id], "resolved", lifecycle.Source("connector", "hook", via="Webhook"))
        await change(bugline, [report_id], "reopened", lifecycle.Source("connector", "hook", via="Webhook"))
        assert await bugline.delivered() == {}


async def test_an_escalation_is_said_once_on_the_ticket(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        hook = await add_webhook(bugline, receiver)
        report_id = await submit(bugline, report_body())
        await bugline.delivered()
        planned = [
            Planned(
                connector_id=hook.id,
                action="escalate:resolution",
                note="No resolution after 24 hours",
                level="critical",
            )
        ]
        for _ in range(2):  # decided twice (a retried timer): written once
            await bugline.app.state.bugline.writer.run(
                lambda conn: enqueue(
                    conn, project_id=bugline.project.id, report_id=report_id, planned=planned, now=utcnow()
                )
            )
        assert await bugline.app.state.bugline.outbox.drain() == {"updated": 1}
        assert receiver.received[-1]["note"] == "No resolution after 24 hours"
