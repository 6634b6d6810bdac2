"""The app with customer notifications going to a real SMTP server on loopback, on SQLite
and PostgreSQL (``db_url`` is parametrised), media in the local folder (no S3 needed here).

    async def test_x(mailroom: Mailroom) -> None:
        report_id = await mailroom.submit(report_body(...))
        await mailroom.notified()                   # triage, outbox, then every due notification
        [mail] = mailroom.mails_to("ana@example.com")
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Notification, Project, Report, ReportEvent, utcnow
from bugline.lifecycle import status as lifecycle
from bugline.notify.runner import Notifier
from bugline.routes import notifyapi
from bugline.settings import Settings
from tests.conftest import Bugline, make_settings, start_bugline
from tests.integration.test_intake import headers
from tests.support.smtp import Received, SmtpServer

MAIL_FROM = "Acme Support <support@acme-mail.test>"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def smtp_settings(db_url: str, tmp_path: Path, server: SmtpServer | None, **extra: Any) -> Settings:
    values: dict[str, Any] = {}
    if server is not None:
        values = {
            "smtp_host": server.host,
            "smtp_port": server.port,
            "smtp_security": server.security,
            "smtp_ca_file": server.ca_file,
            "mail_from": MAIL_FROM,
        }
        if server.auth:
            values.update(smtp_username=server.auth[0], smtp_password=server.auth[1])
    values.update(extra)
    return make_settings(db_url, tmp_path, **values)


@dataclass
class Mailroom:
    b: Bugline
    smtp: SmtpServer | None
    notifier: Notifier

    async def submit(self, body: dict[str, Any]) -> str:
        res = await self.b.client.post("/api/v1/reports", json=body, headers=headers(self.b))
        assert res.status_code == 201, res.text
        return str(res.json()["id"])

    async def notified(self) -> dict[str, int]:
        """What the app's loops do: triage, forward, then send every due notification."""
        await self.b.delivered()
        return await self.notifier.drain()

    async def change(
        self, ids: list[str], to: str, *, via: str = "Zendesk webhook", **kw: Any
    ) -> list[lifecycle.Changed]:
        source = lifecycle.Source("connector", "helpdesk", via=via)
        return await self.b.app.state.bugline.writer.run(
            lambda conn: lifecycle.change(conn, ids, to, source=source, now=utcnow(), **kw)
        )

    def mails_to(self, address: str) -> list[Received]:
        assert self.smtp is not None
        return [m for m in self.smtp.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    async def report(self, report_id: str) -> Report:
        async with make_sessionmaker(self.b.engine)() as session:
            return (await session.execute(select(Report).where(Report.id == report_id))).scalar_one()

    async def notifications(self, report_id: str) -> list[Notification]:
        async with make_sessionmaker(self.b.engine)() as session:
            q = select(Notification).where(Notification.report_id == report_id)
            return list((await session.execute(q.order_by(Notification.created_at))).scalars())

    async def events(self, report_id: str, kind: str) -> list[ReportEvent]:
        async with make_sessionmaker(self.b.engine)() as session:
            q = select(ReportEvent).where(ReportEvent.report_id == report_id, ReportEvent.kind == kind)
            return list((await session.execute(q.order_by(ReportEvent.id))).scalars())

    async def set_project_settings(self, settings: dict[str, Any]) -> None:
        async with make_sessionmaker(self.b.engine)() as session, session.begin():
            await session.execute(
                update(Project).where(Project.id == self.b.project.id).values(settings=settings)
            )

    async def set_report(self, report_id: str, **values: Any) -> None:
        async with make_sessionmaker(self.b.engine)() as session, session.begin():
            await session.execute(update(Report).where(Report.id == report_id).values(**values))

    async def make_due(self) -> None:
        """Jump over the backoff and any lease: what the clock would do."""
        async with make_sessionmaker(self.b.engine)() as session, session.begin():
            await session.execute(
                update(Notification)
                .where(Notification.state == "pending")
                .values(available_at=utcnow(), leased_until=None)
            )


async def _settle_leftovers(b: Bugline) -> None:
    """Notifications other tests left pending in the shared database are not this test's mail."""
    async with make_sessionmaker(b.engine)() as session, session.begin():
        await session.execute(
            update(Notification)
            .where(Notification.state == "pending")
            .values(state="skipped", last_error="left by an earlier test")
        )


def with_notify_routes(b: Bugline) -> None:
    """The notification API on the app (until app.py registers routes/notifyapi.py itself)."""
    paths = {getattr(r, "path", "") for r in b.app.router.routes}
    if not any(str(p).endswith("/notifications/templates") for p in paths):
        b.app.router.routes[0:0] = notifyapi.routes


async def start_mailroom(settings: Settings, smtp: SmtpServer | None) -> AsyncIterator[Mailroom]:
    async for b in start_bugline(settings):
        await _settle_leftovers(b)
        with_notify_routes(b)
        yield Mailroom(b, smtp, b.app.state.bugline.notifier)  # the app's own, as app.py makes it


@pytest.fixture
async def mailroom(db_url: str, tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[Mailroom]:
    async for room in start_mailroom(smtp_settings(db_url, tmp_path, smtp), smtp):
        yield room


# ---- reading mail --------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def html_links(html: str) -> list[tuple[str, str]]:
    """Every <a href> of an HTML part with its text, as a mail client would see them."""
    parser = _Links()
    parser.feed(html)
    return parser.links


def plain(mail: Received) -> str:
    """The text/plain part with the wire's CRLF line ends back to newlines."""
    return mail.text().replace("\r\n", "\n")


def text_links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def visible_text(html: str) -> str:
    """The HTML part's text as shown (tags gone, entities decoded)."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self._skip = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("title", "style"):
                self._skip += 1

        def handle_endtag(self, tag: str) -> None:
            if tag in ("title", "style"):
                self._skip -= 1

        def handle_data(self, data: str) -> None:
            if not self._skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()
