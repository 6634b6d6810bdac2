"""A fake Freshdesk v2 API (tickets, notes, ticket filter, "me"), checked against a schema
written here, since Freshdesk publishes no machine-readable spec.

``TICKET_SCHEMA`` is the create-ticket request as ../shared/specs/CONTRACTS.md section 3
describes it, with the sources it names:

- fields and JSON shape: CONTRACTS.md "Body" and examples/freshdesk_create_ticket.json;
  freshworks/fresh-samples ``Python/create_ticket.py`` ✅;
- required: subject, description and one requester field (email, requester_id or phone) ⚠;
- codes: priority 1..4, status 2..5 ✅ (python-freshdesk models.py); source 1, 2, 3, 7, 9, 10 ⚠;
- multipart: ``attachments[]`` file parts and every other field a part of its own, arrays
  as ``tags[]``, custom fields as ``custom_fields[name]`` ✅ (fresh-samples
  ``create_ticket_attachment.py``; sjkingo/python-freshdesk ``freshdesk/v2/api.py``);
- fields not listed are refused, as Freshdesk refuses unexpected fields ❓;
- tags at most 32 characters ❓ (Freshdesk's validation message, from memory).

Requests that break it are answered like Freshdesk: 400 ``{"description": "Validation
failed", "errors": [{"field", "message", "code"}]}`` ✅ (CONTRACTS.md: errors come as
``{"errors": [...]}`` with an ``x-request-id`` header). Credentials are Basic ``api_key:X``
✅, else 401. The filter endpoint (``GET /api/v2/search/tickets?query="tag:'x'"``) and
``GET /api/v2/agents/me`` are ⚠ (python-freshdesk filter_tickets; developers.freshdesk.com),
and this fake understands only the ``tag:'…'`` filter the connector sends.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import re
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.support.vendors.openapi import Headers, Query
from tests.support.vendors.server import FakeVendor

API_KEY = "fd-api-key-Q7w3e9r1t5y8u2i4o6p0"
AGENT_EMAIL = "agent@acme.example"

TICKET_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Freshdesk v2 create ticket (CONTRACTS.md section 3)",
    "type": "object",
    "additionalProperties": False,
    "required": ["subject", "description"],
    "anyOf": [{"required": ["email"]}, {"required": ["requester_id"]}, {"required": ["phone"]}],
    "properties": {
        "subject": {"type": "string", "minLength": 1},
        "description": {"type": "string", "minLength": 1},
        "email": {"type": "string", "format": "email"},
        "requester_id": {"type": "integer"},
        "phone": {"type": "string"},
        "name": {"type": "string", "minLength": 1},
        "priority": {"enum": [1, 2, 3, 4]},
        "status": {"enum": [2, 3, 4, 5]},
        "source": {"enum": [1, 2, 3, 7, 9, 10]},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 32}},
        "cc_emails": {"type": "array", "items": {"type": "string", "format": "email"}},
        "custom_fields": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z0-9_]+$"},
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        },
        "group_id": {"type": "integer"},
        "type": {"type": "string", "minLength": 1},
    },
}
# POST /api/v2/tickets/{id}/notes ✅ (python-freshdesk create_note: {"body", ...}).
NOTE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["body"],
    "properties": {
        "body": {"type": "string", "minLength": 1},
        "private": {"type": "boolean"},
        "incoming": {"type": "boolean"},
        "notify_emails": {"type": "array", "items": {"type": "string", "format": "email"}},
        "user_id": {"type": "integer"},
    },
}
INTEGERS = frozenset({"requester_id", "priority", "status", "source", "group_id"})
FILTER = re.compile(r"^\"tag:'([^'\"]{1,64})'\"$")
CREATE = re.compile(r"^/api/v2/tickets$")
NOTES = re.compile(r"^/api/v2/tickets/(\d+)/notes$")


class FreshdeskValidator:
    """The harness's validator for Freshdesk: ``TICKET_SCHEMA``/``NOTE_SCHEMA`` for bodies,
    the query of the filter endpoint, and well-formed Basic credentials on every call."""

    def __init__(self) -> None:
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        self.ticket = jsonschema.Draft202012Validator(TICKET_SCHEMA, format_checker=checker)
        self.note = jsonschema.Draft202012Validator(NOTE_SCHEMA, format_checker=checker)

    def validate(
        self,
        method: str,
        path: str,
        query: Query = None,
        headers: Headers = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> list[str]:
        label = f"{method} {path}"
        header_map = {
            k.lower(): v for k, v in (headers.items() if isinstance(headers, Mapping) else headers or ())
        }
        errors = _auth_errors(header_map.get("authorization", ""))
        pairs = _pairs(query)
        content_type = content_type or header_map.get("content-type") or ""
        if method == "POST" and CREATE.match(path):
            errors += self._ticket_errors(body, content_type)
        elif method == "POST" and NOTES.match(path):
            errors += _json_errors(self.note, body, content_type)
        elif method == "GET" and path == "/api/v2/search/tickets":
            errors += _filter_errors(pairs)
        elif method == "GET" and (path == "/api/v2/agents/me" or re.match(r"^/api/v2/tickets/\d+$", path)):
            errors += [f"query parameter {k!r} is not known" for k, _ in pairs]
        else:
            errors.append("no such endpoint in this fake Freshdesk")
        return [f"{label}: {e}" for e in errors]

    def _ticket_errors(self, body: bytes, content_type: str) -> list[str]:
        if content_type.startswith("multipart/form-data"):
            parsed = parse_multipart(body, content_type)
            if isinstance(parsed, str):
                return [parsed]
            fields, files = parsed
            errors = [
                f"attachments[]: part {f['name']!r} has no content type" for f in files if not f["type"]
            ]
            return errors + _schema_errors(self.ticket, fields)
        return _json_errors(self.ticket, body, content_type)


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | str:
    """A Freshdesk multipart create as (the JSON-shaped fields, the attachments).

    ``tags[]`` -> ``tags`` list, ``custom_fields[x]`` -> ``custom_fields`` object, number
    fields parsed as Freshdesk parses them; any other part name is kept as it is, so a
    misnamed part (``tags`` without ``[]``) fails the schema."""
    if "boundary=" not in content_type:
        return "multipart Content-Type has no boundary"
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return "the multipart body could not be parsed"
    fields: dict[str, Any] = {}
    files: list[dict[str, Any]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            return "a multipart part has no name"
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if name != "attachments[]":
                return f"file part {name!r}: files go in parts named attachments[]"
            files.append(
                {
                    "name": filename,
                    "type": part.get_content_type() if part["content-type"] else "",
                    "data": data,
                }
            )
            continue
        text = data.decode("utf-8", "replace")
        custom = re.fullmatch(r"custom_fields\[([^\]]+)\]", name)
        if custom:
            fields.setdefault("custom_fields", {})[custom.group(1)] = text
        elif name.endswith("[]"):
            fields.setdefault(name[:-2], []).append(text)
        elif name in INTEGERS and text.isdigit():
            fields[name] = int(text)
        else:
            fields[name] = text
    return fields, files


class FakeFreshdesk(FakeVendor):
    name = "freshdesk"

    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__(FreshdeskValidator())
        self.api_key = api_key
        self.tickets: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.files: dict[int, list[dict[str, Any]]] = {}  # attachments with their bytes
        self.contacts: dict[str, dict[str, Any]] = {}
        self._guard = threading.Lock()
        self._ids = 100
        self._clock = datetime(2025, 1, 14, 10, 30, tzinfo=UTC)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v2/tickets", self.create_ticket, methods=["POST"]),
            Route("/api/v2/tickets/{ticket_id:int}", self.view_ticket, methods=["GET"]),
            Route("/api/v2/tickets/{ticket_id:int}/notes", self.create_note, methods=["POST"]),
            Route("/api/v2/search/tickets", self.filter_tickets, methods=["GET"]),
            Route("/api/v2/agents/me", self.me, methods=["GET"]),
        ]

    def invalid_response(self, errors: list[str]) -> Response:
        details = [{"field": "", "message": e, "code": "invalid_value"} for e in errors]
        return _answer({"description": "Validation failed", "errors": details}, 400)

    # ---- endpoints ---------------------------------------------------------------------------

    async def create_ticket(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        files: list[dict[str, Any]] = []
        if content_type.startswith("multipart/form-data"):
            parsed = parse_multipart(body, content_type)
            assert not isinstance(parsed, str)  # the validator let it through
            fields, files = parsed
        else:
            fields = json.loads(body)
        with self._guard:
            self._ids += 1
            ticket_id = self._ids
            stamp = self._tick()
            attachments = []
            for f in files:
                self._ids += 1
                attachments.append(
                    {
                        "id": self._ids,
                        "name": f["name"],
                        "content_type": f["type"],
                        "size": len(f["data"]),
                        "attachment_url": f"{_origin(request)}/attachments/{self._ids}/{f['name']}",
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                )
            self.files[ticket_id] = [
                {**a, "data": f["data"]} for a, f in zip(attachments, files, strict=True)
            ]
            ticket = {
                "id": ticket_id,
                "subject": fields["subject"],
                "description": fields["description"],
                "description_text": re.sub(r"<[^>]*>", "", fields["description"]),
                "requester_id": self._requester(fields),
                "priority": fields.get("priority", 1),
                "status": fields.get("status", 2),
                "source": fields.get("source", 2),
                "tags": fields.get("tags", []),
                "custom_fields": fields.get("custom_fields", {}),
                "group_id": fields.get("group_id"),
                "type": fields.get("type"),
                "cc_emails": fields.get("cc_emails", []),
                "attachments": attachments,
                "created_at": stamp,
                "updated_at": stamp,
            }
            self.tickets[ticket_id] = ticket
        response = _answer(ticket, 201)
        response.headers["Location"] = f"{_origin(request)}/api/v2/tickets/{ticket_id}"
        return response

    async def view_ticket(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        ticket = self.tickets.get(int(request.path_params["ticket_id"]))
        return _answer(ticket, 200) if ticket is not None else _not_found()

    async def create_note(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        ticket_id = int(request.path_params["ticket_id"])
        data = await request.json()
        with self._guard:
            if ticket_id not in self.tickets:
                return _not_found()
            self._ids += 1
            note = {
                "id": self._ids,
                "ticket_id": ticket_id,
                "body": data["body"],
                "body_text": re.sub(r"<[^>]*>", "", data["body"]),
                "private": data.get("private", True),
                "incoming": data.get("incoming", False),
                "user_id": 1,
                "created_at": self._tick(),
            }
            self.notes.setdefault(ticket_id, []).append(note)
        return _answer(note, 201)

    async def filter_tickets(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        match = FILTER.match(request.query_params["query"])
        assert match is not None  # the validator let it through
        found = [t for t in self.tickets.values() if match.group(1) in t["tags"]]
        return _answer({"results": found, "total": len(found)}, 200)

    async def me(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        return _answer(
            {"id": 1, "available": True, "contact": {"email": AGENT_EMAIL, "name": "Acme Agent"}}, 200
        )

    # ---- pieces ------------------------------------------------------------------------------

    def _refuse(self, request: Request) -> Response | None:
        expected = base64.b64encode(f"{self.api_key}:X".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return _answer(
                {
                    "code": "invalid_credentials",
                    "message": "You have to be logged in to perform this action.",
                },
                401,
            )
        return None

    def _tick(self) -> str:
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _requester(self, fields: dict[str, Any]) -> int:
        if "requester_id" in fields:
            return int(fields["requester_id"])
        key = str(fields.get("email") or fields.get("phone")).lower()
        contact = self.contacts.get(key)
        if contact is None:  # Freshdesk creates the contact on the fly
            self._ids += 1
            contact = {"id": self._ids, "email": fields.get("email"), "name": fields.get("name") or key}
            self.contacts[key] = contact
        return int(contact["id"])


def _pairs(query: Query) -> list[tuple[str, str]]:
    if query is None:
        return []
    if isinstance(query, str):
        return parse_qsl(query, keep_blank_values=True)
    items = query.items() if isinstance(query, Mapping) else query
    return [(str(k), str(v)) for k, v in items]


def _auth_errors(authorization: str) -> list[str]:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic":
        return ["Authorization: Freshdesk takes Basic api_key:X"]
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ["Authorization: Basic credentials are not base64"]
    return [] if ":" in decoded else ["Authorization: Basic credentials lack the ':'"]


def _json_errors(validator: jsonschema.Draft202012Validator, body: bytes, content_type: str) -> list[str]:
    if not content_type.startswith("application/json"):
        return [f"content type {content_type!r}: send application/json (or multipart with files)"]
    try:
        instance = json.loads(body)
    except ValueError as exc:
        return [f"body is not JSON: {exc}"]
    return _schema_errors(validator, instance)


def _schema_errors(validator: jsonschema.Draft202012Validator, instance: Any) -> list[str]:
    found = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"body{''.join(f'.{p}' for p in e.absolute_path)}: {e.message[:300]}" for e in found]


def _filter_errors(pairs: list[tuple[str, str]]) -> list[str]:
    errors = [f"query parameter {k!r} is not known" for k, _ in pairs if k not in ("query", "page")]
    queries = [v for k, v in pairs if k == "query"]
    if len(queries) != 1:
        return [*errors, "the filter needs exactly one query parameter"]
    if len(queries[0]) > 512:
        errors.append("query: at most 512 characters")  # ⚠ python-freshdesk filter_tickets
    if not FILTER.match(queries[0]):
        errors.append(f"query {queries[0]!r}: this fake understands only \"tag:'value'\" (quotes included)")
    return errors


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _answer(data: Any, status: int) -> JSONResponse:
    # Every Freshdesk answer carries a request id ✅ (fresh-samples print x-request-id).
    return JSONResponse(data, status, headers={"x-request-id": str(uuid.uuid4())})


def _not_found() -> JSONResponse:
    return _answer({"code": "not_found", "message": "There is no ticket with that id."}, 404)  # ❓ wording
