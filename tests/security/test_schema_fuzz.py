"""Generated requests (schemathesis) against every operation in /openapi.json: the public intake
API, the reporter's status API, the agent API, hooks, health and metrics.

Three kinds of run per operation: valid data aimed at real ids with real credentials (so the
handlers' logic runs, not just the 404 in front of it), invalid data aimed the same way, and
invalid data with nothing real at all. Every answer must be a documented status (never a 5xx)
with a body, content type and headers as documented; invalid data must be refused with a 4xx.
"""

from __future__ import annotations

import pytest

from tests.conftest import ORIGIN, Bugline
from tests.integration.test_agent_api import auth, hook, token_for
from tests.security.fuzz import EXAMPLES, SOAK, Known, fuzz
from tests.support.media import png

pytestmark = pytest.mark.anyio


async def known_values(b: Bugline) -> Known:
    bearer = await token_for(b, "admin")
    image = png()
    created = await b.client.post(
        "/api/v1/reports",
        headers={"X-Bugline-Key": b.key, "Origin": ORIGIN},
        json={
            "actual": "The export button does nothing",
            "attachments": [{"name": "a.png", "type": "image/png", "size": len(image)}],
        },
    )
    assert created.status_code == 201, created.text
    report = created.json()
    added = await b.client.post(
        f"/api/v1/projects/{b.project.id}/connectors",
        json=hook("https://hooks.example"),
        headers=auth(bearer),
    )
    assert added.status_code == 201, added.text
    return Known(
        path={
            "project_id": b.project.id,
            "report_id": report["id"],
            "attachment_id": report["attachments"][0]["id"],
            "token": report["status_token"],
            "connector_id": "hook",
        },
        headers={"X-Bugline-Report-Token": report["status_token"]},
        bearer=bearer,
        project_key=b.key,
        hook_id=added.json()["id"],
    )


async def test_generated_requests_get_documented_answers_and_never_a_5xx(bugline: Bugline) -> None:
    doc = (await bugline.client.get("/openapi.json")).json()
    tally = await fuzz(bugline.app, doc, await known_values(bugline))
    print(
        f"\nschemathesis: {tally.sent} requests sent ({tally.unsendable} not sendable), "
        f"{EXAMPLES} examples per operation and run, soak={SOAK}, statuses {dict(sorted(tally.statuses.items()))}"
    )
    assert not tally.failures, f"{len(tally.failures)} failures:\n\n" + "\n\n".join(tally.failures[:15])
    # The aimed runs reached the handlers' logic: the public API and the agent API both
    # answered successes, not only the refusals in front of them.
    reached = {label for label, seen in tally.by_operation.items() if any(200 <= s < 300 for s in seen)}
    assert {
        "POST /api/v1/reports",
        "POST /api/v1/reports/{report_id}/finalize",
        "POST /api/v1/projects/{project_id}/reports/{report_id}/notes",
    } <= reached, reached
    # Every documented operation was tried.
    documented = {f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops}
    assert set(tally.by_operation) == documented, documented - set(tally.by_operation)


async def test_the_checks_catch_an_answer_that_breaks_the_document(bugline: Bugline) -> None:
    """The fuzzer can fail: a document demanding a field /healthz does not send is caught."""
    doc = (await bugline.client.get("/openapi.json")).json()
    schema = doc["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    doc["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "allOf": [schema, {"type": "object", "required": ["no_such_field"]}]
    }
    tally = await fuzz(
        bugline.app, doc, await known_values(bugline), examples=1, only=lambda op: op.path == "/healthz"
    )
    assert tally.sent >= 1
    assert tally.failures and "no_such_field" in tally.failures[0]
