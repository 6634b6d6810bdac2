"""When timers are armed, moved and stopped, on SQLite and PostgreSQL: from receipt (or from
the customer's answers), by the project's targets, one clock per duplicate group, moved with
the severity, and never blocked by a project's broken settings."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Connection, update

from bugline.db.models import Project
from bugline.lifecycle import status as lifecycle
from bugline.sla import policy
from bugline.sla.targets import targets_for
from tests.conftest import Bugline
from tests.integration.test_intake import report_body
from tests.integration.test_outbox import add_webhook, submit
from tests.integration.test_triage import VAGUE
from tests.sla.support import (
    DAY,
    HOUR,
    MINUTE,
    change,
    deliveries,
    desk_and_lead,
    forwarded,
    new_clock,
    pending,
    report,
    scheduler,
    timers,
    write,
)
from tests.support.vendors.receiver import FakeReceiver

pytestmark = pytest.mark.anyio


async def set_project_settings(b: Bugline, settings: dict[str, object]) -> None:
    await write(
        b,
        lambda conn: conn.execute(
            update(Project).where(Project.id == b.project.id).values(settings=settings)
        ),
    )


async def test_triage_acceptance_arms_from_the_receipt_once(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    report_id = await submit(bugline, report_body())
    await bugline.triaged()  # no connector: nothing forwards it, the triage hook arms it
    r = await report(bugline, report_id)
    assert r.status == "received" and r.accepted_at is not None and r.severity is not None
    targets = targets_for({})
    start, severity = r.accepted_at, r.severity
    expected = {
        "resolution": start + targets.resolution(severity),
        "follow_up:1": start + 48 * HOUR,
        **{f"escalation:{e.level}": start + e.after for e in targets.escalations(severity)},
    }
    first_response = targets.first_response(severity)
    if first_response is not None:
        expected["first_response"] = start + first_response
    first = await pending(bugline, report_id)
    assert first == expected  # measured from the receipt, not from when triage ran

    def accept(conn: Connection) -> None:
        policy.on_accepted(
            conn,
            project_id=bugline.project.id,
            report_id=report_id,
            severity=severity,
            status="received",
            now=clock.at(5 * MINUTE),
        )

    await write(bugline, accept)  # accepted again (a retried transaction): still one round
    await change(bugline, report_id, "escalated", clock)  # and forwarding later: still one round
    assert await pending(bugline, report_id) == first


async def test_a_report_waiting_for_answers_starts_its_clock_at_the_answers(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    report_id = await submit(bugline, VAGUE)
    await bugline.triaged()
    assert (await report(bugline, report_id)).status == "needs_info"

    def accept(conn: Connection) -> None:
        policy.on_accepted(
            conn,
            project_id=bugline.project.id,
            report_id=report_id,
            severity="medium",
            status="needs_info",
            now=clock(),
        )

    await write(bugline, accept)
    assert await timers(bugline, report_id) == {}  # waiting on the customer: no clock runs
    clock.at(3 * DAY)
    customer = lifecycle.Source("reporter", None, via="answers page")
    await change(bugline, report_id, "received", clock, source=customer)
    due = await pending(bugline, report_id)
    severity = (await report(bugline, report_id)).severity
    assert due["resolution"] == clock() + targets_for({}).resolution(severity)
    assert due["follow_up:1"] == clock() + 48 * HOUR


async def test_project_targets_are_used_and_broken_ones_fall_back_to_the_defaults(
    bugline: Bugline, caplog: pytest.LogCaptureFixture
) -> None:
    clock = await new_clock(bugline)
    await set_project_settings(bugline, {"sla": {"critical": {"first_response": "15m"}}})
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        fast = await forwarded(bugline, clock, "critical")
        assert (await pending(bugline, fast))["first_response"] == clock.start + 15 * MINUTE
        await change(bugline, fast, "resolved", clock)
        await set_project_settings(bugline, {"sla": {"critical": {"first_response": "soon"}}})
        with caplog.at_level(logging.ERROR, logger="bugline.sla"):
            other = await forwarded(bugline, clock, "critical", title="Checkout button does nothing")
        # The status change went through; the SOP's 30 minutes hold; the log names the key.
        assert (await report(bugline, other)).status == "escalated"
        assert (await pending(bugline, other))["first_response"] == clock.start + 30 * MINUTE
        assert "sla.critical.first_response" in caplog.text


async def test_a_duplicate_group_runs_one_clock_and_escalates_its_ticket_once(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk, FakeReceiver() as lead:
        await desk_and_lead(bugline, desk, lead)
        first = await forwarded(bugline, clock, "critical")
        second = await forwarded(
            bugline, clock, "critical", reporter={"id": "u-7", "email": "bo@example.com", "account": "Globex"}
        )
        assert (await report(bugline, second)).duplicate_group_id == (
            await report(bugline, first)
        ).duplicate_group_id
        assert await timers(bugline, second) == {}
        clock.at(2 * HOUR)
        assert (await scheduler(bugline, clock).tick())["escalated"] == 1
        said = [
            n
            for rid in (first, second)
            for n, a, _ in await deliveries(bugline, rid)
            if a.startswith("escalate")
        ]
        assert sorted(said) == ["desk", "lead"]  # the group's one ticket, once


async def test_a_higher_severity_moves_the_pending_targets(bugline: Bugline) -> None:
    clock = await new_clock(bugline)
    async with FakeReceiver() as desk:
        await add_webhook(bugline, desk, name="desk")
        report_id = await forwarded(bugline, clock, "medium")

        async def rated(before: str, after: str) -> dict[str, object]:
            await write(
                bugline,
                lambda conn: policy.on_severity(
                    conn,
                    project_id=bugline.project.id,
                    report_id=report_id,
                    before=before,
                    after=after,
                    now=clock(),
                ),
            )
            return dict(await pending(bugline, report_id))

        clock.at(10 * MINUTE)
        due = await rated("medium", "critical")  # the duplicate group grew
        assert due == {
            "first_response": clock.start + 30 * MINUTE,
            "escalation:2": clock.start + 2 * HOUR,
            "escalation:3": clock.start + 4 * HOUR,
            "resolution": clock.start + 4 * HOUR,
            "follow_up:1": clock.start + 48 * HOUR,
        }
        due = await rated("critical", "low")
        assert due["escalation:2"] == clock.start + 14 * DAY and "escalation:3" not in due
        due = await rated("low", "critical")
        assert due["escalation:3"] == clock.start + 4 * HOUR
        clock.at(4 * HOUR)
        assert await scheduler(bugline, clock).tick() == {"breached": 2, "escalated": 2}
