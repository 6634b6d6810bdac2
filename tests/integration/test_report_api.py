"""The agent API for one report: read everything, edit, severity with a reason, status,
notes and replies, merge and split, forward; validated against /openapi.json, and tried as
an attacker would (no token, another tenant's ids, hostile and oversized bodies)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Notification, Report, ReportEvent
from tests.conftest import Bugline
from tests.integration.test_agent_api import auth, token_for
from tests.integration.test_intake import ORIGIN, headers, report_body
from tests.integration.test_openapi import check
from tests.support.unread import send_spanish

pytestmark = pytest.mark.anyio


async def submit(b: Bugline, **extra: Any) -> dict[str, Any]:
    res = await b.client.post("/api/v1/reports", json=report_body(**extra), headers=headers(b))
    assert res.status_code == 201, res.text
    await b.triaged()
    return dict(res.json())


def unlike(title: str, email: str, path: str, account: str | None = None) -> dict[str, Any]:
    """A report that shares nothing with report_body()'s (no error, no request, its own page)."""
    return {
        "title": title,
        "trying_to_do": f"Use {path}",
        "expected": "It works",
        "actual": title,
        "error_text": "",
        "steps": [f"Open {path}", "Look"],
        "reporter": {"email": email, **({"account": account} if account else {})},
        "context": {"url": f"https://app.example.com{path}", "console": [], "network": []},
    }


def url(b: Bugline, report_id: str, tail: str = "", project_id: str | None = None) -> str:
    return f"/api/v1/projects/{project_id or b.project.id}/reports/{report_id}{tail}"


async def events(b: Bugline, report_id: str, kind: str) -> list[ReportEvent]:
    async with make_sessionmaker(b.engine)() as s:
        q = select(ReportEvent).where(ReportEvent.report_id == report_id, ReportEvent.kind == kind)
        return list((await s.execute(q.order_by(ReportEvent.id))).scalars())


async def test_a_report_triage_could_not_read_says_which_language(bugline: Bugline) -> None:
    b = bugline
    rid = await send_spanish(b)
    token = await token_for(b, "agent")
    got = await b.client.get(url(b, rid), headers=auth(token))
    check(
        (await b.client.get("/openapi.json")).json(),
        "/api/v1/projects/{project_id}/reports/{report_id}",
        "get",
        got,
    )
    detail = got.json()
    assert (detail["unread_language"], detail["unread_language_name"]) == ("es", "Spanish")
    assert detail["missing"] == [] and {"expected", "steps_to_reproduce"} <= set(detail["unchecked"])
    assert not any(item["question"] for item in detail["checklist"])
    # An English report says nothing of the kind.
    english = await submit(b)
    plain = (await b.client.get(url(b, english["id"]), headers=auth(token))).json()
    assert (plain["unread_language"], plain["unchecked"]) == ("", [])


async def test_read_update_and_notes_match_the_document(bugline: Bugline) -> None:
    b = bugline
    doc = (await b.client.get("/openapi.json")).json()
    token = await token_for(b, "agent")
    created = await submit(b, metadata={"build": "7"})
    res = await b.client.get(url(b, created["id"]), headers=auth(token))
    assert res.status_code == 200, res.text
    check(doc, "/api/v1/projects/{project_id}/reports/{report_id}", "get", res)
    body = res.json()
    assert body["title"] == "Invoice export fails"
    assert body["console"][0]["message"] == "TypeError: x is undefined"
    assert body["network"][0]["status"] == 500
    assert body["metadata"] == [{"key": "build", "value": "7"}]
    assert body["reporter"]["email"] == "ana@example.com"
    # By number too.
    by_number = await b.client.get(url(b, str(created["number"])), headers=auth(token))
    assert by_number.json()["id"] == created["id"]

    res = await b.client.patch(
        url(b, created["id"]),
        headers=auth(token),
        json={
            "steps": "1. Open Billing\n2. Choose March\n3. Export",
            "severity": "critical",
            "reason": "CFO blocked",
        },
    )
    assert res.status_code == 200, res.text
    check(doc, "/api/v1/projects/{project_id}/reports/{report_id}", "patch", res)
    after = res.json()
    assert after["severity"]["level"] == "critical" and after["severity"]["set_by"] == "agent"
    assert after["severity"]["override"]["reason"] == "CFO blocked"
    [changed] = [e for e in await events(b, created["id"], "severity_changed") if e.actor_type == "agent"]
    assert changed.data["to"] == "critical" and changed.data["reason"] == "CFO blocked"
    assert changed.actor and changed.actor.endswith("@example.com")
    [edited] = await events(b, created["id"], "edited")
    assert edited.data["fields"] == ["steps"] and edited.actor_type == "agent"

    res = await b.client.post(
        url(b, created["id"], "/notes"), headers=auth(token), json={"text": "Seen in prod"}
    )
    assert res.status_code == 201
    check(doc, "/api/v1/projects/{project_id}/reports/{report_id}/notes", "post", res)
    assert res.json()["mailed"] is False
    res = await b.client.post(
        url(b, created["id"], "/notes"),
        headers=auth(token),
        json={"text": "We are on it", "visibility": "public"},
    )
    assert res.status_code == 201 and res.json()["mailed"] is True
    async with make_sessionmaker(b.engine)() as s:
        mails = list(
            (await s.execute(select(Notification).where(Notification.report_id == created["id"]))).scalars()
        )
    replies = [n for n in mails if n.kind == "reply"]
    assert len(replies) == 1 and replies[0].data["note"] == "We are on it"  # the internal note sent nothing


