"""Forwarding on real intake, SQLite and PostgreSQL: a triaged report reaches the team's
destination exactly once, duplicates comment instead of opening tickets, failures are retried
and recorded, and nothing the customer still has to complete is forwarded."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bugline.connectors import configs
from bugline.db.engine import make_sessionmaker
from bugline.db.models import ConnectorConfig, Delivery, ReportEvent, Ticket, utcnow
from bugline.outbox import retry
from bugline.outbox.runner import Outbox
from tests.conftest import Bugline
from tests.integration.test_intake import headers, report_body
from tests.integration.test_triage import VAGUE
from tests.support.vendors.receiver import SECRET, FakeReceiver
from tests.support.vendors.server import Fault

pytestmark = pytest.mark.anyio


async def add_webhook(
    b: Bugline, receiver: FakeReceiver, *, name: str = "hook", roles: list[str] | None = None
) -> ConnectorConfig:
    async with make_sessionmaker(b.engine)() as session, session.begin():
        return await session.run_sync(
            lambda s: configs.add(
                s,
                b.project.id,
                "webhook",
                {"url": f"{receiver.url}/hook", "secret": SECRET},
                name=name,
                roles=roles,
            )
        )


async def submit(b: Bugline, body: dict[str, Any]) -> str:
    res = await b.client.post("/api/v1/reports", json=body, headers=headers(b))
    assert res.status_code == 201, res.text
    return str(res.json()["id"])


async def deliveries(b: Bugline, report_id: str | None = None) -> list[Delivery]:
    async with make_sessionmaker(b.engine)() as session:
        q = select(Delivery).where(Delivery.project_id == b.project.id)
        if report_id:
            q = q.where(Delivery.report_id == report_id)
        return list((await session.execute(q.order_by(Delivery.created_at))).scalars())


async def timeline(b: Bugline, report_id: str) -> list[ReportEvent]:
    async with make_sessionmaker(b.engine)() as session:
        q = select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)
        return list((await session.execute(q)).scalars())


async def make_due(b: Bugline) -> None:
    """Jump over the backoff: what the clock would do."""
    async with make_sessionmaker(b.engine)() as session, session.begin():
        await session.execute(
            update(Delivery)
            .where(Delivery.project_id == b.project.id)
            .values(available_at=utcnow() - timedelta(seconds=1))
        )


async def test_complete_report_is_forwarded_once_with_its_ticket_on_the_timeline(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        report_id = await submit(bugline, report_body())
        outcome = await bugline.delivered()
        assert outcome == {"created": 1}
        [sent] = receiver.reports()
        assert sent["report"]["report_id"] == report_id
        assert sent["report"]["title"] == "Invoice export fails"
        assert sent["report"]["severity_reasons"]  # triage's verdict travels with it
        [d] = await deliveries(bugline, report_id)
        assert d.state == "done" and d.outcome == "created" and d.attempts == 1
        forwarded = [e for e in await timeline(bugline, report_id) if e.kind == "forwarded"]
        assert len(forwarded) == 1 and forwarded[0].public is False
        assert forwarded[0].data["url"].endswith("/tickets/1") and forwarded[0].actor == "hook"
        assert await bugline.delivered() == {}  # nothing left, nothing sent twice
        assert len(receiver.received) == 1


async def test_report_that_needs_info_is_not_forwarded(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        report_id = await submit(bugline, VAGUE)
        await bugline.delivered()
        assert await deliveries(bugline, report_id) == []
        assert receiver.received == []


async def test_duplicates_comment_on_the_first_ticket(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        first = await submit(bugline, report_body())
        await bugline.delivered()
        second = await submit(
            bugline, report_body(reporter={"id": "u-7", "email": "bo@example.com", "account": "Globex"})
        )
        assert await bugline.delivered() == {"updated": 1}
        assert [p["type"] for p in receiver.received] == ["report.forwarded", "report.duplicate"]
        dup = receiver.received[1]
        assert dup["ticket"]["id"] == "T-1" and dup["report"]["report_id"] == second
        assert "2 reports from 2 people in 2 accounts" in dup["note"]
        async with make_sessionmaker(bugline.engine)() as session:
            tickets = list(
                (
                    await session.execute(select(Ticket).where(Ticket.project_id == bugline.project.id))
                ).scalars()
            )
        assert [(t.report_id, t.state, t.remote_id) for t in tickets] == [(first, "created", "T-1")]


async def test_vendor_errors_are_retried_with_backoff_and_recorded(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        receiver.script(Fault.status(503), Fault.status(429, headers={"Retry-After": "120"}))
        report_id = await submit(bugline, report_body())
        assert await bugline.delivered() == {"retry": 1}
        [d] = await deliveries(bugline, report_id)
        assert d.state == "pending" and d.attempts == 1 and d.last_status == 503
        assert d.available_at > utcnow()  # backing off, not hammering the vendor
        await make_due(bugline)
        assert await bugline.app.state.bugline.outbox.drain() == {"retry": 1}
        [d] = await deliveries(bugline, report_id)
        assert d.available_at >= utcnow() + timedelta(seconds=110)  # the vendor's Retry-After wins
        await make_due(bugline)
        assert await bugline.app.state.bugline.outbox.drain() == {"created": 1}
        kinds = [e.kind for e in await timeline(bugline, report_id)]
        assert kinds.count("delivery_retry") == 2 and kinds.count("forwarded") == 1
        assert len(receiver.reports()) == 1


async def test_permanent_failure_stops_and_says_why(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        receiver.script(Fault.status(410, body=b"this hook was deleted"))
        report_id = await submit(bugline, report_body())
        assert await bugline.delivered() == {"failed": 1}
        [d] = await deliveries(bugline, report_id)
        assert d.state == "failed" and d.last_status == 410
        [failed] = [e for e in await timeline(bugline, report_id) if e.kind == "delivery_failed"]
        assert "410" in failed.data["error"] and "deleted" in failed.data["error"]


async def test_gives_up_after_the_last_attempt(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        receiver.script(*[Fault.status(500)] * retry.MAX_ATTEMPTS)
        report_id = await submit(bugline, report_body())
        await bugline.delivered()
        for _ in range(retry.MAX_ATTEMPTS - 1):
            await make_due(bugline)
            await bugline.app.state.bugline.outbox.drain()
        [d] = await deliveries(bugline, report_id)
        assert d.state == "failed" and d.attempts == retry.MAX_ATTEMPTS
        [failed] = [e for e in await timeline(bugline, report_id) if e.kind == "delivery_failed"]
        assert f"gave up after {retry.MAX_ATTEMPTS} attempts" in failed.data["error"]


async def test_lost_answer_is_retried_with_the_same_key_and_kept_once(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        receiver.script(Fault.drop(process=True))  # the receiver stores it, the answer is lost
        report_id = await submit(bugline, report_body())
        assert await bugline.delivered() == {"retry": 1}
        await make_due(bugline)
        assert await bugline.app.state.bugline.outbox.drain() == {"created": 1}
        assert len(receiver.received) == 2 and len(receiver.reports()) == 1  # de-duplicated by id
        ids = {p["id"] for p in receiver.received}
        assert len(ids) == 1
        [d] = await deliveries(bugline, report_id)
        assert d.state == "done" and d.attempts == 2


async def test_worker_that_died_mid_delivery_is_taken_over_after_its_lease(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        report_id = await submit(bugline, report_body())
        await bugline.triaged()
        from bugline.outbox import queue

        # A worker leases the delivery and dies before sending anything.
        state = bugline.app.state.bugline
        await state.writer.run(lambda conn: queue.claim(conn, owner="dead-worker", now=utcnow(), limit=10))
        assert await state.outbox.drain() == {}  # leased: nobody else touches it
        async with make_sessionmaker(bugline.engine)() as session, session.begin():
            await session.execute(
                update(Delivery)
                .where(Delivery.project_id == bugline.project.id)
                .values(leased_until=utcnow() - timedelta(seconds=1))
            )
        assert await state.outbox.drain() == {"created": 1}
        [d] = await deliveries(bugline, report_id)
        assert d.state == "done" and d.attempts == 2 and d.lease_owner == state.outbox.owner
        assert len(receiver.reports()) == 1


async def test_disabled_or_broken_connector_fails_with_a_reason(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        hook = await add_webhook(bugline, receiver)
        async with make_sessionmaker(bugline.engine)() as session, session.begin():
            await session.execute(
                update(ConnectorConfig).where(ConnectorConfig.id == hook.id).values(config={"url": "nope"})
            )
        report_id = await submit(bugline, report_body())
        assert await bugline.delivered() == {"failed": 1}
        [d] = await deliveries(bugline, report_id)
        assert "settings" in (d.last_error or "") and "url" in (d.last_error or "")
        assert receiver.received == []


async def test_routing_sends_feature_requests_to_product_only(bugline: Bugline) -> None:
    async with FakeReceiver() as helpdesk, FakeReceiver() as product:
        await add_webhook(bugline, helpdesk, name="desk")
        await add_webhook(bugline, product, name="roadmap", roles=["product"])
        body = {
            "title": "Feature request: export to Excel",
            "description": "It would be great if you could add an option to export reports to Excel. "
            "Please consider adding this feature, we would love it.",
        }
        report_id = await submit(bugline, body)
        await bugline.delivered()
        assert [p["report"]["report_id"] for p in product.reports()] == [report_id]
        assert helpdesk.received == []
        [d] = await deliveries(bugline, report_id)
        assert d.rules  # the rule that chose it is kept for the dry-run and the review


async def test_two_outboxes_on_one_backlog_deliver_each_report_once(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        receiver.fail_rate = 0.3
        ids = set()
        for i in range(12):
            body = report_body(title=f"Export fails for customer {i}", reporter={"id": f"u{i}"})
            body["error_text"] = f"Error {i}: unique failure number {i * 7919}"
            body["trying_to_do"] = f"Task {i}"
            body["context"]["url"] = f"https://app.example.com/area{i}/thing"
            ids.add(await submit(bugline, body))
        await bugline.triaged()
        state = bugline.app.state.bugline
        second = Outbox(
            state.writer,
            state.readers,
            state.store,
            database_url=state.settings.effective_database_url,
            public_url=state.settings.effective_public_url,
            link_ttl=600,
        )
        try:
            for _ in range(40):
                await asyncio.gather(state.outbox.drain(), second.drain())
                if all(d.state == "done" for d in await deliveries(bugline)):
                    break
                await make_due(bugline)
        finally:
            await second.stop()
        done = await deliveries(bugline)
        assert {d.report_id for d in done} <= ids
        assert all(d.state == "done" for d in done)
        reports = [p["report"]["report_id"] for p in receiver.reports()]
        assert len(reports) == len(set(reports)) == len(done)  # each report once, none lost
