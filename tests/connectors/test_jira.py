"""The Jira Cloud connector against a fake Jira that checks every request against Jira's spec
subset (tests/support/vendors/jira.py). Every test ends with ``jira.invalid == []``."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bugline.connectors.base import Attempt, Delivered, Failed, InvalidSettings, Retry, Target, Ticket, mask
from bugline.connectors.document import Level
from bugline.connectors.jira import JiraConnector, delivery_label
from bugline.render import common
from tests.connectors.factory import LOG, PNG, hostile, hostile_update, make_document, make_media, make_update
from tests.support.vendors.jira import EMAIL, TOKEN, FakeJira
from tests.support.vendors.server import Fault

pytestmark = pytest.mark.anyio

CREATE = "/rest/api/3/issue"
ATTACH = "/rest/api/3/issue/*/attachments"
KEY = "5d0c8a3e-7f41-4b9e-9d2a-0c1b2a3d4e5f"  # an outbox delivery id


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        yield fake
        assert fake.invalid == [], fake.errors()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        yield client


def connector(jira: FakeJira, http: httpx.AsyncClient, **settings: Any) -> JiraConnector:
    raw = {"url": jira.url, "email": EMAIL, "api_token": TOKEN, "project_key": "WEB", **settings}
    return JiraConnector(JiraConnector.validate(raw), http)


async def deliver(jira: FakeJira, http: httpx.AsyncClient, number: int = 1, **overrides: Any) -> Any:
    return await connector(jira, http).deliver(make_document(**overrides), Target(), Attempt(KEY, number))


def adf_text(node: Any) -> str:
    """All the text of an ADF tree, in order."""
    if isinstance(node, dict):
        own = node.get("text", "") if node.get("type") == "text" else ""
        return own + "".join(adf_text(child) for child in node.get("content", []))
    return ""


# ---- a report becomes an issue -----------------------------------------------------------


async def test_report_becomes_issue_with_every_field(jira: FakeJira, http: httpx.AsyncClient) -> None:
    doc = make_document()
    result = await connector(jira, http).deliver(doc, Target(tags=("VIP customer", "eu west")), Attempt(KEY))

    assert isinstance(result, Delivered), result
    assert result.ticket == Ticket(
        "WEB-1", f"{jira.url}/browse/WEB-1", {"id": jira.issues["WEB-1"]["id"], "key": "WEB-1"}
    )
    assert "2 of 2 files attached" in result.detail
    fields = jira.issues["WEB-1"]["fields"]
    assert fields["project"] == {"key": "WEB"}
    assert fields["issuetype"] == {"name": "Bug"}
    assert fields["summary"] == "[High] Pay button does nothing (#42)"
    assert fields["priority"] == {"name": "High"}
    assert fields["labels"] == [
        "bugline",
        "severity:high",
        "kind:bug",
        "category:billing",
        "category:checkout",
        "vip-customer",  # Jira refuses spaces in labels
        "eu-west",
        delivery_label(KEY),
    ]
    description = fields["description"]
    assert description["type"] == "doc" and description["version"] == 1
    text = adf_text(description)
    for fact in doc.facts:
        if fact.value:
            assert fact.value.split("\n")[0] in text
    assert "Chrome 131.0" in text and "dana@acme.example" in text and "checkout.png" in text
    attachments = jira.issues["WEB-1"]["attachments"]
    assert [(a["filename"], a["mimeType"], a["data"]) for a in attachments] == [
        ("checkout.png", "image/png", PNG),
        ("console.log", "text/plain", LOG),
    ]
    assert all(r.headers["x-atlassian-token"] == "no-check" for r in jira.to("POST", ATTACH))


@pytest.mark.parametrize(
    ("severity", "default_name", "custom_name"),
    [("critical", "Highest", "P1"), ("high", "High", "P2"), ("medium", "Medium", "P3"), ("low", "Low", "P4")],
)
async def test_severity_maps_to_the_sites_priority_names(
    http: httpx.AsyncClient, severity: Level, default_name: str, custom_name: str
) -> None:
    with FakeJira(priorities=("Highest", "High", "Medium", "Low", "P1", "P2", "P3", "P4")) as jira:
        plain = connector(jira, http)
        custom = connector(jira, http, priorities="P1, P2, P3, P4")
        assert isinstance(
            await plain.deliver(make_document(severity=severity), Target(), Attempt("a")), Delivered
        )
        assert isinstance(
            await custom.deliver(make_document(severity=severity), Target(), Attempt("b")), Delivered
        )
        assert [i["fields"]["priority"]["name"] for i in jira.issues.values()] == [default_name, custom_name]
        assert jira.invalid == []


@pytest.mark.parametrize(
    ("kind", "target", "issue_type"),
    [
        ("bug", {}, "Bug"),
        ("question", {}, "Bug"),
        ("feature_request", {}, "Story"),
        ("bug", {"issue_type": "Task"}, "Task"),
    ],
)
async def test_issue_type_follows_the_kind_and_routing(
    jira: FakeJira, http: httpx.AsyncClient, kind: str, target: dict[str, str], issue_type: str
) -> None:
    result = await connector(jira, http).deliver(
        make_document(kind=kind), Target(options=target), Attempt(KEY)
    )
    assert isinstance(result, Delivered), result
    assert jira.issues["WEB-1"]["fields"]["issuetype"] == {"name": issue_type}


async def test_routing_can_choose_another_project(jira: FakeJira, http: httpx.AsyncClient) -> None:
    result = await connector(jira, http).deliver(
        make_document(), Target(options={"project": "OPS"}), Attempt(KEY)
    )
    assert isinstance(result, Delivered) and result.ticket.remote_id == "OPS-1"
    assert list(jira.issues) == ["OPS-1"]


async def test_routing_to_a_malformed_project_fails_without_a_request(
    jira: FakeJira, http: httpx.AsyncClient
) -> None:
    result = await connector(jira, http).deliver(
        make_document(), Target(options={"project": "ops x"}), Attempt(KEY)
    )
    assert isinstance(result, Failed) and "ops x" in result.reason
    assert jira.requests == []


async def test_file_over_the_site_limit_is_linked_not_a_failure(http: httpx.AsyncClient) -> None:
    with FakeJira(max_attachment=len(PNG)) as jira:  # the log is bigger than the PNG
        result = await deliver(jira, http)
        assert isinstance(result, Delivered), result
        assert "1 of 2 files attached" in result.detail
        assert "console.log: over the site's attachment limit (413)" in result.detail
        assert [a["filename"] for a in jira.issues["WEB-1"]["attachments"]] == ["checkout.png"]
        # The description still links every file.
        assert "console.log" in adf_text(jira.issues["WEB-1"]["fields"]["description"])
        assert jira.invalid == []


@pytest.mark.parametrize(
    "fault",
    [Fault.status(500), Fault.status(429, headers={"Retry-After": "9"}), Fault.drop(), Fault.hang(2)],
    ids=["500", "429", "drop", "hang"],
)
async def test_a_file_that_cannot_be_attached_never_turns_the_delivery_into_a_retry(
    jira: FakeJira, fault: Fault
) -> None:
    """The issue exists once Jira answered the create: a retry would make a second one."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(1.5)) as http:
        jira.script(fault.on("POST", ATTACH))
        result = await deliver(jira, http)
    assert isinstance(result, Delivered), result
    assert "1 of 2 files attached" in result.detail and "linked instead" in result.detail
    assert list(jira.issues) == ["WEB-1"]