async def test_status_change_goes_through_the_lifecycle(bugline: Bugline) -> None:
    b = bugline
    token = await token_for(b, "agent")
    created = await submit(b)
    res = await b.client.patch(
        url(b, created["id"]),
        headers=auth(token),
        json={"status": "cannot_reproduce", "public_note": "Tried Chrome 124 on Windows 11"},
    )
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "cannot_reproduce"
    [moved] = [e for e in await events(b, created["id"], "status_changed") if e.actor_type == "agent"]
    assert moved.public and moved.data["note"] == "Tried Chrome 124 on Windows 11"
    assert moved.data["source"] == "agent API"
    # Not a status an agent sets by hand, or the same again: refused with the reason.
    res = await b.client.patch(url(b, created["id"]), headers=auth(token), json={"status": "escalated"})
    assert res.status_code == 422
    res = await b.client.patch(
        url(b, created["id"]), headers=auth(token), json={"status": "cannot_reproduce"}
    )
    assert res.status_code == 409 and "already" in res.json()["error"]["message"]


async def test_merge_and_split_keep_group_counts(bugline: Bugline) -> None:
    b = bugline
    doc = (await b.client.get("/openapi.json")).json()
    token = await token_for(b, "agent")
    first = await submit(b, **unlike("Login page stays blank", "x@example.com", "/login"))
    second = await submit(b, **unlike("Chart bars are all grey", "y@example.org", "/charts", account="Beta"))
    assert (await b.client.get(url(b, second["id"]), headers=auth(token))).json()["duplicates"][
        "reports"
    ] == 1
    res = await b.client.post(
        url(b, second["id"], "/merge"), headers=auth(token), json={"into": str(first["number"])}
    )
    assert res.status_code == 200, res.text
    check(doc, "/api/v1/projects/{project_id}/reports/{report_id}/merge", "post", res)
    group = res.json()["duplicates"]
    assert group["reports"] == 2 and group["reporters"] == 2
    assert {m["id"] for m in group["members"]} == {first["id"], second["id"]}
    res = await b.client.post(url(b, second["id"], "/split"), headers=auth(token))
    assert res.status_code == 200, res.text
    check(doc, "/api/v1/projects/{project_id}/reports/{report_id}/split", "post", res)
    assert res.json()["duplicates"]["reports"] == 1
    first_after = (await b.client.get(url(b, first["id"]), headers=auth(token))).json()
    assert first_after["duplicates"]["reports"] == 1 and first_after["duplicates"]["reporters"] == 1
    res = await b.client.post(url(b, second["id"], "/split"), headers=auth(token))
    assert res.status_code == 409
    res = await b.client.post(
        url(b, second["id"], "/merge"), headers=auth(token), json={"into": second["id"]}
    )
    assert res.status_code == 422


