"""GET/POST /s/{status_token}/answer on SQLite and PostgreSQL: the customer answers the triage
engine's questions, the report is triaged again and, complete now, forwarded like any report;
forged, expired and missing form tokens change nothing; bad answers come back with a message
per field and nothing typed lost; the customer's markup stays text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import DuplicateGroup, DuplicateMember, utcnow
from bugline.intake.triage import public_view
from bugline.pages import formtoken
from tests.conftest import Bugline
from tests.integration.test_intake import report_body
from tests.integration.test_outbox import add_webhook, deliveries
from tests.integration.test_triage import VAGUE
from tests.pages.support import (
    FORM,
    GOOD_ANSWERS,
    REPORTER,
    change,
    events,
    form_token,
    post_form,
    report,
    secure_page,
    submit,
)
from tests.support.vendors.receiver import FakeReceiver

pytestmark = pytest.mark.anyio


async def vague(b: Bugline) -> dict[str, Any]:
    created = await submit(b, {**VAGUE, "reporter": REPORTER})
    await b.triaged()
    assert (await report(b, created["id"])).status == "needs_info"
    return created


async def answer_page(b: Bugline, token: str) -> tuple[str, str]:
    res = await b.client.get(f"/s/{token}/answer")
    assert res.status_code == 200, res.text
    secure_page(res)
    return res.text, form_token(res)


async def unchanged(b: Bugline, report_id: str, before: Any) -> None:
    after = await report(b, report_id)
    assert (after.status, after.expected, after.steps, after.description, after.triaged_at) == (
        before.status,
        before.expected,
        before.steps,
        before.description,
        before.triaged_at,
    )
    assert not [e for e in await events(b, report_id) if e.kind == "answered"]


async def test_answers_complete_the_report_and_it_is_forwarded(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        created = await vague(bugline)
        report_id, token = created["id"], created["status_token"]
        assert await deliveries(bugline, report_id) == []
        page, token_value = await answer_page(bugline, token)
        asked = public_view(await report(bugline, report_id)) or {}
        for q in asked["questions"]:
            if q["fact"] != "evidence":  # files come through the widget, not this page
                assert str(escape(q["question"])) in page
        assert 'name="expected"' in page and 'name="steps"' in page and 'type="radio"' in page
        res = await post_form(bugline, f"/s/{token}/answer", {**GOOD_ANSWERS, "form_token": token_value})
        assert res.status_code == 200, res.text
        secure_page(res)
        assert "Thank you" in res.text and "Received" in res.text
        stored = await report(bugline, report_id)
        assert stored.status == "received" and stored.triaged_at is None  # back in the triage backlog
        assert stored.expected == GOOD_ANSWERS["expected"]
        assert stored.steps == GOOD_ANSWERS["steps"]
        assert stored.actual == "it doesn't work\n\n" + GOOD_ANSWERS["actual"]  # added, not replaced
        assert stored.frequency == "always" and stored.people_affected == "everyone"
        if "environment" in asked["missing"]:
            assert "Browser and device: Chrome 124 on Windows 11" in stored.description
        else:  # captured already (the browser sent its user agent): not asked, not taken
            assert "Chrome 124" not in stored.description
        assert await bugline.triaged() == 1
        retriaged = await report(bugline, report_id)
        assert retriaged.status == "received" and retriaged.triaged_at is not None
        assert (retriaged.completeness or 0) >= 60
        assert await bugline.delivered() == {"created": 1}
        [sent] = receiver.reports()
        assert sent["report"]["report_id"] == report_id
        assert (await report(bugline, report_id)).status == "escalated"
        timeline = await events(bugline, report_id)
        [answered] = [e for e in timeline if e.kind == "answered"]
        assert answered.public and answered.actor_type == "reporter"
        assert answered.data["answers"]["expected"] == GOOD_ANSWERS["expected"]
        moves = [(e.data.get("from"), e.data.get("to")) for e in timeline if e.kind == "status_changed"]
        assert ("needs_info", "received") in moves and ("received", "escalated") in moves
        # One group, counted once: re-triage left its old group and joined one again.
        async with make_sessionmaker(bugline.engine)() as session:
            members = (
                await session.execute(
                    select(DuplicateMember.group_id).where(DuplicateMember.report_id == report_id)
                )
            ).all()
            assert len(members) == 1 and members[0][0] == retriaged.duplicate_group_id
            group = await session.get(DuplicateGroup, retriaged.duplicate_group_id)
            assert group is not None
            counted = (
                await session.execute(select(func.count()).where(DuplicateMember.group_id == group.id))
            ).scalar_one()
            assert group.report_count == counted
        status = await bugline.client.get(f"/s/{token}")
        assert "You added details" in status.text and "Steps to reproduce" in status.text
        assert "Every time" in status.text and "With the team" in status.text
        assert "after your answers" in status.text
        # Nothing left to answer: the page says so and a second POST changes nothing.
        again = await bugline.client.get(f"/s/{token}/answer")
        assert again.status_code == 200 and "No questions right now" in again.text
        late = await post_form(bugline, f"/s/{token}/answer", {"expected": "x", "form_token": token_value})
        assert late.status_code == 409
        assert [e.kind for e in await events(bugline, report_id)].count("answered") == 1


async def test_still_incomplete_goes_back_for_the_rest(bugline: Bugline) -> None:
    created = await vague(bugline)
    _, token_value = await answer_page(bugline, created["status_token"])
    res = await post_form(
        bugline,
        f"/s/{created['status_token']}/answer",
        {"frequency": "sometimes", "form_token": token_value},
    )
    assert res.status_code == 200
    await bugline.triaged()
    stored = await report(bugline, created["id"])
    assert stored.status == "needs_info" and stored.frequency == "sometimes"
    assert "frequency" not in (public_view(stored) or {})["missing"]
    page = await bugline.client.get(f"/s/{created['status_token']}/answer")
    assert page.status_code == 200 and 'name="expected"' in page.text and 'name="frequency"' not in page.text


@pytest.mark.parametrize("kind", ["missing", "forged", "other report", "other form", "expired", "future"])
async def test_bad_form_tokens_change_nothing(bugline: Bugline, kind: str) -> None:
    created = await vague(bugline)
    other = await vague(bugline)
    report_id, token = created["id"], created["status_token"]
    before = await report(bugline, report_id)
    secret = bugline.settings.secret_key
    now = utcnow()
    tokens = {
        "forged": f"{int(now.timestamp())}.{'0' * 64}",
        "other report": formtoken.issue(secret, "answer", other["id"], now),
        "other form": formtoken.issue(secret, "reopen", report_id, now),
        "expired": formtoken.issue(secret, "answer", report_id, now - timedelta(hours=25)),
        "future": formtoken.issue(secret, "answer", report_id, now + timedelta(hours=2)),
    }
    fields = dict(GOOD_ANSWERS)
    if kind in tokens:
        fields["form_token"] = tokens[kind]
    res = await post_form(bugline, f"/s/{token}/answer", fields)
    assert res.status_code == 403
    secure_page(res)
    await unchanged(bugline, report_id, before)
    if kind == "expired":
        # A genuine but old form: shown again with everything typed, and a fresh token that works.
        assert str(escape(GOOD_ANSWERS["expected"])) in res.text
        retry = await post_form(bugline, f"/s/{token}/answer", {**fields, "form_token": form_token(res)})
        assert retry.status_code == 200
    else:
        assert GOOD_ANSWERS["expected"] not in res.text


async def test_oversized_and_invalid_answers_come_back_with_messages(bugline: Bugline) -> None:
    created = await vague(bugline)
    report_id, token = created["id"], created["status_token"]
    before = await report(bugline, report_id)
    _, token_value = await answer_page(bugline, token)
    long = "x" * 20_001
    res = await post_form(
        bugline,
        f"/s/{token}/answer",
        {**GOOD_ANSWERS, "expected": long, "frequency": "every full moon", "form_token": token_value},
    )
    assert res.status_code == 422
    secure_page(res)
    assert "20,001 characters" in res.text and "20,000 or fewer" in res.text
    assert "What you expected to happen: This answer is 20,001 characters long" in res.text  # the summary
    assert "Please choose one of the options" in res.text
    assert 'aria-invalid="true"' in res.text and 'href="#f-expected"' in res.text
    assert long in res.text  # nothing typed is lost
    assert str(escape(GOOD_ANSWERS["steps"])) in res.text
    await unchanged(bugline, report_id, before)
    empty = await post_form(bugline, f"/s/{token}/answer", {"form_token": token_value, "expected": "  "})
    assert empty.status_code == 422 and "Please answer at least one question" in empty.text
    await unchanged(bugline, report_id, before)


async def test_bodies_over_the_cap_are_refused(bugline: Bugline) -> None:
    created = await vague(bugline)
    report_id, token = created["id"], created["status_token"]
    before = await report(bugline, report_id)
    _, token_value = await answer_page(bugline, token)
    body = f"form_token={token_value}&expected=" + "y" * (1024 * 1024)
    res = await bugline.client.post(f"/s/{token}/answer", content=body.encode(), headers=FORM)
    assert res.status_code == 413 and "too long" in res.text
    wrong_type = await bugline.client.post(
        f"/s/{token}/answer", json={"form_token": token_value, "expected": "json"}
    )
    assert wrong_type.status_code == 415
    await unchanged(bugline, report_id, before)


async def test_markup_in_answers_stays_text(bugline: Bugline) -> None:
    created = await vague(bugline)
    token = created["status_token"]
    _, token_value = await answer_page(bugline, token)
    hostile = {
        "expected": "<script>alert('x')</script> a CSV download",
        "steps": '1. Open <img src=x onerror="alert(1)">\n2. Click </dd></dl><b>Export</b>',
        "environment": '"><svg onload=alert(2)> Chrome on Windows',
        "more": "{{ 7 * 7 }} {% raw %} &amp; ${7*7}",
    }
    res = await post_form(bugline, f"/s/{token}/answer", {**hostile, "form_token": token_value})
    assert res.status_code == 200
    page = (await bugline.client.get(f"/s/{token}")).text
    lowered = page.lower()
    assert "<script>alert" not in lowered and "<img src=x" not in lowered and "<svg" not in lowered
    assert "<b>export</b>" not in lowered
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "{{ 7 * 7 }} {% raw %} &amp;amp; ${7*7}" in page  # not evaluated, not unescaped


async def test_cannot_reproduce_answers_reopen_and_reach_the_ticket(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        created = await submit(bugline, report_body())
        await bugline.delivered()
        report_id, token = created["id"], created["status_token"]
        await change(bugline, report_id, "cannot_reproduce", public_note="We tried Chrome 124 on Windows.")
        status = await bugline.client.get(f"/s/{token}")
        assert "We could not reproduce it" in status.text and f"/s/{token}/answer" in status.text
        page, token_value = await answer_page(bugline, token)
        assert 'name="steps"' in page  # asked for what reproduces it
        res = await post_form(
            bugline,
            f"/s/{token}/answer",
            {"steps": "Use Firefox 125 with the Dutch locale, then export", "form_token": token_value},
        )
        assert res.status_code == 200 and "Reopened" in res.text
        assert (await report(bugline, report_id)).status == "reopened"
        assert await bugline.delivered() == {"updated": 2}  # the reopen, and the answers themselves
        notes = [p["note"] for p in receiver.received[1:]]
        assert any("still there" in n for n in notes)
        assert any("Firefox 125 with the Dutch locale" in n and "Steps to reproduce" in n for n in notes)
        assert (await report(bugline, report_id)).status == "escalated"
        actions = sorted(d.action.split(":")[0] for d in await deliveries(bugline, report_id))
        assert actions == ["answers", "create", "reopen"]


async def test_get_changes_nothing(bugline: Bugline) -> None:
    created = await vague(bugline)
    before = await report(bugline, created["id"])
    for _ in range(3):
        await bugline.client.get(f"/s/{created['status_token']}/answer")
        await bugline.client.get(f"/s/{created['status_token']}")
    await unchanged(bugline, created["id"], before)


async def test_a_duplicate_rejoins_its_group_and_comments_on_its_ticket(bugline: Bugline) -> None:
    """A vague duplicate of a forwarded report waits for its answers inside the group; once
    answered it is triaged again, lands in the same group (counted once) and, complete now,
    becomes a comment on the group's ticket rather than a second ticket."""
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        first = await submit(bugline, report_body())
        await bugline.delivered()
        context = report_body()["context"]
        created = await submit(bugline, {**VAGUE, "reporter": REPORTER, "context": context})
        await bugline.triaged()
        waiting = await report(bugline, created["id"])
        group_id = (await report(bugline, first["id"])).duplicate_group_id
        assert waiting.status == "needs_info" and waiting.duplicate_group_id == group_id
        _, token_value = await answer_page(bugline, created["status_token"])
        res = await post_form(
            bugline, f"/s/{created['status_token']}/answer", {**GOOD_ANSWERS, "form_token": token_value}
        )
        assert res.status_code == 200
        assert await bugline.delivered() == {"updated": 1}
        answered = await report(bugline, created["id"])
        assert answered.duplicate_group_id == group_id and answered.status == "escalated"
        assert [p["type"] for p in receiver.received] == ["report.forwarded", "report.duplicate"]
        async with make_sessionmaker(bugline.engine)() as session:
            group = await session.get(DuplicateGroup, group_id)
            assert group is not None and (group.report_count, group.reporter_count) == (2, 2)
