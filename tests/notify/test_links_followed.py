"""The links in the mails, followed as the customer (and the mail provider) would, on SQLite
and PostgreSQL: "still broken" from the resolution mail reopens the report and the customer
hears it is open again; the RFC 8058 one-click unsubscribe from the headers stops the next
mail; the answer link opens the answer page."""

from __future__ import annotations

import pytest

from tests.integration.test_intake import report_body
from tests.integration.test_triage import VAGUE
from tests.notify.conftest import Mailroom, html_links, plain
from tests.pages.support import form_token, post_form

pytestmark = pytest.mark.anyio


async def test_still_broken_from_the_mail_reopens_the_report(mailroom: Mailroom) -> None:
    email = "broken@example.com"
    report_id = await mailroom.submit(report_body(reporter={"id": "u-broken", "email": email, "name": "Ana"}))
    await mailroom.notified()
    await mailroom.change([report_id], "resolved", public_note="Fixed in 2.4.1")
    assert await mailroom.notified() == {"sent": 1}
    resolved = mailroom.mails_to(email)[-1]
    [link] = [h for h, text in html_links(resolved.html()) if text == "It is still broken"]
    assert link in plain(resolved)
    page = await mailroom.b.client.get(link)  # what a mail scanner's prefetch does too
    assert page.status_code == 200 and 'method="post"' in page.text
    assert (await mailroom.report(report_id)).status == "resolved"  # a GET changes nothing
    res = await post_form(
        mailroom.b, link, {"comment": "Still fails on Safari", "form_token": form_token(page)}
    )
    assert res.status_code == 200, res.text
    assert (await mailroom.report(report_id)).status == "reopened"
    assert await mailroom.notified() == {"sent": 1}
    reopened = mailroom.mails_to(email)[-1]
    assert reopened.message["Subject"].endswith("is open again")
    assert "Still fails on Safari" in plain(reopened)


async def test_one_click_unsubscribe_stops_the_next_mail(mailroom: Mailroom) -> None:
    email = "oneclick@example.com"
    report_id = await mailroom.submit(report_body(reporter={"id": "u-oneclick", "email": email}))
    await mailroom.notified()
    [receipt] = mailroom.mails_to(email)
    url = receipt.message["List-Unsubscribe"].strip("<>")
    # RFC 8058 section 3.2: the provider POSTs the header's URL with this body, no cookies.
    res = await mailroom.b.client.post(
        url,
        content=receipt.message["List-Unsubscribe-Post"],
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert res.status_code == 200, res.text
    await mailroom.change([report_id], "resolved", public_note="Fixed.")
    assert await mailroom.notified() == {"skipped": 1}
    assert mailroom.mails_to(email) == [receipt]


async def test_the_answer_link_opens_the_answer_page(mailroom: Mailroom) -> None:
    email = "answer@example.com"
    await mailroom.submit(
        {
            **VAGUE,
            "reporter": {"id": "u-answer", "email": email},
            "context": {"url": "https://app.example.com/x"},
        }
    )
    await mailroom.notified()
    [mail] = mailroom.mails_to(email)
    [link] = [h for h, text in html_links(mail.html()) if text == "Answer the questions"]
    page = await mailroom.b.client.get(link)
    assert page.status_code == 200 and 'method="post"' in page.text
