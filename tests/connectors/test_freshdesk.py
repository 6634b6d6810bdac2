"""The Freshdesk connector against a fake Freshdesk that checks every request against the
create-ticket schema written from CONTRACTS.md section 3 (tests/support/vendors/freshdesk.py),
stores what it is sent and misbehaves on cue.

Every test ends with ``freshdesk.errors() == []`` (the fixture checks it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bugline.connectors import freshdesk as freshdesk_module
from bugline.connectors.base import Attempt, Delivered, Failed, InvalidSettings, Retry, Target, mask
from bugline.connectors.document import Reporter
from bugline.connectors.freshdesk import FreshdeskConnector, key_tag
from bugline.render import common, html
from tests.connectors.factory import LOG, PNG, hostile, make_document, make_update
from tests.render.inspect import read_html
from tests.support.vendors.freshdesk import AGENT_EMAIL, API_KEY, FakeFreshdesk, FreshdeskValidator
from tests.support.vendors.server import Fault
from tests.support.vendors.specs import example

pytestmark = pytest.mark.anyio

CREATE = ("POST", "/api/v2/tickets")
SEARCH = ("GET", "/api/v2/search/tickets")
NOTES = ("POST", "/api/v2/tickets/*/notes")
FALLBACK = "support@acme.example"
REPORT_TAGS = ["bugline", "severity:high", "kind:bug", "category:billing", "category:checkout"]


@pytest.fixture
def freshdesk() -> Iterator[FakeFreshdesk]:
    with FakeFreshdesk() as vendor:
        yield vendor
        assert vendor.errors() == []  # every request fits the create-ticket schema


def connect(vendor: FakeFreshdesk, http: httpx.AsyncClient, **settings: Any) -> FreshdeskConnector:
    raw = {"url": vendor.url, "api_key": API_KEY, "requester_email": FALLBACK, **settings}
    return FreshdeskConnector(FreshdeskConnector.validate(raw), http)


def only_ticket(vendor: FakeFreshdesk) -> dict[str, Any]:
    assert len(vendor.tickets) == 1, f"expected exactly one ticket, got {sorted(vendor.tickets)}"
    return next(iter(vendor.tickets.values()))


# ---- the fake's schema is the contract's -----------------------------------------------------


def test_the_schema_takes_the_contract_example_and_refuses_what_freshdesk_refuses() -> None:
    check = FreshdeskValidator()
    auth = {"Authorization": "Basic " + "YWJjOlg=", "Content-Type": "application/json"}
    good = example("freshdesk_create_ticket.json").read_bytes()
    assert check.validate("POST", "/api/v2/tickets", None, auth, good) == []
    for bad in (
        b'{"subject": "x", "description": "<p>y</p>"}',  # no requester
        b'{"subject": "x", "description": "y", "email": "a@b.example", "priority": 5}',
        b'{"subject": "x", "description": "y", "email": "a@b.example", "tags": "one"}',
        b'{"subject": "x", "description": "y", "email": "a@b.example", "colour": "red"}',
    ):
        assert check.validate("POST", "/api/v2/tickets", None, auth, bad) != [], bad
    assert check.validate("POST", "/api/v2/tickets", None, {**auth, "Authorization": ""}, good) != []


# ---- a ticket with everything ------------------------------------------------------------


async def test_ticket_carries_every_field_and_the_files(freshdesk: FakeFreshdesk) -> None:
    doc = make_document()
    async with httpx.AsyncClient(timeout=5) as http:
        c = connect(
            freshdesk,
            http,
            group_id="42",
            ticket_type="Problem",
            custom_fields="cf_area=checkout",
            tags="VIP",
        )
        result = await c.deliver(doc, Target(tags=("team payments",)), Attempt("key-1"))

    assert isinstance(result, Delivered), result
    ticket = only_ticket(freshdesk)
    assert result.ticket.remote_id == str(ticket["id"])
    assert result.ticket.url == f"{freshdesk.url}/a/tickets/{ticket['id']}"
    assert result.detail == "ticket created; 2 files attached"
    assert ticket["subject"] == common.title(doc)
    assert ticket["description"] == html.report(doc)
    page = read_html(ticket["description"])
    for fact in doc.facts:
        if fact.value:
            assert fact.value in page.text
    assert (ticket["priority"], ticket["status"], ticket["source"]) == (3, 2, 2)
    assert (ticket["group_id"], ticket["type"]) == (42, "Problem")
    assert ticket["custom_fields"] == {"cf_area": "checkout"}
    assert ticket["tags"] == [*REPORT_TAGS, "VIP", "team payments", key_tag("key-1")]
    contact = freshdesk.contacts["dana@acme.example"]
    assert ticket["requester_id"] == contact["id"] and contact["name"] == "Dana Smith"
    attached = [(f["name"], f["content_type"], f["data"]) for f in freshdesk.files[ticket["id"]]]
    assert attached == [("checkout.png", "image/png", PNG), ("console.log", "text/plain", LOG)]

    [create] = freshdesk.to(*CREATE)
    assert create.headers["content-type"].startswith("multipart/form-data")
    assert freshdesk.to(*SEARCH) == []  # a first attempt creates straight away


async def test_without_files_the_ticket_is_json(freshdesk: FakeFreshdesk) -> None:
    doc = make_document(media=())
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(freshdesk, http).deliver(doc, Target(), Attempt("j"))
    assert isinstance(result, Delivered) and result.detail == "ticket created"
    [create] = freshdesk.to(*CREATE)
    sent = create.json()
    assert create.headers["content-type"] == "application/json"
    assert sent["email"] == "dana@acme.example" and sent["name"] == "Dana Smith"
    assert sent["tags"] == [*REPORT_TAGS, key_tag("j")]
    assert only_ticket(freshdesk)["attachments"] == []


@pytest.mark.parametrize(("severity", "priority"), [("critical", 4), ("high", 3), ("medium", 2), ("low", 1)])
async def test_severity_maps_to_priority(freshdesk: FakeFreshdesk, severity: str, priority: int) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(freshdesk, http).deliver(
            make_document(severity=severity, media=()), Target(), Attempt(severity)
        )
    assert isinstance(result, Delivered)
    assert only_ticket(freshdesk)["priority"] == priority


@pytest.mark.parametrize("email", ["", "not an email"])
async def test_the_configured_requester_stands_in(freshdesk: FakeFreshdesk, email: str) -> None:
    doc = make_document(reporter=Reporter(name="Dana", email=email), media=())
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(freshdesk, http).deliver(doc, Target(), Attempt("r"))
    assert isinstance(result, Delivered)
    sent = freshdesk.to(*CREATE)[0].json()
    assert sent["email"] == FALLBACK and "name" not in sent
    assert list(freshdesk.contacts) == [FALLBACK]


async def test_files_past_the_size_cap_stay_links(
    freshdesk: FakeFreshdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(freshdesk_module, "ATTACHMENTS_LIMIT", len(PNG))
    doc = make_document()
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(freshdesk, http).deliver(doc, Target(), Attempt("cap"))
    assert isinstance(result, Delivered) and result.detail.endswith(
        "1 file attached, 1 linked (over the size limit)"
    )
    ticket = only_ticket(freshdesk)
    assert [f["name"] for f in freshdesk.files[ticket["id"]]] == ["checkout.png"]
    assert (doc.media[1].url, "console.log") in read_html(ticket["description"]).links


# ---- notes ---------------------------------------------------------------------------------


async def test_update_adds_a_private_note(freshdesk: FakeFreshdesk) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        c = connect(freshdesk, http)
        created = await c.deliver(make_document(media=()), Target(), Attempt("k"))
        assert isinstance(created, Delivered)
        change = make_update()
        result = await c.update(created.ticket, change, Attempt("u"))
    assert isinstance(result, Delivered) and result.ticket == created.ticket
    [note] = freshdesk.notes[int(created.ticket.remote_id)]
    assert note["private"] is True and note["body"] == html.update(change)
    assert "4 reports from 3 people in 2 accounts" in read_html(note["body"]).text


@pytest.mark.parametrize(
    ("ticket_id", "fault", "expected", "status"),
    [
        pytest.param("99999", None, Failed, 404, id="deleted"),
        pytest.param("T-1", None, Failed, None, id="not-an-id"),
        pytest.param(None, Fault.status(429, headers={"Retry-After": "7"}), Retry, 429, id="429"),
        pytest.param(None, Fault.status(500), Retry, 500, id="500"),
        pytest.param(None, Fault.status(401), Failed, 401, id="401"),
    ],
)
async def test_update_failures(
    freshdesk: FakeFreshdesk, ticket_id: str | None, fault: Fault | None, expected: type, status: int | None
) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        c = connect(freshdesk, http)
        created = await c.deliver(make_document(media=()), Target(), Attempt("k"))
        assert isinstance(created, Delivered)
        ticket = created.ticket
        if ticket_id is not None:
            ticket = type(ticket)(remote_id=ticket_id, url=ticket.url)
        if fault is not None:
            freshdesk.script(fault.on(*NOTES))
        result = await c.update(ticket, make_update(), Attempt("u"))
    assert isinstance(result, expected), result
    assert getattr(result, "status", None) == status
    assert freshdesk.notes == {}


# ---- failures and exactly once -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "after", "created"),
    [
        pytest.param(Fault.status(429, headers={"Retry-After": "7"}), 7.0, False, id="429"),
        pytest.param(Fault.status(500), None, False, id="500"),
        pytest.param(Fault.hang(3), None, False, id="hang"),
        pytest.param(Fault.malformed(), None, False, id="malformed"),
        pytest.param(Fault.drop(), None, False, id="drop"),
        pytest.param(Fault.drop(process=True), None, True, id="done-answer-lost"),
        pytest.param(Fault.hang(3, process=True), None, True, id="done-answer-late"),
    ],
)
async def test_a_failed_attempt_is_retried_into_exactly_one_ticket(
    freshdesk: FakeFreshdesk, fault: Fault, after: float | None, created: bool
) -> None:
    doc = make_document()
    freshdesk.script(fault.on(*CREATE))
    async with httpx.AsyncClient(timeout=1) as http:
        c = connect(freshdesk, http)
        first = await c.deliver(doc, Target(), Attempt("once"))
        assert isinstance(first, Retry), first
        assert first.after == after
        assert len(freshdesk.tickets) == int(created)
        again = await c.deliver(doc, Target(), Attempt("once", number=2))
    assert isinstance(again, Delivered), again
    ticket = only_ticket(freshdesk)
    assert again.ticket.remote_id == str(ticket["id"])
    assert again.detail.startswith("found the ticket" if created else "ticket created")
    assert [f["data"] for f in freshdesk.files[ticket["id"]]] == [PNG, LOG]
    [search] = freshdesk.to(*SEARCH)
    assert search.query["query"] == f"\"tag:'{key_tag('once')}'\""


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        pytest.param(Fault.status(500), Retry, id="500"),
        pytest.param(Fault.malformed(), Retry, id="malformed"),
        pytest.param(Fault.status(401), Failed, id="401"),
    ],
)
async def test_a_failed_search_never_creates_blindly(
    freshdesk: FakeFreshdesk, fault: Fault, expected: type
) -> None:
    freshdesk.script(fault.on(*SEARCH))
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(freshdesk, http).deliver(make_document(), Target(), Attempt("s", number=2))
    assert isinstance(result, expected), result
    assert freshdesk.tickets == {} and freshdesk.to(*CREATE) == []


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        pytest.param(
            Fault.status(400, body={"description": "Validation failed", "errors": []}), 400, id="400"
        ),
        pytest.param(Fault.status(401), 401, id="401"),
        pytest.param(Fault.status(403, body={"code": "access_denied"}), 403, id="403"),
        pytest.param(Fault.status(404), 404, id="404"),
    ],
)
async def test_refusals_fail_for_good(freshdesk: FakeFreshdesk, fault: Fault, status: int) -> None:
    freshdesk.script(fault.on(*CREATE))
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(freshdesk, http).deliver(make_document(), Target(), Attempt("no"))
    assert isinstance(result, Failed) and result.status == status
    assert freshdesk.tickets == {}


async def test_wrong_key_fails_and_creates_nothing(freshdesk: FakeFreshdesk) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(freshdesk, http, api_key="not-the-key-at-all").deliver(
            make_document(), Target(), Attempt("x")
        )
    assert isinstance(result, Failed) and result.status == 401
    assert "You have to be logged in" in result.reason
    assert freshdesk.tickets == {}


# ---- what cannot get in --------------------------------------------------------------------

ALLOWED_TAGS = {"h3", "p", "ul", "ol", "li", "strong", "code", "pre", "a", "br"}


async def test_markup_in_a_report_stays_text(freshdesk: FakeFreshdesk) -> None:
    doc = hostile()
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(freshdesk, http).deliver(doc, Target(tags=("<b>x</b>, y",)), Attempt("h"))
    assert isinstance(result, Delivered), result
    ticket = only_ticket(freshdesk)
    assert ticket["subject"] == common.title(doc)
    page = read_html(ticket["description"])
    assert {t.name for t in page.tags} <= ALLOWED_TAGS
    for t in page.tags:
        assert set(t.attrs) <= {"href", "rel", "target"}, t
        if t.name == "a":
            assert t.attrs["href"].startswith(("http://", "https://")), t
    assert page.comments == []
    assert "<script>alert(document.cookie)</script>" in page.text  # shown, not run
    assert all("," not in t and len(t) <= 32 for t in ticket["tags"])
    assert freshdesk.to(*CREATE)  # multipart with hostile file names and types still parsed
    assert len(freshdesk.files[ticket["id"]]) == len(doc.media)
    assert all(f["content_type"] for f in freshdesk.files[ticket["id"]])


# ---- settings and the connection check -----------------------------------------------------


def test_mask_hides_the_key() -> None:
    config = FreshdeskConnector.validate({"url": "acme", "api_key": API_KEY, "requester_email": FALLBACK})
    shown = mask(FreshdeskConnector.settings, config)
    assert shown["api_key"] == "…" + API_KEY[-4:] and API_KEY not in repr(shown)
    assert config["url"] == "https://acme.freshdesk.com"


@pytest.mark.parametrize(
    ("change", "bad"),
    [
        ({"url": "http://acme.freshdesk.com"}, "url"),
        ({"url": "https://acme.freshdesk.com/a/tickets"}, "url"),
        ({"url": None}, "url"),
        ({"api_key": None}, "api_key"),
        ({"requester_email": None}, "requester_email"),
        ({"requester_email": "support"}, "requester_email"),
        ({"group_id": "first line"}, "group_id"),
        ({"custom_fields": "cf area=x"}, "custom_fields"),
        ({"custom_fields": "cf_area"}, "custom_fields"),
        ({"priority": "4"}, "priority"),
    ],
)
def test_invalid_settings_name_the_key(change: dict[str, Any], bad: str) -> None:
    raw = {"url": "acme", "api_key": API_KEY, "requester_email": FALLBACK, **change}
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(InvalidSettings) as caught:
        FreshdeskConnector.validate(raw)
    assert set(caught.value.errors) == {bad}


@pytest.mark.parametrize(
    ("fault", "key", "expected", "status"),
    [
        pytest.param(None, API_KEY, Delivered, None, id="ok"),
        pytest.param(None, "wrong-key-wrong-key", Failed, 401, id="wrong-key"),
        pytest.param(
            Fault.status(200, body={"hello": "not freshdesk"}), API_KEY, Failed, None, id="not-freshdesk"
        ),
        pytest.param(Fault.status(503), API_KEY, Retry, 503, id="503"),
        pytest.param(Fault.drop(), API_KEY, Retry, None, id="drop"),
    ],
)
async def test_check(
    freshdesk: FakeFreshdesk, fault: Fault | None, key: str, expected: type, status: int | None
) -> None:
    if fault is not None:
        freshdesk.script(fault)
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(freshdesk, http, api_key=key).check()
    assert isinstance(result, expected), result
    assert getattr(result, "status", None) == status
    if isinstance(result, Delivered):
        assert AGENT_EMAIL in result.detail
    assert [(r.method, r.path) for r in freshdesk.requests] == [("GET", "/api/v2/agents/me")]
