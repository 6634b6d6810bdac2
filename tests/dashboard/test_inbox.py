"""The inbox page at /reports: what an agent sees, filters, searches, pages, and who may see it."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.dashboard.conftest import Dash
from tests.dashboard.inboxdata import add_reports

pytestmark = pytest.mark.anyio
_TITLE = re.compile(r'<td class="title">\s*<a href="/reports/([0-9a-f]{32})">([^<]*)</a>')
_NEXT = re.compile(r'<a rel="next" href="([^"]+)">')


def shown(page: httpx.Response) -> list[str]:
    return [html.unescape(t) for _, t in _TITLE.findall(page.text)]


async def test_signed_out_visitors_are_sent_to_sign_in_and_back(dash: Dash) -> None:
    res = await dash.new_client().get("/reports?severity=critical")
    assert res.status_code == 303
    assert res.headers["location"].startswith("/login?next=/reports")
    assert "severity%3Dcritical" in res.headers["location"] or "severity=critical" in res.headers["location"]


async def test_the_page_shows_each_report_with_what_an_agent_triages_by(dash: Dash) -> None:
    await add_reports(
        dash.bugline.engine,
        dash.project,
        [
            dict(
                title="Checkout fails",
                severity="critical",
                completeness=85,
                email="ann@example.com",
                account="Acme Corp",
                group="g",
                deliveries=["failed"],
            ),
            dict(title="Typo on pricing", severity="low", group="g", deliveries=["done"]),
            dict(title="", kind="question"),
        ],
    )
    alice = await dash.agent()
    page = await alice.get("/reports")
    assert page.status_code == 200
    assert shown(page) == ["(no title)", "Typo on pricing", "Checkout fails"]  # newest first
    text = page.text
    assert '<span class="sev sev-critical">Critical</span>' in text  # the tier's name, not colour alone
    assert '<span class="sev sev-low">Low</span>' in text and "Not triaged" in text
    assert "85&nbsp;%" in text and "ann@example.com" in text and "Acme Corp" in text
    assert ">Failed<" in text and ">Delivered<" in text and ">Not forwarded<" in text
    assert re.search(
        r'href="/reports\?group=[0-9a-f]{32}" aria-label="2 reports in this duplicate group">2<', text
    )
    assert "static/dash-inbox.css" in text and "<script>" not in text
    assert 'scope="col"' in text and text.count("<label") >= 14


async def test_filters_and_search_narrow_the_page_and_keep_their_values(dash: Dash) -> None:
    await add_reports(
        dash.bugline.engine,
        dash.project,
        [
            dict(
                title="Payment declined at checkout",
                severity="critical",
                status="escalated",
                category="billing",
            ),
            dict(title="Invoice totals wrong", severity="high", category="billing", completeness=30),
            dict(title="Dark mode", severity="low", kind="feature_request", completeness=90),
        ],
    )
    alice = await dash.agent()
    assert shown(await alice.get("/reports?severity=critical")) == ["Payment declined at checkout"]
    assert shown(await alice.get("/reports?category=billing&sort=oldest")) == [
        "Payment declined at checkout",
        "Invoice totals wrong",
    ]
    assert shown(await alice.get("/reports?q=invoice+tot")) == ["Invoice totals wrong"]
    assert shown(await alice.get("/reports?max_complete=50")) == ["Invoice totals wrong"]
    page = await alice.get("/reports?severity=critical%2Chigh&status=&q=")  # "Any" options send blanks
    assert shown(page) == ["Invoice totals wrong", "Payment declined at checkout"]
    assert '<option value="critical,high" selected>Critical or High</option>' in page.text
    page = await alice.get("/reports?q=paym&sort=severity")
    assert 'value="paym"' in page.text and '<option value="severity" selected>' in page.text
    empty = await alice.get("/reports?severity=medium")
    assert shown(empty) == [] and "No reports match these filters." in empty.text


async def test_bad_filter_values_get_a_400_page_saying_what_to_fix(dash: Dash) -> None:
    alice = await dash.agent()
    for query, words in {
        "severity=urgent": "severity: &#39;urgent&#39; is not one of critical, high, medium, low, none",
        "from=31.01.2025": "from: &#39;31.01.2025&#39; is not a date like 2025-01-31",
        "min_complete=-1": "min_complete",
        "cursor=%00%01": "start from the first page",
        "sort=rank();drop": "sort",
        "limit=10": "limit: is not a filter",
        "project=" + "0" * 31: "project: is not an id",
    }.items():
        res = await alice.get("/reports?" + query)
        assert res.status_code == 400, query
        assert words in res.text, (query, res.text[-2000:])
        assert 'role="alert"' in res.text and '<form class="filters' in res.text


async def test_hostile_text_is_shown_as_text(dash: Dash) -> None:
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    await add_reports(
        dash.bugline.engine,
        dash.project,
        [dict(title=evil, email='"><svg onload=alert(3)>@x.com', account=evil)],
    )
    alice = await dash.agent()
    page = await alice.get("/reports?q=" + "%3Cscript%3E%22%27%3B--")
    assert page.status_code == 200  # the search's punctuation is a separator, not syntax
    page = await alice.get("/reports")
    assert evil not in page.text and "<svg onload" not in page.text
    assert html.escape(evil, quote=True) in page.text or "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert shown(page) == [evil]
    searched = await alice.get("/reports?q=" + "%27+OR+1%3D1+--")
    assert searched.status_code == 200 and shown(searched) == []


async def test_next_page_links_walk_every_report_once(dash: Dash) -> None:
    await add_reports(dash.bugline.engine, dash.project, [dict(title=f"Report {i:03}") for i in range(120)])
    alice = await dash.agent()
    page = await alice.get("/reports")
    seen = shown(page)
    assert len(seen) == 50 and "more on the next page" in page.text
    while (link := _NEXT.search(page.text)) is not None:
        page = await alice.get(html.unescape(link.group(1)))
        assert page.status_code == 200 and "First page" in page.text
        seen += shown(page)
    assert seen == [f"Report {i:03}" for i in reversed(range(120))]


async def test_members_of_another_project_see_nothing_of_this_one(dash: Dash) -> None:
    reports = await add_reports(
        dash.bugline.engine, dash.project, [dict(title="Acme's secret outage", group="g")]
    )
    other = await dash.bugline.new_project(name="Other")
    await add_reports(dash.bugline.engine, other, [dict(title="Other's report")])
    outsider = await dash.agent(projects=[other])
    page = await outsider.get("/reports")
    assert shown(page) == ["Other's report"]
    assert "secret outage" not in (await outsider.get("/reports?q=secret")).text
    assert "secret outage" not in (await outsider.get(f"/reports?group={reports[0].duplicate_group_id}")).text
    guessed = await outsider.get(f"/reports?project={dash.project.id}")
    missing = await outsider.get("/reports?project=" + "0" * 32)
    assert guessed.status_code == missing.status_code == 404
    assert "secret outage" not in guessed.text
    both = await dash.agent(projects=[dash.project, other])
    page = await both.get("/reports")
    assert sorted(shown(page)) == ["Acme's secret outage", "Other's report"]
    assert shown(await both.get(f"/reports?project={other.id}")) == ["Other's report"]
    assert "Acme" in page.text and '<label for="f-project">Project</label>' in page.text


async def test_an_agent_with_no_reports_gets_a_friendly_empty_state(dash: Dash) -> None:
    other = await dash.bugline.new_project(name="Empty")
    alice = await dash.agent(projects=[other])
    page = await alice.get("/reports")
    assert page.status_code == 200 and "No reports yet." in page.text
