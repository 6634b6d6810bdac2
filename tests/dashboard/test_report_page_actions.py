"""The report page's actions, as an agent uses them in a browser: each one lands on the
timeline and the page says so; severity changed by hand is recorded with its reason and
survives re-triage; merge and split keep group counts; forward writes deliveries; cannot
reproduce and public replies reach the customer's mailbox, internal notes never do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, update

from bugline.db.engine import make_sessionmaker
from bugline.db.models import ConnectorConfig, Delivery, DuplicateGroup, Report, ReportStatus
from tests.dashboard.conftest import Dash
from tests.dashboard.test_report_page import Page, events, report_row, triaged
from tests.integration.test_report_api import swiss_tax, unlike
from tests.notify.conftest import Mailroom, mailroom, smtp  # noqa: F401 (fixtures)
from tests.support.unread import send_spanish

pytestmark = pytest.mark.anyio


async def act(agent: Any, report_id: str, name: str, data: dict[str, Any]) -> Page:
    """POST an action, follow the redirect back to the page, return the page."""
    res = await agent.post(f"/reports/{report_id}/{name}", data)
    assert res.status_code == 303, res.text
    assert res.headers["location"].startswith(f"/reports/{report_id}?notice=")
    page = await agent.get(res.headers["location"])
    assert page.status_code == 200
    return Page(page.text)


async def test_edit_completes_a_field_and_triage_runs_again(dash: Dash) -> None:
    b = dash.bugline
    created = await triaged(b, steps="", error_text="")
    before = await report_row(b, created["id"])
    assert "steps_to_reproduce" in (before.triage or {})["completeness"]["missing"]
    alice = await dash.agent()
    page = await alice.get(f"/reports/{created['id']}")
    assert "Missing" in Page(page.text).visible
    steps = "1. Open Billing\n2. Pick March\n3. Click Export\n4. Wait 30 seconds"
    page = await act(alice, created["id"], "edit", {"steps": steps, "title": "CSV export times out"})
    assert "Saved" in page.visible and "CSV export times out" in page.visible
    after = await report_row(b, created["id"])
    assert after.steps == steps and after.title == "CSV export times out"
    assert "steps_to_reproduce" not in (after.triage or {})["completeness"]["missing"]
    assert (after.completeness or 0) > (before.completeness or 0)
    [edited] = await events(b, created["id"], "edited")
    assert edited.actor_type == "agent" and edited.data["fields"] == ["steps", "title"]
    assert edited.data["before"]["title"] == "Invoice export fails"
    assert await events(b, created["id"], "retriaged")
    assert "Fields edited: steps, title" in page.visible


async def test_an_agent_edit_of_a_report_triage_cannot_read_keeps_it_unasked(dash: Dash) -> None:
    b = dash.bugline
    rid = await send_spanish(b)
    alice = await dash.agent()
    page = await act(alice, rid, "edit", {"title": "No puedo pagar con tarjeta"})
    [again] = await events(b, rid, "retriaged")
    assert again.data["unread_language"] == "es" and again.data["missing"] == []
    assert "expected" in again.data["unchecked"]
    assert (await report_row(b, rid)).status == ReportStatus.RECEIVED  # still not sent back
    assert "Re-triaged:" in page.visible and "not asked for facts: written in Spanish" in page.visible


async def test_severity_change_is_recorded_with_its_reason_and_survives_retriage(dash: Dash) -> None:
    b = dash.bugline
    created = await triaged(b)
    engine_level = (await report_row(b, created["id"])).severity
    to = "low" if engine_level != "low" else "critical"
    alice = await dash.agent()
    page = await act(alice, created["id"], "severity", {"severity": to, "reason": "Only the staging tenant"})
    assert f"{to.capitalize()} severity" in page.visible and "Only the staging tenant" in page.visible
    [event] = [e for e in await events(b, created["id"], "severity_changed") if e.actor_type == "agent"]
    assert event.data == {"from": engine_level, "to": to, "reason": "Only the staging tenant"}
    # An edit re-triages in place: the agent's level stays, triage's own is still on record.
    await act(alice, created["id"], "edit", {"actual": "A spinner for 30 s, then 'Export failed' in red"})
    row = await report_row(b, created["id"])
    # (The edit may move triage's own level; the agent's is what the report shows.)
    assert row.severity == to != (row.triage or {})["severity"]["level"]
    # The backlog's full re-triage (as after the customer's answers) keeps it too.
    async with make_sessionmaker(b.engine)() as s, s.begin():
        await s.execute(
            update(Report)
            .where(Report.id == created["id"])
            .values(triaged_at=None, status=ReportStatus.RECEIVED)
        )
    assert await b.triaged() == 1
    assert (await report_row(b, created["id"])).severity == to
    # A duplicate from someone else grows the group: the siblings are re-scored, not this one.
    await triaged(b, reporter={"email": "bo@example.net", "account": "Other Co"})
    assert (await report_row(b, created["id"])).severity == to
    assert [e.actor_type for e in await events(b, created["id"], "severity_changed")] == ["agent"]
    # Handing it back to triage is recorded the same way.
    await act(alice, created["id"], "severity", {"severity": "auto", "reason": "Confirmed in production"})
    row = await report_row(b, created["id"])
    assert row.severity_override is None and row.severity == (row.triage or {})["severity"]["level"]
    changes = [e for e in await events(b, created["id"], "severity_changed") if e.actor_type == "agent"]
    assert [e.data["reason"] for e in changes] == ["Only the staging tenant", "Confirmed in production"]


async def test_merge_and_split_update_group_counts(dash: Dash) -> None:
    b = dash.bugline
    first = await triaged(b, **unlike("Login page stays blank", "x@example.com", "/login"))
    second = await triaged(b, **unlike("Chart bars are all grey", "y@example.org", "/charts", account="Beta"))
    alice = await dash.agent()
    page = await act(alice, second["id"], "merge", {"into": f"#{first['number']}"})
    assert "Merged" in page.visible and "2 reports from 2 people in 2 accounts" in page.visible
    group_id = (await report_row(b, first["id"])).duplicate_group_id
    assert (await report_row(b, second["id"])).duplicate_group_id == group_id
    async with make_sessionmaker(b.engine)() as s:
        group = await s.get(DuplicateGroup, group_id)
        assert group is not None and (group.report_count, group.reporter_count, group.account_count) == (
            2,
            2,
            2,
        )
    assert await events(b, first["id"], "duplicate_added")
    page = await act(alice, second["id"], "split", {})
    assert "Split" in page.visible
    async with make_sessionmaker(b.engine)() as s:
        group = await s.get(DuplicateGroup, group_id)
        assert group is not None and (group.report_count, group.reporter_count, group.account_count) == (
            1,
            1,
            1,
        )
    assert (await report_row(b, second["id"])).duplicate_group_id not in (None, group_id)
    assert [e.kind for e in await events(b, second["id"]) if e.kind in ("merged", "split")] == [
        "merged",
        "split",
    ]


async def test_the_page_suggests_the_same_problem_and_its_button_merges_it(dash: Dash) -> None:
    b = dash.bugline
    first = await triaged(
        b,
        **swiss_tax(
            "Tax missing for Swiss addresses at checkout",
            "The tax line stays empty for our Swiss address and Continue does nothing",
            "x@example.com",
            "/checkout/8812",
        ),
    )
    second = await triaged(
        b,
        **swiss_tax(
            "Checkout stuck with a Swiss delivery address",
            "No tax is calculated for Swiss addresses, so I cannot continue",
            "z@example.net",
            "/cart",
        ),
    )
    alice = await dash.agent()
    page = Page((await alice.get(f"/reports/{second['id']}")).text)
    assert "May be the same problem" in page.visible
    assert f"#{first['number']} Tax missing for Swiss addresses at checkout" in page.visible
    assert "same words: " in page.visible
    # The suggestion's own button posts its number to the merge action.
    into = [a for t, a in page.tags if t == "input" and a.get("name") == "into" and a.get("type") == "hidden"]
    assert [a["value"] for a in into] == [str(first["number"])]
    page = await act(alice, second["id"], "merge", {"into": into[0]["value"]})
    assert "Merged" in page.visible and "2 reports from 2 people" in page.visible
    assert "May be the same problem" not in page.visible  # it is a member now, not a suggestion
    assert (await report_row(b, second["id"])).duplicate_group_id == (
        await report_row(b, first["id"])
    ).duplicate_group_id


async def test_forward_now_writes_deliveries_and_the_timeline_says_so(dash: Dash) -> None:
    b = dash.bugline
    created = await triaged(b)  # no connector yet: never routed
    async with make_sessionmaker(b.engine)() as s, s.begin():
        s.add(
            ConnectorConfig(
                project_id=b.project.id,
                name="hook",
                kind="webhook",
                config={"url": "https://hooks.example.invalid/bugline", "secret": "s" * 32},
                roles=["helpdesk"],
            )
        )
    alice = await dash.agent()
    page = await act(alice, created["id"], "forward", {})
    assert "Forwarding queued" in page.visible and "Forward now: 0 retried, 1 new" in page.visible
    async with make_sessionmaker(b.engine)() as s:
        rows = list((await s.execute(select(Delivery).where(Delivery.report_id == created["id"]))).scalars())
    assert len(rows) == 1 and rows[0].state == "pending"
    # Again: nothing new to do, and the page says so instead of pretending.
    page = await act(alice, created["id"], "forward", {})
    assert "Nothing to forward" in page.visible


@pytest.fixture
async def room(mailroom: Mailroom) -> AsyncIterator[tuple[Mailroom, Dash]]:  # noqa: F811
    d = Dash(mailroom.b)
    yield mailroom, d
    for client in d.clients:
        await client.aclose()


async def test_cannot_reproduce_and_replies_reach_the_customer_notes_never_do(
    room: tuple[Mailroom, Dash],
) -> None:
    mail, dash = room
    created = await triaged(dash.bugline, reporter={"email": "cara@example.com", "name": "Cara"})
    await mail.notified()
    before = len(mail.mails_to("cara@example.com"))  # the receipt
    alice = await dash.agent()
    await act(
        alice,
        created["id"],
        "notes",
        {"text": "Internal: CFO account, handle with care", "visibility": "internal"},
    )
    await act(
        alice,
        created["id"],
        "notes",
        {"text": "We found the slow query, fix tomorrow.", "visibility": "public"},
    )
    page = await act(
        alice,
        created["id"],
        "status",
        {
            "status": "cannot_reproduce",
            "public_note": "Tried Chrome 124 on Windows 11",
            "internal_note": "tried twice",
        },
    )
    assert "→ cannot reproduce" in page.visible and "Status changed" in page.visible
    await mail.notified()
    mails = mail.mails_to("cara@example.com")[before:]
    bodies = [m.text() for m in mails]
    assert len(mails) == 2, [m.message["Subject"] for m in mails]
    assert any("We found the slow query, fix tomorrow." in t for t in bodies)
    assert any("Tried Chrome 124 on Windows 11" in t for t in bodies)
    assert not any("CFO account" in t or "tried twice" in t for t in bodies)
    # The customer's status page shows the reply and the change, never the internal words.
    token = created["status_token"]
    status_page = await dash.bugline.client.get(f"/s/{token}")
    assert "We found the slow query" in status_page.text and "CFO account" not in status_page.text
    row = await report_row(dash.bugline, created["id"])
    assert row.status == "cannot_reproduce"
