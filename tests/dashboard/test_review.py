"""The monthly review page and its CSV, on a month seeded with known times (reviewseed.py):
the numbers the support lead reads, the links, the charts, the empty month, and who may see it."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html import unescape

import pytest

from bugline.review import month as months
from tests.dashboard.conftest import Dash
from tests.dashboard.reviewseed import FORMULA, XSS, Seeded, seed_month

pytestmark = pytest.mark.anyio
SVG = re.compile(r"<svg\b.*?</svg>", re.S)
NS = {"s": "http://www.w3.org/2000/svg"}


def text_of(html: str) -> str:
    """The page's words, tags out, spaces squeezed (what a reader sees)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def charts(html: str) -> dict[str, ET.Element]:
    out = {}
    for chunk in SVG.findall(html):
        svg = ET.fromstring(chunk)  # valid XML, or this raises
        title = svg.find("s:title", NS)
        assert title is not None and title.text
        out[svg.find("s:title", NS).get("id", "")] = svg  # type: ignore[union-attr]
    return out


async def seeded(dash: Dash) -> Seeded:
    return await seed_month(dash.bugline.engine, dash.project)


async def test_the_review_answers_the_four_questions_with_the_months_numbers(dash: Dash) -> None:
    seed = await seeded(dash)
    lead = await dash.agent(role="lead")
    res = await lead.get(f"/review?project={dash.project.id}&month=2024-03")
    assert res.status_code == 200, res.text
    page = text_of(res.text)
    assert "Monthly review: Acme, March 2024" in page
    for q in (
        "1. Which bug reports took the longest to resolve, and why?",
        "2. Were there any escalation failures?",
        "3. Are the severity definitions still accurate?",
        "4. Has anything in the product changed that the SOP does not account for?",
    ):
        assert q in page
    # Question 1: four resolved in March (one received in February), three over target.
    assert "4 reports were resolved in March 2024; 3 took longer than their resolution target." in page
    assert (
        "The slowest was #5 “Slow search” (medium, 14 d against a 1 d target): 13 d 23 h being worked on"
        in page
    )
    # #2 waited on the customer longest, and the why says so.
    assert (
        "2 d waiting on the customer's answers (needs info); escalated to level 2; a delivery to the team failed; severity changed by hand"
        in page
    )
    # Slowest first, each linked to its report page.
    order = [
        m
        for m in re.findall(
            r'href="/reports/([0-9a-f]{32})"', res.text.split('id="q1"')[1].split("</table>")[0]
        )
    ]
    assert order == [seed.ids[5], seed.ids[2], seed.ids[1], seed.ids[3]]
    # First response: #1 20 min, #3 30 min, #7 3 h (a public reply), #2 2 d 1 h (late);
    # #8 was only forwarded, and #7's internal note is no response.
    assert (
        "4 of the 6 reports received in March 2024 had a first response; 1 of those came later than the target."
        in page
    )
    # Question 2.
    # The worst is #4's first response, still unmet (its overdue time grows with the clock).
    assert (
        "2 SLA targets were missed on 2 reports (1 first response, 1 resolution), 1 still unmet; the worst: #4 (low,"
        in page
    )
    assert "past its first response target)." in page
    assert "2 deliveries to the team failed for good (1 of them SLA escalations)." in page
    assert "1 SLA escalation of 2 reached no team lead" in page
    # Question 3: two hand changes (the system's and April's do not count), both raised.
    assert (
        "Agents changed the severity by hand 2 times on 2 reports (33% of the 6 rated this month): 2 raised, 0 lowered."
        in page
    )
    assert "the severity definitions may need another look" in page
    assert "Blocks checkout for &lt;everyone&gt;" in res.text
    # Question 4: G1 (3 this month) and G2 (1 this month, 2 in all); G3 is one report, no repeat.
    assert (
        "2 problems were reported more than once (4 reports this month); the most repeated: #3 “Menu overlaps”, 3 reports this month (3 people, 2 accounts in all)."
        in page
    )
    assert "Reports in ui grew the most: 1 the month before, 4 this month." in page


