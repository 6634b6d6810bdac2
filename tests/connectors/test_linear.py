"""The Linear connector against a fake Linear that validates every GraphQL request against
Linear's schema, executes it against that schema, and checks the upload PUTs
(tests/support/vendors/linear.py). Every test ends with ``linear.invalid == []``."""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from markdown_it import MarkdownIt

from bugline.connectors.base import Attempt, Delivered, Failed, InvalidSettings, Retry, Target, Ticket, mask
from bugline.connectors.document import Level
from bugline.connectors.linear import LinearConnector, client_id
from tests.connectors.factory import LOG, PNG, hostile, hostile_update, make_document, make_media, make_update
from tests.support.vendors.linear import API_KEY, LABEL_ID, STATE_ID, TEAM_ID, FakeLinear
from tests.support.vendors.server import Fault

pytestmark = pytest.mark.anyio

KEY = "5d0c8a3e-7f41-4b9e-9d2a-0c1b2a3d4e5f"  # an outbox delivery id
GRAPHQL = "/graphql"
UPLOAD = "/uploads/*"


@pytest.fixture
def linear() -> Iterator[FakeLinear]:
    with FakeLinear() as fake:
        yield fake
        assert fake.invalid == [], fake.errors()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        yield client


def connector(linear: FakeLinear, http: httpx.AsyncClient, **settings: Any) -> LinearConnector:
    raw = {"api_key": API_KEY, "team_id": TEAM_ID, "url": f"{linear.url}/graphql", **settings}
    return LinearConnector(LinearConnector.validate(raw), http)


async def deliver(linear: FakeLinear, http: httpx.AsyncClient, number: int = 1, **overrides: Any) -> Any:
    return await connector(linear, http).deliver(make_document(**overrides), Target(), Attempt(KEY, number))


def operations(linear: FakeLinear) -> list[str]:
    """The root field of every GraphQL request, in order: ["fileUpload", "issueCreate", ...]."""
    names = []
    for request in linear.to("POST", GRAPHQL):
        match = re.search(r"\{\s*(\w+)", request.json()["query"])
        names.append(match.group(1) if match else "?")
    return names


def only_issue(linear: FakeLinear) -> dict[str, Any]:
    [issue] = linear.issues.values()
    return issue


def graphql_error(kind: str, message: str = "error") -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"type": kind, "userPresentableMessage": message}}]}