async def test_a_file_storage_cannot_read_is_noted(jira: FakeJira, http: httpx.AsyncClient) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"\x89PNG"
        raise OSError("storage went away")

    media = (
        dataclasses.replace(make_media(), read=broken),
        make_media("console.log", LOG, "text/plain", "log"),
    )
    result = await deliver(jira, http, media=media)
    assert isinstance(result, Delivered), result
    assert "checkout.png: could not be read from storage (OSError)" in result.detail
    assert [a["filename"] for a in jira.issues["WEB-1"]["attachments"]] == ["console.log"]


# ---- failures of the create --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected", "after", "status"),
    [
        (Fault.status(429, headers={"Retry-After": "7"}), Retry, 7.0, 429),
        (Fault.status(503, headers={"Retry-After": "3"}), Retry, 3.0, 503),
        (Fault.status(500), Retry, None, 500),
        (Fault.malformed(b'{"id": "10001", "key": "WE'), Retry, None, None),
        (Fault.malformed(b"<html>Bad gateway</html>", "text/html"), Retry, None, None),
        (Fault.drop(), Retry, None, None),
        (Fault.status(401, body={"errorMessages": ["Unauthorized"], "errors": {}}), Failed, None, 401),
        (Fault.status(403, body={"errorMessages": ["No permission"], "errors": {}}), Failed, None, 403),
        (Fault.status(404, body={"errorMessages": ["Not found"], "errors": {}}), Failed, None, 404),
    ],
    ids=["429", "503", "500", "truncated", "html", "drop", "401", "403", "404"],
)
async def test_create_failures(
    jira: FakeJira,
    http: httpx.AsyncClient,
    fault: Fault,
    expected: type[Retry | Failed],
    after: float | None,
    status: int | None,
) -> None:
    jira.script(fault.on("POST", CREATE))
    result = await deliver(jira, http)
    assert isinstance(result, expected), result
    assert result.status == status
    if isinstance(result, Retry):
        assert result.after == after
    assert jira.to("POST", ATTACH) == []  # nothing attached to an issue we do not know


