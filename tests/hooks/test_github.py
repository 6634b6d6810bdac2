"""GitHub's issues webhooks through POST /hooks/{id}: bodies checked against the spec's
x-webhooks schemas, closes by reason, reopens, the cannot-reproduce label, redeliveries and
a captured body replayed under a new delivery id."""

from __future__ import annotations

from typing import Any

import pytest

from bugline.db.models import utcnow
from bugline.hooks.inbound import Event, Inbound
from bugline.hooks.vendors import vendor
from tests.conftest import Bugline
from tests.hooks import github_payloads as gh
from tests.hooks.support import Request, Step, add_connector, dumps, github_headers, group_with_ticket, run
from tests.support.vendors.openapi import SpecValidator
from tests.support.vendors.specs import spec_path

pytestmark = pytest.mark.anyio
STAMPS = iter(f"2026-01-12T09:{m:02d}:00Z" for m in range(60))


def delivery(action: str, *, repo: str = "octo-org/shop", number: int = 7, **kw: Any) -> Request:
    data = gh.event(action, number, repo, updated_at=next(STAMPS), **kw)
    errors = SpecValidator(spec_path("github"))._schema_errors(
        f"/components/schemas/webhook-issues-{action}", data, "body"
    )
    assert errors == [], errors  # shaped as GitHub's own spec says it sends it
    body = dumps(data)
    return body, github_headers(body), ""


def ping() -> Request:
    body = dumps({"zen": "Keep it logically awesome.", "hook_id": 1, "hook": {"type": "Repository"}})
    return body, github_headers(body, event="ping"), ""


async def test_github_issue_events_move_the_whole_group(bugline: Bugline) -> None:
    connector = await add_connector(bugline, "github")
    group = await group_with_ticket(bugline, connector, "octo-org/shop#7")
    replayed: list[Request] = []

    def closed_completed() -> Request:
        request = delivery("closed", state_reason="completed")
        replayed.append(request)
        return request

    def replay_with_new_delivery_id() -> Request:
        body, _, query = replayed[0]
        return body, github_headers(body), query  # a fresh X-GitHub-Delivery, same signed body

    steps = [
        Step("ping", ping, 202, None, answer={"ignored": "ping: the webhook reaches Bugline and its signature checks out"}),
        Step("an ordinary label", lambda: delivery("labeled", labels=["bug"], added="bug"), 202, None),
        Step("closed as completed", closed_completed, 200, "resolved", told="resolved",
             answer={"vendor_state": "closed/completed", "ticket": "octo-org/shop#7"}),
        Step("redelivered (same delivery id)", None, 200, None, answer={"duplicate": True}),
        Step("replayed under a new delivery id", replay_with_new_delivery_id, 200, None, answer={"duplicate": True}),
        Step("reopened", lambda: delivery("reopened", state_reason="reopened"), 200, "reopened", told="reopened"),
        Step("labelled cannot-reproduce while open",
             lambda: delivery("labeled", labels=["bug", "cannot-reproduce"], added="cannot-reproduce"),
             200, "cannot_reproduce", told="cannot_reproduce"),
        Step("closed as not planned", lambda: delivery("closed", state_reason="not_planned"), 200, "closed",
             told="closed"),
        Step("reopened, repository named in other case",
             lambda: delivery("reopened", repo="Octo-Org/Shop", state_reason="reopened"), 200, "reopened",
             told="reopened"),
        Step("closed as a duplicate: the work goes on elsewhere",
             lambda: delivery("closed", state_reason="duplicate"), 202, None),
        Step("not planned, labelled Cannot Reproduce",
             lambda: delivery("closed", state_reason="not_planned", labels=["Cannot Reproduce"]), 200,
             "cannot_reproduce", told="cannot_reproduce"),
        Step("completed wins over a forgotten label",
             lambda: delivery("closed", state_reason="completed", labels=["cannot-reproduce"]), 200, "resolved",
             told="resolved"),
        Step("an issue Bugline did not create", lambda: delivery("reopened", number=8, state_reason="reopened"),
             202, None, answer={"ignored": "unknown ticket"}),
    ]  # fmt: skip
    await run(bugline, connector, group, steps, "GitHub webhook")


def test_github_reads_what_the_spec_says_it_sends() -> None:
    body = dumps(gh.event("closed", 12, "octo-org/shop", state_reason="not_planned", labels=["works for me"]))
    hooks = vendor("github")
    assert hooks is not None
    event = hooks.read(Inbound(body, {"x-github-event": "issues", "x-github-delivery": "d-1"}, {}, utcnow()))
    assert isinstance(event, Event)
    assert (event.remote_id, event.to, event.state) == (
        "octo-org/shop#12",
        "cannot_reproduce",
        "closed/not_planned",
    )
    assert event.keys[0] == "delivery:d-1" and event.keys[1].startswith("sha256:") and event.fold_case
