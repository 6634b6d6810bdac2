"""Polling the real django-helpdesk, on SQLite and PostgreSQL: a status set through its API
(a PATCH, which sends no webhook) still reaches the report and its customer; a ticket still
resolved there never undoes the customer's "still broken"; an unreachable helpdesk changes
nothing."""

from __future__ import annotations

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Ticket, utcnow
from bugline.hooks.poll import poll
from bugline.lifecycle import status as lifecycle
from tests.conftest import Bugline
from tests.hooks.conftest import HookedDesk, served
from tests.hooks.support import REPORTERS, events, notifications, statuses, submit
from tests.hooks.test_helpdesk import add_desk_connector

pytestmark = pytest.mark.anyio


def patch_status(hooked: HookedDesk, ticket_id: int, status: int) -> None:
    with hooked.desk.client() as http:
        http.patch(f"/api/tickets/{ticket_id}/", json={"status": status}).raise_for_status()


async def test_a_status_set_without_a_webhook_is_polled(bugline: Bugline, hooked_desk: HookedDesk) -> None:
    async with served(bugline.app, hooked_desk.port):  # its new-ticket webhook must find us up
        await polled(bugline, hooked_desk)


async def polled(bugline: Bugline, hooked_desk: HookedDesk) -> None:
    connector = await add_desk_connector(bugline, hooked_desk)
    report_id = await submit(bugline, REPORTERS[0])
    assert (await bugline.delivered()).get("created") == 1
    async with make_sessionmaker(bugline.engine)() as session:
        ticket = (
            await session.execute(select(Ticket).where(Ticket.connector_id == connector.id))
        ).scalar_one()
    state = bugline.app.state.bugline
    async with httpx.AsyncClient(timeout=10) as http:
        # Other tests' helpdesk tickets may be polled too: count only what this ticket can do.
        assert "changed" not in await poll(state.writer, state.readers, http)  # still Open
        await anyio.to_thread.run_sync(lambda: patch_status(hooked_desk, int(ticket.remote_id or 0), 3))
        assert (await poll(state.writer, state.readers, http)).get("changed") == 1
        assert await statuses(bugline, [report_id]) == ["resolved"]
        [change] = [
            e for e in await events(bugline, report_id, "status_changed") if e.data["to"] == "resolved"
        ]
        assert change.public and change.data["source"] == "django-helpdesk poll"
        assert [n.kind for n in await notifications(bugline, report_id)][-1] == "resolved"
        # The customer says it is still broken; the ticket is still resolved in the helpdesk:
        # polling must not resolve the report again.
        customer = lifecycle.Source("reporter", None, via="still-broken link")
        await state.writer.run(
            lambda conn: lifecycle.change(conn, [report_id], "reopened", source=customer, now=utcnow())
        )
        assert "changed" not in await poll(state.writer, state.readers, http)
        assert await statuses(bugline, [report_id]) == ["reopened"]
        # The helpdesk is down: nothing changes, nothing is lost.
        hooked_desk.desk.process.send_signal(19)  # SIGSTOP: it stops answering
        try:
            async with httpx.AsyncClient(timeout=1) as slow:
                assert (await poll(state.writer, state.readers, slow)).get("unreadable", 0) >= 1
        finally:
            hooked_desk.desk.process.send_signal(18)  # SIGCONT
        assert await statuses(bugline, [report_id]) == ["reopened"]
