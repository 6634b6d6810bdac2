"""Slack status buttons through POST /hooks/{id}: a block_actions press signed with v0,
the status it sets for the whole group, a repeat, a stale press, other buttons."""

from __future__ import annotations

import itertools
import time
from urllib.parse import urlencode

import pytest

from tests.conftest import Bugline
from tests.hooks.support import Request, Step, add_connector, dumps, group_with_ticket, run, slack_headers

pytestmark = pytest.mark.anyio
CHANNEL, TS = "C0123456789", "1768210000.000100"
TRIGGERS = itertools.count(1)


def press(
    value: str, *, action_id: str = "bugline_status_resolved", ts: str = TS, at: float | None = None
) -> Request:
    n = next(TRIGGERS)
    payload = {
        "type": "block_actions",
        "team": {"id": "T0CAG", "domain": "acme"},
        "user": {"id": "U0CA5", "username": "dev.one", "name": "dev.one", "team_id": "T0CAG"},
        "api_app_id": "A0CA5",
        "token": "verification-token-deprecated",
        "container": {"type": "message", "message_ts": ts, "channel_id": CHANNEL, "is_ephemeral": False},
        "trigger_id": f"13345224609.738474920.8088930838d88f008e0{n}",
        "channel": {"id": CHANNEL, "name": "bugs"},
        "message": {"type": "message", "ts": ts, "text": "[High] Invoice export fails"},
        "response_url": "https://hooks.slack.com/actions/T0CAG/1/x",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "bugline_status",
                "value": value,
                "type": "button",
                "action_ts": f"1768210{n:03d}.000200",
                "text": {"type": "plain_text", "text": value},
            }
        ],
    }
    body = urlencode({"payload": dumps(payload).decode()}).encode()
    return body, slack_headers(body, at=at), ""


async def test_slack_buttons_move_the_whole_group(bugline: Bugline) -> None:
    connector = await add_connector(bugline, "slack")
    group = await group_with_ticket(bugline, connector, f"{CHANNEL}:{TS}")
    steps = [
        Step("in progress", lambda: press("in_progress"), 200, "in_progress"),
        Step("resolved", lambda: press("resolved"), 200, "resolved", told="resolved",
             answer={"ticket": f"{CHANNEL}:{TS}", "status": "resolved"}),
        Step("the same press delivered twice", None, 200, None, answer={"duplicate": True}),
        Step("still broken", lambda: press("reopened"), 200, "reopened", told="reopened"),
        Step("cannot reproduce", lambda: press("cannot_reproduce"), 200, "cannot_reproduce", told="cannot_reproduce"),
        Step("a press six minutes old", lambda: press("closed", at=time.time() - 360), 401, None),
        Step("another app's button", lambda: press("closed", action_id="approve"), 202, None),
        Step("a value Bugline does not set", lambda: press("escalated"), 202, None),
        Step("closed", lambda: press("closed"), 200, "closed", told="closed"),
        Step("an alert Bugline did not post", lambda: press("resolved", ts="1.2"), 202, None,
             answer={"ignored": "unknown ticket"}),
    ]  # fmt: skip
    await run(bugline, connector, group, steps, "Slack button")