async def test_the_charts_are_valid_svg_with_a_bar_per_row_and_escaped_labels(dash: Dash) -> None:
    await seeded(dash)
    agent = await dash.agent()
    res = await agent.get(f"/review?project={dash.project.id}&month=2024-03")
    found = charts(res.text)
    assert set(found) == {
        "chart-slowest-title",
        "chart-resolution-title",
        "chart-first-response-title",
        "chart-breaches-title",
        "chart-changes-title",
        "chart-repeated-title",
    }
    for svg in found.values():
        assert svg.get("role") == "img"
        assert svg.find("s:desc", NS) is not None
        labelled = svg.get("aria-labelledby", "").split()
        assert labelled and all(f'id="{i}"' in res.text for i in labelled)
    slowest = found["chart-slowest-title"]
    bars = slowest.findall(".//s:rect", NS)
    assert len(bars) == 4
    labels = [t.text for t in slowest.findall(".//s:text", NS) if t.get("class") == "label"]
    assert labels[0] == "#5 “Slow search”"
    assert any(label and label.startswith('#1 “<script>alert("x")') for label in labels)  # text, not markup
    assert "<script>alert" not in res.text  # escaped everywhere on the page
    assert "&lt;script&gt;alert(" in res.text
    # Time to resolution: one bar per severity with resolved reports (critical, high, medium).
    spread = found["chart-resolution-title"]
    assert len([r for r in spread.findall(".//s:rect", NS) if "bar" in r.get("class", "").split()]) == 3
    assert len(spread.findall(".//s:line[@class='target']", NS)) == 4
    changes = found["chart-changes-title"]
    assert sorted(t.text or "" for t in changes.findall(".//s:text", NS) if t.get("class") == "label") == [
        "low → high",
        "medium → high",
    ]
    # Every chart has its numbers in a table too (headers with scope).
    assert res.text.count('<th scope="col">') > 30 and '<th scope="row">' in res.text


async def test_the_csv_has_a_line_per_report_of_the_month_with_its_figures(dash: Dash) -> None:
    seed = await seeded(dash)
    agent = await dash.agent()
    res = await agent.get(f"/review.csv?project={dash.project.id}&month=2024-03")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/csv")
    assert res.headers["content-disposition"] == 'attachment; filename="bugline-review-acme-2024-03.csv"'
    rows = list(csv.DictReader(io.StringIO(res.text)))
    by = {int(r["number"]): r for r in rows}
    assert sorted(by) == [1, 2, 3, 4, 5, 7, 8]  # not #6 (awaiting media), not February's #9
    one = by[1]
    assert one["title"] == XSS and one["severity"] == "critical"
    assert one["link"] == f"http://testserver/reports/{seed.ids[1]}" or one["link"].endswith(
        f"/reports/{seed.ids[1]}"
    )
    assert (
        one["first_response_hours"],
        one["first_response_target_hours"],
        one["first_response_within_target"],
    ) == (
        "0.33",
        "0.50",
        "yes",
    )
    assert (one["resolution_hours"], one["resolution_target_hours"], one["resolution_within_target"]) == (
        "29.00",
        "4.00",
        "no",
    )
    assert one["missed_targets_this_month"] == "resolution"
    assert one["received_this_month"] == "yes" and one["resolved_this_month"] == "yes"
    assert by[2]["first_response_hours"] == "49.00" and by[2]["severity_changed_by_hand"] == "low -> high"
    assert by[3]["severity_changed_by_hand"] == "medium -> high"  # not April's change back
    assert by[3]["duplicate_group"] == seed.groups["G1"] and by[3]["group_reports"] == "3"
    assert by[4]["missed_targets_this_month"] == "first response" and by[4]["first_response_at"] == ""
    assert by[5]["received_this_month"] == "no" and by[5]["resolved_this_month"] == "yes"
    assert by[5]["resolution_hours"] == "336.00"
    assert by[8]["first_response_at"] == ""  # forwarded is not a response
    assert by[7]["first_response_hours"] == "3.00"  # the public reply, not the internal note an hour earlier
    # CSV injection: formulas in the customers' titles are text.
    assert by[4]["title"] == "'" + FORMULA
    assert by[7]["title"] == "'@SUM(A1)"


