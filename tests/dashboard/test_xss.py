"""Stored XSS: a customer (or anyone with the public widget key) sends a report whose title,
description, checklist, steps, console and network entries, reporter fields, custom metadata
and attachment file names all carry attacks; the agent's pages show every one as inert text.

Checked on the inbox, the inbox's search, the report page, the monthly review and its CSV (whose
cells must not start a spreadsheet formula). The browser version, which also watches for a
dialog, is tests/e2e/test_dashboard.py::test_hostile_report_renders_inert_in_the_browser."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import ORIGIN
from tests.dashboard.conftest import Dash, SignedIn
from tests.dashboard.xss_payloads import ALL, FILE_NAMES, FORMULA, MARK, SCRIPT, hostile_report, scan
from tests.support.media import png, upload

pytestmark = pytest.mark.anyio


async def submit_hostile(dash: Dash, title: str) -> str:
    """Through the public API, with two real files under hostile names, finalized."""
    b = dash.bugline
    files = [(FILE_NAMES[0], "image/png", png(8, 6, seed=9)), (FILE_NAMES[1], "text/plain", b"steps\n")]
    body = hostile_report(title)
    body["attachments"] = [
        {"name": name, "type": kind, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, kind, data in files
    ]
    headers = {"X-Bugline-Key": b.key, "Origin": ORIGIN}
    res = await b.client.post("/api/v1/reports", json=body, headers=headers)
    assert res.status_code == 201, res.text
    created = res.json()
    for slot, (_, _, data) in zip(created["attachments"], files, strict=True):
        up = await upload(b.client, slot, data)
        assert up.status_code in (200, 201, 204), up.text
    fin = await b.client.post(
        created["finalize_url"],
        json={},
        headers={**headers, "X-Bugline-Report-Token": created["status_token"]},
    )
    assert fin.status_code == 200, fin.text
    await b.triaged()
    return str(created["id"])


def inert(name: str, html: str, *, expect: tuple[str, ...]) -> None:
    problems, text = scan(html)
    assert not problems, f"{name}: customer text would run:\n" + "\n".join(problems)
    shown = [p for p in expect if p in text]
    assert shown == list(expect), f"{name}: these payloads are not shown as text: {set(expect) - set(shown)}"


@pytest.fixture
async def lead(dash: Dash) -> SignedIn:
    return await dash.agent(role="lead")


async def test_every_customer_field_is_shown_as_text_on_the_report_page(dash: Dash, lead: SignedIn) -> None:
    report_id = await submit_hostile(dash, SCRIPT)
    page = await lead.get(f"/reports/{report_id}")
    assert page.status_code == 200, page.text[:500]
    # Title, description, checklist, steps, console, network, reporter and metadata all carry
    # these; each must be readable on the page, as the customer typed it.
    inert("report page", page.text, expect=ALL)
    _, text = scan(page.text)
    # The file names are shown as words (as stored: made safe, or verbatim but escaped).
    odd = "[^a-z0-9]"  # what a safe name puts for < > " ' ( ): an underscore, or the character itself
    for name, ext in ((f"onerror=alert{odd}+{MARK}", r"\.png"), (f"svg onload=alert{odd}+{MARK}", r"\.txt")):
        assert re.search(f"{name}{odd}*{ext}", text), f"file name {name}{ext} is not shown on the page"


async def test_inbox_and_search_show_hostile_titles_as_text(dash: Dash, lead: SignedIn) -> None:
    await submit_hostile(dash, SCRIPT)
    for path in ("/reports", f"/reports?q={MARK}", "/reports?sort=severity"):
        page = await lead.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        inert(path, page.text, expect=(SCRIPT,))


async def test_report_page_actions_keep_the_payloads_inert(dash: Dash, lead: SignedIn) -> None:
    """What an agent types back is user-supplied too: a reason, a note, an edited field."""
    report_id = await submit_hostile(dash, "Export fails")
    for action, form in (
        ("severity", {"severity": "high", "reason": SCRIPT}),
        ("notes", {"text": f"{ALL[1]} {ALL[2]}", "visibility": "internal"}),
        ("edit", {"title": ALL[3]}),
    ):
        res = await lead.post(f"/reports/{report_id}/{action}", form)
        assert res.status_code == 303, (action, res.status_code, res.text[:500])
    page = await lead.get(f"/reports/{report_id}")
    inert("report page after actions", page.text, expect=(SCRIPT, ALL[1], ALL[2], ALL[3]))


def this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


async def resolved(lead: SignedIn, report_id: str) -> None:
    """Resolved through the page, so the review's lists (slowest resolutions) include it."""
    res = await lead.post(f"/reports/{report_id}/status", {"status": "resolved", "public_note": SCRIPT})
    assert res.status_code == 303, res.text[:500]


async def test_monthly_review_shows_hostile_titles_as_text(dash: Dash, lead: SignedIn) -> None:
    report_id = await submit_hostile(dash, SCRIPT)
    await resolved(lead, report_id)
    page = await lead.get(f"/review?project={dash.project.id}&month={this_month()}")
    assert page.status_code == 200, page.text[:500]
    problems, text = scan(page.text)
    assert not problems, "review page: customer text would run:\n" + "\n".join(problems)
    assert SCRIPT in text, "the resolved report's title is not on the review (as text)"


def cells(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body)))


