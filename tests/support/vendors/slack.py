"""A fake Slack: ``chat.postMessage`` checked against the Swagger 2.0 subset, and an incoming
webhook (no spec exists for those: its JSON shape is checked here, see ``webhook_errors``).

Like Slack, ``chat.postMessage`` answers HTTP 200 for failures too, ``{"ok": false, "error":
"channel_not_found"}``; a request that breaks the spec is answered the same way
(``invalid_arguments``) and listed in ``.invalid``. The webhook answers ``ok`` as text, and
errors as an HTTP status with a text body (``invalid_payload``, ``no_service``).

A message with nothing to show (no text, blocks or attachments) is not treated as a spec
violation here but answered as Slack answers it, ``no_text``, after the token and channel
checks (auth, then channel, then content: the order Slack reports them in ❓). That is what
``SlackConnector.check`` relies on to test a token and channel without posting anything.

    with FakeSlack() as slack:
        ... SlackConnector(token=slack.token, channel=CHANNEL, api_url=slack.url + "/api") ...
        ... SlackConnector(webhook_url=slack.webhook_url) ...
        slack.messages[0]["blocks"]
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import jsonschema
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from tests.support.vendors.openapi import Headers, Query, SpecValidator
from tests.support.vendors.server import FakeVendor
from tests.support.vendors.specs import spec_path

TOKEN = "xoxb-1234567890-0987654321-fakeFAKEfakeFAKEfake"
CHANNEL = "C0123456789"
PAYMENTS_CHANNEL = "C0PAYMENTS1"
OTHER_CHANNEL = "C0OTHER0001"  # the bot is not a member
HOOK_PATH = "/services/T0FAKE001/B0FAKE001/fakeHookSecret0123456789"

# What Slack's incoming webhooks take (https://api.slack.com/messaging/webhooks, and
# https://api.slack.com/reference/messaging/payload): a message payload, no channel.
_NOTHING_TO_SHOW = "is not valid under any of the given schemas (closest: 'text' is a required property)"
_HOOK_KEYS = frozenset(
    {"text", "blocks", "attachments", "mrkdwn", "unfurl_links", "unfurl_media", "thread_ts"}
)


class SlackValidator:
    """The Swagger subset for ``/api/...``; the webhook payload shape for the hook path."""

    def __init__(self) -> None:
        path = spec_path("slack")
        self.spec = SpecValidator(path)
        self.blocks_schema = json.loads(path.read_text())["definitions"]["blocks"]

    def validate(
        self,
        method: str,
        path: str,
        query: Query = None,
        headers: Headers = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> list[str]:
        if path.startswith("/services/"):
            return self.webhook_errors(method, body, content_type)
        errors = self.spec.validate(method, path, query, headers, body, content_type)
        # The subset's gap rule "text, blocks or attachments": answered by the route as no_text.
        return [e for e in errors if not (_NOTHING_TO_SHOW in e and len(errors) == 1)]

    def webhook_errors(self, method: str, body: bytes, content_type: str | None) -> list[str]:
        where = f"{method} webhook"
        if method != "POST":
            return [f"{where}: only POST is accepted"]
        if (content_type or "").split(";")[0].strip() != "application/json":
            return [f"{where}: content type {content_type!r}, expected application/json"]
        try:
            payload = json.loads(body)
        except ValueError as exc:
            return [f"{where}: body is not JSON: {exc}"]
        if not isinstance(payload, dict):
            return [f"{where}: body is not a JSON object"]
        errors = [f"{where}: unknown field {key!r}" for key in payload if key not in _HOOK_KEYS]
        text, blocks, attachments = payload.get("text"), payload.get("blocks"), payload.get("attachments")
        if text is not None and not isinstance(text, str):
            errors.append(f"{where}: text must be a string")
        if blocks is not None:
            errors += [f"{where}: blocks: {e.message}" for e in _errors(self.blocks_schema, blocks)]
        if attachments is not None:
            if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
                errors.append(f"{where}: attachments must be a list of objects")
            else:
                for i, attachment in enumerate(attachments):
                    if "blocks" in attachment:
                        errors += [
                            f"{where}: attachments[{i}].blocks: {e.message}"
                            for e in _errors(self.blocks_schema, attachment["blocks"])
                        ]
        for flag in ("mrkdwn", "unfurl_links", "unfurl_media"):
            if flag in payload and not isinstance(payload[flag], bool):
                errors.append(f"{where}: {flag} must be true or false")
        return errors


class FakeSlack(FakeVendor):
    name = "slack"

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__(SlackValidator())
        self.token = token
        self.channels: dict[str, dict[str, Any]] = {
            CHANNEL: {"name": "bugs", "member": True},
            PAYMENTS_CHANNEL: {"name": "payments-alerts", "member": True},
            OTHER_CHANNEL: {"name": "sales", "member": False},
        }
        self.messages: list[dict[str, Any]] = []  # chat.postMessage, as posted (with channel, ts)
        self.hook_messages: list[dict[str, Any]] = []  # webhook payloads
        self.hook_alive = True
        self._guard = threading.Lock()
        self._counter = 0

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{HOOK_PATH}"

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/chat.postMessage", self.post_message, methods=["POST"]),
            Route(HOOK_PATH, self.webhook, methods=["POST"]),
        ]

    def invalid_response(self, errors: list[str]) -> Response:
        if any(e.startswith("POST webhook") for e in errors):
            return PlainTextResponse(
                "invalid_payload" if self.hook_alive else "no_service", 400 if self.hook_alive else 404
            )
        return _error("invalid_arguments")

    async def post_message(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        if not auth:
            return _error("not_authed")
        if auth != f"Bearer {self.token}":
            return _error("invalid_auth")
        data = await request.json()
        channel = self.channels.get(data["channel"])
        if channel is None:
            return _error("channel_not_found")
        if not channel["member"]:
            return _error("not_in_channel")
        if not _has_content(data):
            return _error("no_text")
        thread_ts = data.get("thread_ts")
        if thread_ts is not None and not any(
            m["ts"] == thread_ts and m["channel"] == data["channel"] for m in self.messages
        ):
            return _error("thread_not_found")
        ts = self._ts()
        stored = {**data, "ts": ts}
        self.messages.append(stored)
        message = {
            "type": "message",
            "subtype": "bot_message",
            "text": data.get("text", ""),
            "ts": ts,
            "bot_id": "B0FAKEBOT1",
            "username": "Bugline",
        }
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        return JSONResponse({"ok": True, "channel": data["channel"], "ts": ts, "message": message})

    async def webhook(self, request: Request) -> Response:
        if not self.hook_alive:
            return PlainTextResponse("no_service", 404)
        data = await request.json()
        if not _has_content(data):
            return PlainTextResponse("no_text", 400)
        self.hook_messages.append(data)
        return PlainTextResponse("ok")

    def _ts(self) -> str:
        with self._guard:
            self._counter += 1
            return f"{int(time.time())}.{self._counter:06d}"


def _has_content(data: dict[str, Any]) -> bool:
    text = data.get("text")
    return bool((isinstance(text, str) and text.strip()) or data.get("blocks") or data.get("attachments"))


def _error(code: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": code})


def _errors(schema: dict[str, Any], instance: Any) -> list[jsonschema.ValidationError]:
    return list(jsonschema.Draft4Validator(schema).iter_errors(instance))
