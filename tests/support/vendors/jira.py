"""A fake Jira Cloud REST v3 (one site), checked against the spec subset.

It answers like a Jira Cloud site for what the connector uses: create and get issue, add
attachments, list priorities. Answers are shaped as the spec's examples: 201
``{"id","key","self"}``, ``ErrorCollection`` bodies (``errorMessages`` + ``errors`` by
field) for 400/401/404, 413 for a file over the site's attachment limit. Issues are kept
with their fields as sent and their attachments with the exact bytes received.

    with FakeJira() as jira:
        ... JiraConnector({... "url": jira.url ...}) ...
        jira.issues["WEB-1"]["fields"]["priority"]
        jira.issues["WEB-1"]["attachments"][0]["data"]
"""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.support.vendors.openapi import SpecValidator
from tests.support.vendors.server import FakeVendor
from tests.support.vendors.specs import spec_path

EMAIL = "bugline-bot@acme.example"
TOKEN = "ATATT3xFfGF0fake-jira-api-token-for-tests"
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")  # Jira Cloud's default scheme
ISSUE_TYPES = ("Bug", "Story", "Task")
PROJECTS = ("WEB", "OPS")


class FakeJira(FakeVendor):
    name = "jira"

    def __init__(
        self,
        email: str = EMAIL,
        token: str = TOKEN,
        priorities: tuple[str, ...] = PRIORITIES,
        max_attachment: int = 10 * 1024 * 1024,
    ) -> None:
        super().__init__(SpecValidator(spec_path("jira")))
        self.email = email
        self.token = token
        self.priorities = list(priorities)
        self.max_attachment = max_attachment  # bytes; a bigger file answers 413
        self.issues: dict[str, dict[str, Any]] = {}  # by key, in creation order
        self._guard = threading.Lock()
        self._next_id = 10000

    # ---- FakeVendor hooks ----------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/rest/api/3/issue", self.create_issue, methods=["POST"]),
            Route("/rest/api/3/issue/{key}", self.get_issue, methods=["GET"]),
            Route("/rest/api/3/issue/{key}/attachments", self.add_attachments, methods=["POST"]),
            Route("/rest/api/3/priority/search", self.search_priorities, methods=["GET"]),
        ]

    def invalid_response(self, errors: list[str]) -> Response:
        return _errors(400, messages=errors)

    # ---- endpoints -----------------------------------------------------------------------

    async def create_issue(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        fields: dict[str, Any] = (await request.json())["fields"]
        problems: dict[str, str] = {}
        project = fields["project"].get("key")
        if project not in PROJECTS:
            problems["project"] = "Specify a valid project ID or key"
        if fields["issuetype"].get("name") not in ISSUE_TYPES:
            problems["issuetype"] = "Specify a valid issue type"
        priority = fields.get("priority")
        if priority is not None and priority.get("name") not in self.priorities:
            problems["priority"] = f"Specify the Priority (name) in the string format: {priority.get('name')}"
        if problems:
            return _errors(400, fields=problems)
        with self._guard:
            self._next_id += 1
            issue_id = str(self._next_id)
            number = 1 + sum(1 for k in self.issues if k.startswith(f"{project}-"))
            key = f"{project}-{number}"
            self.issues[key] = {"id": issue_id, "key": key, "fields": fields, "attachments": []}
        return JSONResponse({"id": issue_id, "key": key, "self": self._self(issue_id)}, 201)

    async def get_issue(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        issue = self._find(request.path_params["key"])
        if issue is None:
            return _errors(404, messages=["Issue does not exist or you do not have permission to see it."])
        fields = {**issue["fields"], "attachment": [self._attachment_bean(a) for a in issue["attachments"]]}
        wanted = request.query_params.get("fields")
        if wanted:
            names = {n.strip() for n in wanted.split(",")}
            fields = {k: v for k, v in fields.items() if k in names}
        bean = {"id": issue["id"], "key": issue["key"], "self": self._self(issue["id"]), "fields": fields}
        return JSONResponse(bean)

    async def add_attachments(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        issue = self._find(request.path_params["key"])
        if issue is None:
            return _errors(404, messages=["Issue does not exist or you do not have permission to see it."])
        form = await request.form()
        files = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
        received = []
        for upload in files:
            data = await upload.read()
            received.append((upload, data))
        if any(len(data) > self.max_attachment for _, data in received):
            # Jira's 413 has no JSON body worth reading; the spec describes none.
            return Response("Request Entity Too Large", 413, media_type="text/plain")
        beans = []
        for upload, data in received:
            with self._guard:
                self._next_id += 1
                attachment_id = str(self._next_id)
            stored = {
                "id": attachment_id,
                "filename": upload.filename or "",
                "mimeType": (upload.content_type or "").split(";")[0],
                "data": data,
                "created": datetime.now(UTC).isoformat(),
            }
            issue["attachments"].append(stored)
            beans.append(self._attachment_bean(stored))
        return JSONResponse(beans)

    async def search_priorities(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        start = int(request.query_params.get("startAt", "0"))
        size = int(request.query_params.get("maxResults", "50"))
        values = [
            {
                "id": str(i + 1),
                "name": name,
                "description": f"{name} priority",
                "iconUrl": f"{self.url}/images/icons/priorities/{name.lower()}.svg",
                "isDefault": name == "Medium",
                "self": f"{self.url}/rest/api/3/priority/{i + 1}",
                "statusColor": "#ff0000",
            }
            for i, name in enumerate(self.priorities)
        ]
        page = values[start : start + size]
        return JSONResponse(
            {
                "isLast": start + size >= len(values),
                "maxResults": size,
                "startAt": start,
                "total": len(values),
                "values": page,
            }
        )

    # ---- pieces --------------------------------------------------------------------------

    def _refuse(self, request: Request) -> Response | None:
        expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return _errors(
                401,
                messages=["You are not authenticated. Authentication required to perform this operation."],
            )
        return None

    def _find(self, key_or_id: str) -> dict[str, Any] | None:
        issue = self.issues.get(key_or_id)
        if issue is None:
            issue = next((i for i in self.issues.values() if i["id"] == key_or_id), None)
        return issue

    def _self(self, issue_id: str) -> str:
        return f"{self.url}/rest/api/3/issue/{issue_id}"

    def _attachment_bean(self, stored: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": stored["id"],
            "filename": stored["filename"],
            "mimeType": stored["mimeType"],
            "size": len(stored["data"]),
            "created": stored["created"],
            "content": f"{self.url}/rest/api/3/attachment/content/{stored['id']}",
            "self": f"{self.url}/rest/api/3/attachments/{stored['id']}",
        }


def _errors(
    status: int, messages: list[str] | None = None, fields: dict[str, str] | None = None
) -> JSONResponse:
    """Jira's ErrorCollection."""
    return JSONResponse({"errorMessages": messages or [], "errors": fields or {}}, status)
