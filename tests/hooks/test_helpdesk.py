"""End to end with the real django-helpdesk: reports forwarded through the outbox, the ticket
resolved there by an agent's public follow-up, the helpdesk's own webhook reaching Bugline over
HTTP, Bugline reading the ticket back, and every reporter of the group told, with the public
note and never the private one."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import pytest
from sqlalchemy import delete, insert, select

from bugline.connectors.djangohelpdesk import DjangoHelpdeskConnector
from bugline.db.engine import make_sessionmaker
from bugline.db.models import ConnectorConfig, HookDelivery, Ticket
from tests.conftest import Bugline
from tests.hooks.conftest import HookedDesk, served
from tests.hooks.support import REPORTERS, SECRET, dumps, events, notifications, post, statuses, submit

pytestmark = pytest.mark.anyio


async def add_desk_connector(b: Bugline, hooked: HookedDesk) -> ConnectorConfig:
    config = DjangoHelpdeskConnector.validate(
        {
            "url": hooked.desk.url,
            "token": hooked.desk.token,
            "queue": hooked.desk.queue_id,
            "webhook_secret": SECRET,
        }
    )
    values = {
        "id": hooked.connector_id,
        "project_id": b.project.id,
        "name": "desk",
        "kind": "django-helpdesk",
    }

    def write(conn: Any) -> None:
        # The helpdesk's webhook URL names one connector id for the whole session; a test that
        # ran before on this database left its connector (and its tickets) under that id.
        conn.execute(delete(ConnectorConfig).where(ConnectorConfig.id == hooked.connector_id))
        conn.execute(
            insert(ConnectorConfig).values(**values, config=config, roles=["helpdesk"], enabled=True)
        )

    await b.app.state.bugline.writer.run(write)
    async with make_sessionmaker(b.engine)() as session:
        row = await session.get(ConnectorConfig, hooked.connector_id)
    assert row is not None
    return row


def followup(
    hooked: HookedDesk, ticket_id: int, comment: str, *, public: bool, status: int | None
) -> dict[str, Any]:
    """What an agent does in the helpdesk: a follow-up, public or private, maybe a new status."""
    body: dict[str, Any] = {"ticket": ticket_id, "comment": comment, "public": public}
    if status is not None:
        body["new_status"] = status
    with hooked.desk.client() as http:
        response = http.post("/api/followups/", json=body)
    response.raise_for_status()  # a 500 here would mean its webhook to Bugline failed
    data: dict[str, Any] = response.json()
    return data


async def test_resolved_in_the_real_helpdesk_reaches_every_reporter(
    bugline: Bugline, hooked_desk: HookedDesk
) -> None:
    async with served(bugline.app, hooked_desk.port):
        connector = await add_desk_connector(bugline, hooked_desk)
        reports = []
        for reporter in REPORTERS:  # two customers, one problem: one ticket, then a follow-up
            reports.append(await submit(bugline, reporter))
            outcome = await bugline.delivered()
            assert outcome.get("failed", 0) == 0, outcome
        async with make_sessionmaker(bugline.engine)() as session:
            ticket = (
                await session.execute(select(Ticket).where(Ticket.connector_id == connector.id))
            ).scalar_one()
        ticket_id = int(ticket.remote_id or 0)
        assert await statuses(bugline, reports) == ["escalated", "escalated"]

        # An internal comment: a follow-up like any other for the helpdesk's webhook, no status change.
        await anyio.to_thread.run_sync(
            lambda: followup(
                hooked_desk, ticket_id, "Looking at the exporter now.", public=False, status=None
            )
        )
        assert await statuses(bugline, reports) == ["escalated", "escalated"]

        fixed = "Fixed in release 2.4.1: the export no longer times out. Please try again."
        resolved = await anyio.to_thread.run_sync(lambda: hooked_desk.desk.resolve(ticket_id, fixed))
        assert await statuses(bugline, reports) == ["resolved", "resolved"]
        for report_id in reports:
            [told] = [n for n in await notifications(bugline, report_id) if n.kind == "resolved"]
            assert told.data["note"] == fixed and told.state == "pending"
            change = (await events(bugline, report_id, "status_changed"))[-1]
            assert change.public and change.data["source"] == "django-helpdesk webhook"
            assert change.data["note"] == fixed and change.actor == "desk"

        # Closed with a private follow-up: the customers hear it is closed, never the private words.
        secret_words = "Root cause: cache key collision in exporter (do not share)"
        await anyio.to_thread.run_sync(
            lambda: followup(hooked_desk, ticket_id, secret_words, public=False, status=4)
        )
        assert await statuses(bugline, reports) == ["closed", "closed"]
        for report_id in reports:
            closing = [n for n in await notifications(bugline, report_id) if n.kind == "closed"]
            assert len(closing) == 1 and closing[0].data.get("note", "") == ""
            everything = await events(bugline, report_id)
            assert all(secret_words not in str(n.data) for n in await notifications(bugline, report_id))
            assert all(secret_words not in str(e.data) for e in everything if e.public)
            assert [e.data["note"] for e in everything if e.kind == "note" and not e.public] == [secret_words]

        # The resolution's webhook delivered again (a proxy's retry, a replay): nothing changes.
        again = dumps(
            {"ticket": {"id": ticket_id, "status": 3}, "queue_slug": "bugs", "followup_id": resolved["id"]}
        )
        repeat = await post(
            bugline, connector.id, again, {"Content-Type": "application/json"}, f"?secret={SECRET}"
        )
        assert repeat.json() == {"duplicate": True}
        forged = await post(
            bugline, connector.id, again, {"Content-Type": "application/json"}, "?secret=guess"
        )
        assert forged.status_code == 401
        assert await statuses(bugline, reports) == ["closed", "closed"]
        async with make_sessionmaker(bugline.engine)() as session:
            keys = set((await session.execute(select(HookDelivery.delivery_key))).scalars())
        assert f"followup:{resolved['id']}" in keys
