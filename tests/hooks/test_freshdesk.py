"""Freshdesk's automation webhooks through POST /hooks/{id}: the shared secret, then the ticket
read back from (fake, schema-checked) Freshdesk decides; resolve, reopen and resolve again with
the same body; a vendor that cannot be read answers 503 and changes nothing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.conftest import Bugline
from tests.hooks.support import (
    Request,
    Step,
    add_connector,
    dumps,
    group_with_ticket,
    post,
    run,
    shared_headers,
    statuses,
)
from tests.support.vendors.freshdesk import API_KEY, FakeFreshdesk
from tests.support.vendors.server import Fault

pytestmark = pytest.mark.anyio
TICKET = 501
CLOCK = itertools.count(1)


def webhook(ticket: int = TICKET, comment: str = "") -> Request:
    """The body of the documented template (bugline/hooks/freshdesk.py), "simple" mode."""
    fields: dict[str, Any] = {"ticket_id": ticket, "ticket_latest_public_comment": comment}
    return dumps({"freshdesk_webhook": fields}), shared_headers(), ""


async def test_freshdesk_status_is_read_back_and_moves_the_whole_group(bugline: Bugline) -> None:
    async with FakeFreshdesk() as desk:
        connector = await add_connector(bugline, "freshdesk", extra={"url": desk.url, "api_key": API_KEY})
        group = await group_with_ticket(bugline, connector, str(TICKET))
        desk.tickets[TICKET] = {
            "id": TICKET,
            "subject": "x",
            "status": 2,
            "tags": ["bugline"],
            "updated_at": "",
        }

        def ticket(status: int, tags: tuple[str, ...] = ("bugline",)) -> Any:
            def change() -> None:
                desk.tickets[TICKET] |= {
                    "status": status,
                    "tags": list(tags),
                    "updated_at": f"2026-01-12T09:{next(CLOCK):02d}:00Z",
                }

            return change

        fixed = "Fixed in 2.4.1"
        steps = [
            Step("open: nothing new", webhook, 200, "escalated", prepare=ticket(2)),
            Step("pending", webhook, 200, "in_progress", prepare=ticket(3)),
            # The body says nothing about the status: what Freshdesk says when asked decides.
            Step("resolved", lambda: webhook(comment=fixed), 200, "resolved", told="resolved", note=fixed,
                 prepare=ticket(4), answer={"vendor_state": "Resolved"}),
            Step("the same delivery again, ticket unchanged", None, 200, None, answer={"duplicate": True}),
            Step("open again: reopened", webhook, 200, "reopened", told="reopened", prepare=ticket(2)),
            Step("resolved again, the very same body as before", lambda: webhook(comment=fixed), 200, "resolved",
                 told="resolved", note=fixed, prepare=ticket(4)),
            Step("resolved with the cannot-reproduce tag", webhook, 200, "cannot_reproduce", told="cannot_reproduce",
                 prepare=ticket(4, ("bugline", "Cannot Reproduce"))),
            Step("a custom status", webhook, 202, None, prepare=ticket(6)),
            Step("closed", webhook, 200, "closed", told="closed", prepare=ticket(5)),
            Step("a ticket Bugline did not create", lambda: webhook(ticket=999), 202, None,
                 answer={"ignored": "unknown ticket"}),
        ]  # fmt: skip
        await run(bugline, connector, group, steps, "Freshdesk webhook")
        reads = desk.to("GET", f"/api/v2/tickets/{TICKET}")
        assert len(reads) == 9 and desk.invalid == []


async def test_freshdesk_that_cannot_be_read_back_changes_nothing(bugline: Bugline) -> None:
    async with FakeFreshdesk() as desk:
        connector = await add_connector(bugline, "freshdesk", extra={"url": desk.url, "api_key": API_KEY})
        group = await group_with_ticket(bugline, connector, str(TICKET))
        desk.tickets[TICKET] = {"id": TICKET, "status": 4, "tags": [], "updated_at": "2026-01-12T10:00:00Z"}
        desk.script(Fault.status(500))
        body, headers, _ = webhook()
        down = await post(bugline, connector.id, body, headers)
        assert down.status_code == 503 and down.headers["retry-after"] == "60"
        assert "could not read the ticket back" in down.json()["error"]["message"]
        assert await statuses(bugline, group.reports) == ["escalated", "escalated"]
        steps = [
            Step("delivered again once Freshdesk answers", webhook, 200, "resolved", told="resolved"),
            Step("a ticket deleted in Freshdesk", webhook, 202, None,
                 prepare=lambda: desk.tickets.clear(), answer={"ignored": "the ticket no longer exists in Freshdesk"}),
        ]  # fmt: skip
        await run(bugline, connector, group, steps, "Freshdesk webhook")
        # A body forged by someone without the secret never reaches Freshdesk at all.
        before = len(desk.requests)
        forged = await post(bugline, connector.id, body, shared_headers("x" * 40))
        assert forged.status_code == 401 and len(desk.requests) == before
        assert desk.invalid == []
