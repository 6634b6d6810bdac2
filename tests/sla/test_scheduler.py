"""SLA timers on SQLite and PostgreSQL with a clock the tests move: each timer fires once, at
its time, across restarts and concurrent schedulers, and does what the SOPs ask of it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select, update

from bugline.db.engine import Writer, make_async_engine, make_reader_engine, make_readers
from bugline.db.models import ConnectorConfig, Delivery, ReportEvent, utcnow
from bugline.lifecycle import status as lifecycle
from bugline.sla import timers as timer_rows
from bugline.sla.review import Breach, breaches, summary
from bugline.sla.scheduler import Scheduler
from tests.conftest import Bugline
from tests.integration.test_intake import report_body
from tests.integration.test_outbox import add_webhook, submit
from tests.sla.support import (
    DAY,
    HOUR,
    MINUTE,
    change,
    deliveries,
    desk_and_lead,
    events,
    forwarded,
    new_clock,
    notifications,
    pending,
    report,
    scheduler,
    timers,
    write,
)
from tests.support.vendors.receiver import FakeReceiver

pytestmark = pytest.mark.anyio
SECOND = timedelta(seconds=1)


async def test_a_critical_report_escalates_at_the_sops_times_each_once(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "critical")
        due = await pending(bugline, report_id)
        assert due == {
            "first_response": clock.start + 30 * MINUTE,
            "escalation:2": clock.start + 2 * HOUR,
            "escalation:3": clock.start + 4 * HOUR,
            "resolution": clock.start + 4 * HOUR,
            "follow_up:1": clock.start + 48 * HOUR,
        }
        sla = scheduler(bugline, clock)

        clock.at(30 * MINUTE - SECOND)
        assert await sla.tick() == {}
        clock.at(30 * MINUTE)
        assert await sla.tick() == {"breached": 1}  # no first response within 30 minutes
        assert await sla.tick() == {}
        clock.at(2 * HOUR - SECOND)
        assert await sla.tick() == {}
        assert [a for _, a, _ in await deliveries(bugline, report_id)] == ["create"]

        clock.at(2 * HOUR)
        assert await sla.tick() == {"escalated": 1}
        assert await sla.tick() == {}
        words = [
            (name, t) for name, a, t in await deliveries(bugline, report_id) if a == "escalate:escalation:2"
        ]
        # The lead's destination hears it, and the helpdesk's ticket has its priority raised.
        assert sorted(name for name, _ in words) == ["desk", "lead"]
        for _, target in words:
            assert target["level"] == "critical"
            assert "level 2" in target["note"] and "2h after it was received" in target["note"]
        [escalated] = [e for e in await events(bugline, report_id) if e.kind == "sla_escalated"]
        assert (
            escalated.public is False and escalated.data["level"] == 2 and escalated.data["lead"] == ["lead"]
        )

        clock.at(4 * HOUR)
        assert await sla.tick() == {"escalated": 1, "breached": 1}
        assert {a for _, a, _ in await deliveries(bugline, report_id)} == {
            "create",
            "escalate:escalation:2",
            "escalate:escalation:3",
        }
        said = [e.data.get("target") or e.data["level"] for e in await events(bugline, report_id)]
        assert said[:2] == ["first_response", 2] and sorted(map(str, said[2:])) == ["3", "resolution"]

        # The outbox says it on the ticket: the webhook has no priority, so it is a comment.
        await make_deliveries_due(bugline)
        assert (await bugline.app.state.bugline.outbox.drain()).get("updated") == 2
        notes = [p.get("note", "") for p in desk.received]
        assert sum("SLA escalation, level 2" in n for n in notes) == 1
        assert sum("SLA escalation, level 3" in n for n in notes) == 1
        # Nothing public: the customer's timeline has no SLA entries.
        assert all(not e.public for e in await events(bugline, report_id))


async def make_deliveries_due(b: Bugline) -> None:
    """Deliveries written at the test clock's (future) time: due now for the real outbox."""
    await write(
        b,
        lambda conn: conn.execute(
            update(Delivery).where(Delivery.state == "pending").values(available_at=utcnow() - SECOND)
        ),
    )


async def test_a_medium_reports_escalation_raises_the_priority_one_step(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "medium")
        sla = scheduler(bugline, clock)
        clock.at(DAY)
        # first response (4h) and resolution (1d) passed; level 2 goes to the lead after 24 hours
        assert await sla.tick() == {"breached": 2, "escalated": 1}
        levels = {t["level"] for _, a, t in await deliveries(bugline, report_id) if a.startswith("escalate")}
        assert levels == {"high"}
        clock.at(3 * DAY)
        assert await sla.tick() == {"escalated": 1, "followed_up": 1}
        levels = {
            t["level"] for _, a, t in await deliveries(bugline, report_id) if a == "escalate:escalation:3"
        }
        assert levels == {"critical"}


