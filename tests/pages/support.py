"""Helpers for the customer's pages tests: reports through the real API, the pages through
the app, and reads of what the database holds afterwards."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Report, ReportEvent, utcnow
from bugline.lifecycle import status as lifecycle
from tests.conftest import Bugline
from tests.integration.test_intake import headers

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# Everything the VAGUE report (tests/integration/test_triage.py) is asked, answered well.
GOOD_ANSWERS = {
    "trying_to_do": "I was trying to export the March invoices as a CSV file from the Billing page.",
    "expected": "I expected a CSV file with all March invoices to download.",
    "actual": "The page shows a spinner for a few seconds, then an error banner; no file is downloaded.",
    "error_text": "Export failed: 500 Internal Server Error",
    "steps": "1. Sign in as an admin\n2. Open Billing > Invoices\n3. Choose March in the month filter\n"
    "4. Click Export CSV",
    "environment": "Chrome 124 on Windows 11, laptop",
    "frequency": "always",
    "people_affected": "everyone",
}
REPORTER = {"id": "u-9", "email": "vera@example.com", "name": "Vera"}


async def submit(b: Bugline, body: dict[str, Any]) -> dict[str, Any]:
    res = await b.client.post("/api/v1/reports", json=body, headers=headers(b))
    assert res.status_code == 201, res.text
    created: dict[str, Any] = res.json()
    return created


async def report(b: Bugline, report_id: str) -> Report:
    async with make_sessionmaker(b.engine)() as session:
        return (await session.execute(select(Report).where(Report.id == report_id))).scalar_one()


async def events(b: Bugline, report_id: str) -> list[ReportEvent]:
    async with make_sessionmaker(b.engine)() as session:
        q = select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)
        return list((await session.execute(q)).scalars())


async def change(b: Bugline, report_id: str, to: str, **kw: Any) -> list[lifecycle.Changed]:
    source = kw.pop("source", lifecycle.Source("connector", "hook", via="Webhook"))
    return await b.app.state.bugline.writer.run(
        lambda conn: lifecycle.change(conn, [report_id], to, source=source, now=utcnow(), **kw)
    )


def form_token(page: httpx.Response) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert found, f"no form token on the page:\n{page.text[:2000]}"
    return found.group(1)


async def post_form(b: Bugline, url: str, fields: dict[str, str]) -> httpx.Response:
    return await b.client.post(url, data=fields, headers=FORM)


def secure_page(res: httpx.Response) -> None:
    """What every customer page must say about itself: the URL holds a capability."""
    assert res.headers["content-type"].startswith("text/html")
    assert res.headers["cache-control"] == "no-store"
    assert res.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in res.headers["x-robots-tag"]
    csp = res.headers["content-security-policy"]
    assert "script-src" not in csp and "'unsafe-inline'" not in csp and "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "<script" not in res.text.lower() and " style=" not in res.text.lower()
