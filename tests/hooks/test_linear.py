"""Linear's issue webhooks through POST /hooks/{id}: state types, the cannot-reproduce label,
updates that change no state, a retry re-signed with a new webhookTimestamp; and the fields
read exist in Linear's own schema."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest
from graphql import GraphQLObjectType

from tests.conftest import Bugline
from tests.hooks.support import (
    Request,
    Step,
    add_connector,
    dumps,
    group_with_ticket,
    linear_headers,
    now_ms,
    run,
)
from tests.support.vendors.graphql import load_schema
from tests.support.vendors.specs import spec_path

pytestmark = pytest.mark.anyio
ISSUE = "f2b1e9d8-5c4a-4f3e-9a7b-1c2d3e4f5a6b"
LABEL = {"id": "a1d5e7c9-0000-4000-8000-000000000001", "name": "Cannot reproduce", "color": "#bec2c8"}
CLOCK = itertools.count(1)
STATE_NAMES = {"backlog": "Backlog", "started": "In Progress", "completed": "Done", "canceled": "Canceled"}


def issue_update(
    state: str,
    *,
    before: dict[str, Any] | None = None,
    labels: list[dict[str, str]] | None = None,
    issue: str = ISSUE,
    kind: str = "Issue",
    updated_at: str | None = None,
) -> tuple[dict[str, Any], str]:
    stamp = updated_at or f"2026-01-12T09:{next(CLOCK):02d}:00.000Z"
    data = {
        "action": "update",
        "type": kind,
        "createdAt": stamp,
        "organizationId": "b0c3d4e5-aaaa-4bbb-8ccc-ddddeeeeffff",
        "url": "https://linear.app/acme/issue/WEB-12",
        "webhookId": "0d1e2f3a-bbbb-4ccc-8ddd-eeeeffff0000",
        "webhookTimestamp": now_ms(),
        "updatedFrom": before if before is not None else {"stateId": str(uuid.uuid4()), "updatedAt": stamp},
        "data": {
            "id": issue,
            "identifier": "WEB-12",
            "title": "[High] Invoice export fails (#1)",
            "number": 12,
            "priority": 2,
            "updatedAt": stamp,
            "url": "https://linear.app/acme/issue/WEB-12",
            "state": {"id": str(uuid.uuid4()), "name": STATE_NAMES[state], "type": state, "color": "#f2c94c"},
            "labels": labels or [],
            "labelIds": [x["id"] for x in labels or []],
        },
    }
    return data, stamp


def send(data: dict[str, Any]) -> Request:
    data = {**data, "webhookTimestamp": now_ms()}  # every send is signed at its own time
    body = dumps(data)
    return body, linear_headers(body), ""


async def test_linear_state_changes_move_the_whole_group(bugline: Bugline) -> None:
    connector = await add_connector(bugline, "linear")
    group = await group_with_ticket(bugline, connector, ISSUE)
    completed, _ = issue_update("completed")
    steps = [
        Step("a title edit: no state change", lambda: send(issue_update("started", before={"title": "x"})[0]), 202, None),
        Step("started", lambda: send(issue_update("started")[0]), 200, "in_progress"),
        Step("completed", lambda: send(completed), 200, "resolved", told="resolved",
             answer={"vendor_state": "Done (completed)", "ticket": ISSUE}),
        Step("Linear's retry: same event, new webhookTimestamp and signature", lambda: send(completed), 200, None,
             answer={"duplicate": True}),
        Step("back to the backlog: reopened", lambda: send(issue_update("backlog")[0]), 200, "reopened",
             told="reopened"),
        Step("canceled with the Cannot reproduce label", lambda: send(issue_update("canceled", labels=[LABEL])[0]),
             200, "cannot_reproduce", told="cannot_reproduce"),
        Step("canceled", lambda: send(issue_update("canceled")[0]), 200, "closed", told="closed"),
        Step("started again: reopened", lambda: send(issue_update("started")[0]), 200, "reopened", told="reopened"),
        Step("the label added while started",
             lambda: send(issue_update("started", labels=[LABEL], before={"labelIds": []})[0]),
             200, "cannot_reproduce", told="cannot_reproduce"),
        Step("a comment", lambda: send(issue_update("started", kind="Comment")[0]), 202, None),
        Step("an issue Bugline did not create", lambda: send(issue_update("completed", issue=str(uuid.uuid4()))[0]),
             202, None, answer={"ignored": "unknown ticket"}),
    ]  # fmt: skip
    await run(bugline, connector, group, steps, "Linear webhook")


def test_the_fields_read_are_in_linears_schema() -> None:
    schema = load_schema(str(spec_path("linear")))
    wanted = {
        "EntityWebhookPayload": {"action", "type", "data", "updatedFrom", "webhookId", "webhookTimestamp"},
        "IssueWebhookPayload": {"id", "identifier", "state", "labels", "labelIds", "updatedAt"},
        "WorkflowStateChildWebhookPayload": {"type", "name"},
        "IssueLabelChildWebhookPayload": {"id", "name"},
    }
    for name, fields in wanted.items():
        kind = schema.get_type(name)
        assert isinstance(kind, GraphQLObjectType), name
        assert fields <= set(kind.fields), (name, fields - set(kind.fields))
    state = schema.get_type("WorkflowState")
    assert isinstance(state, GraphQLObjectType) and "type" in state.fields
