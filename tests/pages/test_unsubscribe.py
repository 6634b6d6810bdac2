"""GET/POST /u/{token} on SQLite and PostgreSQL: the signed unsubscribe link (built by
bugline.notify.links) shows a confirm page, the page's button or an RFC 8058 one-click POST
unsubscribes, and the team sees it on the reporter's open reports."""

from __future__ import annotations

import pytest

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Reporter
from bugline.notify import links
from tests.conftest import Bugline
from tests.integration.test_intake import report_body
from tests.pages.support import events, form_token, post_form, report, secure_page, submit

pytestmark = pytest.mark.anyio


async def reporter_of(b: Bugline) -> tuple[str, str]:
    created = await submit(b, report_body())
    reporter_id = (await report(b, created["id"])).reporter_id
    assert reporter_id is not None
    return created["id"], reporter_id


async def unsubscribed(b: Bugline, reporter_id: str) -> bool:
    async with make_sessionmaker(b.engine)() as session:
        reporter = await session.get(Reporter, reporter_id)
        assert reporter is not None
        return reporter.unsubscribed


async def test_confirm_page_then_button(bugline: Bugline) -> None:
    report_id, reporter_id = await reporter_of(bugline)
    url = f"/u/{links.unsubscribe_token(bugline.settings.secret_key, reporter_id)}"
    for _ in range(2):  # a mail scanner's prefetch changes nothing
        page = await bugline.client.get(url)
        assert page.status_code == 200
        secure_page(page)
        assert "a***@example.com" in page.text and "ana@example.com" not in page.text.lower()
    assert not await unsubscribed(bugline, reporter_id)
    res = await post_form(bugline, url, {"form_token": form_token(page)})
    assert res.status_code == 200 and "You are unsubscribed" in res.text
    assert await unsubscribed(bugline, reporter_id)
    [note] = [e for e in await events(bugline, report_id) if e.kind == "unsubscribed"]
    assert note.public is False and note.data["via"] == "unsubscribe page"
    again = await bugline.client.get(url)
    assert "You are unsubscribed" in again.text


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
async def test_rfc8058_one_click(bugline: Bugline, encoding: str) -> None:
    report_id, reporter_id = await reporter_of(bugline)
    url = f"/u/{links.unsubscribe_token(bugline.settings.secret_key, reporter_id)}"
    if encoding == "urlencoded":
        res = await post_form(bugline, url, {"List-Unsubscribe": "One-Click"})
    else:
        boundary = "b0undary42"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
            f"One-Click\r\n--{boundary}--\r\n"
        ).encode()
        res = await bugline.client.post(
            url, content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
    assert res.status_code == 200, res.text
    assert await unsubscribed(bugline, reporter_id)
    [note] = [e for e in await events(bugline, report_id) if e.kind == "unsubscribed"]
    assert "one-click" in note.data["via"]
    # Repeats (mail clients retry) are harmless and recorded once.
    assert (await post_form(bugline, url, {"List-Unsubscribe": "One-Click"})).status_code == 200
    assert [e.kind for e in await events(bugline, report_id)].count("unsubscribed") == 1


async def test_a_post_without_either_token_changes_nothing(bugline: Bugline) -> None:
    _, reporter_id = await reporter_of(bugline)
    url = f"/u/{links.unsubscribe_token(bugline.settings.secret_key, reporter_id)}"
    for fields in ({}, {"List-Unsubscribe": "Two-Clicks"}, {"form_token": "123.abc"}):
        res = await post_form(bugline, url, fields)
        assert res.status_code == 403
    assert not await unsubscribed(bugline, reporter_id)


async def test_tampered_links_find_nothing(bugline: Bugline) -> None:
    _, reporter_id = await reporter_of(bugline)
    good = links.unsubscribe_token(bugline.settings.secret_key, reporter_id)
    rid, _, mac = good.rpartition(".")
    baseline = await bugline.client.get("/s/" + "B" * 43)
    for token in (
        f"{rid}.{'0' * 64}",
        f"{rid}.{mac[:-1]}",
        f"{rid[:-1]}x.{mac}",
        links.unsubscribe_token("another-installations-secret-0123456789", reporter_id),
        links.unsubscribe_token(bugline.settings.secret_key, "0" * 32),  # genuine, but nobody
        mac,
    ):
        res = await bugline.client.get(f"/u/{token}")
        assert res.status_code == 404 and res.text == baseline.text
        post = await post_form(bugline, f"/u/{token}", {"List-Unsubscribe": "One-Click"})
        assert post.status_code == 404
    assert not await unsubscribed(bugline, reporter_id)
