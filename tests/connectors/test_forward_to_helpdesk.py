"""End to end against the real django-helpdesk: a customer's report, with a screenshot and a
log, goes through intake, upload, triage, routing and the outbox, and appears in the helpdesk
as a ticket with its files; a duplicate adds a follow-up instead of a second ticket."""

from __future__ import annotations

from typing import Any

import pytest

from bugline.connectors import configs
from bugline.db.engine import make_sessionmaker
from tests.conftest import Bugline
from tests.integration.test_intake import headers, report_body
from tests.support.helpdesk import Helpdesk
from tests.support.media import png, upload

pytestmark = pytest.mark.anyio
LOG = b"10:22:35 ERROR export: POST /api/export -> 500\n10:22:35 ERROR TypeError: x is undefined\n"


async def add_helpdesk(b: Bugline, desk: Helpdesk) -> None:
    async with make_sessionmaker(b.engine)() as session, session.begin():
        await session.run_sync(
            lambda s: configs.add(
                s,
                b.project.id,
                "django-helpdesk",
                {"url": desk.url, "token": desk.token, "queue": str(desk.queue_id), "attachment_types": "*"},
                name="desk",
            )
        )


async def send_with_files(b: Bugline, body: dict[str, Any], files: list[tuple[str, str, str, bytes]]) -> str:
    body = {
        **body,
        "attachments": [{"name": n, "type": t, "size": len(d), "kind": k} for n, t, k, d in files],
    }
    res = await b.client.post("/api/v1/reports", json=body, headers=headers(b))
    assert res.status_code == 201, res.text
    created = res.json()
    for slot, (_, _, _, data) in zip(created["attachments"], files, strict=True):
        assert (await upload(b.client, slot, data)).status_code in (200, 201, 204)
    res = await b.client.post(
        created["finalize_url"],
        json={},
        headers=headers(b, **{"X-Bugline-Report-Token": created["status_token"]}),
    )
    assert res.status_code == 200 and res.json()["status"] == "received", res.text
    return str(created["id"])


async def test_report_with_files_becomes_a_helpdesk_ticket_and_duplicates_follow_up(
    bugline: Bugline, helpdesk: Helpdesk
) -> None:
    await add_helpdesk(bugline, helpdesk)
    before = {t["id"] for t in helpdesk.tickets()}
    shot = png(64, 48, seed=3)
    await send_with_files(
        bugline,
        report_body(),
        [("screen.png", "image/png", "screenshot", shot), ("console.log", "text/plain", "log", LOG)],
    )
    assert await bugline.delivered() == {"created": 1}
    new = [t for t in helpdesk.tickets() if t["id"] not in before]
    assert len(new) == 1
    ticket = helpdesk.get_ticket(new[0]["id"])
    assert "Invoice export fails" in ticket["title"]
    assert "A CSV download" in ticket["description"]  # the expected behaviour, from the checklist
    assert "export_timeout" in ticket["description"]
    files = {a["filename"]: helpdesk.download(a["file"]) for a in helpdesk.attachments(ticket["id"])}
    assert files.get("screen.png") == shot and files.get("console.log") == LOG
    # Another customer, same problem: a follow-up on the same ticket, no new ticket.
    await send_with_files(
        bugline,
        report_body(reporter={"id": "u-9", "email": "kim@globex.example", "account": "Globex"}),
        [],
    )
    assert await bugline.delivered() == {"updated": 1}
    assert [t["id"] for t in helpdesk.tickets() if t["id"] not in before] == [ticket["id"]]
    comments = [f["comment"] for f in helpdesk.get_ticket(ticket["id"])["followup_set"]]
    assert any("2 reports from 2 people" in (c or "") for c in comments)
