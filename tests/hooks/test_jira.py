"""Jira's issue-updated webhooks through POST /hooks/{id}: status categories, resolutions, the
cannot-reproduce label, updates that change no status (Bugline's own notes), repeats."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.conftest import Bugline
from tests.hooks.support import Request, Step, add_connector, dumps, group_with_ticket, jira_headers, run

pytestmark = pytest.mark.anyio
CLOCK = itertools.count(1768210000000, 60000)
CATEGORY = {
    "To Do": ("new", "To Do"),
    "In Progress": ("indeterminate", "In Progress"),
    "Done": ("done", "Done"),
}


def updated(
    status: str,
    *,
    resolution: str | None = None,
    labels: list[str] | None = None,
    changed: list[dict[str, Any]] | None = None,
    key: str = "WEB-12",
    event: str = "jira:issue_updated",
) -> Request:
    category, name = CATEGORY[status]
    items = changed if changed is not None else [{"field": "status", "fieldtype": "jira", "toString": name}]
    body = dumps(
        {
            "timestamp": next(CLOCK),
            "webhookEvent": event,
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Dev One"},
            "issue": {
                "id": "10012",
                "key": key,
                "self": "https://acme.atlassian.net/rest/api/3/issue/10012",
                "fields": {
                    "summary": "[High] Invoice export fails (#1)",
                    "labels": labels or ["bugline", "severity:high"],
                    "status": {"name": name, "id": "3", "statusCategory": {"id": 4, "key": category}},
                    "resolution": {"name": resolution, "id": "10000"} if resolution else None,
                },
            },
            "changelog": {"id": "10100", "items": items},
        }
    )
    return body, jira_headers(body), ""


async def test_jira_updates_move_the_whole_group(bugline: Bugline) -> None:
    connector = await add_connector(bugline, "jira")
    group = await group_with_ticket(bugline, connector, "WEB-12")
    attachment = [{"field": "Attachment", "fieldtype": "jira", "toString": "bugline-update.txt"}]
    steps = [
        Step("Bugline's own attachment on a Done issue: no status change",
             lambda: updated("Done", resolution="Done", changed=attachment), 202, None),
        Step("In Progress", lambda: updated("In Progress"), 200, "in_progress"),
        Step("Done, resolution Done", lambda: updated("Done", resolution="Done"), 200, "resolved", told="resolved",
             answer={"vendor_state": "Done/done", "ticket": "WEB-12"}),
        Step("the same delivery again", None, 200, None, answer={"duplicate": True}),
        Step("back to To Do: reopened", lambda: updated("To Do"), 200, "reopened", told="reopened"),
        Step("Done, resolution Cannot Reproduce", lambda: updated("Done", resolution="Cannot Reproduce"), 200,
             "cannot_reproduce", told="cannot_reproduce"),
        Step("Done, resolution Won't Do", lambda: updated("Done", resolution="Won't Do"), 200, "closed",
             told="closed"),
        Step("In Progress after done: reopened", lambda: updated("In Progress"), 200, "reopened", told="reopened"),
        Step("a cannot-reproduce label added",
             lambda: updated("In Progress", labels=["bugline", "cannot-reproduce"],
                             changed=[{"field": "labels", "fromString": "bugline", "toString": "bugline cannot-reproduce"}]),
             200, "cannot_reproduce", told="cannot_reproduce"),
        Step("Done, resolution Duplicate: the work goes on elsewhere",
             lambda: updated("Done", resolution="Duplicate"), 202, None),
        Step("issue deleted", lambda: updated("Done", event="jira:issue_deleted"), 202, None),
        Step("an issue Bugline did not create", lambda: updated("Done", resolution="Done", key="WEB-99"), 202, None,
             answer={"ignored": "unknown ticket"}),
    ]  # fmt: skip
    await run(bugline, connector, group, steps, "Jira webhook")
