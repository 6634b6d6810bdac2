"""The fake-vendor harness itself: spec validation accepts the shipped examples, rejects broken
requests with messages naming the problem, and the fake server records requests and misbehaves
exactly as scripted."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.vendors import specs
from tests.support.vendors.graphql import GraphQLValidator
from tests.support.vendors.openapi import Gap, SpecValidator
from tests.support.vendors.server import FakeVendor, Fault, RemoteVendor
from tests.support.vendors.specs import SpecsMissing, example, spec_path

BASIC = {"Authorization": "Basic dXNlckBleGFtcGxlLmNvbS90b2tlbjpzZWNyZXQ="}  # user@example.com/token:secret
BEARER = {"Authorization": "Bearer xoxb-test"}
JSON = "application/json"
REPO = Path(__file__).resolve().parents[2]


def load(name: str) -> Any:
    return json.loads(example(name).read_text(encoding="utf-8"))


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


@pytest.fixture(scope="module")
def validators() -> dict[str, SpecValidator]:
    return {vendor: SpecValidator(spec_path(vendor)) for vendor in ("zendesk", "jira", "github", "slack")}


@pytest.fixture(scope="module")
def linear() -> GraphQLValidator:
    return GraphQLValidator(spec_path("linear"))


# -- the specs folder -----------------------------------------------------------------------------


def test_specs_are_found_in_the_shared_folder() -> None:
    assert specs.specs_dir() in specs.CANDIDATES  # beside the repo, or where CI's clone finds it
    assert (specs.specs_dir() / "CONTRACTS.md").is_file()
    assert spec_path("github").name == "github-issues-subset.openapi.json"


def test_a_missing_specs_folder_is_an_error_naming_the_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(specs, "SPECS", tmp_path / "nowhere")
    with pytest.raises(SpecsMissing, match="nowhere"):
        spec_path("zendesk")


# -- OpenAPI / Swagger: the shipped examples are valid --------------------------------------------

VALID = [
    ("zendesk", "POST", "/api/v2/tickets", None, BASIC, "zendesk_create_ticket.json"),
    ("github", "POST", "/repos/acme/shop/issues", None, BEARER, "github_create_issue.json"),
    ("jira", "POST", "/rest/api/3/issue", None, BASIC, "jira_create_issue.json"),
    ("slack", "POST", "/api/chat.postMessage", None, BEARER, "slack_chat_postMessage.json"),
]


@pytest.mark.parametrize(
    ("vendor", "method", "path", "query", "headers", "name"), VALID, ids=[v[0] for v in VALID]
)
def test_shipped_examples_validate_clean(
    validators: dict[str, SpecValidator],
    vendor: str,
    method: str,
    path: str,
    query: dict[str, str] | None,
    headers: dict[str, str],
    name: str,
) -> None:
    body = example(name).read_bytes()
    assert validators[vendor].validate(method, path, query, headers, body, JSON) == []


# -- OpenAPI / Swagger: broken requests are rejected, naming the problem --------------------------


def mutated(name: str, change: Any) -> bytes:
    document = load(name)
    change(document)
    return dumps(document)


BROKEN = [
    (
        "zendesk bad priority",
        "zendesk",
        "/api/v2/tickets",
        mutated("zendesk_create_ticket.json", lambda d: d["ticket"].update(priority="super")),
        "POST /api/v2/tickets: body.ticket.priority: 'super' is not one of ['urgent', 'high', 'normal', 'low']",
    ),
    (
        "zendesk no comment",
        "zendesk",
        "/api/v2/tickets",
        mutated("zendesk_create_ticket.json", lambda d: d["ticket"].pop("comment")),
        "POST /api/v2/tickets: body.ticket: 'comment' is a required property",
    ),
    (
        "zendesk empty body object",
        "zendesk",
        "/api/v2/tickets",
        b"{}",
        "POST /api/v2/tickets: body: 'ticket' is a required property",
    ),
    (
        "zendesk requester with a bad email",
        "zendesk",
        "/api/v2/tickets",
        mutated("zendesk_create_ticket.json", lambda d: d["ticket"]["requester"].update(email="jane")),
        "POST /api/v2/tickets: body.ticket.requester.email: 'jane' is not a 'email'",
    ),
    (
        "github no title",
        "github",
        "/repos/acme/shop/issues",
        mutated("github_create_issue.json", lambda d: d.pop("title")),
        "POST /repos/acme/shop/issues: body: 'title' is a required property",
    ),
    (
        "github label not a string",
        "github",
        "/repos/acme/shop/issues",
        mutated("github_create_issue.json", lambda d: d.update(labels=[7])),
        "POST /repos/acme/shop/issues: body.labels[0]: 7 is not valid under any of the given schemas",
    ),
    (
        "jira no project",
        "jira",
        "/rest/api/3/issue",
        mutated("jira_create_issue.json", lambda d: d["fields"].pop("project")),
        "POST /rest/api/3/issue: body.fields: 'project' is a required property",
    ),
    (
        "jira description not ADF",
        "jira",
        "/rest/api/3/issue",
        mutated("jira_create_issue.json", lambda d: d["fields"].update(description="plain text")),
        "POST /rest/api/3/issue: body.fields.description: 'plain text' is not of type 'object'",
    ),
    (
        "jira label with a space",
        "jira",
        "/rest/api/3/issue",
        mutated("jira_create_issue.json", lambda d: d["fields"].update(labels=["bug report"])),
        "POST /rest/api/3/issue: body.fields.labels[0]: 'bug report' does not match",
    ),
    (
        "slack no channel",
        "slack",
        "/api/chat.postMessage",
        mutated("slack_chat_postMessage.json", lambda d: d.pop("channel")),
        "POST /api/chat.postMessage: body: 'channel' is a required property",
    ),
    (
        "slack neither text nor blocks",
        "slack",
        "/api/chat.postMessage",
        dumps({"channel": "C0123456789"}),
        "POST /api/chat.postMessage: body: {'channel': 'C0123456789'} is not valid under any of the given schemas",
    ),
    (
        "slack boolean as text",
        "slack",
        "/api/chat.postMessage",
        mutated("slack_chat_postMessage.json", lambda d: d.update(unfurl_links="no")),
        "POST /api/chat.postMessage: body.unfurl_links: 'no' is not of type 'boolean'",
    ),
    (
        "body is not JSON",
        "github",
        "/repos/acme/shop/issues",
        b"{'title': 1",
        "POST /repos/acme/shop/issues: body is not valid JSON",
    ),
]


@pytest.mark.parametrize(
    ("vendor", "path", "body", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_broken_bodies_are_rejected_naming_the_problem(
    validators: dict[str, SpecValidator], vendor: str, path: str, body: bytes, expected: str
) -> None:
    errors = validators[vendor].validate("POST", path, None, BASIC, body, JSON)
    assert any(e.startswith(expected) for e in errors), errors


def test_unknown_operations_are_errors(validators: dict[str, SpecValidator]) -> None:
    zendesk = validators["zendesk"]
    assert zendesk.validate("GET", "/api/v2/users", None, BASIC) == [
        "GET /api/v2/users: no such operation in zendesk-tickets-uploads-subset.openapi.json"
    ]
    assert zendesk.validate("DELETE", "/api/v2/tickets/12", None, BASIC) == [
        "DELETE /api/v2/tickets/12: method not in the spec for this path (it allows GET, PUT)"
    ]


def test_path_and_query_parameters_are_checked(validators: dict[str, SpecValidator]) -> None:
    zendesk, github = validators["zendesk"], validators["github"]
    assert zendesk.validate("GET", "/api/v2/tickets/12", None, BASIC) == []
    assert zendesk.validate("GET", "/api/v2/tickets/twelve", None, BASIC) == [
        "GET /api/v2/tickets/twelve: path.ticket_id: 'twelve' is not of type 'integer'"
    ]
    assert github.validate("GET", "/repos/acme/shop/labels", {"per_page": "50"}, BEARER) == []
    assert github.validate("GET", "/repos/acme/shop/labels", {"per_page": "fifty"}, BEARER) == [
        "GET /repos/acme/shop/labels: query.per_page: 'fifty' is not of type 'integer'"
    ]
    assert github.validate("GET", "/repos/acme/shop/labels", "perpage=50", BEARER) == [
        "GET /repos/acme/shop/labels: query parameter 'perpage' is not in the spec"
    ]


def test_base_paths_and_prefixes_are_matched(validators: dict[str, SpecValidator]) -> None:
    body = example("jira_create_issue.json").read_bytes()
    # Jira through the OAuth gateway carries a prefix before /rest/api/3.
    assert (
        validators["jira"].validate("POST", "/ex/jira/cloud-1/rest/api/3/issue", None, BASIC, body, JSON)
        == []
    )
    slack = example("slack_chat_postMessage.json").read_bytes()
    # Slack's basePath is /api; both with and without it match the operation.
    assert validators["slack"].operation_for("POST", "/api/chat.postMessage") == "/chat.postMessage"
    assert validators["slack"].validate("POST", "/chat.postMessage", None, BEARER, slack, JSON) == []


def test_credentials_are_required_where_the_spec_declares_security(
    validators: dict[str, SpecValidator],
) -> None:
    body = example("zendesk_create_ticket.json").read_bytes()
    zendesk = validators["zendesk"]
    assert zendesk.validate("POST", "/api/v2/tickets", None, {}, body, JSON) == [
        "POST /api/v2/tickets: missing credentials: the spec requires authentication (Authorization: Basic or Bearer)"
    ]
    assert (
        zendesk.validate("POST", "/api/v2/tickets", None, {"Authorization": "Bearer oauth-token"}, body, JSON)
        == []
    )
    assert zendesk.validate("POST", "/api/v2/tickets", None, {"Authorization": "Basic !!"}, body, JSON) == [
        "POST /api/v2/tickets: Authorization: Basic credentials are not base64 of user:password"
    ]


def test_slack_token_comes_as_bearer_or_form_field(validators: dict[str, SpecValidator]) -> None:
    slack = validators["slack"]
    body = example("slack_chat_postMessage.json").read_bytes()
    assert slack.validate("POST", "/api/chat.postMessage", None, {}, body, JSON) == [
        "POST /api/chat.postMessage: no token: send `Authorization: Bearer xoxb-...` (the spec's `token` parameter)"
    ]
    form = b"token=xoxb-1&channel=C1&text=hi&unfurl_links=false"
    assert (
        slack.validate("POST", "/api/chat.postMessage", None, {}, form, "application/x-www-form-urlencoded")
        == []
    )


def test_slack_blocks_as_a_string_must_be_json(validators: dict[str, SpecValidator]) -> None:
    slack = validators["slack"]
    good = b"channel=C1&blocks=%5B%5D"
    bad = b"channel=C1&blocks=%5Bnot+json"
    form = "application/x-www-form-urlencoded"
    assert slack.validate("POST", "/api/chat.postMessage", None, BEARER, good, form) == []
    assert slack.validate("POST", "/api/chat.postMessage", None, BEARER, bad, form) == [
        "POST /api/chat.postMessage: body.blocks: the spec wants a JSON-encoded array here, got text that is not JSON"
    ]


def test_zendesk_upload_takes_raw_bytes_and_a_filename(validators: dict[str, SpecValidator]) -> None:
    zendesk = validators["zendesk"]
    png = b"\x89PNG\r\n\x1a\n"
    assert (
        zendesk.validate("POST", "/api/v2/uploads", {"filename": "shot.png"}, BASIC, png, "image/png") == []
    )
    assert zendesk.validate("POST", "/api/v2/uploads", {}, BASIC, png, "image/png") == [
        "POST /api/v2/uploads: missing required query parameter 'filename'"
    ]
    assert zendesk.validate("POST", "/api/v2/uploads", {"filename": "shot.png"}, BASIC, b"", "image/png") == [
        "POST /api/v2/uploads: a request body is required"
    ]


def multipart(name: str, boundary: str = "b0undary") -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="shot.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\x89PNG\r\n"
        + f"--{boundary}--\r\n".encode()
    )


def test_jira_attachments_need_the_file_part_and_the_xsrf_header(
    validators: dict[str, SpecValidator],
) -> None:
    jira = validators["jira"]
    path = "/rest/api/3/issue/WEB-1/attachments"
    content_type = "multipart/form-data; boundary=b0undary"
    headers = {**BASIC, "X-Atlassian-Token": "no-check"}
    assert jira.validate("POST", path, None, headers, multipart("file"), content_type) == []
    assert jira.validate("POST", path, None, BASIC, multipart("files"), content_type) == [
        f"POST {path}: missing required header parameter 'X-Atlassian-Token'",
        f"POST {path}: body: multipart part 'file' is missing",
    ]
    assert jira.validate("POST", path, None, headers, b"{}", JSON) == [
        f"POST {path}: content type 'application/json' is not accepted (the spec lists multipart/form-data)"
    ]


def test_openapi_30_nullable_is_honoured(validators: dict[str, SpecValidator]) -> None:
    body = dumps(
        {"title": "x", "assignee": None, "milestone": None, "labels": [{"name": "a", "color": None}]}
    )
    assert validators["github"].validate("POST", "/repos/acme/shop/issues", None, BEARER, body, JSON) == []


def test_extra_gaps_can_add_an_operation_the_subset_lacks() -> None:
    gap = Gap(
        "POST",
        "/rest/api/3/issue/{issueIdOrKey}/comment",
        "comments are outside the saved subset",
        body={"required": True, "content": {JSON: {"schema": {"type": "object", "required": ["body"]}}}},
        adds=True,
    )
    jira = SpecValidator(spec_path("jira"), gaps=[gap])
    path = "/rest/api/3/issue/WEB-1/comment"
    assert jira.validate("POST", path, None, BASIC, dumps({"body": {}}), JSON) == []
    assert jira.validate("POST", path, None, BASIC, b"{}", JSON) == [
        f"POST {path}: body: 'body' is a required property"
    ]
    with pytest.raises(ValueError, match="names no operation"):
        SpecValidator(spec_path("jira"), gaps=[Gap("POST", "/nowhere", "typo")])


# -- GraphQL (Linear) ------------------------------------------------------------------------------

LINEAR_VALID = [
    ("linear_issueCreate.graphql", load("linear_issueCreate.variables.json")),
    ("linear_fileUpload.graphql", {"contentType": "image/png", "filename": "shot.png", "size": 1234}),
    (
        "linear_attachmentCreate.graphql",
        {"input": {"issueId": "abc", "title": "Screenshot", "url": "https://x/y.png"}},
    ),
]


@pytest.mark.parametrize(("name", "variables"), LINEAR_VALID, ids=[v[0] for v in LINEAR_VALID])
def test_linear_examples_validate_clean(
    linear: GraphQLValidator, name: str, variables: dict[str, Any]
) -> None:
    assert linear.validate_document(example(name).read_text(), variables) == []


def test_linear_unknown_field_is_rejected(linear: GraphQLValidator) -> None:
    query = example("linear_issueCreate.graphql").read_text().replace("identifier", "identifer")
    errors = linear.validate_document(query, load("linear_issueCreate.variables.json"))
    assert len(errors) == 1
    assert errors[0].startswith("query: Cannot query field 'identifer' on type 'Issue'.")


def test_linear_bad_variable_type_is_rejected(linear: GraphQLValidator) -> None:
    variables = load("linear_issueCreate.variables.json")
    variables["input"]["priority"] = "high"
    errors = linear.validate_document(example("linear_issueCreate.graphql").read_text(), variables)
    assert len(errors) == 1
    assert "invalid value at .priority: Int cannot represent non-integer value: 'high'" in errors[0]


def test_linear_missing_required_input_field_is_rejected(linear: GraphQLValidator) -> None:
    variables = load("linear_issueCreate.variables.json")
    del variables["input"]["teamId"]
    errors = linear.validate_document(example("linear_issueCreate.graphql").read_text(), variables)
    assert len(errors) == 1
    assert "to include required field 'teamId'" in errors[0]


def test_linear_http_requests_are_checked(linear: GraphQLValidator) -> None:
    payload = {
        "query": example("linear_issueCreate.graphql").read_text(),
        "variables": load("linear_issueCreate.variables.json"),
    }
    assert (
        linear.validate("POST", "/graphql", None, {"Authorization": "lin_api_x"}, dumps(payload), JSON) == []
    )
    assert linear.validate("POST", "/graphql", None, {}, dumps(payload), JSON) == [
        "POST /graphql: missing Authorization header (API key, or Bearer OAuth token)"
    ]
    assert linear.validate(
        "POST", "/graphql", None, {"Authorization": "k"}, dumps({"variables": {}}), JSON
    ) == ["POST /graphql: body.query must be a string"]


# -- the fake server ---------------------------------------------------------------------------------


class Tickets(FakeVendor):
    """A tiny Zendesk-like vendor, built the way vendor modules build theirs."""

    name = "tickets"

    def __init__(self) -> None:
        super().__init__(SpecValidator(spec_path("zendesk")), unchecked=("/files/",))
        self.tickets: list[dict[str, Any]] = []

    def routes(self) -> list[Any]:
        return [
            Route("/api/v2/tickets", self.create, methods=["POST"]),
            Route("/api/v2/tickets/{ticket_id}", self.broken, methods=["GET"]),
            Route("/files/{name}", self.upload, methods=["PUT"]),
        ]

    async def create(self, request: Request) -> Response:
        self.tickets.append((await request.json())["ticket"])
        return JSONResponse({"ticket": {"id": len(self.tickets)}}, status_code=201)

    async def broken(self, request: Request) -> Response:
        raise KeyError("a bug in the fake")

    async def upload(self, request: Request) -> Response:
        return JSONResponse({"size": len(await request.body())})


TICKET = load("zendesk_create_ticket.json")
AUTH = ("user@example.com/token", "secret")


@pytest.fixture
def vendor() -> Iterator[Tickets]:
    with Tickets() as fake:
        yield fake


def create(vendor: FakeVendor | RemoteVendor, timeout: float = 5.0, body: Any = None) -> httpx.Response:
    return httpx.post(
        f"{vendor.url}/api/v2/tickets", json=TICKET if body is None else body, auth=AUTH, timeout=timeout
    )


def test_valid_requests_reach_the_vendor_and_are_recorded(vendor: Tickets) -> None:
    answer = create(vendor)
    assert answer.status_code == 201
    assert answer.json() == {"ticket": {"id": 1}}
    assert vendor.tickets == [TICKET["ticket"]]
    (seen,) = vendor.requests
    assert (seen.method, seen.path, seen.status, seen.errors) == ("POST", "/api/v2/tickets", 201, [])
    assert seen.json() == TICKET
    assert seen.headers["authorization"].startswith("Basic ")
    assert vendor.invalid == []


def test_invalid_requests_are_answered_400_and_listed(vendor: Tickets) -> None:
    answer = create(vendor, body={"ticket": {"comment": {"body": "x"}, "priority": "super"}})
    assert answer.status_code == 400
    message = "POST /api/v2/tickets: body.ticket.priority: 'super' is not one of ['urgent', 'high', 'normal', 'low']"
    assert answer.json()["errors"] == [message]
    assert [r.errors for r in vendor.invalid] == [[message]]
    assert vendor.tickets == []


def test_a_crashing_vendor_route_is_reported(vendor: Tickets) -> None:
    answer = httpx.get(f"{vendor.url}/api/v2/tickets/1", auth=AUTH)
    assert answer.status_code == 500
    assert [r.crash for r in vendor.crashes] == ["KeyError: 'a bug in the fake'"]


def test_unchecked_paths_skip_validation(vendor: Tickets) -> None:
    answer = httpx.put(f"{vendor.url}/files/a.png", content=b"1234")
    assert answer.json() == {"size": 4}
    assert vendor.invalid == []


def test_429_carries_retry_after(vendor: Tickets) -> None:
    vendor.script(Fault.status(429, headers={"Retry-After": "7"}))
    answer = create(vendor)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "7"
    assert vendor.tickets == []
    assert create(vendor).status_code == 201  # the fault was used up
    assert [r.fault for r in vendor.requests] == ["status 429", None]


def test_500_then_normal_service(vendor: Tickets) -> None:
    vendor.script(Fault.status(500), Fault.status(503))
    assert [create(vendor).status_code for _ in range(3)] == [500, 503, 201]


def test_hang_makes_a_short_client_timeout_expire(vendor: Tickets) -> None:
    vendor.script(Fault.hang(5))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        create(vendor, timeout=0.3)
    assert time.monotonic() - started < 2
    assert vendor.tickets == []


def test_hang_after_processing_loses_only_the_answer(vendor: Tickets) -> None:
    vendor.script(Fault.hang(5, process=True))
    with pytest.raises(httpx.ReadTimeout):
        create(vendor, timeout=0.3)
    assert len(vendor.tickets) == 1  # the ticket exists although the client never heard of it


def test_malformed_answer_is_not_json(vendor: Tickets) -> None:
    vendor.script(Fault.malformed())
    answer = create(vendor)
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        answer.json()


def test_drop_closes_the_connection_without_an_answer(vendor: Tickets) -> None:
    vendor.script(Fault.drop(), Fault.drop(process=True))
    with pytest.raises(httpx.RemoteProtocolError):
        create(vendor)
    assert vendor.tickets == []
    with pytest.raises(httpx.RemoteProtocolError):
        create(vendor)
    assert len(vendor.tickets) == 1


def test_faults_can_wait_for_a_matching_request(vendor: Tickets) -> None:
    vendor.script(Fault.status(429).on("POST", "/api/v2/tickets"))
    assert httpx.put(f"{vendor.url}/files/a.png", content=b"1").status_code == 200
    assert create(vendor).status_code == 429
    assert vendor.pending == []


def test_fail_rate_is_seeded_and_reproducible() -> None:
    def statuses() -> list[int]:
        with Tickets() as fake, httpx.Client(auth=AUTH) as client:
            fake.seed(42)
            fake.fail_rate = 0.3
            return [client.post(f"{fake.url}/api/v2/tickets", json=TICKET).status_code for _ in range(30)]

    first = statuses()
    assert first == statuses()
    failures = [s for s in first if s != 201]
    assert 3 <= len(failures) <= 18
    assert set(failures) <= {429, 500, 503}


@pytest.mark.anyio
async def test_concurrent_requests_under_a_fail_rate_are_all_recorded() -> None:
    async with Tickets() as fake, httpx.AsyncClient(auth=AUTH) as client:
        fake.fail_rate = 0.3
        statuses: list[int] = []

        async def one() -> None:
            statuses.append((await client.post(f"{fake.url}/api/v2/tickets", json=TICKET)).status_code)

        async with anyio.create_task_group() as group:
            for _ in range(40):
                group.start_soon(one)
        recorded = await fake.arrival(40, "POST", "/api/v2/tickets")
    assert sorted(statuses) == sorted(r.status for r in recorded if r.status is not None)
    assert statuses.count(201) == len(fake.tickets)
    assert 0 < statuses.count(201) < 40
    assert {r.fault for r in recorded if r.status != 201} <= {"status 500", "status 503", "status 429"}


def test_wait_blocks_until_requests_arrive(vendor: Tickets) -> None:
    threading.Timer(0.2, lambda: create(vendor)).start()
    (seen,) = vendor.wait(1, "POST", "/api/v2/tickets", timeout=5)
    assert seen.status == 201 or seen.status is None  # the answer may still be on its way
    with pytest.raises(AssertionError, match="expected 2 x POST /api/v2/tickets"):
        vendor.wait(2, "POST", "/api/v2/tickets", timeout=0.2)


def test_multipart_built_by_httpx_passes_the_jira_checks(validators: dict[str, SpecValidator]) -> None:
    request = httpx.Request(
        "POST",
        "https://site.atlassian.net/rest/api/3/issue/WEB-1/attachments",
        files=[("file", ("shot.png", b"\x89PNG", "image/png")), ("file", ("log.txt", b"boom", "text/plain"))],
        headers={**BASIC, "X-Atlassian-Token": "no-check"},
    )
    body = request.read()
    errors = validators["jira"].validate(
        request.method, request.url.path, None, request.headers, body, request.headers["content-type"]
    )
    assert errors == []


@pytest.mark.anyio
async def test_usable_from_async_tests() -> None:
    async with Tickets() as fake:
        fake.script(Fault.status(429, headers={"Retry-After": "3"}))
        async with httpx.AsyncClient(auth=AUTH) as client:
            first = await client.post(f"{fake.url}/api/v2/tickets", json=TICKET)
            second = await client.post(f"{fake.url}/api/v2/tickets", json=TICKET)
    assert (first.status_code, first.headers["retry-after"], second.status_code) == (429, "3", 201)


def test_runs_as_a_separate_process() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.vendors.server",
            "tests.vendors.test_harness:Tickets",
            "--port",
            "0",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:"), line
        remote = RemoteVendor(line.removeprefix("READY "))
        remote.script(Fault.status(429, headers={"Retry-After": "2"}))
        assert create(remote).status_code == 429
        assert create(remote).status_code == 201
        assert create(remote, body={"ticket": {}}).status_code == 400
        seen = remote.requests
        assert [(r.status, r.fault) for r in seen] == [(429, "status 429"), (201, None), (400, None)]
        assert seen[1].json() == TICKET
        assert [len(r.errors) for r in remote.invalid] == [1]
    finally:
        process.terminate()
        process.wait(timeout=10)