async def test_another_tenant_gets_404_everywhere(bugline: Bugline) -> None:
    b = bugline
    created = await submit(b)
    other = await b.new_project(name="Rival")
    outsider = await token_for(b, "lead", project=other)
    for method, tail, body in [
        ("GET", "", None),
        ("PATCH", "", {"severity": "low", "reason": "x"}),
        ("POST", "/notes", {"text": "hi"}),
        ("POST", "/merge", {"into": "1"}),
        ("POST", "/merge", {}),  # a body it would refuse: still 404 first
        ("PATCH", "", {"nope": 1}),
        ("POST", "/split", None),
        ("POST", "/forward", None),
    ]:
        # Their own project id with our report id, and our project id: both 404.
        for project_id in (other.id, b.project.id):
            res = await b.client.request(
                method, url(b, created["id"], tail, project_id), headers=auth(outsider), json=body
            )
            assert res.status_code == 404, (method, tail, res.text)
    async with make_sessionmaker(b.engine)() as s:
        report = (await s.execute(select(Report).where(Report.id == created["id"]))).scalar_one()
    assert report.severity_override is None
    assert not await events(b, created["id"], "note")
    res = await b.client.get(url(b, created["id"]), headers={"Authorization": "Bearer blt_nope"})
    assert res.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, None),
        ({"title": "x" * 301}, 422, "title"),
        ({"severity": "urgent", "reason": "x"}, 422, "severity"),
        ({"severity": "high"}, 422, "reason"),
        ({"severity": "high", "reason": "x" * 1001}, 422, "reason"),
        ({"reason": "why"}, 422, None),
        ({"hacker": "<script>"}, 422, None),
        ({"frequency": "daily"}, 422, "frequency"),
        ({"public_note": "hi"}, 422, None),
    ],
)
async def test_bad_updates_are_refused_with_the_field_to_fix(
    bugline: Bugline, body: dict[str, Any], status: int, field: str | None
) -> None:
    token = await token_for(bugline, "agent")
    created = await submit(bugline)
    res = await bugline.client.patch(url(bugline, created["id"]), headers=auth(token), json=body)
    assert res.status_code == status, res.text
    error = res.json()["error"]
    assert error["message"]
    if field:
        assert field in {f["field"] for f in error.get("fields", [])}


async def test_malformed_and_oversized_bodies(bugline: Bugline) -> None:
    token = await token_for(bugline, "agent")
    created = await submit(bugline)
    res = await bugline.client.patch(
        url(bugline, created["id"]),
        headers={**auth(token), "Content-Type": "application/json"},
        content=b"{nope",
    )
    assert res.status_code == 400
    res = await bugline.client.post(
        url(bugline, created["id"], "/notes"), headers=auth(token), json={"text": "x" * 300_000}
    )
    assert res.status_code == 413
    res = await bugline.client.post(
        url(bugline, created["id"], "/notes"), headers=auth(token), json={"text": ""}
    )
    assert res.status_code == 422


COMPLETE = {
    "trying_to_do": "Export the March invoices as a CSV file from Billing",
    "expected": "A CSV download with every March invoice",
    "actual": "A spinner, then the banner 'Export failed'; nothing downloads",
    "error_text": "Error 500: export_timeout",
    "steps": "1. Open Billing\n2. Pick March\n3. Click Export",
    "frequency": "always",
    "people_affected": "some",
}


async def submit_raw(b: Bugline, body: dict[str, Any]) -> dict[str, Any]:
    res = await b.client.post("/api/v1/reports", json=body, headers=headers(b))
    assert res.status_code == 201, res.text
    await b.triaged()
    return dict(res.json())


async def group_of(b: Bugline, report_id: str) -> str | None:
    async with make_sessionmaker(b.engine)() as s:
        return (await s.execute(select(Report.duplicate_group_id).where(Report.id == report_id))).scalar_one()


async def test_an_agents_merge_survives_the_report_being_triaged_again(bugline: Bugline) -> None:
    """A report waiting for answers, merged by an agent, then completed: the backlog triages it
    again, and it stays in the group the agent chose although its words match nothing there."""
    b = bugline
    token = await token_for(b, "agent")
    login = await submit(b, **unlike("Login page stays blank", "x@example.com", "/login"))
    vague = await submit_raw(
        b, {"title": "broken", "actual": "it doesn't work", "reporter": {"email": "v@x.example"}}
    )
    assert (await b.client.get(url(b, vague["id"]), headers=auth(token))).json()["status"] == "needs_info"
    res = await b.client.post(url(b, vague["id"], "/merge"), headers=auth(token), json={"into": login["id"]})
    assert res.status_code == 200, res.text
    merged_into = await group_of(b, login["id"])

    res = await b.client.patch(url(b, vague["id"]), headers=auth(token), json=COMPLETE)
    assert res.status_code == 200, res.text
    assert await b.triaged() >= 1  # complete now: back through the backlog

    assert await group_of(b, vague["id"]) == merged_into
    detail = (await b.client.get(url(b, vague["id"]), headers=auth(token))).json()
    assert detail["status"] != "needs_info" and detail["duplicates"]["reports"] == 2


