"""A fake Zendesk Support API (tickets and uploads), checked against the spec subset.

It answers like ``{sub}.zendesk.com`` for what the connector uses: ``POST /api/v2/uploads``
(raw bytes, ``filename``, ``token=`` to add files to one upload), ``POST /api/v2/tickets``
(201, ``Location``, ``{"ticket": {...}}``) with Idempotency-Key semantics, ``GET`` and ``PUT
/api/v2/tickets/{id}`` (comments with uploads, ``safe_update``). Rules and where they come
from (../shared/specs/CONTRACTS.md section 1 unless said otherwise):

- credentials: Basic ``{email}/token:{api_token}`` ✅, else 401 ``Couldn't authenticate you``;
- Idempotency-Key ⚠: the same key with the same body replays the first answer with
  ``x-idempotency-lookup: hit`` (a first use says ``miss``); the same key with another body
  is 400 ``IdempotentRequestError`` (cloudbees-oss/zendesk-java-client IdempotencyUtil.java
  @4ee2fc6d, which names the error; the eesel.ai blog);
- an upload token is attached once: using it again is a 422 ❓;
- ``safe_update`` with an ``updated_stamp`` older than the ticket is 409 ``UpdateConflict`` ❓
  (the OAS only says it "prevents updates with outdated ticket data");
- unknown tickets answer 404 ``RecordNotFound`` ❓.

Spec defect patched here: the subset's request schemas type ``custom_fields`` items as
``CustomFieldObject`` (a ticket field *definition*, requiring key/type/title), while the
ticket's own ``custom_fields`` (TicketObject, and Zendesk's docs "Setting custom field
values") are ``{"id", "value"}`` pairs. ``CUSTOM_FIELDS_GAPS`` swaps in the TicketObject
item schema for create and update, from the spec file itself at run time.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.support.vendors.openapi import Gap, SpecValidator
from tests.support.vendors.server import FakeVendor
from tests.support.vendors.specs import spec_path

EMAIL = "agent@acme.example"
TOKEN = "zd-api-token-6f1c0e2b9a8d7c6b5a4f3e2d"


def custom_fields_gaps() -> list[Gap]:
    """Create and update with ``custom_fields`` items as the ticket's ``{id, value}`` pairs."""
    spec = json.loads(spec_path("zendesk").read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    pair = copy.deepcopy(schemas["TicketObject"]["properties"]["custom_fields"]["items"])
    update_input = copy.deepcopy(schemas["TicketUpdateInput"])
    update_input["properties"]["custom_fields"]["items"] = pair
    create_input = copy.deepcopy(schemas["TicketCreateInput"])
    if create_input["allOf"][0] != {"$ref": "#/components/schemas/TicketUpdateInput"}:
        raise AssertionError("the Zendesk subset changed shape: revisit custom_fields_gaps()")
    create_input["allOf"][0] = update_input
    why = (
        "the subset types custom_fields items as CustomFieldObject (a field definition, key/type/title "
        "required); tickets take {id, value} pairs (TicketObject.custom_fields; Zendesk docs "
        "'Setting custom field values')"
    )

    def body(ticket: dict[str, Any]) -> dict[str, Any]:
        schema = {"type": "object", "properties": {"ticket": ticket}}
        return {"content": {"application/json": {"schema": schema}}}

    return [
        Gap("POST", "/api/v2/tickets", why, body=body(create_input)),
        Gap("PUT", "/api/v2/tickets/{ticket_id}", why, body=body(update_input)),
    ]


@dataclass
class Upload:
    token: str
    files: list[dict[str, Any]] = field(default_factory=list)  # attachment JSON + "data" bytes
    used: bool = False


@dataclass
class Remembered:
    """What an Idempotency-Key was first used with, and what was answered."""

    body: Any
    answer: dict[str, Any]


class FakeZendesk(FakeVendor):
    name = "zendesk"

    def __init__(self, email: str = EMAIL, token: str = TOKEN) -> None:
        super().__init__(SpecValidator(spec_path("zendesk"), gaps=custom_fields_gaps()))
        self.email = email
        self.token = token
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.uploads: dict[str, Upload] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, Remembered] = {}
        self._guard = threading.Lock()
        self._ids = 35436
        self._clock = datetime(2025, 1, 14, 10, 30, tzinfo=UTC)

    # ---- what tests read -------------------------------------------------------------------

    def attachments(self, ticket_id: int) -> list[dict[str, Any]]:
        """Every file attached to the ticket's comments (with its bytes under ``data``)."""
        return [a for c in self.comments.get(ticket_id, []) for a in c["attachments"]]

    # ---- FakeVendor hooks --------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v2/uploads", self.upload, methods=["POST"]),
            Route("/api/v2/tickets", self.create_ticket, methods=["POST"]),
            Route("/api/v2/tickets/{ticket_id:int}", self.show_ticket, methods=["GET"]),
            Route("/api/v2/tickets/{ticket_id:int}", self.update_ticket, methods=["PUT"]),
        ]

    def invalid_response(self, errors: list[str]) -> Response:
        # Zendesk's answer to field values it cannot take ❓ (RecordInvalid with details).
        details = {"base": [{"description": e, "error": "InvalidValue"} for e in errors]}
        return JSONResponse(
            {"error": "RecordInvalid", "description": "Record validation errors", "details": details}, 422
        )

    # ---- endpoints ---------------------------------------------------------------------------

    async def upload(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        data = await request.body()
        name = request.query_params["filename"]
        given = request.query_params.get("token")
        with self._guard:
            if given is not None:
                upload = self.uploads.get(given)
                if upload is None or upload.used:
                    return _error(422, "InvalidValue", f"upload token {given} is unknown or already used")
            else:
                upload = Upload(secrets.token_urlsafe(18))
                self.uploads[upload.token] = upload
            self._ids += 1
            attachment = {
                "id": self._ids,
                "file_name": name,
                "content_type": request.headers.get("content-type", ""),
                "size": len(data),
                "content_url": f"{_origin(request)}/attachments/token/{upload.token}/?name={name}",
                "url": f"{_origin(request)}/api/v2/attachments/{self._ids}.json",
                "deleted": False,
                "inline": False,
                "thumbnails": [],
            }
            upload.files.append({**attachment, "data": data})
        public = [_public(f) for f in upload.files]
        return JSONResponse(
            {"upload": {"token": upload.token, "attachment": attachment, "attachments": public}}, 201
        )

    async def create_ticket(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        body = await request.json()
        key = request.headers.get("idempotency-key")
        with self._guard:
            if key is not None and key in self.keys:
                earlier = self.keys[key]
                if earlier.body != body:
                    return _error(
                        400,
                        "IdempotentRequestError",
                        "Request parameters don't match the given idempotency key",
                    )
                return JSONResponse(earlier.answer, 201, headers=_created(earlier.answer, "hit"))
            refused = self._check_comment(body["ticket"].get("comment") or {})
            if refused is not None:
                return refused
            ticket = self._new_ticket(body["ticket"], _origin(request))
            answer = {"ticket": ticket}
            if key is not None:
                self.keys[key] = Remembered(copy.deepcopy(body), copy.deepcopy(answer))
        return JSONResponse(answer, 201, headers=_created(answer, "miss" if key is not None else None))

    async def show_ticket(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        ticket = self.tickets.get(int(request.path_params["ticket_id"]))
        if ticket is None:
            return _error(404, "RecordNotFound", "Not found")
        return JSONResponse({"ticket": ticket}, 200)

    async def update_ticket(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        ticket_id = int(request.path_params["ticket_id"])
        change = (await request.json()).get("ticket") or {}
        with self._guard:
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return _error(404, "RecordNotFound", "Not found")
            if change.get("safe_update") and change.get("updated_stamp") != ticket["updated_at"]:
                return _error(
                    409, "UpdateConflict", "Safe Update prevented the update due to outdated ticket data"
                )
            comment = change.get("comment")
            if comment is not None:
                refused = self._check_comment(comment)
                if refused is not None:
                    return refused
                self._add_comment(ticket_id, comment)
            for name, value in change.items():
                if name not in ("comment", "safe_update", "updated_stamp"):
                    ticket[name] = value
            ticket["updated_at"] = self._tick()
            events = [{"id": self._ids, "type": "Comment", "body": (comment or {}).get("html_body", "")}]
        return JSONResponse({"ticket": ticket, "audit": {"ticket_id": ticket_id, "events": events}}, 200)

    # ---- pieces ------------------------------------------------------------------------------

    def _refuse(self, request: Request) -> Response | None:
        expected = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "Couldn't authenticate you"}, 401)
        return None

    def _check_comment(self, comment: dict[str, Any]) -> Response | None:
        if not (comment.get("body") or comment.get("html_body")):
            return _error(422, "RecordInvalid", "Comment: cannot be blank")
        for token in comment.get("uploads") or []:
            upload = self.uploads.get(token)
            if upload is None or upload.used:
                return _error(422, "RecordInvalid", f"Uploads: token {token} is unknown or already used")
        return None

    def _tick(self) -> str:
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _add_comment(self, ticket_id: int, comment: dict[str, Any]) -> None:
        attachments: list[dict[str, Any]] = []
        for token in comment.get("uploads") or []:
            upload = self.uploads[token]
            upload.used = True
            attachments.extend(upload.files)
        self._ids += 1
        self.comments.setdefault(ticket_id, []).append(
            {
                "id": self._ids,
                "body": comment.get("body"),
                "html_body": comment.get("html_body"),
                "public": comment.get("public", True),
                "attachments": attachments,
            }
        )

    def _requester(self, given: Any) -> int:
        email = str(given.get("email", "")).lower() if isinstance(given, dict) else ""
        if not email:
            return 1  # the agent whose token this is
        user = self.users.get(email)
        if user is None:
            self._ids += 1
            user = {"id": self._ids, "email": email, "name": given.get("name") or email}
            self.users[email] = user
        return int(user["id"])

    def _new_ticket(self, data: dict[str, Any], origin: str) -> dict[str, Any]:
        self._ids += 1
        ticket_id = self._ids
        stamp = self._tick()
        comment = data.get("comment") or {}
        ticket: dict[str, Any] = {
            "id": ticket_id,
            "url": f"{origin}/api/v2/tickets/{ticket_id}.json",
            "subject": data.get("subject"),
            "raw_subject": data.get("subject"),
            "description": comment.get("body") or comment.get("html_body"),
            "priority": data.get("priority"),
            "type": data.get("type"),
            "status": data.get("status", "new"),
            "tags": list(dict.fromkeys(data.get("tags") or [])),
            "external_id": data.get("external_id"),
            "group_id": data.get("group_id"),
            "custom_fields": data.get("custom_fields") or [],
            "requester_id": self._requester(data.get("requester")),
            "submitter_id": 1,
            "is_public": bool(comment.get("public", True)),
            "created_at": stamp,
            "updated_at": stamp,
            "via": {"channel": "api"},
        }
        self.tickets[ticket_id] = ticket
        self._add_comment(ticket_id, comment)
        return ticket


def _origin(request: Request) -> str:
    """This fake's own address: the API URLs it hands out point back at it, as Zendesk's do."""
    return f"{request.url.scheme}://{request.url.netloc}"


def _created(answer: dict[str, Any], lookup: str | None) -> dict[str, str]:
    headers = {"Location": str(answer["ticket"]["url"])}
    if lookup is not None:
        headers["x-idempotency-lookup"] = lookup
    return headers


def _public(attachment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attachment.items() if k != "data"}


def _error(status: int, name: str, description: str) -> JSONResponse:
    return JSONResponse({"error": name, "description": description}, status)