async def test_review_csv_neither_runs_formulas_nor_serves_html(dash: Dash, lead: SignedIn) -> None:
    ids = [await submit_hostile(dash, FORMULA), await submit_hostile(dash, SCRIPT)]
    for report_id in ids:
        await resolved(lead, report_id)
    res = await lead.get(f"/review.csv?project={dash.project.id}&month={this_month()}")
    assert res.status_code == 200, res.text[:500]
    assert res.headers["content-type"].startswith("text/csv")
    assert res.headers.get("content-disposition", "").startswith("attachment")
    assert res.headers.get("x-content-type-options") == "nosniff"
    rows = cells(res.text)
    flat = [c for row in rows for c in row]
    assert any(SCRIPT in c for c in flat), "the title is in the export as it was typed"
    formulas = [c for c in flat if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not formulas, f"cells a spreadsheet would run as formulas: {formulas}"
    assert any(c.startswith("'=") and MARK in c for c in flat), "the formula title is kept, neutralised"


async def test_agent_api_returns_the_words_as_data(dash: Dash) -> None:
    """JSON is data: the payloads come back byte for byte, never as HTML."""
    from tests.dashboard.test_permissions import token_for

    report_id = await submit_hostile(dash, SCRIPT)
    user = await dash.user(role="agent")
    token = await token_for(dash, user.id)
    res = await dash.bugline.client.get(
        f"/api/v1/projects/{dash.project.id}/reports/{report_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert res.status_code == 200, res.text[:500]
    assert res.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = res.json()
    assert SCRIPT in str(body)


async def test_set_up_words_are_text_on_every_members_pages(dash: Dash, lead: SignedIn) -> None:
    """A lead's project name, routing rules and notification templates, and an agent's display
    name, are shown to other members: they are as untrusted as a customer's words."""
    pid = dash.project.id
    agent = await dash.agent(role="agent")
    assert (await lead.post(f"/projects/{pid}/name", {"name": SCRIPT[:100]})).status_code == 303
    assert (await agent.post("/account/name", {"display_name": ALL[1][:100]})).status_code == 303
    report_id = await submit_hostile(dash, "Export fails")
    # The agent acts on the report, so their name is on its timeline for the lead to read.
    res = await agent.post(f"/reports/{report_id}/notes", {"text": "Looked", "visibility": "internal"})
    assert res.status_code == 303, res.text[:300]
    routing = await lead.post(f"/projects/{pid}/routing", {"rules": f"{TEXTAREA_RULES}"})
    assert routing.status_code in (200, 303, 400), routing.text[:300]
    preview = await lead.post(
        f"/projects/{pid}/notifications/resolved/preview",
        {"subject": SCRIPT, "text": ALL[3], "html": f"<p>{{{{ report.title }}}}</p>{SCRIPT}{ALL[2]}"},
    )
    assert preview.status_code in (200, 400), preview.text[:300]
    problems, _ = scan(preview.text)
    assert not problems, "notification preview:\n" + "\n".join(problems)
    for who, path in (
        (agent, "/reports"),
        (agent, f"/reports/{report_id}"),
        (lead, f"/reports/{report_id}"),
        (agent, "/projects"),
        (agent, f"/projects/{pid}"),
        (agent, f"/projects/{pid}/routing"),
        (agent, f"/projects/{pid}/members"),
        (lead, f"/projects/{pid}/members"),
        (agent, f"/review?project={pid}&month={this_month()}"),
        (agent, "/account"),
    ):
        page = await who.get(path)
        assert page.status_code == 200, (path, page.status_code, page.text[:300])
        problems, _ = scan(page.text)
        assert not problems, f"{path}:\n" + "\n".join(problems)
    _, text = scan((await agent.get(f"/projects/{pid}")).text)
    assert SCRIPT[:100] in text, "the project's name is shown, as text"
    _, text = scan((await lead.get(f"/projects/{pid}/members")).text)
    assert ALL[1][:100] in text, "the agent's display name is shown, as text"


# Routing rules as TOML whose strings try to break out of the <textarea> they are shown in.
TEXTAREA_RULES = f'''[[rules]]
name = "x"
description = "{ALL[3].replace('"', "'")}"
when = {{ severity = ["critical"] }}
send = [{{ role = "helpdesk" }}]
'''


# Every query parameter any dashboard page reads, and then some: reflected XSS is tried on all.
QUERY_NAMES = (
    "q", "status", "severity", "kind", "category", "connector", "group", "reporter", "account", "from",
    "to", "sort", "cursor", "project", "month", "locale", "next", "notice", "done", "error", "view",
)  # fmt: skip


async def test_no_page_reflects_its_query_or_path_unescaped(dash: Dash, lead: SignedIn) -> None:
    """Each GET page of the dashboard (read from the route list, so new pages are swept too)
    with a hostile value in every query parameter, and in each path id."""
    from bugline.routes import dashboard
    from tests.dashboard.test_permissions import PAGE_ENDPOINTS, PARAM, fill

    report_id = await submit_hostile(dash, "Export fails")
    ids = {"project": dash.project.id, "report": report_id, "kind": "resolved", "user": lead.user_id}
    ids.update({"connector": "0" * 32, "view": "0" * 32, "token": "0" * 32})
    hostile = f"{SCRIPT}{ALL[1]}{ALL[4]}"
    checked = 0
    for method, path in PAGE_ENDPOINTS:
        if method != "GET":
            continue
        urls = [fill(path, ids) + "?" + "&".join(f"{n}={quote(hostile)}" for n in QUERY_NAMES)]
        for match in PARAM.finditer(path):  # each path parameter on its own, the others real
            urls.append(fill(path.replace(match.group(0), quote(hostile, safe="")), ids))
        for url in urls:
            res = await lead.get(url)
            assert res.status_code < 500, (url, res.status_code)
            if "html" in res.headers.get("content-type", ""):
                problems, _ = scan(res.text)
                assert not problems, f"GET {url} ({res.status_code}):\n" + "\n".join(problems)
            checked += 1
    assert checked >= len([r for r in dashboard.routes if "GET" in (getattr(r, "methods", None) or ())])
