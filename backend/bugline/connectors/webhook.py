"""Generic webhook: the report as JSON, POSTed to any URL, signed so the receiver can
verify it came from Bugline and was not replayed.

Signature (docs/webhooks.md has a receiver's code): headers ``Bugline-Webhook-Id`` (stable
across retries of one delivery: receivers de-duplicate on it), ``Bugline-Timestamp`` (Unix
seconds) and ``Bugline-Signature: v1=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>``.
Signing the timestamp with the body lets a receiver refuse old deliveries (we suggest five
minutes) without trusting an unsigned header; ``v1=`` leaves room for a new scheme, and
during a secret rotation several ``v1=`` values may be sent, comma-separated.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict
from typing import Any, ClassVar

import httpx

from bugline.connectors.base import (
    Attempt,
    Connector,
    Delivered,
    InvalidSettings,
    Result,
    Setting,
    Target,
    Ticket,
)
from bugline.connectors.document import ReportDocument, Update
from bugline.connectors.http import failure, send

USER_AGENT = "Bugline-Webhook/1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float, tolerance: int = 300) -> bool:
    """What a receiver does (and what the tests do): signature first, then freshness."""
    try:
        timestamp = int(headers["bugline-timestamp"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, body)
    offered = [v.strip() for v in headers.get("bugline-signature", "").split(",")]
    if not any(hmac.compare_digest(expected, v) for v in offered):
        return False
    return abs(now - timestamp) <= tolerance


def document_json(doc: ReportDocument) -> dict[str, Any]:
    data = asdict(doc)
    data["created_at"] = doc.created_at.isoformat()
    data["reference"] = doc.reference
    data["media"] = [
        {"name": m.name, "content_type": m.content_type, "size": m.size, "kind": m.kind, "url": m.url}
        for m in doc.media
    ]
    return data


class WebhookConnector(Connector):
    kind: ClassVar[str] = "webhook"
    title: ClassVar[str] = "Webhook"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("url", "Where to POST the report (https://…)", kind="url"),
        Setting(
            "secret", "Shared secret for the Bugline-Signature header, at least 16 characters", kind="secret"
        ),
    )

    @classmethod
    def validate(cls, raw: Any) -> dict[str, Any]:
        config = super().validate(raw)
        if len(config["secret"]) < 16:
            raise InvalidSettings({"secret": "must be at least 16 characters"})
        return config

    async def deliver(self, doc: ReportDocument, target: Target, attempt: Attempt) -> Result:
        payload = {
            "type": "report.forwarded",
            "id": attempt.key,
            "attempt": attempt.number,
            "target": {"options": target.options, "tags": list(target.tags)},
            "report": document_json(doc),
        }
        return await self._post(payload, attempt.key)

    async def update(self, ticket: Ticket, change: Update, attempt: Attempt) -> Result:
        payload = {
            "type": "report.duplicate",
            "id": attempt.key,
            "attempt": attempt.number,
            "ticket": {"id": ticket.remote_id, "url": ticket.url},
            "note": change.note,
            "report": document_json(change.report),
        }
        return await self._post(payload, attempt.key, ticket)

    async def check(self) -> Result:
        return await self._post({"type": "ping", "id": f"ping-{int(time.time())}"}, "ping")

    async def _post(self, payload: dict[str, Any], key: str, ticket: Ticket | None = None) -> Result:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        now = int(time.time())
        request = self.http.build_request(
            "POST",
            self.config["url"],
            content=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Bugline-Webhook-Id": key,
                "Bugline-Timestamp": str(now),
                "Bugline-Signature": signature(self.config["secret"], now, body),
            },
        )
        response = await send(self.http, request, "webhook")
        if not isinstance(response, httpx.Response):
            return response
        problem = failure(response, "webhook")
        if problem is not None:
            return problem
        if ticket is not None:
            return Delivered(ticket)
        return Delivered(Ticket(remote_id=_answer(response, "id") or key, url=_answer(response, "url")))


def _answer(response: httpx.Response, field: str) -> str:
    """Receivers may answer {"id": ..., "url": ...} to tell us where the report landed."""
    try:
        data = response.json()
    except ValueError:
        return ""
    value = data.get(field) if isinstance(data, dict) else None
    return str(value)[:500] if isinstance(value, str | int) else ""
