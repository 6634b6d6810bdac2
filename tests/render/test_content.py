"""Every format carries the whole report: the same facts, verdict, context, media and links."""

from __future__ import annotations

import dataclasses
import html

import pytest

from bugline.connectors.document import Duplicates, Environment, FailedRequest, Reporter
from tests.connectors.factory import make_document, make_media, make_update
from tests.render import inspect
from tests.render.formats import FORMATS, Format

DOC = make_document()

# (section, what a reader must find in it)
EXPECTED: tuple[tuple[str, str], ...] = (
    ("fact: trying to do", "Trying to do: Pay for my order with a saved Visa card"),
    ("fact: expected", "Expected behaviour: The order is placed and I see the confirmation page"),
    ("fact: actual", "Actual behaviour: Clicking Pay does nothing: the spinner shows for a second"),
    ("fact: error text", "Error text: Something went wrong (code 500)"),
    ("fact: steps", "1. Add any item to the cart"),
    ("fact: steps", "4. Click Pay"),
    ("fact: frequency", "Frequency: Every time since this morning"),
    ("fact: affected, missing", "People affected: (missing — asked the customer)"),
    ("severity", "High (score 7.5)"),
    ("severity reason", "+ mentions payment failure"),
    ("severity reason", "+ 2 people in 1 account"),
    ("completeness", "Completeness: 86 %"),
    ("missing facts", "Missing: People affected"),
    ("kind", "Kind: Bug"),
    ("categories", "billing, checkout"),
    ("environment", "Browser: Chrome 131.0"),
    ("environment", "Operating system: macOS 14.6"),
    ("environment", "Device: desktop"),
    ("environment", "Page: https://shop.example.com/checkout?step=pay"),
    ("environment", "Viewport: 1440x900"),
    ("environment", "Locale: en-GB"),
    ("environment", "Chrome/131.0.0.0 Safari/537.36"),
    ("console", "[error] TypeError: Cannot read properties of undefined (reading 'id')"),
    ("console stack", "at submitPayment (checkout.js:214:31)"),
    ("console source", "at https://shop.example.com/static/checkout.js:214"),
    ("console", "[warn] Payment SDK loaded twice"),
    ("failed request", "POST https://shop.example.com/api/checkout → 500, 912 ms"),
    ("failed request", "GET https://shop.example.com/api/cart/totals → no response"),
    ("duplicates", "3 reports from 2 people in 1 account"),
    ("media", "checkout.png"),
    ("media", "screenshot, image/png, 73 B"),
    ("media", "console.log"),
    ("media", "log, text/plain, 267 B"),
    ("media", "links expire"),
    ("reporter", "Name: Dana Smith"),
    ("reporter", "Email: dana@acme.example"),
    ("reporter", "Account: Acme Retail"),
    ("reporter", "Plan: Business"),
    ("created", "2025-01-14 10:23 UTC"),
    ("link back", "Report #42 in Acme Shop"),
    ("description", "I tried to pay three times and nothing happens when I click Pay."),
    ("description", "customers are waiting for their orders."),
    ("metadata", "order_id: A-10293"),
    ("metadata", "app_version: 4.12.0"),
)


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
@pytest.mark.parametrize(("section", "phrase"), EXPECTED, ids=[f"{s}:{p[:24]}" for s, p in EXPECTED])
def test_report_shows_every_section(fmt: Format, section: str, phrase: str) -> None:
    assert phrase in fmt.shown(fmt.report(DOC)), section


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_report_links_to_bugline_and_every_file(fmt: Format) -> None:
    hrefs = [href for href, _ in fmt.links(fmt.report(DOC))]
    assert DOC.link in hrefs
    for media in DOC.media:
        assert media.url in hrefs


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.name != "text"], ids=repr)
def test_links_carry_names(fmt: Format) -> None:
    links = {href: inspect.shown(html.unescape(label)) for href, label in fmt.links(fmt.report(DOC))}
    assert links[DOC.media[0].url] == "checkout.png"
    assert links[DOC.media[1].url] == "console.log"
    assert links[DOC.link] == "Report #42 in Acme Shop"


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_facts_follow_the_sop_order(fmt: Format) -> None:
    shuffled = make_document(facts=tuple(reversed(DOC.facts)))
    shown = fmt.shown(fmt.report(shuffled))
    labels = [
        "Trying to do:",
        "Expected behaviour:",
        "Actual behaviour:",
        "Error text:",
        "Steps to reproduce:",
        "Frequency:",
        "People affected:",
    ]
    positions = [shown.index(label) for label in labels]
    assert positions == sorted(positions)


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_missing_fact_not_in_the_document_is_still_asked_for(fmt: Format) -> None:
    doc = make_document(
        facts=tuple(f for f in DOC.facts if f.key != "frequency"), missing=("frequency", "affected")
    )
    assert "Frequency: (missing — asked the customer)" in fmt.shown(fmt.report(doc))


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_a_report_triage_could_not_read_says_so_instead_of_looking_empty(fmt: Format) -> None:
    doc = make_document(completeness=12, missing=(), unread_language="Spanish")
    shown = fmt.shown(fmt.report(doc))
    assert "Completeness: 12 % (written in Spanish, which triage does not read: not checked)" in shown
    assert "written in" not in fmt.shown(fmt.report(DOC))


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_vague_answer_is_shown_and_flagged(fmt: Format) -> None:
    facts = tuple(
        dataclasses.replace(f, value="it doesn't work", missing=True) if f.key == "actual" else f
        for f in DOC.facts
    )
    shown = fmt.shown(fmt.report(make_document(facts=facts, missing=("actual",))))
    assert "Actual behaviour: it doesn't work (missing — asked the customer)" in shown


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_lone_report_has_no_duplicates_line(fmt: Format) -> None:
    shown = fmt.shown(fmt.report(make_document(duplicates=Duplicates(reports=1, people=1, accounts=1))))
    assert "Duplicates" not in shown
    assert "reports from" not in shown


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_sparse_report_still_renders(fmt: Format) -> None:
    doc = make_document(
        description="",
        severity_reasons=(),
        categories=(),
        environment=Environment(),
        console=(),
        failed_requests=(),
        media=(),
        reporter=Reporter(),
        metadata={},
        missing=(),
    )
    shown = fmt.shown(fmt.report(doc))
    assert "Environment (not captured)" in shown
    for absent in ("Console errors", "Failed requests", "Attachments", "Description", "Metadata", "Name:"):
        assert absent not in shown


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_long_lists_are_cut_with_a_count(fmt: Format) -> None:
    doc = make_document(
        failed_requests=tuple(
            FailedRequest("GET", f"https://shop.example.com/api/{i}", 503) for i in range(14)
        ),
        media=tuple(make_media(f"shot-{i}.png") for i in range(23)),
    )
    shown = fmt.shown(fmt.report(doc))
    assert "Failed requests (14)" in shown
    assert "https://shop.example.com/api/9 → 503" in shown
    assert "https://shop.example.com/api/10 " not in shown
    assert "… 4 more in Bugline" in shown
    assert "Attachments (23)" in shown
    assert "… 3 more in Bugline" in shown


UPDATE = make_update()
UPDATE_EXPECTED = (
    "Another customer reported this problem (#57): 3 people, 2 accounts affected.",
    "New report: #57 Cannot pay, button stuck",
    "Reporter: Lee Wong, lee@globex.example, Globex",
    "4 reports from 3 people in 2 accounts",
    "pay-button.png",
    "links expire",
)


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
@pytest.mark.parametrize("phrase", UPDATE_EXPECTED)
def test_update_is_a_short_comment_about_the_new_report(fmt: Format, phrase: str) -> None:
    shown = fmt.shown(fmt.update(UPDATE))
    assert phrase in shown
    assert "Pay for my order" not in shown  # not the whole report again


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_update_links_the_new_report_and_its_media(fmt: Format) -> None:
    hrefs = [href for href, _ in fmt.links(fmt.update(UPDATE))]
    assert UPDATE.report.link in hrefs
    assert UPDATE.report.media[0].url in hrefs