async def test_a_disabled_lead_or_another_role_hears_nothing(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead, FakeReceiver() as other:
        _, lead_id = await desk_and_lead(bugline, desk, lead)
        await add_webhook(bugline, other, name="product", roles=["product"])  # bugs are not routed there
        await write(
            bugline,
            lambda conn: conn.execute(
                update(ConnectorConfig).where(ConnectorConfig.id == lead_id).values(enabled=False)
            ),
        )
        report_id = await forwarded(bugline, clock, "critical")
        clock.at(2 * HOUR)
        assert (await scheduler(bugline, clock).tick())["escalated"] == 1
        told = sorted(n for n, a, _ in await deliveries(bugline, report_id) if a.startswith("escalate"))
        assert told == ["desk"]  # the ticket's holder; not the disabled lead, not product
        [escalated] = [e for e in await events(bugline, report_id) if e.kind == "sla_escalated"]
        assert escalated.data["lead"] == []


async def test_a_restarted_scheduler_fires_nothing_twice(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "critical")
        clock.at(2 * HOUR)
        assert await scheduler(bugline, clock).tick() == {"breached": 1, "escalated": 1}

        # A process that dies after claiming but before committing: its claim is rolled back.
        class Died(Exception):
            pass

        doomed = scheduler(bugline, clock)
        clock.at(4 * HOUR)

        def claim_then_die(conn: Connection) -> None:
            assert sorted(doomed._pass(conn, now=clock())) == ["breached", "escalated"]
            raise Died

        with pytest.raises(Died):
            await write(bugline, claim_then_die)
        assert set(await pending(bugline, report_id)) == {"escalation:3", "resolution", "follow_up:1"}

        # A new process: its own engine and scheduler on the same database.
        url = bugline.settings.effective_database_url
        engine = make_async_engine(url)
        reader = make_reader_engine(url, engine)
        writer = Writer(url, engine)
        try:
            restarted = Scheduler(writer, make_readers(reader), clock=clock)
            assert await restarted.tick() == {"escalated": 1, "breached": 1}
            assert await restarted.tick() == {}
            assert await scheduler(bugline, clock).tick() == {}
        finally:
            writer.dispose()
            await engine.dispose()
            if reader is not engine:
                await reader.dispose()
        keys = sorted(e.data["key"] for e in await events(bugline, report_id))
        assert keys == ["escalation:2", "escalation:3", "first_response", "resolution"]
        actions = [a for _, a, _ in await deliveries(bugline, report_id)]
        assert actions.count("escalate:escalation:3") == 2  # desk and lead, once each


async def test_two_schedulers_at_once_fire_each_timer_once(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    report_ids = [await submit(bugline, report_body(title=f"Export fails {i}")) for i in range(3)]
    await bugline.triaged()
    keys = [f"first_response:{n}" for n in range(40)]

    def plant(conn: Connection) -> None:
        for n, key in enumerate(keys):
            timer_rows.schedule(
                conn,
                project_id=bugline.project.id,
                report_id=report_ids[n % 3],
                kind="first_response",
                key=key,
                due_at=clock.start - timedelta(seconds=n),
                data={"severity": "high"},
                now=clock.start,
            )

    await write(bugline, plant)
    url = bugline.settings.effective_database_url
    engines = [make_async_engine(url) for _ in range(2)]
    writers = [Writer(url, e) for e in engines]
    try:
        workers = [Scheduler(w, bugline.app.state.bugline.readers, clock=clock, batch=3) for w in writers]
        results = await asyncio.gather(
            *(w.tick() for w in workers), scheduler(bugline, clock, batch=5).tick()
        )
    finally:
        for w in writers:
            w.dispose()
        for e in engines:
            await e.dispose()
    assert sum(r.get("breached", 0) for r in results) == len(keys)
    async with bugline.app.state.bugline.readers() as session:
        fired = (
            await session.execute(
                select(ReportEvent.data).where(
                    ReportEvent.project_id == bugline.project.id, ReportEvent.kind == "sla_breached"
                )
            )
        ).scalars()
        assert sorted(d["key"] for d in fired) == sorted(keys)  # each once
    for rid in report_ids:
        assert {k for k, t in (await timers(bugline, rid)).items() if t.state == "fired"} >= {
            k for n, k in enumerate(keys) if n % 3 == report_ids.index(rid)
        }


async def test_resolution_before_its_time_cancels_every_timer(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "critical")
        clock.at(20 * MINUTE)
        await change(bugline, report_id, "resolved", clock, public_note="Fixed in 2.4.1")
        assert await pending(bugline, report_id) == {}
        clock.at(30 * DAY)
        assert await scheduler(bugline, clock).tick() == {}
        assert await events(bugline, report_id) == []
        assert [a for _, a, _ in await deliveries(bugline, report_id)] == ["create"]


async def test_a_late_resolution_records_the_breach_it_ends(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "critical")
        # The scheduler has not come round (a worker was down) when the team resolves at 5h.
        clock.at(5 * HOUR)
        await change(bugline, report_id, "resolved", clock)
        recorded = {e.data["target"]: e.data["overdue"] for e in await events(bugline, report_id)}
        assert recorded == {"first_response": int((4.5 * HOUR).total_seconds()), "resolution": 3600}
        assert await scheduler(bugline, clock).tick() == {}


async def test_cannot_reproduce_closes_after_14_days_and_tells_the_customer(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "high")
        clock.at(HOUR)
        await change(bugline, report_id, "cannot_reproduce", clock, public_note="Which browser was it?")
        # The team answered and waits for the customer: no escalation, breach or reminder now.
        assert [k.split(":")[0] for k in await pending(bugline, report_id)] == ["close"]
        sla = scheduler(bugline, clock)
        clock.at(HOUR + 14 * DAY - SECOND)
        assert await sla.tick() == {}
        assert (await report(bugline, report_id)).status == "cannot_reproduce"
        clock.at(HOUR + 14 * DAY)
        assert await sla.tick() == {"closed": 1}
        assert await sla.tick() == {}
        r = await report(bugline, report_id)
        assert r.status == "closed" and r.resolved_at == clock()
        closed = [n for n in await notifications(bugline, report_id) if n.kind == "closed"]
        assert len(closed) == 1 and closed[0].state == "pending"
        assert "could not reproduce" in closed[0].data["note"] and "14 days" in closed[0].data["note"]
        [entry] = [
            e for e in await events(bugline, report_id, ("status_changed",)) if e.data.get("to") == "closed"
        ]
        assert entry.public and entry.actor_type == "system"
        assert entry.data["source"] == "14-day cannot-reproduce rule"


async def test_an_answer_within_14_days_keeps_it_open_and_restarts_the_clock(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "high")
        clock.at(HOUR)
        await change(bugline, report_id, "cannot_reproduce", clock)
        clock.at(3 * DAY)
        customer = lifecycle.Source("reporter", None, via="still-broken link")
        await change(bugline, report_id, "reopened", clock, source=customer, public_note="Safari 17")
        due = await pending(bugline, report_id)
        # A new round, measured from the reopening; the closure is off.
        assert due == {
            "first_response@1": clock() + HOUR,
            "escalation:2@1": clock() + 4 * HOUR,
            "escalation:3@1": clock() + 8 * HOUR,
            "resolution@1": clock() + 8 * HOUR,
            "follow_up:2": clock() + 48 * HOUR,  # follow-ups are counted across rounds
        }
        clock.at(3 * DAY + 4 * HOUR)
        assert (await scheduler(bugline, clock).tick())["escalated"] == 1
        [(_, word)] = [
            (n, t)
            for n, a, t in await deliveries(bugline, report_id)
            if a == "escalate:escalation:2@1" and n == "desk"
        ]
        assert "still not resolved 4h after it was reopened" in word["note"] and word["level"] == "critical"
        clock.at(60 * DAY)
        assert "closed" not in await scheduler(bugline, clock).tick()
        assert (await report(bugline, report_id)).status == "reopened"


async def test_follow_ups_every_48_hours_while_open_then_stop(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "low")
        sla = scheduler(bugline, clock)
        clock.at(48 * HOUR - SECOND)
        assert "followed_up" not in await sla.tick()
        clock.at(48 * HOUR)
        assert await sla.tick() == {"followed_up": 1}
        assert await sla.tick() == {}
        assert (await pending(bugline, report_id))["follow_up:2"] == clock.start + 96 * HOUR
        clock.at(96 * HOUR)
        assert await sla.tick() == {"followed_up": 1}
        reminders = [(n, t) for n, a, t in await deliveries(bugline, report_id) if a.startswith("follow_up:")]
        # To the owner (the helpdesk holding the ticket), never the lead; no priority change.
        assert [n for n, _ in reminders] == ["desk", "desk"]
        assert all(t["level"] == "" and "Follow-up reminder" in t["note"] for _, t in reminders)
        assert [e.data["n"] for e in await events(bugline, report_id) if e.kind == "follow_up_due"] == [1, 2]

        clock.at(100 * HOUR)
        await change(bugline, report_id, "resolved", clock)
        clock.at(30 * DAY)
        assert await sla.tick() == {}
        assert (await timers(bugline, report_id))["follow_up:3"].state == "cancelled"

        # The reminder reaches the ticket as a note.
        await make_deliveries_due(bugline)
        await bugline.app.state.bugline.outbox.drain()
        assert sum("Follow-up reminder 2" in p.get("note", "") for p in desk.received) == 1


async def test_a_worker_down_for_a_week_sends_one_reminder_not_four(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "low")
        clock.at(7 * DAY + HOUR)
        assert (await scheduler(bugline, clock).tick())["followed_up"] == 1
        # The next stays on the 48-hour beat: day 8, not 48 hours after the late one.
        assert (await pending(bugline, report_id))["follow_up:2"] == clock.start + 8 * DAY


async def test_breaches_are_recorded_for_the_monthly_review(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "critical")
        sla = scheduler(bugline, clock)
        clock.at(45 * MINUTE)
        assert await sla.tick() == {"breached": 1}
        [first] = await events(bugline, report_id)
        assert first.data["target"] == "first_response" and first.data["severity"] == "critical"
        assert first.data["due_at"] == (clock.start + 30 * MINUTE).isoformat()
        assert first.data["overdue"] == 15 * 60  # seen 15 minutes late (the scheduler was behind)
        clock.at(HOUR)
        await change(bugline, report_id, "in_progress", clock)  # the team's first response
        clock.at(5 * HOUR)
        await sla.tick()
        month = clock.start.strftime("%Y-%m")

        def review(**kw: Any) -> Callable[[Connection], list[Breach]]:
            return lambda conn: breaches(conn, bugline.project.id, now=clock(), **kw)

        found = await write(bugline, review(month=month))
        assert [(b.target, b.overdue, b.open) for b in found] == [
            ("first_response", 30 * MINUTE, False),  # met at 1h: 30 minutes late
            ("resolution", HOUR, True),  # still open at 5h: an hour late so far
        ]
        clock.at(7 * HOUR)
        await change(bugline, report_id, "resolved", clock)
        found = await write(bugline, review(month=month, severity="critical"))
        assert [(b.target, b.overdue, b.open) for b in found] == [
            ("first_response", 30 * MINUTE, False),
            ("resolution", 3 * HOUR, False),
        ]
        assert summary(found) == {"critical": {"first_response": 1, "resolution": 1}}
        assert await write(bugline, review(month=month, severity="low")) == []
        other = (clock.start - 40 * DAY).strftime("%Y-%m")
        assert await write(bugline, review(month=other)) == []


async def test_the_running_loop_fires_and_stops(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "critical")
        woken: list[int] = []
        sla = scheduler(bugline, clock, interval=0.05, after=lambda: woken.append(1))
        clock.at(2 * HOUR)
        sla.start()
        try:
            for _ in range(200):
                if any(e.kind == "sla_escalated" for e in await events(bugline, report_id)):
                    break
                await asyncio.sleep(0.05)
        finally:
            await sla.stop()
        assert [e.data.get("key") for e in await events(bugline, report_id)] == [
            "first_response",
            "escalation:2",
        ]
        assert woken  # the outbox was woken for the escalation's deliveries


async def test_a_timer_whose_effects_fail_is_set_aside_and_the_others_fire(
    bugline: Bugline, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bugline.sla import scheduler as module

    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        report_id = await forwarded(bugline, clock, "critical")

        def broken(ctx: module.Ctx) -> str:
            ctx.event("sla_escalated", {"level": 2})  # written, then the failure: rolled back
            raise RuntimeError("connector table unreadable")

        monkeypatch.setattr(module, "escalate", broken)
        clock.at(2 * HOUR)
        assert await scheduler(bugline, clock).tick() == {"breached": 1, "failed": 1}
        assert await scheduler(bugline, clock).tick() == {}
        failed = (await timers(bugline, report_id))["escalation:2"]
        assert failed.state == "failed" and "connector table unreadable" in failed.data["error"]
        assert "escalation:2" in caplog.text
        # Nothing of the failed one was half-written.
        assert [e.data["key"] for e in await events(bugline, report_id)] == ["first_response"]
        assert [a for _, a, _ in await deliveries(bugline, report_id)] == ["create"]
