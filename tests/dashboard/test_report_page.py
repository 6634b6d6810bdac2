"""The report page: every part of a real report on one screen (created through the public
API with a screenshot uploaded to the real S3), shown only to members of its project, with
everything the customer or the host app wrote rendered inert."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Report, ReportEvent
from tests.conftest import Bugline
from tests.dashboard.conftest import Dash
from tests.integration.test_intake import finalize, headers, report_body
from tests.support.media import png, upload
from tests.support.unread import send_spanish

pytestmark = pytest.mark.anyio


async def submit(b: Bugline, **extra: Any) -> dict[str, Any]:
    res = await b.client.post("/api/v1/reports", json=report_body(**extra), headers=headers(b))
    assert res.status_code == 201, res.text
    return dict(res.json())


async def with_screenshot(b: Bugline, image: bytes, name: str = "shot.png", **extra: Any) -> dict[str, Any]:
    """A report with a screenshot, uploaded as the widget does, finalized and triaged."""
    created = await submit(
        b,
        attachments=[
            {
                "name": name,
                "type": "image/png",
                "size": len(image),
                "kind": "screenshot",
                "sha256": hashlib.sha256(image).hexdigest(),
            }
        ],
        **extra,
    )
    assert (await upload(b.client, created["attachments"][0], image)).status_code in (200, 204)
    res = await finalize(b, created)
    assert res.status_code == 200, res.text
    await b.triaged()
    return created


async def triaged(b: Bugline, **extra: Any) -> dict[str, Any]:
    created = await submit(b, **extra)
    await b.triaged()
    return created


async def report_row(b: Bugline, report_id: str) -> Report:
    async with make_sessionmaker(b.engine)() as s:
        return (await s.execute(select(Report).where(Report.id == report_id))).scalar_one()


async def events(b: Bugline, report_id: str, kind: str | None = None) -> list[ReportEvent]:
    async with make_sessionmaker(b.engine)() as s:
        q = select(ReportEvent).where(ReportEvent.report_id == report_id)
        if kind:
            q = q.where(ReportEvent.kind == kind)
        return list((await s.execute(q.order_by(ReportEvent.id))).scalars())


class Page(HTMLParser):
    """The page as a browser sees it: its visible text, tags with their attributes, and
    the sections by their heading."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))

    def all(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag]


async def test_the_page_shows_every_part_of_the_report(dash: Dash) -> None:
    b = dash.bugline
    image = png(width=8, height=6, seed=7)
    created = await with_screenshot(b, image, metadata={"build": "2026.11.3", "tenant": "north-eu"})
    other = await triaged(b, title="Earlier: login is slow")  # the same reporter (u-42)
    alice = await dash.agent()
    res = await alice.get(f"/reports/{created['id']}")
    assert res.status_code == 200, res.text
    page = Page(res.text)
    text = page.visible
    # The checklist in the customer's words, each field with its label.
    for words in (
        "Invoice export fails",
        "Export March invoices as CSV",
        "A CSV download",
        "Error 500: export_timeout",
    ):
        assert words in text
    assert "1. Open Billing" in text and "Every time" in text
    # Severity as a named tier (never colour alone), with triage's reasons.
    level = (await report_row(b, created["id"])).severity
    assert level and f"{level.capitalize()} severity" in text
    # The screenshot, inline from a presigned S3 URL that the CSP allows, and it is the bytes sent.
    [img] = [a for a in page.all("img") if "Screenshot" in a.get("alt", "")]
    assert img["src"].startswith(b.settings.s3_endpoint_url or "")
    origin = re.match(r"https?://[^/]+", img["src"])
    assert origin and origin.group(0) in res.headers["content-security-policy"]
    async with httpx.AsyncClient() as net:
        assert (await net.get(img["src"])).content == image
    # Environment, console, failed requests, metadata, the reporter and their other report.
    for words in (
        "Chrome 124",
        "Windows 11",
        "https://app.example.com/billing?month=3",
        "1280 x 800",
        "en-GB",
    ):
        assert words in text, words
    assert "TypeError: x is undefined" in text and "at export.js:10" in text
    assert "https://api.example.com/export" in text and "500" in text
    assert "tenant" in text and "north-eu" in text
    assert "ana@example.com" in text and "Acme" in text
    assert any(a.get("href") == f"/reports/{other['id']}" for a in page.all("a"))
    # The timeline: creation, media check, triage.
    for words in ("Report sent by the customer", "Files checked: 1 stored", "Triaged:"):
        assert words in text
    # Every action is a form with the session's CSRF token.
    forms = page.all("form")
    actions = {f["action"] for f in forms}
    for name in ("edit", "severity", "status", "notes", "forward", "merge"):
        assert f"/reports/{created['id']}/{name}" in actions
    assert res.text.count(f'name="csrf" value="{alice.csrf}"') >= len(forms)


async def test_a_report_triage_could_not_read_says_so_instead_of_missing(dash: Dash) -> None:
    b = dash.bugline
    rid = await send_spanish(b)
    alice = await dash.agent()
    page = await alice.get(f"/reports/{rid}")
    assert page.status_code == 200
    text = Page(page.text).visible
    assert "Written in Spanish, which triage does not read" in text
    assert "the customer was not asked for them" in text
    assert "Missing:" not in text and "Question for the customer" not in text
    assert "not asked for facts: written in Spanish" in text  # the timeline's triage line
    inbox = Page((await alice.get("/reports")).text).visible
    assert "not read (es)" in inbox
