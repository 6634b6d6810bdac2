"""Zendesk's status webhooks through POST /hooks/{id}: trigger and event-subscription bodies,
each state's meaning for every report of the ticket's duplicate group, repeats, replays."""

from __future__ import annotations

import time
import uuid
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
    zendesk_headers,
)

pytestmark = pytest.mark.anyio
TICKET = "35436"


def trigger(
    status: str, *, tags: str = "bugline severity:high", comment: str = "", ticket: str = TICKET
) -> Request:
    """The body a trigger sends with the template in bugline/hooks/zendesk.py."""
    fields: dict[str, Any] = {"id": ticket, "status": status, "tags": tags}
    fields["latest_public_comment"] = comment
    body = dumps({"ticket": fields})
    return body, zendesk_headers(body), ""


def status_changed(current: str, previous: str) -> Request:
    """An event-subscribed webhook's body (zen:event-type:ticket.status_changed)."""
    body = dumps(
        {
            "account_id": 22129848,
            "detail": {"id": TICKET, "status": current, "subject": "[High] Invoice export fails"},
            "event": {"current": current, "previous": previous},
            "id": str(uuid.uuid4()),
            "subject": f"zen:ticket:{TICKET}",
            "time": "2026-01-12T09:30:00Z",
            "type": "zen:event-type:ticket.status_changed",
            "zendesk_event_version": "2022-11-06",
        }
    )
    return body, zendesk_headers(body), ""


async def test_zendesk_states_move_the_whole_group(bugline: Bugline) -> None:
    connector = await add_connector(bugline, "zendesk")
    group = await group_with_ticket(bugline, connector, TICKET)
    fixed = "We fixed the export in release 2.4.1. Please try again."
    steps = [
        Step("new: nothing new", lambda: trigger("New"), 200, "escalated", answer={"changed": 0}),
        Step("open: an agent has it", lambda: trigger("Open"), 200, "in_progress", answer={"changed": 2}),
        Step("pending: still handled", lambda: trigger("Pending"), 200, "in_progress"),
        Step("hold: still handled", lambda: trigger("Hold"), 200, "in_progress"),
        Step(
            "solved with a public comment",
            lambda: trigger("Solved", comment=fixed),
            200,
            "resolved",
            told="resolved",
            note=fixed,
            answer={"vendor_state": "solved", "status": "resolved", "reports": 2, "changed": 2},
        ),
        Step("the same delivery again", None, 200, None, answer={"duplicate": True}),
        Step("reopened (event webhook)", lambda: status_changed("OPEN", "SOLVED"), 200, "reopened", told="reopened"),
        Step(
            "solved with the cannot-reproduce tag",
            lambda: trigger("Solved", tags="bugline cannot_reproduce"),
            200,
            "cannot_reproduce",
            told="cannot_reproduce",
        ),
        Step("closed", lambda: trigger("Closed"), 200, "closed", told="closed"),
        Step("deleted: not a status Bugline maps", lambda: trigger("Deleted"), 202, None),
        Step(
            "another event type",
            lambda: (lambda b: (b, zendesk_headers(b), ""))(dumps({"type": "zen:event-type:ticket.created"})),
            202,
            None,
        ),
        Step("a ticket Bugline did not create", lambda: trigger("Solved", ticket="99"), 202, None,
             answer={"ignored": "unknown ticket"}),
    ]  # fmt: skip
    await run(bugline, connector, group, steps, "Zendesk webhook")


async def test_zendesk_replay_with_a_new_invocation_id_or_an_old_timestamp_changes_nothing(
    bugline: Bugline,
) -> None:
    connector = await add_connector(bugline, "zendesk")
    group = await group_with_ticket(bugline, connector, TICKET)
    body, hdrs, _ = trigger("Solved", comment="Fixed")
    assert (await post(bugline, connector.id, body, hdrs)).json()["changed"] == 2
    await run(
        bugline,
        connector,
        group,
        [
            # Captured and sent again under another invocation id: the signed timestamp+body repeats.
            Step("replayed, new invocation id", lambda: (body, hdrs | {"X-Zendesk-Webhook-Invocation-Id": "1"}, ""),
                 200, None, answer={"duplicate": True}),
            Step("replayed ten minutes later", lambda: (body, zendesk_headers(body, at=time.time() - 600), ""),
                 401, None),
        ],
        "Zendesk webhook",
    )  # fmt: skip
    res = await post(bugline, connector.id, body, zendesk_headers(body, at=time.time() - 600))
    assert res.json()["error"]["code"] == "webhook_rejected" and "stale" in res.json()["error"]["message"]