def rendered_tokens(markdown: str) -> list[Any]:
    """Every token of the markdown as a CommonMark parser with GFM tables and strikethrough
    (what Linear's editor reads) sees it, inline children included."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    flat = []
    for token in parser.parse(markdown):
        flat.append(token)
        flat.extend(token.children or [])
    return flat


def plain(markdown: str) -> str:
    """The text a reader sees, markup removed."""
    parts = []
    for token in rendered_tokens(markdown):
        if token.type in ("text", "code_inline", "fence", "code_block"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak", "paragraph_close"):
            parts.append("\n")
    return "".join(parts)


# ---- a report becomes an issue -----------------------------------------------------------


async def test_report_becomes_issue_with_every_field(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    doc = make_document()
    conn = connector(linear, http, label_ids=LABEL_ID, state_id=STATE_ID)
    result = await conn.deliver(doc, Target(), Attempt(KEY))

    assert isinstance(result, Delivered), result
    issue = only_issue(linear)
    assert result.ticket == Ticket(issue["id"], issue["url"], {"identifier": "ENG-1"})
    assert "ENG-1 created" in result.detail and "2 of 2 files uploaded" in result.detail
    assert issue["id"] == client_id("issue", KEY)
    assert uuid.UUID(issue["id"]).version == 4  # the schema asks for "UUID v4 format"
    assert issue["teamId"] == TEAM_ID
    assert issue["title"] == "[High] Pay button does nothing (#42)"
    assert issue["priority"] == 2
    assert issue["labelIds"] == [LABEL_ID]
    assert issue["stateId"] == STATE_ID
    description = issue["description"]
    text = plain(description)
    for fact in doc.facts:
        if fact.value:
            assert fact.value.split("\n")[0] in text
    assert "Chrome 131.0" in text and "dana@acme.example" in text
    # Each file is in Linear's storage, byte for byte, and the description links the asset.
    links = re.findall(r"\]\(<([^>]+)>\)", description)
    assets = [link for link in links if "/assets/" in link]
    assert [linear.asset(a) for a in assets] == [PNG, LOG]
    assert all("X-Amz-Signature" not in link for link in links)  # no expiring Bugline link left
    assert operations(linear) == ["fileUpload", "fileUpload", "issueCreate"]
    assert all(r.headers["authorization"] == API_KEY for r in linear.to("POST", GRAPHQL))  # no Bearer


async def test_uploads_send_every_header_fileupload_returned(
    linear: FakeLinear, http: httpx.AsyncClient
) -> None:
    await deliver(linear, http)
    puts = linear.to("PUT", UPLOAD)
    assert len(puts) == 2
    for put, (media_type, data) in zip(puts, [("image/png", PNG), ("text/plain", LOG)], strict=True):
        assert put.headers["content-type"] == media_type
        assert put.headers["cache-control"] == "public, max-age=31536000"
        assert put.headers["x-goog-meta-token"] and put.headers["content-disposition"].startswith(
            "attachment"
        )
        assert put.body == data
    # The fake refuses (and lists in .invalid) a PUT missing any of these; none was.


@pytest.mark.parametrize(("severity", "priority"), [("critical", 1), ("high", 2), ("medium", 3), ("low", 4)])
async def test_severity_maps_to_linear_priority(
    linear: FakeLinear, http: httpx.AsyncClient, severity: Level, priority: int
) -> None:
    result = await deliver(linear, http, severity=severity, media=())
    assert isinstance(result, Delivered), result
    assert only_issue(linear)["priority"] == priority


async def test_routing_options_add_labels_and_state(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    other = "0a0b0c0d-1e1f-4a2b-8c3d-4e5f6a7b8c9d"
    target = Target(options={"label_ids": f"{other}, {LABEL_ID}", "state_id": STATE_ID})
    result = await connector(linear, http, label_ids=LABEL_ID).deliver(
        make_document(media=()), target, Attempt(KEY)
    )
    assert isinstance(result, Delivered), result
    assert only_issue(linear)["labelIds"] == [LABEL_ID, other]
    assert only_issue(linear)["stateId"] == STATE_ID


async def test_no_optional_fields_when_not_configured(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    await deliver(linear, http, media=())
    assert "labelIds" not in only_issue(linear) and "stateId" not in only_issue(linear)


# ---- files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault.status(500), Fault.status(503, headers={"Retry-After": "5"}), Fault.drop()],
    ids=["500", "503", "drop"],
)
async def test_storage_failing_on_upload_retries_before_any_issue_exists(
    linear: FakeLinear, http: httpx.AsyncClient, fault: Fault
) -> None:
    linear.script(fault.on("PUT", UPLOAD))
    result = await deliver(linear, http)
    assert isinstance(result, Retry), result
    assert linear.issues == {}
    assert "issueCreate" not in operations(linear)


async def test_storage_refusing_a_file_links_it_instead(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    linear.script(Fault.status(403, body=b"<Error><Code>AccessDenied</Code></Error>").on("PUT", UPLOAD))
    result = await deliver(linear, http)
    assert isinstance(result, Delivered), result
    assert "1 of 2 files uploaded" in result.detail and "checkout.png: not uploaded" in result.detail
    description = only_issue(linear)["description"]
    assert "X-Amz-Signature" in description  # the png: Bugline's own link
    assert any(linear.asset(link) == LOG for link in re.findall(r"\]\(<([^>]+)>\)", description))


async def test_linear_refusing_a_file_links_it_instead(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    linear.script(
        Fault.status(200, body=graphql_error("invalid input", "File too large")).on("POST", GRAPHQL)
    )
    result = await deliver(linear, http)
    assert isinstance(result, Delivered), result
    assert "File too large" in result.detail and "1 of 2 files uploaded" in result.detail


async def test_a_file_storage_cannot_read_is_a_retry(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"\x89PNG"
        raise OSError("storage went away")

    result = await deliver(linear, http, media=(dataclasses.replace(make_media(), read=broken),))
    assert isinstance(result, Retry) and "OSError" in result.reason
    assert linear.issues == {}
    # The store saw a short upload, refused it (a size mismatch), and keeps no asset.
    [put] = await linear.arrival(1, "PUT", UPLOAD)
    assert put.errors and all(u["data"] is None for u in linear.uploads.values())
    linear.reset()  # that refused PUT is the expected entry in .invalid


# ---- failures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected", "after", "status"),
    [
        (Fault.status(429, headers={"Retry-After": "7"}), Retry, 7.0, 429),
        (Fault.status(400, body=graphql_error("ratelimited", "Rate limit exceeded")), Retry, None, 400),
        (
            Fault.status(200, body=graphql_error("ratelimited"), headers={"Retry-After": "12"}),
            Retry,
            12.0,
            200,
        ),
        (Fault.status(500), Retry, None, 500),
        (Fault.status(502, body=b"<html>Bad gateway</html>"), Retry, None, 502),
        (Fault.status(200, body=graphql_error("lock timeout")), Retry, None, 200),
        (Fault.malformed(b'{"data": {"issueCreate": {"succ'), Retry, None, None),
        (Fault.status(200, body={"data": None}), Retry, None, None),
        (Fault.drop(), Retry, None, None),
        (Fault.status(401, body=b"Unauthorized"), Failed, None, 401),
        (Fault.status(400, body=graphql_error("authentication error", "Invalid API key")), Failed, None, 400),
        (Fault.status(200, body=graphql_error("forbidden", "No access to team")), Failed, None, 200),
    ],
    ids=[
        "429",
        "ratelimited-400",
        "ratelimited-200",
        "500",
        "502-html",
        "lock-timeout",
        "truncated",
        "no-data",
        "drop",
        "401",
        "auth-error",
        "forbidden",
    ],
)
async def test_create_failures(
    linear: FakeLinear,
    http: httpx.AsyncClient,
    fault: Fault,
    expected: type[Retry | Failed],
    after: float | None,
    status: int | None,
) -> None:
    linear.script(fault.on("POST", GRAPHQL))
    result = await deliver(linear, http, media=())
    assert isinstance(result, expected), result
    if isinstance(result, Retry):
        assert result.after == after
        if status is not None:
            assert result.status == status
    else:
        assert result.status == status
    assert linear.issues == {}


async def test_rate_limit_reset_header_gives_the_wait(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    reset = str(int((time.time() + 30) * 1000))  # Linear: a Unix time (ms)
    fault = Fault.status(
        400, body=graphql_error("ratelimited"), headers={"X-RateLimit-Requests-Reset": reset}
    )
    linear.script(fault)
    result = await deliver(linear, http, media=())
    assert isinstance(result, Retry) and result.after is not None
    assert 25 <= result.after <= 31


async def test_hang_is_a_retry(linear: FakeLinear) -> None:
    linear.script(Fault.hang(3).on("POST", GRAPHQL))
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.3)) as http:
        result = await deliver(linear, http, media=())
    assert isinstance(result, Retry) and "timed out" in result.reason


async def test_wrong_api_key_is_a_failure(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    result = await connector(linear, http, api_key="lin_api_wrongwrongwrong").deliver(
        make_document(media=()), Target(), Attempt(KEY)
    )
    assert isinstance(result, Failed) and "Authentication required" in result.reason
    assert linear.issues == {}


async def test_unknown_team_is_a_failure(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    target = Target(options={"team_id": "00000000-0000-4000-8000-000000000000"})
    result = await connector(linear, http).deliver(make_document(media=()), target, Attempt(KEY))
    assert isinstance(result, Failed) and "Could not find referenced Team" in result.reason


# ---- exactly once ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault", [Fault.hang(3, process=True), Fault.drop(process=True)], ids=["hang", "drop"]
)
async def test_retry_after_an_interrupted_create_finds_the_issue(linear: FakeLinear, fault: Fault) -> None:
    linear.script(fault.on("POST", GRAPHQL))
    async with httpx.AsyncClient(timeout=httpx.Timeout(2.0)) as http:
        first = await deliver(linear, http, media=())
        second = await deliver(linear, http, number=2, media=())
    assert isinstance(first, Retry)
    assert isinstance(second, Delivered), second
    assert "found the issue an earlier attempt created" in second.detail
    assert second.ticket.remote_id == client_id("issue", KEY)
    assert len(linear.issues) == 1
    assert operations(linear) == ["issueCreate", "issues"]  # the retry created nothing


async def test_retry_after_an_interrupted_create_with_files_uploads_nothing_again(
    linear: FakeLinear, http: httpx.AsyncClient
) -> None:
    first = await deliver(linear, http)
    assert isinstance(first, Delivered)
    second = await deliver(linear, http, number=2)
    assert isinstance(second, Delivered) and second.ticket == first.ticket
    assert len(linear.to("PUT", UPLOAD)) == 2


async def test_duplicate_id_answer_means_delivered(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    """An attempt that does not know it is a retry (number 1 twice) still makes one issue:
    Linear refuses the second create (the fake's answer; ❓ in CONTRACTS) and the lookup by
    id finds the first."""
    first = await deliver(linear, http, media=())
    again = await deliver(linear, http, media=())
    assert isinstance(first, Delivered) and isinstance(again, Delivered)
    assert again.ticket == first.ticket
    assert len(linear.issues) == 1
    assert operations(linear) == ["issueCreate", "issueCreate", "issues"]


async def test_different_deliveries_make_different_issues(
    linear: FakeLinear, http: httpx.AsyncClient
) -> None:
    conn = connector(linear, http)
    await conn.deliver(make_document(media=()), Target(), Attempt("delivery-a"))
    await conn.deliver(make_document(media=()), Target(), Attempt("delivery-b"))
    assert len(linear.issues) == 2
    assert client_id("issue", "a") != client_id("comment", "a")


async def test_lookup_failing_on_retry_is_a_retry(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    linear.script(Fault.status(503).on("POST", GRAPHQL))
    result = await deliver(linear, http, number=2, media=())
    assert isinstance(result, Retry)
    assert operations(linear) == ["issues"] and linear.issues == {}


# ---- updates -----------------------------------------------------------------------------


async def created(linear: FakeLinear, http: httpx.AsyncClient) -> Ticket:
    result = await deliver(linear, http, media=())
    assert isinstance(result, Delivered)
    return result.ticket


async def test_update_adds_a_comment(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    ticket = await created(linear, http)
    change = make_update()
    result = await connector(linear, http).update(ticket, change, Attempt("update-1"))
    assert isinstance(result, Delivered), result
    assert result.ticket == ticket
    [comment] = only_issue(linear)["comments"]
    assert comment["id"] == client_id("comment", "update-1")
    assert comment["issueId"] == ticket.remote_id
    assert "Another customer reported this problem" in comment["body"]
    assert "3 people" in comment["body"]


async def test_retried_update_is_not_commented_twice(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    ticket = await created(linear, http)
    # Only the attempt that meets the dropped answer gives up quickly; the others take the
    # usual time (a 0.5 s limit on every call failed a loaded CI machine's first create).
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.5)) as hasty:
        linear.script(Fault.drop(process=True).on("POST", GRAPHQL))
        first = await connector(linear, hasty).update(ticket, make_update(), Attempt("update-1"))
    second = await connector(linear, http).update(ticket, make_update(), Attempt("update-1", 2))
    third = await connector(linear, http).update(ticket, make_update(), Attempt("update-1"))
    assert isinstance(first, Retry)
    assert isinstance(second, Delivered) and "earlier attempt" in second.detail
    assert isinstance(third, Delivered)  # refused as a duplicate id, then found
    assert len(only_issue(linear)["comments"]) == 1


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.status(429, headers={"Retry-After": "3"}), Retry),
        (Fault.status(400, body=graphql_error("ratelimited")), Retry),
        (Fault.status(500), Retry),
        (None, Failed),
    ],
    ids=["429", "ratelimited", "500", "no such issue"],
)
async def test_update_failures(
    linear: FakeLinear, http: httpx.AsyncClient, fault: Fault | None, expected: type[Retry | Failed]
) -> None:
    if fault is None:
        ticket = Ticket("7e57a11e-0000-4000-8000-000000000000", "", {})
    else:
        ticket = await created(linear, http)
        linear.script(fault.on("POST", GRAPHQL))
    result = await connector(linear, http).update(ticket, make_update(), Attempt("u"))
    assert isinstance(result, expected), result
    assert all(not i["comments"] for i in linear.issues.values())


# ---- markup cannot inject ----------------------------------------------------------------


async def test_hostile_report_cannot_inject(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    result = await connector(linear, http).deliver(hostile(), Target(), Attempt(KEY))
    assert isinstance(result, Delivered), result
    issue = only_issue(linear)
    tokens = rendered_tokens(issue["description"])
    assert not [t for t in tokens if t.type in ("html_inline", "html_block", "image")]
    hrefs = [str(t.attrs["href"]) for t in tokens if t.type == "link_open"]
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    assert not [h for h in hrefs if "javascript" in h.lower() or "<" in h or '"' in h]
    # The customer's text survives as text.
    assert "<script>alert(document.cookie)</script>" in plain(issue["description"])
    assert "\n" not in issue["title"]
    # A content type that is not a plain media type is declared as octet-stream.
    declared = [json.loads(r.body)["variables"].get("contentType") for r in linear.to("POST", GRAPHQL)]
    assert "application/octet-stream" in declared


async def test_hostile_update_cannot_inject(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    ticket = await created(linear, http)
    result = await connector(linear, http).update(ticket, hostile_update(), Attempt("u"))
    assert isinstance(result, Delivered), result
    [comment] = only_issue(linear)["comments"]
    tokens = rendered_tokens(comment["body"])
    assert not [t for t in tokens if t.type in ("html_inline", "html_block", "image")]
    assert all(
        str(t.attrs["href"]).startswith(("https://", "http://")) for t in tokens if t.type == "link_open"
    )


# ---- check -------------------------------------------------------------------------------


async def test_check_signs_in_and_finds_the_team(linear: FakeLinear, http: httpx.AsyncClient) -> None:
    result = await connector(linear, http).check()
    assert isinstance(result, Delivered), result
    assert "Bugline Bot" in result.detail and "Engineering (ENG)" in result.detail
    assert linear.issues == {}


@pytest.mark.parametrize(
    ("settings", "fault", "expected", "words"),
    [
        (
            {"team_id": "00000000-0000-4000-8000-000000000000"},
            None,
            Failed,
            ["Could not find referenced Team"],
        ),
        ({"api_key": "lin_api_wrong"}, None, Failed, ["Authentication required"]),
        ({}, Fault.status(429, headers={"Retry-After": "2"}), Retry, ["429"]),
        ({}, Fault.malformed(), Retry, ["no data"]),
    ],
    ids=["unknown team", "bad key", "429", "malformed"],
)
async def test_check_failures(
    linear: FakeLinear,
    http: httpx.AsyncClient,
    settings: dict[str, str],
    fault: Fault | None,
    expected: type[Retry | Failed],
    words: list[str],
) -> None:
    if fault is not None:
        linear.script(fault)
    result = await connector(linear, http, **settings).check()
    assert isinstance(result, expected), result
    for word in words:
        assert word in result.reason


# ---- settings ----------------------------------------------------------------------------

GOOD = {"api_key": API_KEY, "team_id": TEAM_ID}


@pytest.mark.parametrize(
    ("change", "bad"),
    [
        ({"api_key": None}, {"api_key"}),
        ({"team_id": None}, {"team_id"}),
        ({"team_id": "ENG"}, {"team_id"}),
        ({"state_id": "Todo"}, {"state_id"}),
        ({"label_ids": f"{LABEL_ID},bug"}, {"label_ids"}),
        ({"url": "http://api.linear.app/graphql"}, {"url"}),
        ({"url": "api.linear.app"}, {"url"}),
        ({"team": TEAM_ID}, {"team"}),
        (
            {"team_id": "ENG", "url": "http://x.example/graphql", "api_key": None},
            {"team_id", "url", "api_key"},
        ),
    ],
)
def test_invalid_settings_name_every_bad_key(change: dict[str, Any], bad: set[str]) -> None:
    raw = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(InvalidSettings) as caught:
        LinearConnector.validate(raw)
    assert set(caught.value.errors) == bad


def test_settings_defaults() -> None:
    config = LinearConnector.validate(GOOD)
    assert config["url"] == "https://api.linear.app/graphql"
    assert "label_ids" not in config and "state_id" not in config
    assert LinearConnector.validate({**GOOD, "label_ids": [LABEL_ID]})["label_ids"] == [LABEL_ID]
    assert (
        LinearConnector.validate({**GOOD, "url": "http://localhost:9/graphql"})["url"]
        == "http://localhost:9/graphql"
    )


def test_the_api_key_is_masked() -> None:
    shown = mask(LinearConnector.settings, LinearConnector.validate(GOOD))
    assert API_KEY not in str(shown)
    assert shown["api_key"] == "…" + API_KEY[-4:]
    assert shown["team_id"] == TEAM_ID


def test_connector_identity() -> None:
    assert (LinearConnector.kind, LinearConnector.title, LinearConnector.uploads_files) == (
        "linear",
        "Linear",
        True,
    )
