"""GET /api/v1/projects/{project_id}/reports: the inbox's filters, search, sorts and cursor
pages for scripts, behind the agent API's tokens, documented in /openapi.json."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ORIGIN, Bugline
from tests.dashboard.inboxdata import add_reports, when
from tests.integration.test_agent_api import auth, token_for
from tests.integration.test_openapi import check

pytestmark = pytest.mark.anyio
TEMPLATE = "/api/v1/projects/{project_id}/reports"

SPECS: list[dict[str, Any]] = [
    dict(
        title="Checkout fails with card declined",
        description="The payment error shows at checkout.",
        severity="critical",
        kind="bug",
        category="billing",
        completeness=90,
        email="ann@example.com",
        account="Acme Corp",
        group="g1",
        deliveries=["done"],
        minutes=1,
    ),
    dict(
        title="Invoice PDF is blank",
        severity="high",
        status="needs_info",
        kind="bug",
        category="billing",
        completeness=40,
        email="bob@example.com",
        account="Beta Ltd",
        group="g1",
        deliveries=["failed", "done"],
        minutes=2,
    ),
    dict(
        title="Dark mode please",
        severity="low",
        kind="feature_request",
        category="ui",
        completeness=20,
        email="ann@example.com",
        account="Acme Corp",
        deliveries=["pending"],
        minutes=3,
    ),
    dict(title="How do I export my data", status="resolved", kind="question", category="data", minutes=4),
    dict(
        title="Dashboard is slow",
        severity="medium",
        status="escalated",
        kind="bug",
        category="performance",
        completeness=70,
        email="cy@example.com",
        deliveries=["done", "pending"],
        minutes=3 * 24 * 60,
    ),
]


async def listed(b: Bugline, headers: dict[str, str], query: str = "", project: str | None = None) -> Any:
    res = await b.client.get(f"/api/v1/projects/{project or b.project.id}/reports?{query}", headers=headers)
    assert res.status_code == 200, res.text
    return res.json()


def titles(body: Any) -> set[str]:
    return {r["title"].split()[0] for r in body["reports"]}


async def test_each_filter_narrows_to_exactly_its_reports(bugline: Bugline) -> None:
    reports = await add_reports(bugline.engine, bugline.project, SPECS)
    h = auth(await token_for(bugline, "agent"))
    group = reports[0].duplicate_group_id
    cases = {
        "": {"Checkout", "Invoice", "Dark", "How", "Dashboard"},
        "status=received": {"Checkout", "Dark"},
        "status=received,needs_info": {"Checkout", "Invoice", "Dark"},
        "status=resolved&status=escalated": {"How", "Dashboard"},
        "severity=critical": {"Checkout"},
        "severity=none": {"How"},
        "severity=high,medium": {"Invoice", "Dashboard"},
        "kind=question": {"How"},
        "kind=feature_request": {"Dark"},
        "category=billing": {"Checkout", "Invoice"},
        "min_complete=70": {"Checkout", "Dashboard"},
        "max_complete=40": {"Invoice", "Dark"},
        "min_complete=30&max_complete=80": {"Invoice", "Dashboard"},
        "connector=failed": {"Invoice"},
        "connector=pending": {"Dark", "Dashboard"},
        "connector=delivered": {"Checkout"},
        "connector=not_forwarded": {"How"},
        "connector=failed,not_forwarded": {"Invoice", "How"},
        f"group={group}": {"Checkout", "Invoice"},
        "reporter=ann@example.com": {"Checkout", "Dark"},
        "reporter=ANN@Example.com": {"Checkout", "Dark"},
        "account=Beta+Ltd": {"Invoice"},
        f"from={when(2 * 24 * 60).date()}": {"Dashboard"},
        f"to={when(0).date()}": {"Checkout", "Invoice", "Dark", "How"},
        "q=checkout": {"Checkout"},
        "q=paym": {"Checkout"},  # a prefix of a word in the description
        "q=card+declined": {"Checkout"},
        "q=declined+invoice": set(),  # every word must be there
        f"q=%23{reports[1].number}": {"Invoice"},
        "severity=critical&status=needs_info": set(),
        "q=%22%27%3B+DROP+TABLE+reports%3B--": set(),
        "q=NEAR(checkout+OR+*": set(),  # operators are words (near, or) or separators, not syntax
        "q=%22checkout%22*+(+-+%5E": {"Checkout"},
    }
    for query, expected in cases.items():
        assert titles(await listed(bugline, h, query)) == expected, query
    body = await listed(bugline, h, "severity=high")
    (row,) = body["reports"]
    assert row["connector_state"] == "failed" and row["group_size"] == 2 and row["account"] == "Beta Ltd"
    assert row["reporter_email"] == "bob@example.com" and row["completeness"] == 40
    assert body["next_cursor"] is None


async def test_sorts_and_cursor_pages_cover_every_report_once(bugline: Bugline) -> None:
    tiers = ["critical", "high", "medium", "low", None]
    specs = [
        dict(
            title=f"Report {i}",
            severity=tiers[i % 5],
            completeness=None if i % 7 == 0 else (i * 13) % 101,
            group=f"g{i % 4}" if i % 3 else None,
            minutes=i // 2,  # pairs share a timestamp: the id breaks the tie
        )
        for i in range(40)
    ]
    await add_reports(bugline.engine, bugline.project, specs)
    h = auth(await token_for(bugline, "agent"))
    rank = {t: n for n, t in enumerate(tiers)}
    for sort in ("newest", "oldest", "severity", "completeness", "group"):
        seen: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(20):
            body = await listed(bugline, h, f"sort={sort}&limit=7{cursor}")
            seen.extend(body["reports"])
            if body["next_cursor"] is None:
                break
            cursor = "&cursor=" + body["next_cursor"]
        ids = [r["id"] for r in seen]
        assert len(ids) == 40 and len(set(ids)) == 40, sort
        stamps = [r["created_at"] for r in seen]
        if sort == "newest":
            assert stamps == sorted(stamps, reverse=True)
        if sort == "oldest":
            assert stamps == sorted(stamps)
        if sort == "severity":
            ranks = [rank[r["severity"]] for r in seen]
            assert ranks == sorted(ranks)
        if sort == "completeness":
            scored = [r["completeness"] for r in seen if r["completeness"] is not None]
            assert scored == sorted(scored) and seen[-1]["completeness"] is None
        if sort == "group":
            sizes = [r["group_size"] or 0 for r in seen]
            assert sizes == sorted(sizes, reverse=True)


async def test_bad_parameters_are_400s_that_name_the_parameter(bugline: Bugline) -> None:
    h = auth(await token_for(bugline, "agent"))
    base = f"/api/v1/projects/{bugline.project.id}/reports"
    cases = {
        "severity=urgent": "severity",
        "status=open": "status",
        "sort=random": "sort",
        "limit=0": "limit",
        "limit=5000": "limit",
        "min_complete=abc": "min_complete",
        "max_complete=101": "max_complete",
        "from=yesterday": "from",
        "from=2025-02-30": "from",
        "from=2025-03-01&to=2025-02-01": "to",
        "group=../../etc": "group",
        "cursor=not-a-cursor": "cursor",
        "cursor=W10": "cursor",  # valid base64 and JSON, but not a cursor
        "project=abc": "project",  # the project is the path here
        "colour=red": "colour",
        "q=" + "x" * 300: "q",
        "account=" + "a" * 300: "account",
        "category=<script>": "category",
    }
    for query, field in cases.items():
        res = await bugline.client.get(f"{base}?{query}", headers=h)
        assert res.status_code == 400, (query, res.text)
        error = res.json()["error"]
        assert error["code"] == "invalid_query" and error["message"].startswith(field), (query, error)
    first = await listed(bugline, h, "sort=oldest&limit=1")
    await add_reports(bugline.engine, bugline.project, [{"title": "a"}, {"title": "b"}])
    first = await listed(bugline, h, "sort=oldest&limit=1")
    res = await bugline.client.get(f"{base}?sort=newest&cursor={first['next_cursor']}", headers=h)
    assert res.status_code == 400 and "sort=oldest" in res.json()["error"]["message"]


async def test_tokens_and_membership_are_required(bugline: Bugline) -> None:
    await add_reports(bugline.engine, bugline.project, [{"title": "Secret plans"}])
    other = await bugline.new_project()
    await add_reports(bugline.engine, other, [{"title": "Theirs"}])
    outsider = auth(await token_for(bugline, "lead", project=other))
    base = f"/api/v1/projects/{bugline.project.id}/reports"
    res = await bugline.client.get(base)
    assert res.status_code == 401
    res = await bugline.client.get(base, headers=auth("blt_" + "x" * 43))
    assert res.status_code == 401
    mine = await bugline.client.get(base, headers=outsider)
    missing = await bugline.client.get("/api/v1/projects/" + "0" * 32 + "/reports", headers=outsider)
    assert mine.status_code == missing.status_code == 404
    assert mine.json() == missing.json()
    assert "Secret" not in mine.text
    theirs = await listed(bugline, outsider, project=other.id)
    assert titles(theirs) == {"Theirs"}
    admin = auth(await token_for(bugline, None, admin=True))
    assert titles(await listed(bugline, admin)) == {"Secret"}


async def test_a_report_sent_through_the_api_is_listed_triaged_and_searchable(bugline: Bugline) -> None:
    res = await bugline.client.post(
        "/api/v1/reports",
        headers={"X-Bugline-Key": bugline.key, "Origin": ORIGIN},
        json={
            "title": "Export button does nothing",
            "actual": "Clicking Export CSV on /reports shows a spinner forever",
            "expected": "A CSV download",
            "steps": "1. Open reports 2. Click Export CSV",
            "reporter": {"email": "dee@example.com"},
        },
    )
    assert res.status_code == 201, res.text
    await bugline.triaged()
    h = auth(await token_for(bugline, "agent"))
    body = await listed(bugline, h, "q=spinner+forever")
    (row,) = body["reports"]
    assert row["title"] == "Export button does nothing" and row["severity"] is not None
    assert row["reporter_email"] == "dee@example.com" and row["connector_state"] == "not_forwarded"
    assert (await listed(bugline, h, "q=spinner+never"))["reports"] == []


async def test_a_report_triage_could_not_read_is_marked_in_the_list_and_the_inbox(bugline: Bugline) -> None:
    for body in (
        {
            "title": "No puedo exportar",
            "description": "Hola, cuando hago clic en Exportar aparece un error y no puedo descargar el "
            "archivo. Pasa siempre desde ayer, a todos nuestros usuarios.",
        },
        {"title": "Export button does nothing", "actual": "Clicking Export CSV shows a spinner forever"},
    ):
        res = await bugline.client.post(
            "/api/v1/reports", headers={"X-Bugline-Key": bugline.key, "Origin": ORIGIN}, json=body
        )
        assert res.status_code == 201, res.text
    await bugline.triaged()
    h = auth(await token_for(bugline, "agent"))
    got = await bugline.client.get(f"/api/v1/projects/{bugline.project.id}/reports", headers=h)
    check((await bugline.client.get("/openapi.json")).json(), TEMPLATE, "get", got)
    marks = {r["title"]: r["unread_language"] for r in got.json()["reports"]}
    assert marks == {"No puedo exportar": "es", "Export button does nothing": ""}


async def test_responses_match_the_openapi_document(bugline: Bugline) -> None:
    await add_reports(bugline.engine, bugline.project, SPECS)
    doc = (await bugline.client.get("/openapi.json")).json()
    h = auth(await token_for(bugline, "agent"))
    base = f"/api/v1/projects/{bugline.project.id}/reports"
    c = bugline.client
    check(doc, TEMPLATE, "get", await c.get(base + "?limit=2", headers=h))
    check(doc, TEMPLATE, "get", await c.get(base + "?sort=severity&q=checkout", headers=h))
    check(doc, TEMPLATE, "get", await c.get(base + "?severity=urgent", headers=h))
    check(doc, TEMPLATE, "get", await c.get(base))
    check(doc, TEMPLATE, "get", await c.get("/api/v1/projects/nope/reports", headers=h))