async def test_an_agents_split_survives_the_report_being_triaged_again(bugline: Bugline) -> None:
    b = bugline
    token = await token_for(b, "agent")
    first = await submit(b, reporter={"email": "a@example.com"})
    alike = {
        "title": "Invoice export fails",
        "actual": "Export failed",
        "error_text": "Error 500: export_timeout",
        "reporter": {"email": "b@example.com"},
        "context": report_body()["context"],
    }
    second = await submit_raw(b, alike)
    assert await group_of(b, second["id"]) == await group_of(b, first["id"])  # alike: grouped
    assert (await b.client.get(url(b, second["id"]), headers=auth(token))).json()["status"] == "needs_info"
    res = await b.client.post(url(b, second["id"], "/split"), headers=auth(token))
    assert res.status_code == 200, res.text

    res = await b.client.patch(url(b, second["id"]), headers=auth(token), json=COMPLETE)
    assert res.status_code == 200, res.text
    await b.triaged()

    assert await group_of(b, second["id"]) != await group_of(b, first["id"])  # still apart
    detail = (await b.client.get(url(b, second["id"]), headers=auth(token))).json()
    assert detail["status"] != "needs_info" and detail["duplicates"]["reports"] == 1


def swiss_tax(title: str, actual: str, email: str, path: str) -> dict[str, Any]:
    """One bug (no tax for Swiss addresses at checkout) in one customer's words, nothing captured."""
    return {**unlike(title, email, path), "actual": actual, "trying_to_do": "Pay for my order"}


async def test_an_open_report_of_the_same_problem_is_suggested_and_merged_in_one_step(
    bugline: Bugline,
) -> None:
    b = bugline
    doc = (await b.client.get("/openapi.json")).json()
    token = await token_for(b, "agent")
    first = await submit(
        b,
        **swiss_tax(
            "Tax missing for Swiss addresses at checkout",
            "The tax line stays empty for our Swiss address and Continue does nothing",
            "x@example.com",
            "/checkout/8812",
        ),
    )
    await submit(b, **unlike("Chart bars are all grey", "y@example.org", "/charts"))
    # The same words in another tenant's project are never suggested.
    rival = await b.new_project(name="Rival")
    res = await b.client.post(
        "/api/v1/reports",
        json=report_body(
            **swiss_tax("Tax missing for Swiss addresses", "Swiss address, no tax", "r@x.io", "/c")
        ),
        headers={"X-Bugline-Key": rival.public_key, "Origin": ORIGIN},
    )
    assert res.status_code == 201, res.text
    await b.triaged()
    third = await submit(
        b,
        **swiss_tax(
            "Checkout stuck with a Swiss delivery address",
            "No tax is calculated for Swiss addresses, so I cannot continue",
            "z@example.net",
            "/cart",
        ),
    )
    # Not triaged yet: it has no group to merge into, so it is not suggested.
    waiting = await b.client.post(
        "/api/v1/reports",
        json=report_body(**swiss_tax("Swiss addresses get no tax", "Tax missing, Swiss", "w@x.io", "/c")),
        headers=headers(b),
    )
    assert waiting.status_code == 201, waiting.text
    got = await b.client.get(url(b, third["id"]), headers=auth(token))
    check(doc, "/api/v1/projects/{project_id}/reports/{report_id}", "get", got)
    detail = got.json()
    assert waiting.json()["id"] not in [x["id"] for x in detail["similar"]]
    assert detail["duplicates"]["reports"] == 1  # grouping did not join it on its own
    assert [x["id"] for x in detail["similar"]][:1] == [first["id"]]
    assert any(r.startswith("same words: ") and "swiss" in r for r in detail["similar"][0]["reasons"]), (
        detail["similar"]
    )
    res = await b.client.post(
        url(b, third["id"], "/merge"), headers=auth(token), json={"into": str(detail["similar"][0]["number"])}
    )
    assert res.status_code == 200, res.text
    after = res.json()
    assert after["duplicates"]["reporters"] == 2
    assert first["id"] not in [x["id"] for x in after["similar"]]  # now a member, not a suggestion
