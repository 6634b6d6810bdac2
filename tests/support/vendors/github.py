"""A fake GitHub REST API (issues of one repository), checked against the spec subset.

It answers like api.github.com for what the connector uses (create/get issue, create
comment, list labels): JSON bodies shaped as the spec's examples, ``Bad credentials`` 401,
``Not Found`` 404, 410 for a deleted issue, 201 with ``Location`` on creation, and
``x-ratelimit-*`` headers on every answer. A request that breaks the spec gets GitHub's
``422 Validation Failed``.

    with FakeGitHub() as github:
        github.seed_issues(5, created_at=...)   # older issues already in the repository
        ... GitHubConnector(..., api_url=github.url) ...
        github.issues[6]["labels"]
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.support.vendors.openapi import SpecValidator
from tests.support.vendors.server import FakeVendor
from tests.support.vendors.specs import spec_path

TOKEN = "github_pat_11AAAAAAA0fakefakefake_tokenfortests"
OWNER = "octo-org"
REPO = "shop"
DOCS = "https://docs.github.com/rest"


class FakeGitHub(FakeVendor):
    name = "github"

    def __init__(self, token: str = TOKEN, owner: str = OWNER, repo: str = REPO) -> None:
        super().__init__(SpecValidator(spec_path("github")))
        self.token = token
        self.owner = owner
        self.repo = repo
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.deleted: set[int] = set()  # numbers answering 410 Gone
        self.labels = ["bug", "enhancement", "good first issue"]
        self._guard = threading.Lock()
        self._next_id = 1_000_000

    # ---- set-up helpers for tests --------------------------------------------------------

    def seed_issues(self, count: int, created_at: datetime, body: str = "An older issue") -> list[int]:
        """``count`` issues created before the test, as other people's work."""
        numbers = []
        for _ in range(count):
            issue = self._new_issue({"title": "Older issue", "body": body}, created_at)
            numbers.append(issue["number"])
        return numbers

    def delete(self, number: int) -> None:
        """Delete an issue: its number then answers 410 (the spec's "Gone")."""
        self.issues.pop(number, None)
        self.deleted.add(number)

    # ---- FakeVendor hooks ----------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        repo = "/repos/{owner}/{repo}"
        return [
            Route(f"{repo}/issues", self.create_issue, methods=["POST"]),
            Route(repo + "/issues/{number:int}", self.get_issue, methods=["GET"]),
            Route(repo + "/issues/{number:int}/comments", self.create_comment, methods=["POST"]),
            Route(f"{repo}/labels", self.list_labels, methods=["GET"]),
        ]

    def invalid_response(self, errors: list[str]) -> Response:
        return _answer({"message": "Validation Failed", "errors": errors, "documentation_url": DOCS}, 422)

    # ---- endpoints -----------------------------------------------------------------------

    async def create_issue(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        issue = self._new_issue(await request.json(), datetime.now(UTC))
        response = _answer(issue, 201)
        response.headers["Location"] = issue["url"]
        return response

    async def get_issue(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        number = int(request.path_params["number"])
        if number in self.deleted:
            return _answer({"message": "This issue was deleted", "documentation_url": DOCS}, 410)
        issue = self.issues.get(number)
        if issue is None:
            return _not_found()
        return _answer(issue, 200)

    async def create_comment(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        number = int(request.path_params["number"])
        if number not in self.issues:
            return _answer(
                {"message": "Not Found", "documentation_url": DOCS},
                404 if number not in self.deleted else 410,
            )
        data = await request.json()
        with self._guard:
            self._next_id += 1
            comment_id = self._next_id
        issue = self.issues[number]
        comment = {
            "id": comment_id,
            "node_id": f"IC_fake{comment_id}",
            "url": f"{issue['repository_url']}/issues/comments/{comment_id}",
            "html_url": f"{issue['html_url']}#issuecomment-{comment_id}",
            "body": data["body"],
            "user": {"login": "bugline-bot", "id": 7, "type": "Bot"},
            "created_at": _iso(datetime.now(UTC)),
            "updated_at": _iso(datetime.now(UTC)),
            "issue_url": issue["url"],
            "author_association": "NONE",
        }
        self.comments.setdefault(number, []).append(comment)
        issue["comments"] = len(self.comments[number])
        return _answer(comment, 201)

    async def list_labels(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        per_page = int(request.query_params.get("per_page", "30"))
        listed = [
            {
                "id": i + 1,
                "node_id": f"LA_{i}",
                "url": "",
                "name": name,
                "description": None,
                "color": "d73a4a",
                "default": True,
            }
            for i, name in enumerate(self.labels[:per_page])
        ]
        return _answer(listed, 200)

    # ---- pieces --------------------------------------------------------------------------

    def _refuse(self, request: Request) -> Response | None:
        """401 without the right token, 404 for another repository (GitHub hides what the
        token cannot see behind 404)."""
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _answer({"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}, 401)
        params = request.path_params
        if (params.get("owner"), params.get("repo")) != (self.owner, self.repo):
            return _not_found()
        return None

    def _new_issue(self, data: dict[str, Any], created_at: datetime) -> dict[str, Any]:
        with self._guard:
            number = max([0, *self.issues, *self.deleted]) + 1
            self._next_id += 1
            issue_id = self._next_id
        api = f"https://api.github.com/repos/{self.owner}/{self.repo}"
        names = [str(n if isinstance(n, str) else n.get("name")) for n in data.get("labels") or []]
        labels = [{"id": i + 1, "name": name, "color": "ededed"} for i, name in enumerate(names)]
        for name in names:  # GitHub creates the labels that do not exist yet (with push access)
            if name not in self.labels:
                self.labels.append(name)
        issue = {
            "id": issue_id,
            "node_id": f"I_fake{issue_id}",
            "url": f"{api}/issues/{number}",
            "repository_url": api,
            "html_url": f"https://github.com/{self.owner}/{self.repo}/issues/{number}",
            "number": number,
            "state": "open",
            "title": str(data.get("title", "")),
            "body": data.get("body"),
            "user": {"login": "bugline-bot", "id": 7, "type": "Bot"},
            "labels": labels,
            "assignee": None,
            "assignees": [
                {"login": login, "id": 100 + i} for i, login in enumerate(data.get("assignees") or [])
            ],
            "locked": False,
            "comments": 0,
            "created_at": _iso(created_at),
            "updated_at": _iso(created_at),
            "closed_at": None,
            "author_association": "NONE",
        }
        self.issues[number] = issue
        return issue


def _answer(data: Any, status: int) -> JSONResponse:
    return JSONResponse(
        data,
        status,
        headers={
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": "1893456000",
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
        },
    )


def _not_found() -> JSONResponse:
    return _answer({"message": "Not Found", "documentation_url": DOCS, "status": "404"}, 404)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
