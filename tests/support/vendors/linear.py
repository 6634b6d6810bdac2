"""A fake Linear GraphQL API (one workspace), checked against Linear's own schema.

Every request to ``/graphql`` is validated against ../shared/specs/linear/schema.graphql
(document and variables) and then EXECUTED against that schema by graphql-core, with
resolvers for the root fields the connector uses (``issueCreate``, ``fileUpload``,
``commentCreate``, ``issues``, ``comments``, ``viewer``, ``team``): the answer has exactly
the shape Linear's schema gives the query, and a resolver that forgets a non-null field
fails loudly.

The fake also plays the file storage behind ``fileUpload``: the ``uploadUrl`` it hands out
is ``PUT {url}/uploads/{token}`` on this server, and that PUT is checked as Linear's upload
example requires (same Content-Type as declared, ``Cache-Control: public, max-age=31536000``,
every returned header, the declared size); a PUT that breaks this is listed in ``.invalid``
like any spec violation and answered 403 as a signed-URL store does. ``assetUrl`` is
``GET {url}/assets/{token}/{name}``, which serves the stored bytes.

Behaviour CONTRACTS marks ❓, as this fake implements it:
- an ``issueCreate`` whose ``id`` already exists answers a GraphQL error (``invalid input``);
- a wrong API key answers HTTP 400 with an ``authentication error`` (the SDK maps 4xx
  without errors to the same type).
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from graphql import GraphQLError, graphql_sync
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.support.vendors.graphql import GraphQLValidator
from tests.support.vendors.openapi import Headers, Query
from tests.support.vendors.server import FakeVendor
from tests.support.vendors.specs import spec_path

API_KEY = "lin_api_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123456789"
TEAM_ID = "5b4c1e2a-8f7d-4c3b-9a1e-2d3c4b5a6f70"
TEAM_KEY = "ENG"
LABEL_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
STATE_ID = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
CACHE_CONTROL = "public, max-age=31536000"
UPLOADS = "/uploads/"
ASSETS = "/assets/"


class _Checks:
    """The validator FakeVendor calls: GraphQL requests against the schema, upload PUTs
    against what ``fileUpload`` told the client to send."""

    def __init__(self, fake: FakeLinear) -> None:
        self.fake = fake
        self.graphql = GraphQLValidator(spec_path("linear"))

    def validate(
        self,
        method: str,
        path: str,
        query: Query = None,
        headers: Headers = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> list[str]:
        if path.startswith(UPLOADS):
            return self.fake.check_upload(method, path, _header_map(headers), body)
        if path.startswith(ASSETS):
            return []
        return self.graphql.validate(method, path, query, headers, body, content_type)


class FakeLinear(FakeVendor):
    name = "linear"

    def __init__(self, api_key: str = API_KEY) -> None:
        checks = _Checks(self)
        super().__init__(checks)
        self.api_key = api_key
        self.schema = checks.graphql.schema
        self.issues: dict[str, dict[str, Any]] = {}  # by id, in creation order
        self.comments: dict[str, dict[str, Any]] = {}  # by id
        self.uploads: dict[str, dict[str, Any]] = {}  # by token: what fileUpload promised, and the bytes
        self.teams = {TEAM_ID: {"id": TEAM_ID, "key": TEAM_KEY, "name": "Engineering"}}
        self._guard = threading.Lock()

    # ---- FakeVendor hooks ----------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/graphql", self.graphql, methods=["POST"]),
            Route(UPLOADS + "{token}", self.put_upload, methods=["PUT"]),
            Route(ASSETS + "{token}/{name:path}", self.get_asset, methods=["GET"]),
        ]

    def invalid_response(self, errors: list[str]) -> Response:
        return JSONResponse(
            {"errors": [_error(e, "graphql error") for e in errors]},
            403 if any(UPLOADS in e for e in errors) else 400,
        )

    # ---- GraphQL -------------------------------------------------------------------------

    async def graphql(self, request: Request) -> Response:
        if request.headers.get("authorization") != self.api_key:
            message = "Authentication required, not authenticated"
            return JSONResponse({"errors": [_error(message, "authentication error")]}, 400)
        payload = await request.json()
        result = graphql_sync(
            self.schema,
            payload["query"],
            root_value=self._root(),
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
        )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        return JSONResponse(body)

    def _root(self) -> dict[str, Any]:
        return {
            "issueCreate": self.issue_create,
            "fileUpload": self.file_upload,
            "commentCreate": self.comment_create,
            "issues": self.find_issues,
            "comments": self.find_comments,
            "viewer": {"id": "0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f3a", "name": "Bugline Bot"},
            "team": self.team,
        }

    def issue_create(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        team = self.teams.get(input["teamId"])
        if team is None:
            raise _fail("Entity not found: Team", "invalid input", "Could not find referenced Team.")
        with self._guard:
            issue_id = input.get("id") or _uuid()
            if issue_id in self.issues:
                # What Linear does here is ❓ in CONTRACTS: this fake answers an error.
                raise _fail(
                    "Argument Validation Error", "invalid input", "An issue with this id already exists."
                )
            number = 1 + sum(1 for i in self.issues.values() if i["teamId"] == team["id"])
            identifier = f"{team['key']}-{number}"
            issue = {
                **input,
                "id": issue_id,
                "identifier": identifier,
                "url": f"https://linear.app/acme/issue/{identifier.lower()}",
                "comments": [],
            }
            self.issues[issue_id] = issue
        return {"success": True, "issue": issue, "lastSyncId": 1.0}

    def file_upload(
        self,
        _info: Any,
        contentType: str,
        filename: str,
        size: int,
        **_: Any,
    ) -> dict[str, Any]:
        token = secrets.token_hex(12)
        headers = [
            {"key": "x-goog-meta-token", "value": token},
            {"key": "Content-Disposition", "value": f"attachment; filename*=UTF-8''{quote(filename)}"},
        ]
        with self._guard:
            self.uploads[token] = {
                "contentType": contentType,
                "filename": filename,
                "size": size,
                "headers": headers,
                "data": None,
            }
        upload = {
            "uploadUrl": f"{self.url}{UPLOADS}{token}?X-Goog-Signature={secrets.token_hex(8)}",
            "assetUrl": f"{self.url}{ASSETS}{token}/{quote(filename, safe='')}",
            "headers": headers,
            "contentType": contentType,
            "filename": filename,
            "size": size,
        }
        return {"success": True, "uploadFile": upload, "lastSyncId": 1.0}

    def comment_create(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        issue = self.issues.get(input.get("issueId", ""))
        if issue is None:
            raise _fail("Entity not found: Issue", "invalid input", "Could not find referenced Issue.")
        with self._guard:
            comment_id = input.get("id") or _uuid()
            if comment_id in self.comments:
                raise _fail(
                    "Argument Validation Error", "invalid input", "A comment with this id already exists."
                )
            comment = {**input, "id": comment_id, "url": f"{issue['url']}#comment-{comment_id[:8]}"}
            self.comments[comment_id] = comment
            issue["comments"].append(comment)
        return {"success": True, "comment": comment, "lastSyncId": 1.0}

    def find_issues(self, _info: Any, filter: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:
        return {"nodes": _filtered(self.issues.values(), filter), "pageInfo": _page()}

    def find_comments(self, _info: Any, filter: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:
        return {"nodes": _filtered(self.comments.values(), filter), "pageInfo": _page()}

    def team(self, _info: Any, id: str) -> dict[str, Any]:
        team = self.teams.get(id)
        if team is None:
            raise _fail("Entity not found: Team", "invalid input", "Could not find referenced Team.")
        return team

    # ---- the file store ------------------------------------------------------------------

    def check_upload(self, method: str, path: str, headers: dict[str, str], body: bytes) -> list[str]:
        """What a signed upload URL checks: the method, the token, and the headers it was signed with."""
        label = f"{method} {path}"
        token = path[len(UPLOADS) :]
        promised = self.uploads.get(token)
        if method != "PUT":
            return [f"{label}: uploads are PUT"]
        if promised is None:
            return [f"{label}: no fileUpload handed out this URL"]
        problems = []
        if headers.get("content-type") != promised["contentType"]:
            problems.append(
                f"Content-Type {headers.get('content-type')!r} is not the declared {promised['contentType']!r}"
            )
        if headers.get("cache-control") != CACHE_CONTROL:
            problems.append(f"Cache-Control {headers.get('cache-control')!r}, expected {CACHE_CONTROL!r}")
        for header in promised["headers"]:
            if headers.get(header["key"].lower()) != header["value"]:
                problems.append(f"header {header['key']} missing or changed (signed with the URL)")
        if len(body) != promised["size"]:
            problems.append(f"{len(body)} bytes, fileUpload declared {promised['size']}")
        return [f"{label}: {p}" for p in problems]

    async def put_upload(self, request: Request) -> Response:
        token = request.path_params["token"]
        self.uploads[token]["data"] = await request.body()
        return Response(status_code=200)

    async def get_asset(self, request: Request) -> Response:
        upload = self.uploads.get(request.path_params["token"])
        if upload is None or upload["data"] is None:
            return Response("Not found", 404, media_type="text/plain")
        return Response(upload["data"], media_type=upload["contentType"])

    def asset(self, url: str) -> bytes | None:
        """The bytes stored behind an asset URL this fake handed out (None if never uploaded)."""
        token = url.split(ASSETS, 1)[1].split("/", 1)[0] if ASSETS in url else ""
        upload = self.uploads.get(token)
        return None if upload is None else upload["data"]


def _error(message: str, kind: str, presentable: str | None = None) -> dict[str, Any]:
    return {
        "message": message,
        "extensions": {"type": kind, "userError": True, "userPresentableMessage": presentable or message},
    }


def _fail(message: str, kind: str, presentable: str) -> GraphQLError:
    return GraphQLError(
        message, extensions={"type": kind, "userError": True, "userPresentableMessage": presentable}
    )


def _filtered(items: Iterable[dict[str, Any]], where: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The subset of IssueFilter/CommentFilter the connector sends: ``{id: {eq: ...}}``."""
    wanted = ((where or {}).get("id") or {}).get("eq")
    return [item for item in items if wanted is None or item["id"] == wanted]


def _page() -> dict[str, Any]:
    return {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}


def _uuid() -> str:
    return str(uuid.uuid4())


def _header_map(headers: Headers) -> dict[str, str]:
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(k).lower(): str(v) for k, v in items}