async def test_hang_is_a_retry(jira: FakeJira) -> None:
    jira.script(Fault.hang(3).on("POST", CREATE))
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.3)) as http:
        result = await deliver(jira, http)
    assert isinstance(result, Retry) and "timed out" in result.reason
    assert jira.issues == {}


@pytest.mark.parametrize(
    ("settings", "target", "field"),
    [
        ({"api_token": "wrong-token-0000"}, {}, None),
        ({"priorities": "Blocker,Major,Minor,Trivial"}, {}, "priority"),
        ({}, {"project": "NOPE"}, "project"),
        ({"issue_type": "Epic"}, {}, "issuetype"),
    ],
    ids=["bad token", "unknown priority", "unknown project", "unknown issue type"],
)
async def test_refusals_from_jira_are_failures_that_name_the_problem(
    jira: FakeJira,
    http: httpx.AsyncClient,
    settings: dict[str, str],
    target: dict[str, str],
    field: str | None,
) -> None:
    result = await connector(jira, http, **settings).deliver(
        make_document(), Target(options=target), Attempt(KEY)
    )
    assert isinstance(result, Failed), result
    assert result.status == (401 if field is None else 400)
    if field is not None:
        assert field in result.reason
    assert jira.issues == {}


# ---- exactly once ------------------------------------------------------------------------


async def test_lost_create_answer_leaves_issues_findable_by_the_delivery_label(jira: FakeJira) -> None:
    """Jira has no idempotency key and the spec subset no search: the known gap, kept
    visible. Both issues carry the delivery's label and the retry's result says so."""
    jira.script(Fault.hang(3, process=True).on("POST", CREATE))
    async with httpx.AsyncClient(timeout=httpx.Timeout(2.0)) as http:
        first = await deliver(jira, http, media=())
        second = await deliver(jira, http, number=2, media=())
    assert isinstance(first, Retry)
    assert isinstance(second, Delivered)
    assert delivery_label(KEY) in second.detail
    assert [delivery_label(KEY) in i["fields"]["labels"] for i in jira.issues.values()] == [True, True]


async def test_the_delivery_label_is_stable_and_valid(jira: FakeJira, http: httpx.AsyncClient) -> None:
    await deliver(jira, http, media=())
    await deliver(jira, http, number=2, media=())
    labels = [i["fields"]["labels"][-1] for i in jira.issues.values()]
    assert labels == [f"bugline-{KEY}", f"bugline-{KEY}"]
    assert delivery_label("Delivery 42/A") == "bugline-delivery-42-a"


# ---- updates -----------------------------------------------------------------------------


