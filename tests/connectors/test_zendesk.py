"""The Zendesk connector against a fake Zendesk that checks every request against the saved
OpenAPI subset (../shared/specs/zendesk), stores what it is sent and misbehaves on cue.

Every test ends with ``zendesk.errors() == []`` (the fixture checks it): no request the
connector made broke the spec."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from bugline.connectors import zendesk as zendesk_module
from bugline.connectors.base import Attempt, Delivered, Failed, InvalidSettings, Retry, Target, mask
from bugline.connectors.document import Media, ReportDocument, Reporter
from bugline.connectors.zendesk import FILES_TAG, ZendeskConnector
from bugline.render import common, html
from tests.connectors.factory import LOG, PNG, hostile, make_document, make_update
from tests.render.inspect import read_html
from tests.support.vendors.server import Fault
from tests.support.vendors.zendesk import EMAIL, TOKEN, FakeZendesk

pytestmark = pytest.mark.anyio

CREATE = ("POST", "/api/v2/tickets")
UPLOAD = ("POST", "/api/v2/uploads")
ATTACH = ("PUT", "/api/v2/tickets/*")
# Tags the connector puts on: common.labels(doc) made Zendesk-safe, then settings, then target.
REPORT_TAGS = ["bugline", "severity_high", "kind_bug", "category_billing", "category_checkout"]


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk() as vendor:
        yield vendor
        assert vendor.errors() == []  # every request the connector made fits the spec subset


def connect(vendor: FakeZendesk, http: httpx.AsyncClient, **settings: Any) -> ZendeskConnector:
    raw = {"url": vendor.url, "email": EMAIL, "api_token": TOKEN, **settings}
    return ZendeskConnector(ZendeskConnector.validate(raw), http)


async def content(media: Media) -> bytes:
    return b"".join([chunk async for chunk in media.read()])


def resigned(doc: ReportDocument) -> ReportDocument:
    """The same report as the outbox builds it again for a retry: the same bytes, but every
    download link signed anew (a fresh expiry and signature)."""
    media = tuple(replace(m, url=m.url.replace("Signature=ab12", "Signature=cd34")) for m in doc.media)
    assert media == () or media != doc.media
    return replace(doc, media=media)


def only_ticket(vendor: FakeZendesk) -> dict[str, Any]:
    assert len(vendor.tickets) == 1, f"expected exactly one ticket, got {sorted(vendor.tickets)}"
    return next(iter(vendor.tickets.values()))


# ---- a ticket with everything ------------------------------------------------------------


async def test_ticket_carries_every_field_and_the_files(zendesk: FakeZendesk) -> None:
    doc = make_document()
    async with httpx.AsyncClient(timeout=5) as http:
        c = connect(
            zendesk,
            http,
            group_id="360000123",
            custom_fields="360001=web, 360002=checkout",
            tags="Team Payments",
        )
        result = await c.deliver(doc, Target(tags=("VIP",)), Attempt("key-1"))

    assert isinstance(result, Delivered), result
    ticket = only_ticket(zendesk)
    assert result.ticket.remote_id == str(ticket["id"])
    assert result.ticket.url == f"{zendesk.url}/agent/tickets/{ticket['id']}"
    assert result.ticket.data["api_url"] == ticket["url"]
    assert result.detail == "ticket created; 2 files attached"
    assert ticket["subject"] == common.title(doc) == "[High] Pay button does nothing (#42)"
    assert (ticket["priority"], ticket["type"], ticket["status"]) == ("high", "problem", "new")
    assert ticket["external_id"] == "bugline-key-1"
    assert ticket["group_id"] == 360000123
    assert ticket["custom_fields"] == [{"id": 360001, "value": "web"}, {"id": 360002, "value": "checkout"}]
    assert ticket["tags"] == [*REPORT_TAGS, "team_payments", "vip", FILES_TAG]
    requester = zendesk.users["dana@acme.example"]
    assert ticket["requester_id"] == requester["id"] and requester["name"] == "Dana Smith"

    # The report is an internal note; the files come in a second internal note.
    report, files = zendesk.comments[ticket["id"]]
    assert report["public"] is False and files["public"] is False
    assert report["html_body"] == html.report(replace(doc, media=()))
    page = read_html(report["html_body"])
    for fact in doc.facts:
        if fact.value:
            assert fact.value in page.text
    assert "TypeError: Cannot read properties of undefined (reading 'id')" in page.text
    assert report["attachments"] == []
    attached = [(a["file_name"], a["content_type"], a["data"]) for a in files["attachments"]]
    assert attached == [("checkout.png", "image/png", PNG), ("console.log", "text/plain", LOG)]
    for m in doc.media:
        assert (m.name, m.content_type, await content(m)) in attached
    files_page = read_html(files["html_body"])
    assert "2 of 2 attached" in files_page.text
    assert [text for _, text in files_page.links] == ["checkout.png", "console.log"]

    # One upload token for both files (token= on the second), then one create, one PUT.
    first, second = zendesk.to(*UPLOAD)
    assert first.query["filename"] == "checkout.png" and "token" not in first.query
    assert second.query["filename"] == "console.log" and second.query["token"] != ""
    assert (first.headers["content-type"], second.headers["content-type"]) == ("image/png", "text/plain")
    [create] = zendesk.to(*CREATE)
    assert create.headers["idempotency-key"] == "key-1"
    assert [(r.method, r.status) for r in zendesk.requests] == [
        ("POST", 201),
        ("POST", 201),
        ("POST", 201),
        ("PUT", 200),
    ]


@pytest.mark.parametrize(
    ("severity", "priority"),
    [("critical", "urgent"), ("high", "high"), ("medium", "normal"), ("low", "low")],
)
async def test_severity_maps_to_priority(zendesk: FakeZendesk, severity: str, priority: str) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(zendesk, http).deliver(
            make_document(severity=severity, media=()), Target(), Attempt(f"p-{severity}")
        )
    assert isinstance(result, Delivered)
    ticket = only_ticket(zendesk)
    assert ticket["priority"] == priority
    assert f"severity_{severity}" in ticket["tags"]


@pytest.mark.parametrize(
    ("kind", "setting", "option", "expected"),
    [
        ("bug", None, None, "problem"),
        ("question", None, None, "question"),
        ("feature_request", None, None, None),  # none of Zendesk's four types fits
        ("bug", "incident", None, "incident"),
        ("question", "task", None, "task"),
        ("bug", "incident", "question", "question"),  # routing's choice wins
    ],
)
async def test_ticket_type(
    zendesk: FakeZendesk, kind: str, setting: str | None, option: str | None, expected: str | None
) -> None:
    settings = {"ticket_type": setting} if setting else {}
    target = Target(options={"ticket_type": option} if option else {})
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(zendesk, http, **settings).deliver(
            make_document(kind=kind, media=()), target, Attempt("t")
        )
    assert isinstance(result, Delivered)
    assert only_ticket(zendesk)["type"] == expected


@pytest.mark.parametrize("email", ["", "not an email", "dana@", "<dana@acme.example>"])
async def test_no_requester_without_a_usable_email(zendesk: FakeZendesk, email: str) -> None:
    doc = make_document(reporter=Reporter(name="Dana", email=email), media=())
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(zendesk, http).deliver(doc, Target(), Attempt("r"))
    assert isinstance(result, Delivered)
    assert "requester" not in zendesk.to(*CREATE)[0].json()["ticket"]
    assert only_ticket(zendesk)["requester_id"] == 1 and zendesk.users == {}  # the agent


async def test_a_file_over_the_limit_stays_a_link(
    zendesk: FakeZendesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zendesk_module, "MAX_UPLOAD", len(PNG))  # the log is bigger than that
    doc = make_document()
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(zendesk, http).deliver(doc, Target(), Attempt("big"))
    assert isinstance(result, Delivered) and result.detail.endswith("1 file attached, 1 too large (linked)")
    ticket = only_ticket(zendesk)
    assert [a["file_name"] for a in zendesk.attachments(ticket["id"])] == ["checkout.png"]
    links = dict(read_html(zendesk.comments[ticket["id"]][1]["html_body"]).links)
    assert links[doc.media[1].url] == "console.log"


# ---- comments on a ticket that exists ------------------------------------------------------


async def test_update_adds_an_internal_note(zendesk: FakeZendesk) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        c = connect(zendesk, http)
        created = await c.deliver(make_document(media=()), Target(), Attempt("k"))
        assert isinstance(created, Delivered)
        change = make_update()
        result = await c.update(created.ticket, change, Attempt("u1"))
    assert isinstance(result, Delivered) and result.ticket == created.ticket
    ticket = only_ticket(zendesk)
    note = zendesk.comments[ticket["id"]][-1]
    assert len(zendesk.comments[ticket["id"]]) == 2
    assert note["public"] is False and note["html_body"] == html.update(change)
    text = read_html(note["html_body"]).text
    assert change.note in text and "4 reports from 3 people in 2 accounts" in text


@pytest.mark.parametrize(
    ("ticket_id", "fault", "expected", "status"),
    [
        ("999999", None, Failed, 404),  # deleted in Zendesk
        ("abc", None, Failed, None),  # not a Zendesk id at all: no request
        (None, Fault.status(500), Retry, 500),
        (None, Fault.status(429, headers={"Retry-After": "7"}), Retry, 429),
        (None, Fault.status(401), Failed, 401),
    ],
)
async def test_update_failures(
    zendesk: FakeZendesk, ticket_id: str | None, fault: Fault | None, expected: type, status: int | None
) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        c = connect(zendesk, http)
        created = await c.deliver(make_document(media=()), Target(), Attempt("k"))
        assert isinstance(created, Delivered)
        ticket = created.ticket if ticket_id is None else replace(created.ticket, remote_id=ticket_id)
        if fault is not None:
            zendesk.script(fault.on(*ATTACH))
        result = await c.update(ticket, make_update(), Attempt("u"))
    assert isinstance(result, expected), result
    assert getattr(result, "status", None) == status
    assert len(zendesk.comments[int(created.ticket.remote_id)]) == 1  # nothing added


# ---- failures: what the outbox is told, and exactly one ticket in the end ------------------


@pytest.mark.parametrize(
    ("step", "fault", "after"),
    [
        pytest.param(CREATE, Fault.status(429, headers={"Retry-After": "7"}), 7.0, id="create-429"),
        pytest.param(CREATE, Fault.status(500), None, id="create-500"),
        pytest.param(CREATE, Fault.status(503), None, id="create-503"),
        pytest.param(CREATE, Fault.hang(3), None, id="create-hang"),
        pytest.param(CREATE, Fault.malformed(), None, id="create-malformed"),
        pytest.param(CREATE, Fault.drop(), None, id="create-drop"),
        pytest.param(CREATE, Fault.drop(process=True), None, id="create-done-answer-lost"),
        pytest.param(CREATE, Fault.hang(3, process=True), None, id="create-done-answer-late"),
        pytest.param(UPLOAD, Fault.status(429, headers={"Retry-After": "7"}), 7.0, id="upload-429"),
        pytest.param(UPLOAD, Fault.status(502), None, id="upload-502"),
        pytest.param(UPLOAD, Fault.malformed(), None, id="upload-malformed"),
        pytest.param(UPLOAD, Fault.drop(), None, id="upload-drop"),
        pytest.param(ATTACH, Fault.status(500), None, id="attach-500"),
        pytest.param(ATTACH, Fault.status(409), None, id="attach-409-ticket-changed"),
        pytest.param(ATTACH, Fault.drop(process=True), None, id="attach-done-answer-lost"),
        pytest.param(ATTACH, Fault.hang(3, process=True), None, id="attach-done-answer-late"),
    ],
)
async def test_a_failed_attempt_is_retried_into_exactly_one_ticket(
    zendesk: FakeZendesk, step: tuple[str, str], fault: Fault, after: float | None
) -> None:
    doc = make_document()
    zendesk.script(fault.on(*step))
    async with httpx.AsyncClient(timeout=1) as http:
        c = connect(zendesk, http)
        first = await c.deliver(doc, Target(), Attempt("once"))
        assert isinstance(first, Retry), first
        assert first.after == after
        again = await c.deliver(resigned(doc), Target(), Attempt("once", number=2))
    assert isinstance(again, Delivered), again
    ticket = only_ticket(zendesk)
    assert again.ticket.remote_id == str(ticket["id"])
    assert [a["data"] for a in zendesk.attachments(ticket["id"])] == [PNG, LOG]  # once each
    assert len(zendesk.comments[ticket["id"]]) == 2  # the report and the files note, once each
    assert ticket["tags"].count(FILES_TAG) == 1
    assert zendesk.pending == []


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (Fault.status(401, body={"error": "Couldn't authenticate you"}), 401),
        (Fault.status(403, body={"error": "Forbidden", "description": "You do not have access"}), 403),
        (Fault.status(422, body={"error": "RecordInvalid", "description": "Record validation errors"}), 422),
        (Fault.status(404, body={"error": "InvalidEndpoint", "description": "Not found"}), 404),
    ],
)
async def test_refusals_fail_for_good(zendesk: FakeZendesk, fault: Fault, status: int) -> None:
    zendesk.script(fault.on(*CREATE))
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(zendesk, http).deliver(make_document(), Target(), Attempt("no"))
    assert isinstance(result, Failed) and result.status == status
    assert f"HTTP {status}" in result.reason
    assert zendesk.tickets == {} and zendesk.to(*UPLOAD) == []


async def test_wrong_token_fails_and_creates_nothing(zendesk: FakeZendesk) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(zendesk, http, api_token="not-the-token-at-all").deliver(
            make_document(), Target(), Attempt("x")
        )
    assert isinstance(result, Failed) and result.status == 401
    assert "Couldn't authenticate you" in result.reason
    assert zendesk.tickets == {}


async def test_the_same_key_replays_the_ticket_without_a_second_one(zendesk: FakeZendesk) -> None:
    doc = make_document(media=())
    async with httpx.AsyncClient(timeout=5) as http:
        c = connect(zendesk, http)
        first = await c.deliver(doc, Target(), Attempt("same"))
        again = await c.deliver(doc, Target(), Attempt("same", number=3))
    assert isinstance(first, Delivered) and isinstance(again, Delivered)
    assert first.ticket == again.ticket
    assert again.detail == "found the ticket an earlier attempt created"
    only_ticket(zendesk)
    assert len(zendesk.to(*CREATE)) == 2  # the second create was answered from the key's record
    assert zendesk.to("GET", "*") == []  # no files: nothing to read back


async def test_an_agent_edit_between_attempts_is_kept(zendesk: FakeZendesk) -> None:
    zendesk.script(Fault.status(500).on(*UPLOAD))
    async with httpx.AsyncClient(timeout=5) as http:
        c = connect(zendesk, http)
        assert isinstance(await c.deliver(make_document(), Target(), Attempt("e")), Retry)
        ticket = only_ticket(zendesk)
        ticket["tags"].append("agent_added")  # an agent tags the new ticket meanwhile
        ticket["updated_at"] = "2025-01-14T11:00:00Z"
        again = await c.deliver(make_document(), Target(), Attempt("e", number=2))
    assert isinstance(again, Delivered)
    assert ticket["tags"][-2:] == ["agent_added", FILES_TAG]
    assert zendesk.to("GET", "/api/v2/tickets/*")  # read the ticket as it is now, not as replayed


async def test_a_changed_report_after_an_interrupted_create_fails_instead_of_duplicating(
    zendesk: FakeZendesk,
) -> None:
    zendesk.script(Fault.drop(process=True).on(*CREATE))
    async with httpx.AsyncClient(timeout=5) as http:
        c = connect(zendesk, http)
        assert isinstance(await c.deliver(make_document(), Target(), Attempt("drift")), Retry)
        changed = make_document(severity="critical")  # re-triaged before the retry
        result = await c.deliver(changed, Target(), Attempt("drift", number=2))
    assert isinstance(result, Failed) and result.status == 400
    assert "external_id bugline-drift" in result.reason
    only_ticket(zendesk)


# ---- what cannot get in --------------------------------------------------------------------

ALLOWED_TAGS = {"h3", "p", "ul", "ol", "li", "strong", "code", "pre", "a", "br"}


async def test_markup_in_a_report_stays_text(zendesk: FakeZendesk) -> None:
    doc = hostile()
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(zendesk, http).deliver(doc, Target(tags=("<b>x</b>", "a b")), Attempt("h"))
    assert isinstance(result, Delivered), result
    ticket = only_ticket(zendesk)
    assert ticket["subject"] == common.title(doc) and "\n" not in ticket["subject"]
    for tag in ticket["tags"]:
        assert tag == tag.lower() and all(ch.isalnum() or ch in "_-" for ch in tag), tag
    assert "requester" not in zendesk.to(*CREATE)[0].json()["ticket"]  # the "email" is markup
    for comment in zendesk.comments[ticket["id"]]:
        page = read_html(comment["html_body"])
        assert {t.name for t in page.tags} <= ALLOWED_TAGS
        for t in page.tags:
            assert set(t.attrs) <= {"href", "rel", "target"}, t
            if t.name == "a":
                assert t.attrs["href"].startswith(("http://", "https://")), t
        assert page.comments == []
        assert "<script>alert(document.cookie)</script>" in page.text  # shown, not run
    assert len(zendesk.attachments(ticket["id"])) == len(doc.media)


# ---- settings and the connection check -----------------------------------------------------


def test_mask_hides_the_token() -> None:
    config = ZendeskConnector.validate({"url": "acme", "email": EMAIL, "api_token": TOKEN})
    shown = mask(ZendeskConnector.settings, config)
    assert shown["api_token"] == "…" + TOKEN[-4:]
    assert TOKEN not in repr(shown) and shown["email"] == EMAIL


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("acme", "https://acme.zendesk.com"),
        ("Acme", "https://acme.zendesk.com"),
        ("https://acme.zendesk.com/", "https://acme.zendesk.com"),
        ("https://ACME.zendesk.com", "https://acme.zendesk.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://localhost:8123", "http://localhost:8123"),
    ],
)
def test_url_setting_is_normalised(given: str, url: str) -> None:
    config = ZendeskConnector.validate({"url": given, "email": EMAIL, "api_token": TOKEN})
    assert config["url"] == url


@pytest.mark.parametrize(
    ("change", "bad"),
    [
        ({"url": "ftp://acme.zendesk.com"}, "url"),
        ({"url": "http://acme.zendesk.com"}, "url"),  # plain http only on loopback
        ({"url": "https://acme.zendesk.com/agent/tickets"}, "url"),
        ({"url": "https://user:pw@acme.zendesk.com"}, "url"),
        ({"url": "acme zendesk"}, "url"),
        ({"url": ""}, "url"),
        ({"email": "agent"}, "email"),
        ({"api_token": None}, "api_token"),
        ({"group_id": "support"}, "group_id"),
        ({"group_id": "-3"}, "group_id"),
        ({"ticket_type": "bug"}, "ticket_type"),
        ({"custom_fields": "area=web"}, "custom_fields"),
        ({"custom_fields": "360001"}, "custom_fields"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_settings_name_the_key(change: dict[str, Any], bad: str) -> None:
    raw = {"url": "acme", "email": EMAIL, "api_token": TOKEN, **change}
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(InvalidSettings) as caught:
        ZendeskConnector.validate(raw)
    assert set(caught.value.errors) == {bad}


def test_extra_tags_are_made_zendesk_safe() -> None:
    config = ZendeskConnector.validate(
        {"url": "acme", "email": EMAIL, "api_token": TOKEN, "tags": "Team Payments, EU/West, vip"}
    )
    assert config["tags"] == ["team_payments", "eu_west", "vip"]


@pytest.mark.parametrize(
    ("fault", "token", "expected", "status"),
    [
        (None, TOKEN, Delivered, None),  # ticket 1 does not exist: the JSON 404 proves the sign-in
        (Fault.status(200, body={"ticket": {"id": 1, "subject": "Sample ticket"}}), TOKEN, Delivered, None),
        (Fault.status(200, body={"hello": "world"}), TOKEN, Failed, 200),  # answers, but not like Zendesk
        (None, "wrong-token-wrong-token", Failed, 401),
        (Fault.status(403, body={"error": "Forbidden"}), TOKEN, Failed, 403),  # an end user's token
        (Fault.status(404, body=b"<html>Not here</html>"), TOKEN, Failed, 404),  # not Zendesk
        (Fault.status(503), TOKEN, Retry, 503),
        (Fault.drop(), TOKEN, Retry, None),
    ],
)
async def test_check(
    zendesk: FakeZendesk, fault: Fault | None, token: str, expected: type, status: int | None
) -> None:
    if fault is not None:
        zendesk.script(fault)
    async with httpx.AsyncClient(timeout=5) as http:
        result = await connect(zendesk, http, api_token=token).check()
    assert isinstance(result, expected), result
    assert getattr(result, "status", None) == status
    assert [(r.method, r.path) for r in zendesk.requests] == [("GET", "/api/v2/tickets/1")]
    assert zendesk.tickets == {}
