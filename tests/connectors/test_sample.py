""""Send a test report": the sample report goes through every SaaS connector's own deliver,
against the fake that validates each request against the vendor's spec (the webhook,
email and django-helpdesk connectors are sent it in the dashboard and API tests, the
helpdesk's and the mail's own paths being the same deliver)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from bugline.connectors.base import Connector, Delivered
from bugline.connectors.sample import TITLE, sample_report, send_test_report
from tests.connectors import test_freshdesk, test_github, test_jira, test_linear, test_slack, test_zendesk
from tests.support.vendors.freshdesk import FakeFreshdesk
from tests.support.vendors.github import FakeGitHub
from tests.support.vendors.jira import FakeJira
from tests.support.vendors.linear import FakeLinear
from tests.support.vendors.server import FakeVendor
from tests.support.vendors.slack import FakeSlack
from tests.support.vendors.zendesk import FakeZendesk

pytestmark = pytest.mark.anyio

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
        report = sample_report("Acme", "https://bugline.example.com/projects/p1/connectors")
        result = await send_test_report(connect(vendor, http), report)
        assert isinstance(result, Delivered), result
        assert vendor.invalid == [], vendor.errors()  # every request fits the vendor's spec
        sent = "".join(r.body.decode("utf-8", "replace") for r in vendor.requests)
        assert "Bugline test report" in sent  # it says so, in the vendor's own format
        assert "No customer sent it" in sent or TITLE in sent
