"""The report "Send a test report" delivers: through the connector's own ``deliver``, the path
every real report takes, so the team sees in their helpdesk, tracker or channel what a
Bugline ticket will look like, and that it arrives. It says it is a test in its title and
first line, carries every part a ticket shows (the checklist, severity with reasons,
environment, console, failed requests), and no one's personal data: no reporter email (a
helpdesk that needs a requester gets the connector's own fallback address, the team's) and
no files.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime

from bugline.connectors.base import Attempt, Connector, Result, Retry, Target
from bugline.connectors.document import (
    ConsoleEntry,
    Duplicates,
    Environment,
    Fact,
    FailedRequest,
    ReportDocument,
    Reporter,
)

log = logging.getLogger("bugline.connectors")

TITLE = "Bugline test report: you can close this"
STEPS = "1. Add an item to the cart\n2. Open the checkout\n3. Click Pay"
TIMEOUT = 30.0  # seconds a person waits on the page for the vendor's answer


def sample_report(project: str, link: str, now: datetime | None = None) -> ReportDocument:
    return ReportDocument(
        report_id=f"test-{uuid.uuid4().hex[:12]}",
        number=0,
        project=project,
        title=TITLE,
        description=(
            "This is a test report sent from Bugline's connector settings, to show what a bug "
            "report looks like here. No customer sent it; close it or delete it."
        ),
        facts=(
            Fact("trying_to_do", "What they were trying to do", "Pay for an order", False),
            Fact("expected", "Expected behaviour", "The order is confirmed and a receipt is shown", False),
            Fact("actual", "Actual behaviour", "The Pay button spins and nothing happens", False),
            Fact("error_text", "Error message", "Payment failed: try again later", False),
            Fact("steps_to_reproduce", "Steps to reproduce", STEPS, False),
            Fact("frequency", "How often", "Every time", False),
            Fact("affected", "People affected", "", True),
        ),
        severity="low",
        severity_score=0.0,
        severity_reasons=("= a test report",),
        completeness=86,
        missing=("affected",),
        kind="bug",
        categories=("billing",),
        environment=Environment(
            browser="Firefox 133.0",
            os="Windows 11",
            device="desktop",
            url="https://shop.example.com/checkout",
            viewport="1440x900",
            locale="en-GB",
        ),
        console=(ConsoleEntry("error", "POST /api/pay 503 (Service Unavailable)", "checkout.js:214"),),
        failed_requests=(FailedRequest("POST", "https://shop.example.com/api/pay", 503, 812.0),),
        duplicates=Duplicates(),
        media=(),
        reporter=Reporter(name="Bugline test"),
        link=link,
        created_at=now or datetime.now(UTC),
        metadata={"test": "yes"},
    )


async def attempt(call: Awaitable[Result], kind: str) -> Result:
    """A connector call a person waits for ("Check connection", "Send a test report"): at most
    TIMEOUT seconds, and whatever it raises is an outcome to show, as the outbox treats it,
    never a 500. (An email connector's SMTP talk runs in a thread, which a timeout cannot
    stop: a slow server may still deliver the mail after the page said it did not.)"""
    try:
        async with asyncio.timeout(TIMEOUT):
            return await call
    except TimeoutError:
        return Retry(f"{kind}: no answer within {TIMEOUT:.0f} s")
    except Exception as exc:  # a vendor's odd answer must not become our 500
        log.warning("%s: %s while talking to it", kind, type(exc).__name__, exc_info=True)
        return Retry(f"{kind}: {type(exc).__name__} while talking to it")


async def send_test_report(connector: Connector, report: ReportDocument) -> Result:
    """Deliver ``report`` once, where routing sends nothing in particular (the connector's own
    defaults); no retries: the person who asked reads the outcome."""
    return await attempt(connector.deliver(report, Target(), Attempt(key=report.report_id)), connector.kind)
