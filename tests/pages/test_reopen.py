"""GET/POST /s/{status_token}/reopen, "still broken", on SQLite and PostgreSQL: GET only shows
what will happen (mail scanners fetch every link), POST with the page's form token reopens a
resolved report and the team's ticket hears it; anything not resolved is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bugline.db.models import utcnow
from bugline.pages import formtoken
from tests.conftest import Bugline
from tests.integration.test_intake import report_body
from tests.integration.test_outbox import add_webhook
from tests.pages.support import change, events, form_token, post_form, report, secure_page, submit
from tests.support.vendors.receiver import FakeReceiver

pytestmark = pytest.mark.anyio


async def test_still_broken_reopens_and_tells_the_ticket(bugline: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(bugline, receiver)
        created = await submit(bugline, report_body())
        await bugline.delivered()
        report_id, token = created["id"], created["status_token"]
        await change(bugline, report_id, "resolved", public_note="Fixed in 2.4.1")
        status = await bugline.client.get(f"/s/{token}")
        assert "Fixed" in status.text and f'href="/s/{token}/reopen"' in status.text
        for _ in range(3):  # a mail scanner's prefetch, the customer's click, a reload
            page = await bugline.client.get(f"/s/{token}/reopen")
            assert page.status_code == 200
            secure_page(page)
            assert "Nothing changes until you press it" in page.text and 'method="post"' in page.text
        assert (await report(bugline, report_id)).status == "resolved"
        res = await post_form(
            bugline,
            f"/s/{token}/reopen",
            {"comment": "Still fails on <b>Safari</b> 17", "form_token": form_token(page)},
        )
        assert res.status_code == 200, res.text
        secure_page(res)
        assert "We reopened your report" in res.text
        assert (await report(bugline, report_id)).status == "reopened"
        [moved] = [e for e in await events(bugline, report_id) if e.data.get("to") == "reopened"]
        assert moved.public and moved.actor_type == "reporter"
        assert (
            moved.data["source"] == "still-broken link"
            and moved.data["note"] == "Still fails on <b>Safari</b> 17"
        )
        assert await bugline.delivered() == {"updated": 1}
        said = receiver.received[-1]
        assert said["ticket"]["id"] == "T-1" and "still there" in said["note"] and "Safari" in said["note"]
        timeline = (await bugline.client.get(f"/s/{token}")).text
        assert "Your comment" in timeline and "Still fails on &lt;b&gt;Safari&lt;/b&gt; 17" in timeline
        assert "Reopened" in timeline and "by you" in timeline
        # Sending the same form again changes nothing more.
        again = await post_form(bugline, f"/s/{token}/reopen", {"form_token": form_token(page)})
        assert again.status_code == 409 and "Nothing to reopen" in again.text
        assert [e.data.get("to") for e in await events(bugline, report_id)].count("reopened") == 1


async def test_only_a_fixed_report_can_be_reopened(bugline: Bugline) -> None:
    created = await submit(bugline, report_body())
    await bugline.triaged()
    report_id, token = created["id"], created["status_token"]
    page = await bugline.client.get(f"/s/{token}/reopen")
    assert page.status_code == 200 and "Nothing to reopen" in page.text and 'method="post"' not in page.text
    token_value = formtoken.issue(bugline.settings.secret_key, "reopen", report_id, utcnow())
    res = await post_form(bugline, f"/s/{token}/reopen", {"form_token": token_value})
    assert res.status_code == 409 and "Nothing was changed" in res.text
    assert (await report(bugline, report_id)).status == "received"
    assert not [e for e in await events(bugline, report_id) if e.data.get("to") == "reopened"]


@pytest.mark.parametrize("kind", ["missing", "forged", "other form", "expired"])
async def test_bad_form_tokens_reopen_nothing(bugline: Bugline, kind: str) -> None:
    created = await submit(bugline, report_body())
    await bugline.triaged()
    report_id, token = created["id"], created["status_token"]
    await change(bugline, report_id, "resolved")
    secret, now = bugline.settings.secret_key, utcnow()
    fields = {"comment": "still broken"}
    if kind == "forged":
        fields["form_token"] = f"{int(now.timestamp())}.{'f' * 64}"
    elif kind == "other form":
        fields["form_token"] = formtoken.issue(secret, "answer", report_id, now)
    elif kind == "expired":
        fields["form_token"] = formtoken.issue(secret, "reopen", report_id, now - timedelta(days=2))
    res = await post_form(bugline, f"/s/{token}/reopen", fields)
    assert res.status_code == 403
    assert (await report(bugline, report_id)).status == "resolved"
    if kind == "expired":
        assert "still broken" in res.text and 'name="form_token"' in res.text  # shown again, kept


async def test_a_long_comment_comes_back_with_a_message(bugline: Bugline) -> None:
    created = await submit(bugline, report_body())
    await bugline.triaged()
    report_id, token = created["id"], created["status_token"]
    await change(bugline, report_id, "closed")
    page = await bugline.client.get(f"/s/{token}/reopen")
    comment = "z" * 2_001
    res = await post_form(bugline, f"/s/{token}/reopen", {"comment": comment, "form_token": form_token(page)})
    assert res.status_code == 422 and "2,001 characters" in res.text and comment in res.text
    assert (await report(bugline, report_id)).status == "closed"
    ok = await post_form(bugline, f"/s/{token}/reopen", {"comment": "", "form_token": form_token(res)})
    assert ok.status_code == 200
    assert (await report(bugline, report_id)).status == "reopened"
