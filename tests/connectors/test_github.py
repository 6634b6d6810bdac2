"""GitHubConnector against a fake GitHub that checks every request against the spec subset."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bugline.connectors.base import (
    Attempt,
    Delivered,
    Failed,
    InvalidSettings,
    Retry,
    Target,
    Ticket,
    mask,
)
from bugline.connectors.github import GitHubConnector
from bugline.render import markdown
from tests.connectors.factory import hostile, make_document, make_update
from tests.support.vendors.github import OWNER, REPO, TOKEN, FakeGitHub
from tests.support.vendors.server import Fault

KEY = "dlv-7c2e9a40-0b1d-4f4e-9d7a-31f0c6b2a811"
MARKER = f"<!-- bugline:{KEY} -->"
TIMEOUT = 0.5  # seconds: a hanging GitHub must come back as Retry quickly


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as vendor:
        yield vendor


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        yield client


def connect(github: FakeGitHub, http: httpx.AsyncClient, **settings: Any) -> GitHubConnector:
    raw = {"token": TOKEN, "repo": f"{OWNER}/{REPO}", "api_url": github.url, **settings}
    return GitHubConnector(GitHubConnector.validate(raw), http)


# ---- success -------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("severity", ["critical", "high", "medium", "low"])
async def test_deliver_creates_an_issue_with_every_field(
    github: FakeGitHub, http: httpx.AsyncClient, severity: Any
) -> None:
    connector = connect(github, http, assignees="octocat", labels="needs triage, Customer")
    doc = make_document(severity=severity)
    target = Target(options={"assignee": "hubot, @monalisa"}, tags=("team-payments",))

    result = await connector.deliver(doc, target, Attempt(KEY))

    assert isinstance(result, Delivered), result
    assert list(github.issues) == [1]
    issue = github.issues[1]
    assert result.ticket == Ticket(
        remote_id=f"{OWNER}/{REPO}#1",
        url=f"https://github.com/{OWNER}/{REPO}/issues/1",
        data={"repo": f"{OWNER}/{REPO}", "number": 1, "id": issue["id"]},
    )
    level = severity.capitalize()
    assert issue["title"] == f"[{level}] Pay button does nothing (#42)"
    assert [label["name"] for label in issue["labels"]] == [
        "bugline",
        f"severity:{severity}",
        "kind:bug",
        "category:billing",
        "category:checkout",
        "needs triage",
        "Customer",
        "team-payments",
    ]
    assert [a["login"] for a in issue["assignees"]] == ["octocat", "hubot", "monalisa"]
    body = issue["body"]
    assert body == markdown.report(doc) + "\n\n" + MARKER
    assert body.count(MARKER) == 1
    for fact in (
        "Pay for my order with a saved Visa card",
        "The order is placed and I see the confirmation page",
    ):
        assert fact in body
    for media in doc.media:  # GitHub has no upload API: the presigned links are in the body
        assert media.url.split("?")[0] in body
    assert doc.link in body

    (request,) = github.to("POST", "/repos/*/issues")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert github.invalid == []


@pytest.mark.anyio
async def test_update_comments_on_the_issue(github: FakeGitHub, http: httpx.AsyncClient) -> None:
    connector = connect(github, http)
    delivered = await connector.deliver(make_document(), Target(), Attempt(KEY))
    assert isinstance(delivered, Delivered)
    change = make_update()

    result = await connector.update(delivered.ticket, change, Attempt("upd-1"))

    assert isinstance(result, Delivered), result
    assert result.ticket == delivered.ticket
    (comment,) = github.comments[1]
    assert comment["body"] == markdown.update(change) + "\n\n<!-- bugline:upd-1 -->"
    assert "Another customer reported this problem" in comment["body"]
    assert "4 reports from 3 people in 2 accounts" in comment["body"]
    assert comment["html_url"] in result.detail
    assert github.invalid == []


@pytest.mark.anyio
async def test_update_of_a_deleted_issue_fails(github: FakeGitHub, http: httpx.AsyncClient) -> None:
    connector = connect(github, http)
    delivered = await connector.deliver(make_document(), Target(), Attempt(KEY))
    assert isinstance(delivered, Delivered)
    github.delete(1)

    result = await connector.update(delivered.ticket, make_update(), Attempt("upd-1"))

    assert isinstance(result, Failed) and result.status == 410, result
    assert github.invalid == []


@pytest.mark.anyio
async def test_check_reads_the_repository(github: FakeGitHub, http: httpx.AsyncClient) -> None:
    result = await connect(github, http).check()

    assert isinstance(result, Delivered), result
    assert result.ticket.remote_id == f"{OWNER}/{REPO}"
    assert "4999 requests left" in result.detail
    assert github.issues == {}
    assert [(r.method, r.path) for r in github.requests] == [("GET", f"/repos/{OWNER}/{REPO}/labels")]
    assert github.invalid == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("settings", "status"),
    [({"token": "github_pat_wrongwrongwrong"}, 401), ({"repo": f"{OWNER}/elsewhere"}, 404)],
)
async def test_check_names_bad_credentials_and_unknown_repos(
    github: FakeGitHub, http: httpx.AsyncClient, settings: dict[str, str], status: int
) -> None:
    result = await connect(github, http, **settings).check()

    assert isinstance(result, Failed) and result.status == status, result
    assert github.invalid == []


# ---- failures ------------------------------------------------------------------------------------


def _reset_in(seconds: int) -> Fault:
    reset = str(int(time.time()) + seconds)
    return Fault.status(
        403,
        headers={"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        body={"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "x"},
    )


SECONDARY = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
}

# (name, fault factory, expected class, expected status, expected `after` range)
FAILURES: list[tuple[str, Callable[[], Fault], type, int | None, tuple[float, float] | None]] = [
    ("429 retry-after", lambda: Fault.status(429, headers={"Retry-After": "7"}), Retry, 429, (7, 7)),
    ("403 primary limit", lambda: _reset_in(120), Retry, 403, (115, 120)),
    (
        "403 secondary retry-after",
        lambda: Fault.status(403, {"retry-after": "30"}, SECONDARY),
        Retry,
        403,
        (30, 30),
    ),
    ("403 secondary bare", lambda: Fault.status(403, body=SECONDARY), Retry, 403, (60, 60)),
    ("429 secondary bare", lambda: Fault.status(429, body=SECONDARY), Retry, 429, (60, 60)),
    ("500", lambda: Fault.status(500), Retry, 500, None),
    ("503", lambda: Fault.status(503, body={"message": "Service unavailable"}), Retry, 503, None),
    ("hang", lambda: Fault.hang(3), Retry, None, None),
    ("drop", lambda: Fault.drop(), Retry, None, None),
    ("malformed", lambda: Fault.malformed(b'{"number": 1, "html_'), Retry, None, None),
    ("html page", lambda: Fault.malformed(b"<html>Bad gateway</html>", "text/html"), Retry, None, None),
    ("401", lambda: Fault.status(401, body={"message": "Bad credentials"}), Failed, 401, None),
    (
        "403 no permission",
        lambda: Fault.status(403, body={"message": "Resource not accessible by integration"}),
        Failed,
        403,
        None,
    ),
    ("404", lambda: Fault.status(404, body={"message": "Not Found"}), Failed, 404, None),
    ("410 issues off", lambda: Fault.status(410, body={"message": "Issues are disabled"}), Failed, 410, None),
    (
        "422",
        lambda: Fault.status(422, body={"message": "Validation Failed", "errors": []}),
        Failed,
        422,
        None,
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "kind", "status", "after"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES]
)
async def test_deliver_failures(
    github: FakeGitHub,
    http: httpx.AsyncClient,
    fault: Callable[[], Fault],
    kind: type,
    status: int | None,
    after: tuple[float, float] | None,
) -> None:
    github.script(fault())

    result = await connect(github, http).deliver(make_document(), Target(), Attempt(KEY))

    assert isinstance(result, Retry | Failed) and isinstance(result, kind), result
    assert result.status == status
    if after is not None:
        assert isinstance(result, Retry)
        assert result.after is not None and after[0] <= result.after <= after[1], result
    assert github.issues == {}
    assert github.invalid == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.status(429, headers={"Retry-After": "3"}), Retry),
        (Fault.status(502), Retry),
        (Fault.status(422), Failed),
    ],
)
async def test_update_failures(github: FakeGitHub, http: httpx.AsyncClient, fault: Fault, kind: type) -> None:
    connector = connect(github, http)
    delivered = await connector.deliver(make_document(), Target(), Attempt(KEY))
    assert isinstance(delivered, Delivered)
    github.script(fault)

    result = await connector.update(delivered.ticket, make_update(), Attempt("upd-1"))

    assert isinstance(result, kind), result
    assert github.comments == {}
    assert github.invalid == []


@pytest.mark.anyio
async def test_real_bad_token_and_unknown_repo_fail(github: FakeGitHub, http: httpx.AsyncClient) -> None:
    wrong_token = await connect(github, http, token="github_pat_wrongwrongwrong").deliver(
        make_document(), Target(), Attempt(KEY)
    )
    wrong_repo = await connect(github, http, repo=f"{OWNER}/nope").deliver(
        make_document(), Target(), Attempt(KEY)
    )

    assert isinstance(wrong_token, Failed) and wrong_token.status == 401
    assert "Bad credentials" in wrong_token.reason
    assert isinstance(wrong_repo, Failed) and wrong_repo.status == 404
    assert github.issues == {}
    assert github.invalid == []


# ---- exactly once --------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "lost",
    [Fault.hang(3, process=True), Fault.drop(process=True)],
    ids=["answer too late", "connection lost"],
)
async def test_retry_after_an_interrupted_attempt_finds_the_earlier_issue(
    github: FakeGitHub, http: httpx.AsyncClient, lost: Fault
) -> None:
    doc = make_document()
    github.seed_issues(30, created_at=doc.created_at - timedelta(days=2))
    connector = connect(github, http)
    github.script(lost.on("POST", "/repos/*/issues"))

    first = await connector.deliver(doc, Target(), Attempt(KEY, 1))
    assert isinstance(first, Retry), first
    assert len(github.issues) == 31  # GitHub created it; the answer was lost
    github.seed_issues(2, created_at=doc.created_at + timedelta(minutes=5), body="Someone else's issue")

    second = await connector.deliver(doc, Target(), Attempt(KEY, 2))

    assert isinstance(second, Delivered), second
    assert second.ticket.remote_id == f"{OWNER}/{REPO}#31"
    assert "earlier attempt" in second.detail
    assert len(github.issues) == 33
    assert [n for n, issue in github.issues.items() if MARKER in (issue["body"] or "")] == [31]
    assert len(github.to("POST", "/repos/*/issues")) == 1
    assert github.invalid == []


@pytest.mark.anyio
async def test_retry_sees_past_deleted_and_hidden_issues(github: FakeGitHub, http: httpx.AsyncClient) -> None:
    doc = make_document()
    github.seed_issues(5, created_at=doc.created_at - timedelta(days=1))
    connector = connect(github, http)
    github.script(Fault.drop(process=True).on("POST", "/repos/*/issues"))
    assert isinstance(await connector.deliver(doc, Target(), Attempt(KEY, 1)), Retry)
    github.seed_issues(4, created_at=doc.created_at + timedelta(minutes=1), body="later")  # 7..10
    github.delete(10)  # newest: 410 Gone
    github.issues.pop(8)  # transferred where the token cannot see: 404, a hole
    github.issues.pop(9)

    result = await connector.deliver(doc, Target(), Attempt(KEY, 2))

    assert isinstance(result, Delivered), result
    assert result.ticket.data["number"] == 6
    assert len(github.to("POST", "/repos/*/issues")) == 1
    assert github.invalid == []


@pytest.mark.anyio
@pytest.mark.parametrize("older", [0, 40])
async def test_retry_when_the_first_attempt_created_nothing_creates_one_issue(
    github: FakeGitHub, http: httpx.AsyncClient, older: int
) -> None:
    doc = make_document()
    github.seed_issues(older, created_at=doc.created_at - timedelta(hours=3))
    connector = connect(github, http)
    github.script(Fault.status(502))
    assert isinstance(await connector.deliver(doc, Target(), Attempt(KEY, 1)), Retry)

    result = await connector.deliver(doc, Target(), Attempt(KEY, 2))

    assert isinstance(result, Delivered), result
    assert result.ticket.data["number"] == older + 1
    assert len(github.issues) == older + 1
    # The scan stopped at the first issue older than the report instead of reading all 40.
    reads = github.to("GET", "/repos/*/issues/*")
    assert 0 < len(reads) < 20
    assert github.invalid == []


@pytest.mark.anyio
async def test_retry_does_not_create_when_github_cannot_be_read(
    github: FakeGitHub, http: httpx.AsyncClient
) -> None:
    doc = make_document()
    github.seed_issues(3, created_at=doc.created_at - timedelta(days=1))
    github.script(Fault.status(500).on("GET"))

    result = await connect(github, http).deliver(doc, Target(), Attempt(KEY, 2))

    assert isinstance(result, Retry) and result.status == 500, result
    assert github.to("POST") == []
    assert len(github.issues) == 3
    assert github.invalid == []


# ---- hostile content, settings -------------------------------------------------------------------


def prose(md: str) -> str:
    """The Markdown GitHub interprets as markup: fenced code blocks, code spans and link
    destinations (``](<url>)``) replaced by placeholders (CommonMark's rules, simplified to
    what the renderer writes: https://spec.commonmark.org/0.31.2/#code-spans)."""
    kept: list[str] = []
    fence = ""
    for line in md.split("\n"):
        stripped = line.lstrip(" ")
        opener = re.match(r"`{3,}|~{3,}", stripped)
        if fence:
            if opener and opener.group(0)[0] == fence[0] and len(opener.group(0)) >= len(fence):
                fence = "" if stripped.strip() == opener.group(0) else fence
            continue
        if opener and (opener.group(0)[0] == "~" or "`" not in stripped[len(opener.group(0)) :]):
            fence = opener.group(0)
            continue
        kept.append(line)
    text, out, i = "\n".join(kept), [], 0
    while i < len(text):
        if text[i] == "`" and (i == 0 or text[i - 1] != "\\"):
            run = re.match(r"`+", text[i:]).group(0)  # type: ignore[union-attr]
            close = re.search(rf"(?<!`){run}(?!`)", text[i + len(run) :])
            if close:
                out.append("[code]")
                i += len(run) + close.end()
                continue
            out.append(run)
            i += len(run)
            continue
        out.append(text[i])
        i += 1
    return re.sub(r"\]\(<[^<>\n]*>\)", "](link)", "".join(out))


@pytest.mark.anyio
async def test_markup_in_the_report_does_not_inject(github: FakeGitHub, http: httpx.AsyncClient) -> None:
    doc = hostile()

    result = await connect(github, http).deliver(doc, Target(), Attempt(KEY))

    assert isinstance(result, Delivered), result
    issue = github.issues[1]
    body, title = issue["body"], issue["title"]
    assert body == markdown.report(doc) + "\n\n" + MARKER
    markup = prose(body.removesuffix(MARKER))
    assert len(markup) > 5000  # the customer's text is there, as text
    assert re.findall(r"(?<!\\)[<&]", markup) == []  # no raw HTML, comment, autolink or entity
    for mention in ("@octocat", "@here", "@channel", "@everyone"):  # no pings from a customer's text
        assert mention not in markup and mention not in title
    assert re.findall(r"\]\((?!link\))", markup) == []  # no link but the renderer's checked ones
    assert "\n" not in title and len(title) <= 256
    assert all(" " not in label["name"] and len(label["name"]) <= 50 for label in issue["labels"])
    assert github.invalid == []


def test_mask_hides_the_token() -> None:
    config = GitHubConnector.validate({"token": TOKEN, "repo": "octo-org/shop"})

    shown = mask(GitHubConnector.settings, config)

    assert shown["token"] == "…" + TOKEN[-4:]
    assert TOKEN not in str(shown)
    assert shown["repo"] == "octo-org/shop"
    assert config["api_url"] == "https://api.github.com"


@pytest.mark.parametrize(
    ("raw", "bad"),
    [
        ({"repo": "octo-org/shop"}, "token"),
        ({"token": TOKEN}, "repo"),
        ({"token": TOKEN, "repo": "shop"}, "repo"),
        ({"token": TOKEN, "repo": "octo-org/shop/issues"}, "repo"),
        ({"token": TOKEN, "repo": "-octo/shop"}, "repo"),
        ({"token": TOKEN, "repo": "octo-org/.."}, "repo"),
        ({"token": TOKEN, "repo": "octo-org/shop", "api_url": "http://api.github.com"}, "api_url"),
        ({"token": TOKEN, "repo": "octo-org/shop", "api_url": "ftp://api.github.com"}, "api_url"),
        ({"token": TOKEN, "repo": "octo-org/shop", "tokn": "x"}, "tokn"),
    ],
)
def test_invalid_settings_name_the_key(raw: dict[str, str], bad: str) -> None:
    with pytest.raises(InvalidSettings) as caught:
        GitHubConnector.validate(raw)
    assert list(caught.value.errors) == [bad]


@pytest.mark.parametrize(
    "api_url",
    [
        "https://api.github.com",
        "https://github.example.com/api/v3",
        "http://127.0.0.1:8123",
        "http://localhost:9",
    ],
)
def test_api_url_https_or_loopback(api_url: str) -> None:
    config = GitHubConnector.validate({"token": TOKEN, "repo": "octo-org/shop", "api_url": api_url + "/"})
    assert config["api_url"] == api_url