async def test_update_is_attached_to_the_issue(jira: FakeJira, http: httpx.AsyncClient) -> None:
    created = await deliver(jira, http, media=())
    assert isinstance(created, Delivered)
    change = make_update()
    result = await connector(jira, http).update(created.ticket, change, Attempt("update-1"))
    assert isinstance(result, Delivered), result
    assert result.ticket == created.ticket
    [note] = jira.issues["WEB-1"]["attachments"]
    assert note["filename"].startswith("bugline-update-57-") and note["filename"].endswith(".txt")
    assert note["mimeType"] == "text/plain"
    body = note["data"].decode("utf-8")
    assert change.note in body
    assert "3 people" in body and "Lee Wong" in body


async def test_retried_update_is_not_attached_twice(jira: FakeJira) -> None:
    async with httpx.AsyncClient(timeout=httpx.Timeout(2.0)) as http:
        created = await deliver(jira, http, media=())
        assert isinstance(created, Delivered)
        jira.script(Fault.hang(3, process=True).on("POST", ATTACH))
        first = await connector(jira, http).update(created.ticket, make_update(), Attempt("update-1"))
        second = await connector(jira, http).update(created.ticket, make_update(), Attempt("update-1", 2))
        other = await connector(jira, http).update(created.ticket, make_update(), Attempt("update-2", 2))
    assert isinstance(first, Retry)
    assert isinstance(second, Delivered) and "earlier attempt" in second.detail
    assert isinstance(other, Delivered)
    assert len(jira.issues["WEB-1"]["attachments"]) == 2  # one per update, not per attempt


@pytest.mark.parametrize(
    ("fault", "expected"),
    [(Fault.status(500), Retry), (Fault.status(429, headers={"Retry-After": "4"}), Retry), (None, Failed)],
    ids=["500", "429", "gone"],
)
async def test_update_failures(
    jira: FakeJira, http: httpx.AsyncClient, fault: Fault | None, expected: type[Retry | Failed]
) -> None:
    ticket = Ticket("WEB-1", "", {"key": "WEB-1"})
    if fault is not None:
        await deliver(jira, http, media=())
        jira.script(fault.on("POST", ATTACH))
    result = await connector(jira, http).update(ticket, make_update(), Attempt("u"))
    assert isinstance(result, expected), result


# ---- markup cannot inject ----------------------------------------------------------------

ADF_NODES = {
    "doc",
    "paragraph",
    "text",
    "heading",
    "bulletList",
    "orderedList",
    "listItem",
    "codeBlock",
    "hardBreak",
    "rule",
}


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for child in node.get("content", []):
            yield from walk(child)


async def test_hostile_report_lands_as_text_only(jira: FakeJira, http: httpx.AsyncClient) -> None:
    result = await connector(jira, http).deliver(hostile(), Target(tags=("<b>x</b> y",)), Attempt(KEY))
    assert isinstance(result, Delivered), result
    fields = jira.issues["WEB-1"]["fields"]
    nodes = list(walk(fields["description"]))
    assert {n["type"] for n in nodes} <= ADF_NODES
    for node in nodes:
        if node["type"] == "text":
            assert set(node) <= {"type", "text", "marks"} and node["text"]
            for mark in node.get("marks", []):
                assert mark["type"] in {"strong", "code", "link", "em"}
                if mark["type"] == "link":
                    assert mark["attrs"]["href"].startswith(("https://", "http://"))
                    assert "javascript" not in mark["attrs"]["href"].lower()
    # The customer's markup is there, as text.
    assert "<script>alert(document.cookie)</script>" in adf_text(fields["description"])
    assert "\n" not in fields["summary"] and len(fields["summary"]) <= 255
    assert all(label == common.label(label) for label in fields["labels"])
    # A content type that is not a plain media type never reaches a multipart header.
    types = {a["filename"]: a["mimeType"] for a in jira.issues["WEB-1"]["attachments"]}
    assert types["log<script>.txt"] == "application/octet-stream"


async def test_hostile_update_is_plain_text(jira: FakeJira, http: httpx.AsyncClient) -> None:
    created = await deliver(jira, http, media=())
    assert isinstance(created, Delivered)
    result = await connector(jira, http).update(created.ticket, hostile_update(), Attempt("u"))
    assert isinstance(result, Delivered), result
    [note] = jira.issues["WEB-1"]["attachments"]
    assert note["mimeType"] == "text/plain"  # shown as text by Jira, never as HTML


