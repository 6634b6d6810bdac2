"""The whole loop with real parts, on SQLite and PostgreSQL: a customer's report submitted
through the API is forwarded to the real django-helpdesk; an agent resolves it there with a
public follow-up; the helpdesk's own webhook reaches Bugline over HTTP; the customer's
resolution email arrives at a real SMTP server with the agent's words and working links; the
"still broken" link in it reopens the report, and the helpdesk hears that on its ticket."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Ticket
from tests.hooks.conftest import HookedDesk, served
from tests.hooks.support import REPORTERS, statuses, submit
from tests.hooks.test_helpdesk import add_desk_connector
from tests.notify.conftest import html_links, plain, smtp_settings, start_mailroom
from tests.pages.support import form_token, post_form
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.anyio


async def test_resolved_in_the_helpdesk_mailed_to_the_customer_and_reopened_from_the_mail(
    db_url: str, tmp_path: Path, hooked_desk: HookedDesk
) -> None:
    with SmtpServer() as smtp:
        async for room in start_mailroom(smtp_settings(db_url, tmp_path, smtp), smtp):
            b = room.b
            async with served(b.app, hooked_desk.port):
                connector = await add_desk_connector(b, hooked_desk)
                reporter = REPORTERS[0]
                report_id = await submit(b, reporter)
                assert (await room.notified()).get("sent") == 2  # the receipt, then "passed to the team"
                receipt, escalated = room.mails_to(reporter["email"])
                assert receipt.message["Message-ID"] != escalated.message["Message-ID"]
                assert await statuses(b, [report_id]) == ["escalated"]
                async with make_sessionmaker(b.engine)() as session:
                    ticket = (
                        await session.execute(select(Ticket).where(Ticket.connector_id == connector.id))
                    ).scalar_one()
                ticket_id = int(ticket.remote_id or 0)
                assert "Invoice export fails" in hooked_desk.desk.get_ticket(ticket_id)["title"]

                # The agent resolves it in the helpdesk, with a public follow-up.
                fixed = "Fixed in release 2.4.1: exports of any size finish now."
                await anyio.to_thread.run_sync(lambda: hooked_desk.desk.resolve(ticket_id, fixed))
                assert await statuses(b, [report_id]) == ["resolved"]  # its webhook reached us
                assert await room.notified() == {"sent": 1}
                mail = room.mails_to(reporter["email"])[-1]
                text = plain(mail)
                assert fixed in text and fixed in mail.html()
                assert "Invoice export fails" in text
                links = dict((label, href) for href, label in html_links(mail.html()))
                still_broken = links["It is still broken"]
                assert still_broken in text  # the plain part carries the same link
                status_page = await b.client.get(still_broken.removesuffix("/reopen"))
                assert status_page.status_code == 200 and fixed in status_page.text

                # The customer follows "still broken": a page first (GET changes nothing), then the button.
                page = await b.client.get(still_broken)
                assert page.status_code == 200 and await statuses(b, [report_id]) == ["resolved"]
                res = await post_form(
                    b, still_broken, {"comment": "Still times out for 2023", "form_token": form_token(page)}
                )
                assert res.status_code == 200, res.text
                assert await statuses(b, [report_id]) == ["reopened"]
                # The helpdesk hears it on the same ticket; the customer hears it is open again.
                assert (await b.delivered()).get("updated") == 1
                comments = [
                    f.get("comment") or "" for f in hooked_desk.desk.get_ticket(ticket_id)["followup_set"]
                ]
                assert any("still there" in c and "2023" in c for c in comments)
                await room.notifier.drain()
                subjects = [m.message["Subject"] for m in room.mails_to(reporter["email"])]
                assert subjects[3].endswith("is open again")
                assert len(subjects) == 5 and subjects[4] == subjects[1]  # back with the team, said again
