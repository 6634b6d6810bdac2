""""Send a test report": the sample report goes through every connector's own deliver: the
SaaS ones against the fakes that validate each request against the vendor's spec, email to
a real SMTP server, django-helpdesk to the real helpdesk (the webhook connector: the
dashboard and API tests). Each time it lands, and says there that it is a test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from bugline.connectors.base import Connector, Delivered
from bugline.connectors.sample import TITLE, sample_report, send_test_report
from tests.connectors import (
    test_djangohelpdesk,
    test_email,
    test_freshdesk,
    test_github,
    test_jira,
    test_linear,
    test_slack,
    test_zendesk,
)
from tests.support.helpdesk import Helpdesk
from tests.support.smtp import SmtpServer
from tests.support.vendors.freshdesk import FakeFreshdesk
from tests.support.vendors.github import FakeGitHub
from tests.support.vendors.jira import FakeJira
from tests.support.vendors.linear import FakeLinear
from tests.support.vendors.server import FakeVendor
from tests.support.vendors.slack import FakeSlack
from tests.support.vendors.zendesk import FakeZendesk

pytestmark = pytest.mark.anyio

LINK = "https://bugline.example.com/projects/p1/connectors"

CASES: list[tuple[type[FakeVendor], Callable[..., Connector]]] = [
    (FakeZendesk, test_zendesk.connect),
    (FakeJira, test_jira.connector),
    (FakeFreshdesk, test_freshdesk.connect),
    (FakeGitHub, test_github.connect),
    (FakeLinear, test_linear.connector),
    (FakeSlack, test_slack.bot),
    (FakeSlack, test_slack.hook),
]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.mark.parametrize(
    "fake, connect", CASES, ids=[f"{f.__name__}-{c.__name__}" for f, c in CASES]
)
async def test_the_sample_report_lands_in_every_connector_as_a_test(
    fake: type[FakeVendor], connect: Callable[..., Connector], http: httpx.AsyncClient
) -> None:
    vendor: Any
    with fake() as vendor:
        report = sample_report("Acme", LINK)
        result = await send_test_report(connect(vendor, http), report)
        assert isinstance(result, Delivered), result
        assert vendor.invalid == [], vendor.errors()  # every request fits the vendor's spec
        sent = "".join(r.body.decode("utf-8", "replace") for r in vendor.requests)
        assert "Bugline test report" in sent  # it says so, in the vendor's own format


async def test_the_sample_report_is_mailed_as_a_test(http: httpx.AsyncClient) -> None:
    with SmtpServer() as smtp:
        result = await send_test_report(test_email.connector(smtp, http), sample_report("Acme", LINK))
        assert isinstance(result, Delivered), result
        [mail] = smtp.wait(1)
        assert TITLE in mail.message["Subject"]
        assert "No customer sent it" in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_the_sample_report_is_a_ticket_in_the_real_helpdesk(helpdesk: Helpdesk, http: httpx.AsyncClient) -> None:
    result = await send_test_report(test_djangohelpdesk.connector(helpdesk, http), sample_report("Acme", LINK))
    assert isinstance(result, Delivered), result
    ticket = helpdesk.get_ticket(result.ticket.remote_id)
    assert TITLE in ticket["title"] and "No customer sent it" in ticket["description"]