async def test_an_empty_month_says_so(dash: Dash) -> None:
    await seeded(dash)
    agent = await dash.agent()
    res = await agent.get(f"/review?project={dash.project.id}&month=2023-11")
    assert res.status_code == 200
    assert "Nothing to review for November 2023" in text_of(res.text)
    assert "<svg" not in res.text
    csv_res = await agent.get(f"/review.csv?project={dash.project.id}&month=2023-11")
    assert csv_res.status_code == 200 and len(csv_res.text.strip().splitlines()) == 1  # the header only


async def test_the_month_defaults_to_the_one_just_ended_and_the_project_to_the_agents_first(
    dash: Dash,
) -> None:
    agent = await dash.agent()
    res = await agent.get("/review")
    assert res.status_code == 200
    assert f'<option value="{dash.project.id}" selected>' in res.text
    assert f'value="{months.default(datetime.now(UTC)).label}"' in res.text


@pytest.mark.parametrize(
    "month",
    ["2024-13", "2024-00", "2024-3", "March", "2024-03-01", "1999-12", "9999-12", "x" * 5000, "2024\u201303"],
)
async def test_a_month_that_cannot_be_read_is_refused_with_what_to_give(dash: Dash, month: str) -> None:
    agent = await dash.agent()
    for path in ("/review", "/review.csv"):
        res = await agent.get(path, params={"project": dash.project.id, "month": month})
        assert res.status_code == 400, (path, month)
        assert "That month cannot be shown" in res.text
        assert re.search(r"YYYY-MM|year from", res.text)
        assert "x" * 100 not in res.text  # the bad value is not echoed


async def test_signed_out_visitors_are_sent_to_sign_in(dash: Dash) -> None:
    client = dash.new_client()
    for path in ("/review?month=2024-03", "/review.csv?month=2024-03"):
        res = await client.get(path)
        assert res.status_code == 303
        assert res.headers["location"].startswith("/login?next=/review")


async def test_another_projects_member_gets_404_as_for_a_missing_project(dash: Dash) -> None:
    await seeded(dash)
    other = await dash.bugline.new_project(name="Other")
    outsider = await dash.agent(projects=[other])
    for path in ("/review", "/review.csv"):
        mine = await outsider.get(path, params={"project": dash.project.id, "month": "2024-03"})
        missing = await outsider.get(path, params={"project": "f" * 32, "month": "2024-03"})
        huge = await outsider.get(path, params={"project": "' OR 1=1 --" * 300, "month": "2024-03"})
        assert mine.status_code == missing.status_code == huge.status_code == 404
        assert "Menu overlaps" not in mine.text and "Acme" not in mine.text
    # Their own project's review shows none of Acme's reports.
    own = await outsider.get("/review", params={"project": other.id, "month": "2024-03"})
    assert own.status_code == 200 and "Menu overlaps" not in own.text
    assert f'value="{dash.project.id}"' not in own.text  # Acme is not even offered
    rows = list(
        csv.DictReader(
            io.StringIO(
                (await outsider.get("/review.csv", params={"project": other.id, "month": "2024-03"})).text
            )
        )
    )
    assert rows == []


async def test_an_agent_without_projects_sees_why_there_is_nothing(dash: Dash) -> None:
    user = await dash.user(role=None)
    agent = await dash.sign_in(user.email)
    res = await agent.get("/review")
    assert res.status_code == 200 and "not a member of any project" in res.text
    assert (await agent.get("/review.csv")).status_code == 404