# ---- check -------------------------------------------------------------------------------


async def test_check_signs_in_and_finds_the_priorities(jira: FakeJira, http: httpx.AsyncClient) -> None:
    result = await connector(jira, http).check()
    assert isinstance(result, Delivered), result
    assert "Highest, High, Medium, Low" in result.detail
    assert jira.issues == {}


async def test_check_pages_through_priorities(http: httpx.AsyncClient) -> None:
    names = (*(f"Level {i}" for i in range(230)), "Highest", "High", "Medium", "Low")
    with FakeJira(priorities=names) as jira:
        result = await connector(jira, http).check()
        assert isinstance(result, Delivered), result
        assert [r.query.get("startAt") for r in jira.requests] == ["0", "100", "200"]
        assert jira.invalid == []


@pytest.mark.parametrize(
    ("settings", "fault", "expected", "words"),
    [
        ({"priorities": "Highest,High,Normal,Minor"}, None, Failed, ["Normal, Minor", "Lowest"]),
        ({"api_token": "wrong-token-0000"}, None, Failed, ["401"]),
        ({}, Fault.status(503, headers={"Retry-After": "2"}), Retry, ["503"]),
        ({}, Fault.malformed(), Retry, ["not JSON"]),
    ],
    ids=["unknown priorities", "bad token", "503", "malformed"],
)
async def test_check_failures(
    jira: FakeJira,
    http: httpx.AsyncClient,
    settings: dict[str, str],
    fault: Fault | None,
    expected: type[Retry | Failed],
    words: list[str],
) -> None:
    if fault is not None:
        jira.script(fault)
    result = await connector(jira, http, **settings).check()
    assert isinstance(result, expected), result
    for word in words:
        assert word in result.reason


# ---- settings ----------------------------------------------------------------------------

GOOD = {
    "url": "https://acme.atlassian.net",
    "email": EMAIL,
    "api_token": TOKEN,
    "project_key": "WEB",
}


@pytest.mark.parametrize(
    ("change", "bad"),
    [
        ({"url": ""}, {"url"}),
        ({"url": "http://acme.atlassian.net"}, {"url"}),
        ({"url": "ftp://acme.atlassian.net"}, {"url"}),
        ({"email": "not an email"}, {"email"}),
        ({"api_token": None}, {"api_token"}),
        ({"project_key": "web site"}, {"project_key"}),
        ({"project_key": "1WEB"}, {"project_key"}),
        ({"priorities": "Highest,High"}, {"priorities"}),
        ({"board": "7"}, {"board"}),
        ({"url": "http://jira.example", "project_key": "-", "token": "x"}, {"url", "project_key", "token"}),
    ],
)
def test_invalid_settings_name_every_bad_key(change: dict[str, Any], bad: set[str]) -> None:
    raw = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(InvalidSettings) as caught:
        JiraConnector.validate(raw)
    assert set(caught.value.errors) == bad


def test_settings_are_normalised() -> None:
    config = JiraConnector.validate(
        {**GOOD, "url": "https://acme.atlassian.net/jira/software/", "project_key": "web"}
    )
    assert config["url"] == "https://acme.atlassian.net"
    assert config["project_key"] == "WEB"
    assert config["issue_type"] == "Bug" and config["feature_issue_type"] == "Story"
    assert config["priorities"] == ["Highest", "High", "Medium", "Low"]
    local = JiraConnector.validate({**GOOD, "url": "http://127.0.0.1:8080"})
    assert local["url"] == "http://127.0.0.1:8080"  # plain http for the tests' loopback fake only


def test_the_api_token_is_masked() -> None:
    shown = mask(JiraConnector.settings, JiraConnector.validate(GOOD))
    assert TOKEN not in str(shown)
    assert shown["api_token"] == "…" + TOKEN[-4:]
    assert shown["email"] == EMAIL and shown["url"] == GOOD["url"]


def test_connector_identity() -> None:
    assert (JiraConnector.kind, JiraConnector.title, JiraConnector.uploads_files) == (
        "jira",
        "Jira Cloud",
        True,
    )
