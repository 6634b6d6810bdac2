"""Triage on real intake, on SQLite and PostgreSQL: what an agent and a customer see of it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, update

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Project, Report, ReportEvent
from bugline.intake.triage import public_view
from tests.conftest import ORIGIN, Bugline
from tests.integration.test_intake import headers, report_body
from tests.support.media import png, upload
from tests.support.unread import SPANISH

pytestmark = pytest.mark.anyio


async def stored(b: Bugline, report_id: str) -> Report:
    async with make_sessionmaker(b.engine)() as session:
        return (await session.execute(select(Report).where(Report.id == report_id))).scalar_one()


async def events(b: Bugline, report_id: str) -> list[ReportEvent]:
    async with make_sessionmaker(b.engine)() as session:
        return list(
            (
                await session.execute(
                    select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)
                )
            ).scalars()
        )


async def post(b: Bugline, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    """Sends a report, lets the triage loop run, and returns what the client then sees."""
    extra = {"Idempotency-Key": key} if key else {}
    res = await b.client.post("/api/v1/reports", json=body, headers=headers(b, **extra))
    assert res.status_code == 201, res.text
    accepted = dict(res.json())
    assert accepted["status"] in {"received", "awaiting_media"}  # intake accepts; triage follows
    if accepted["status"] == "received":
        assert await b.triaged() >= 1
    report = await stored(b, accepted["id"])
    accepted["status"] = report.status
    accepted["triage"] = public_view(report)
    return accepted


VAGUE = {"title": "broken", "actual": "it doesn't work"}


async def test_complete_report_is_scored_and_goes_on(bugline: Bugline) -> None:
    body = await post(bugline, report_body())
    assert body["status"] == "received"
    assert body["triage"]["completeness"] >= 70
    assert "steps_to_reproduce" not in body["triage"]["missing"]
    report = await stored(bugline, body["id"])
    assert report.kind == "bug"
    assert report.severity in {"critical", "high", "medium", "low"}
    assert report.completeness == body["triage"]["completeness"]
    assert report.triaged_at is not None
    assert report.triage is not None and report.triage["severity"]["reasons"]
    assert report.duplicate_group_id
    kinds = [e.kind for e in await events(bugline, body["id"])]
    assert kinds.count("triaged") == 1
    triaged = next(e for e in await events(bugline, body["id"]) if e.kind == "triaged")
    assert triaged.public is False  # severity reasons are for the team, not the customer
    assert triaged.data["severity"] == report.severity


async def test_vague_report_goes_back_for_the_missing_facts(bugline: Bugline) -> None:
    body = await post(bugline, {**VAGUE, "context": {"url": "https://app.example.com/orders"}})
    assert body["status"] == "needs_info"
    missing = body["triage"]["missing"]
    assert {"expected", "steps_to_reproduce"} <= set(missing)
    questions = {q["fact"]: q["question"] for q in body["triage"]["questions"]}
    assert questions["expected"].endswith("?")
    # The customer's status page asks the same questions, and shows why it is waiting.
    status = await bugline.client.get(f"/api/v1/status/{body['status_token']}", headers={"Origin": ORIGIN})
    assert status.status_code == 200
    page = status.json()
    assert page["status"] == "needs_info"
    assert {q["fact"] for q in page["questions"]} == set(questions)
    assert page["timeline"][-1]["status"] == "needs_info"
    assert "severity" not in str(page)  # internal reasons never reach the customer


async def test_feature_request_is_not_sent_back_for_steps(bugline: Bugline) -> None:
    body = await post(
        bugline,
        {
            "title": "Feature request: export to Excel",
            "description": "It would be nice if we could export the report to Excel as well as CSV. "
            "Please add an xlsx option to the export menu.",
        },
    )
    report = await stored(bugline, body["id"])
    assert report.kind == "feature_request"
    assert body["status"] == "received"


async def test_payment_failure_on_checkout_outranks_a_cosmetic_glitch(bugline: Bugline) -> None:
    payment = await post(
        bugline,
        report_body(
            title="Payment fails at checkout",
            actual="Clicking Pay shows 'Payment declined' for every card and no order is created",
            error_text="PaymentError: gateway returned 502",
            context={"url": "https://shop.example.com/checkout/pay"},
        ),
    )
    cosmetic = await post(
        bugline,
        report_body(
            title="Footer logo slightly misaligned",
            trying_to_do="Read the footer",
            expected="The logo lines up with the links",
            actual="The logo is 2px lower than the links, a cosmetic glitch",
            error_text="",
            context={"url": "https://shop.example.com/about"},
        ),
    )
    levels = ["low", "medium", "high", "critical"]
    a, b = await stored(bugline, payment["id"]), await stored(bugline, cosmetic["id"])
    assert levels.index(a.severity or "") > levels.index(b.severity or "")
    assert a.severity in {"critical", "high"}
    assert any("pay" in r.lower() for r in a.triage["severity"]["reasons"])  # type: ignore[index]


async def test_same_error_from_three_customers_is_one_group(bugline: Bugline) -> None:
    ids = []
    for n, (who, order) in enumerate([("u-1", 123), ("u-2", 456), ("u-3", 789)]):
        body = report_body(
            title=f"Order page crashes ({n})",
            reporter={"id": who, "email": f"{who}@example.com", "account": f"acct-{n}"},
            context={
                "url": f"https://app.example.com/orders/{order}",
                "console": [
                    {
                        "level": "error",
                        "message": f"TypeError: Cannot read properties of undefined (reading 'total') #{order}",
                        "stack": "TypeError\n    at renderOrder (https://app.example.com/assets/app.3f9a.js:10:5)",
                    }
                ],
            },
        )
        ids.append((await post(bugline, body))["id"])
    unrelated = await post(
        bugline,
        report_body(title="Avatar upload rejects PNG", actual="Upload says 'unsupported file'", context={}),
    )
    reports = [await stored(bugline, i) for i in ids]
    groups = {r.duplicate_group_id for r in reports}
    assert len(groups) == 1
    last = reports[-1]
    assert last.triage is not None
    assert last.triage["duplicates"]["reporters"] == 3
    assert last.triage["duplicates"]["joined"] is True
    assert any("3" in reason for reason in last.triage["severity"]["reasons"])
    assert (await stored(bugline, unrelated["id"])).duplicate_group_id not in groups
    joined = next(e for e in await events(bugline, ids[-1]) if e.kind == "triaged")
    assert joined.data["duplicate_of"] in ids[:2]
    # The first report's verdict follows its group: it now counts three customers too.
    first = reports[0]
    assert first.triage is not None and first.triage["duplicates"]["reporters"] == 3
    assert any("3" in reason for reason in first.triage["severity"]["reasons"])


async def test_an_outage_seen_from_three_pages_is_one_critical_group(bugline: Bugline) -> None:
    """Three customers, three pages, three different requests failing with 503 on the same API,
    no words in common: one outage, one group, and severity counts its customers."""
    ids = []
    for n, (page, api) in enumerate([("/orders", "orders"), ("/cart", "cart/items"), ("/login", "session")]):
        body = report_body(
            title=["Orders page is empty", "Cart won't load", "Can't get in"][n],
            trying_to_do="",
            expected="",
            actual=["Spinner forever", "Blank box", "Nothing happens"][n],
            error_text="",
            steps=[],
            reporter={"id": f"o-{n}", "email": f"o{n}@example.com", "account": f"shop-{n}"},
            context={
                "url": f"https://app.example.com{page}",
                "console": [{"level": "error", "message": "AxiosError: Network Error"}],
                "network": [{"method": "GET", "url": f"https://api.example.com/v2/{api}", "status": 503}],
            },
        )
        ids.append((await post(bugline, body))["id"])
    reports = [await stored(bugline, i) for i in ids]
    assert len({r.duplicate_group_id for r in reports}) == 1
    last = reports[-1].triage
    assert last is not None and last["duplicates"]["reporters"] == 3
    assert "api.example.com failing for both within minutes" in last["duplicates"]["reasons"]
    assert last["severity"]["level"] == "critical", last["severity"]
    # One failing action on the same service is not the outage.
    broken = report_body(
        title="Export fails",
        reporter={"id": "o-9", "email": "o9@example.com"},
        context={
            "url": "https://app.example.com/billing",
            "console": [],
            "network": [{"method": "POST", "url": "https://api.example.com/v2/export", "status": 500}],
        },
    )
    other = await stored(bugline, (await post(bugline, broken))["id"])
    assert other.duplicate_group_id != reports[0].duplicate_group_id


async def test_project_threshold_decides_what_needs_info(bugline: Bugline) -> None:
    async with make_sessionmaker(bugline.engine)() as session, session.begin():
        await session.execute(
            update(Project)
            .where(Project.id == bugline.project.id)
            .values(settings={"triage": {"completeness": {"score": {"threshold": 0}}}})
        )
    body = await post(bugline, VAGUE)
    assert body["status"] == "received"  # this project takes every report as it comes


async def test_a_short_report_is_read_in_the_language_of_the_customers_browser(bugline: Bugline) -> None:
    # Five words of Spanish are too few to tell from the text alone: sent without a locale it
    # is read as English and goes back with English questions; from a Spanish browser it is
    # Spanish, unchecked, and reaches the team.
    short = {"title": "Carrito vacío", "description": "Después de añadir un producto el carrito está vacío."}
    plain = await post(bugline, short)
    assert plain["status"] == "needs_info" and plain["triage"]["questions"]
    spanish = await post(bugline, {**short, "context": {"locale": "es-MX"}})
    assert spanish["status"] == "received"
    assert spanish["triage"]["questions"] == []
    report = await stored(bugline, spanish["id"])
    assert report.triage is not None
    assert report.triage["completeness"]["unread_language"] == "es"


async def test_a_report_in_a_language_triage_does_not_read_is_not_sent_back(bugline: Bugline) -> None:
    # Read with English rules it would score near 0 and go back with English questions for
    # facts it holds; its English twin (VAGUE above) does go back.
    body = await post(bugline, SPANISH)
    assert body["status"] == "received"
    assert body["triage"]["missing"] == [] and body["triage"]["questions"] == []
    report = await stored(bugline, body["id"])
    assert report.triage is not None
    assert report.triage["completeness"]["unread_language"] == "es"
    assert "steps_to_reproduce" in report.triage["completeness"]["unchecked"]
    [triaged] = [e for e in await events(bugline, body["id"]) if e.kind == "triaged"]
    assert triaged.data["unread_language"] == "es"
    assert "expected" in triaged.data["unchecked"]
    status = await bugline.client.get(f"/api/v1/status/{body['status_token']}", headers={"Origin": ORIGIN})
    assert status.json()["status"] == "received" and not status.json().get("questions")


async def test_report_with_files_is_triaged_at_finalize(bugline: Bugline) -> None:
    shot = png()
    body = await post(
        bugline,
        {
            **VAGUE,
            "attachments": [{"name": "s.png", "type": "image/png", "size": len(shot), "kind": "screenshot"}],
        },
    )
    assert body["status"] == "awaiting_media"
    assert body["triage"] is None
    await upload(bugline.client, body["attachments"][0], shot)
    res = await bugline.client.post(
        body["finalize_url"],
        json={},
        headers=headers(bugline, **{"X-Bugline-Report-Token": body["status_token"]}),
    )
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "received"  # accepted with its verified file
    assert await bugline.triaged() == 1
    report = await stored(bugline, body["id"])
    assert report.status == "needs_info"
    assert "expected" in (public_view(report) or {})["missing"]
    assert report.triage is not None
    evidence = next(f for f in report.triage["completeness"]["findings"] if f["fact"] == "evidence")
    assert evidence["present"] is True


async def test_two_loops_never_triage_one_report_twice(bugline: Bugline) -> None:
    """Several app processes each run the loop; the claim on the report row keeps one verdict."""
    ids = []
    for n in range(6):
        res = await bugline.client.post(
            "/api/v1/reports", json=report_body(title=f"Export fails ({n})"), headers=headers(bugline)
        )
        ids.append(res.json()["id"])
    backlog = bugline.app.state.bugline.backlog
    done = await asyncio.gather(backlog.drain(), backlog.drain(), backlog.drain())
    assert sum(done) == len(ids)
    for report_id in ids:
        assert [e.kind for e in await events(bugline, report_id)].count("triaged") == 1


async def test_the_running_loop_triages_right_after_intake(bugline: Bugline) -> None:
    backlog = bugline.app.state.bugline.backlog
    backlog.start()
    try:
        res = await bugline.client.post("/api/v1/reports", json=VAGUE, headers=headers(bugline))
        assert res.status_code == 201
        for _ in range(100):
            if (await stored(bugline, res.json()["id"])).triaged_at is not None:
                break
            await asyncio.sleep(0.05)
        status = await bugline.client.get(
            f"/api/v1/status/{res.json()['status_token']}", headers={"Origin": ORIGIN}
        )
        assert status.json()["status"] == "needs_info"
        assert status.json()["questions"]
    finally:
        await backlog.stop()
