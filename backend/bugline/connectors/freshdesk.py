"""Freshdesk: a report becomes a ticket, its files attached in the same request.

Freshdesk publishes no machine-readable spec (../shared/specs/CONTRACTS.md section 3); the
rules here come from that section and the sources it names: freshworks/fresh-samples
``Python/create_ticket.py`` and ``create_ticket_attachment.py`` ✅ (JSON, and multipart
with ``attachments[]``), sjkingo/python-freshdesk ``freshdesk/v2/api.py`` ✅ (list fields
sent as ``tags[]``, custom fields as ``custom_fields[name]``; notes; the filter query).

Exactly once. Freshdesk has no idempotency key (❓ in CONTRACTS.md), so every ticket
carries a tag made from the delivery's key, and a retry first looks for a ticket with that
tag: ``GET /api/v2/search/tickets?query="tag:'bugline-…'"`` (the filter-tickets endpoint,
https://developers.freshdesk.com/api/#filter_tickets, as python-freshdesk
``filter_tickets`` @00118560 calls it ⚠: not in CONTRACTS.md). Freshdesk's search is
served from an index that may lag a fresh ticket by some seconds ❓; the outbox's first
retry comes later than that, and a failed search is a Retry, never a blind create.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from bugline.connectors.base import (
    Attempt,
    Connector,
    Delivered,
    Failed,
    Result,
    Retry,
    Setting,
    Target,
    Ticket,
    account_settings,
)
from bugline.connectors.document import Level, Media, ReportDocument, Update
from bugline.connectors.http import basic_json_headers, content_type, failure, json_body, send
from bugline.render import common, html

# CONTRACTS.md "Suggested severity mapping": 4 Urgent, 3 High, 2 Medium, 1 Low ✅.
PRIORITY: dict[Level, int] = {"critical": 4, "high": 3, "medium": 2, "low": 1}
STATUS_OPEN = 2  # ✅ python-freshdesk models.py
# 2 = Portal. 9 ("Feedback widget") is only ⚠ and names Freshdesk's own widget, whose
# automations would then fire on our tickets; Portal is what the CONTRACTS example sends.
SOURCE_PORTAL = 2
TAG_LIMIT = 32  # Freshdesk refuses longer tags ❓ (its validation message, from memory)
# The total size of a ticket's attachments is capped at 20 MB ❓: files past it stay the
# links the description already lists.
ATTACHMENTS_LIMIT = 20 * 1000 * 1000


def key_tag(key: str) -> str:
    """The tag that finds a delivery's ticket again: ``bugline-`` and 24 hex digits of the
    key's SHA-256, 32 characters whatever the key looks like."""
    return "bugline-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def tag(text: str) -> str:
    """A Freshdesk tag: one line, no commas (the agent UI splits on them ❓), 32 characters."""
    return common.one_line(text).replace(",", " ").strip()[:TAG_LIMIT].strip()


def custom_fields(items: list[str]) -> dict[str, str]:
    """``["cf_area=checkout"]`` -> ``{"cf_area": "checkout"}`` (Freshdesk names custom
    fields ``cf_…``; the value is sent as text)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name or not all(ch.isalnum() or ch == "_" for ch in name):
            raise ValueError(f"{item!r}: each entry is FIELD_NAME=value, e.g. cf_area=checkout")
        out[name] = value.strip()
    return out


class FreshdeskConnector(Connector):
    kind: ClassVar[str] = "freshdesk"
    title: ClassVar[str] = "Freshdesk"
    uploads_files: ClassVar[bool] = True
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("url", "your Freshdesk: the subdomain (acme) or its address (https://acme.freshdesk.com)"),
        Setting("api_key", "an agent's API key (Profile settings > View API key)", kind="secret"),
        Setting(
            "requester_email",
            "the requester of tickets whose customer gave no email (Freshdesk needs one)",
            kind="email",
        ),
        Setting("group_id", "the group new tickets go to (numeric id)", kind="int", required=False),
        Setting("ticket_type", "the ticket type, as named in your Freshdesk (e.g. Problem)", required=False),
        Setting(
            "custom_fields",
            "ticket fields to set, as FIELD_NAME=value, comma separated (e.g. cf_area=checkout)",
            kind="list",
            required=False,
        ),
        Setting("tags", "extra tags on every ticket, comma separated", kind="list", required=False),
        Setting(
            "webhook_secret",
            "a random secret (at least 16 characters) the automation's Trigger webhook sends in an "
            "X-Bugline-Hook-Secret header to Bugline's /hooks/<connector id>; Bugline then reads "
            "the ticket back to confirm its status",
            kind="secret",
            required=False,
        ),
    )

    @classmethod
    def validate(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        return account_settings(
            cls.settings, raw, vendor_domain="freshdesk.com", custom_fields=custom_fields, tag=tag
        )

    # ---- plumbing ------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return str(self.config["url"])

    def _headers(self) -> dict[str, str]:
        # Basic api_key:X ✅ (fresh-samples create_ticket.py: auth = (api_key, "x")).
        return basic_json_headers(self.config["api_key"], "X")

    def agent_url(self, ticket_id: int | str) -> str:
        return f"{self.base}/a/tickets/{ticket_id}"  # the agent UI's ticket page ❓

    def _ticket(self, data: dict[str, Any]) -> Ticket | None:
        ticket_id = data.get("id")
        if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
            return None
        return Ticket(remote_id=str(ticket_id), url=self.agent_url(ticket_id))

    async def _call(self, request: httpx.Request, what: str) -> dict[str, Any] | Retry | Failed:
        response = await send(self.http, request, what)
        if isinstance(response, Retry):
            return response
        bad = failure(response, what)
        if bad is not None:
            return bad
        return json_body(response, what)

    # ---- create --------------------------------------------------------------------------

    def ticket_fields(self, doc: ReportDocument, target: Target, attempt: Attempt) -> dict[str, Any]:
        """The create request's fields, as JSON values (see ``form`` for multipart)."""
        email = doc.reporter.email.strip()
        own = bool(email) and "@" in email and len(email) <= 254
        fields: dict[str, Any] = {
            "subject": common.title(doc),
            "description": html.report(doc),  # HTML ✅ (CONTRACTS.md: "description"(HTML))
            # Freshdesk needs a requester (email, requester_id or phone) ⚠: the customer
            # when we know their email, else the configured one.
            "email": email if own else str(self.config["requester_email"]),
            "priority": PRIORITY.get(doc.severity, 2),
            "status": STATUS_OPEN,
            "source": SOURCE_PORTAL,
            "tags": self.tags(doc, target, attempt),
        }
        name = common.one_line(doc.reporter.name, 200)
        if own and name:
            fields["name"] = name  # the requester's name, used if Freshdesk creates the contact ⚠
        group = target.options.get("group_id") or self.config.get("group_id")
        if group is not None and str(group).isdigit():
            fields["group_id"] = int(group)
        kind = target.options.get("ticket_type") or self.config.get("ticket_type")
        if kind:
            fields["type"] = str(kind)
        if self.config.get("custom_fields"):
            fields["custom_fields"] = custom_fields(self.config["custom_fields"])
        return fields

    def tags(self, doc: ReportDocument, target: Target, attempt: Attempt) -> list[str]:
        raw = [*common.labels(doc), *self.config.get("tags", []), *target.tags]
        return list(dict.fromkeys([*(t for t in (tag(x) for x in raw) if t), key_tag(attempt.key)]))

    async def deliver(self, doc: ReportDocument, target: Target, attempt: Attempt) -> Result:
        if attempt.retry:
            found = await self.find(key_tag(attempt.key))
            if isinstance(found, Retry | Failed):
                return found
            if found is not None:
                return Delivered(found, "found the ticket an earlier attempt created")
        fields = self.ticket_fields(doc, target, attempt)
        files = await self._files(doc.media)
        if isinstance(files, Retry):
            return files
        url = self.base + "/api/v2/tickets"
        if files:
            # multipart/form-data: attachments[] parts, every other field a part of its own ✅
            request = self.http.build_request(
                "POST", url, data=form(fields), files=files, headers=self._headers()
            )
        else:
            request = self.http.build_request("POST", url, json=fields, headers=self._headers())
        data = await self._call(request, "Freshdesk create ticket")
        if isinstance(data, Retry | Failed):
            return data
        ticket = self._ticket(data)
        if ticket is None:
            return Retry("Freshdesk create ticket: the answer has no ticket id")
        skipped = len(doc.media) - len(files)
        detail = "ticket created"
        if doc.media:
            detail += f"; {common.plural(len(files), 'file')} attached"
            detail += f", {skipped} linked (over the size limit)" if skipped else ""
        return Delivered(ticket, detail)

    async def find(self, marker: str) -> Ticket | Retry | Failed | None:
        """The ticket carrying ``marker`` as a tag, if any."""
        request = self.http.build_request(
            "GET",
            self.base + "/api/v2/search/tickets",
            params={"query": f"\"tag:'{marker}'\""},  # the value is quoted, as the docs ask ⚠
            headers=self._headers(),
        )
        data = await self._call(request, "Freshdesk search tickets")
        if isinstance(data, Retry | Failed):
            return data
        results = data.get("results")
        if not isinstance(results, list):
            return Retry("Freshdesk search tickets: the answer has no results list")
        for item in results:
            if isinstance(item, dict) and marker in (item.get("tags") or []):
                ticket = self._ticket(item)
                if ticket is not None:
                    return ticket
        return None

    async def _files(self, media: tuple[Media, ...]) -> list[tuple[str, tuple[str, bytes, str]]] | Retry:
        """The files to attach, read whole (multipart needs them; the total is capped)."""
        files: list[tuple[str, tuple[str, bytes, str]]] = []
        total = 0
        for m in media:
            if m.size < 0 or total + m.size > ATTACHMENTS_LIMIT:
                continue
            try:
                body = b"".join([chunk async for chunk in m.read()])
            except Exception as exc:  # storage hiccup: try the delivery again later
                return Retry(f"Freshdesk: reading {m.name} failed: {type(exc).__name__}: {exc}"[:300])
            total += len(body)
            files.append(
                (
                    "attachments[]",
                    (common.one_line(m.name, 200) or "file", body, content_type(m.content_type)),
                )
            )
        return files

    # ---- update and check ----------------------------------------------------------------

    async def update(self, ticket: Ticket, change: Update, attempt: Attempt) -> Result:
        """A private note ✅ (python-freshdesk create_note: POST tickets/{id}/notes). Notes
        take no idempotency key: a retry after an interrupted attempt may add it twice."""
        if not ticket.remote_id.isdigit():
            return Failed(f"Freshdesk ticket id {ticket.remote_id!r} is not a number")
        request = self.http.build_request(
            "POST",
            f"{self.base}/api/v2/tickets/{ticket.remote_id}/notes",
            json={"body": html.update(change), "private": True},
            headers=self._headers(),
        )
        data = await self._call(request, "Freshdesk add note")
        if isinstance(data, Retry | Failed):
            return data
        return Delivered(ticket, "note added")

    async def fetch_ticket(self, ticket: Ticket) -> dict[str, Any] | Retry | Failed:
        """``GET /api/v2/tickets/{id}`` ✅ (CONTRACTS.md section 3: "re-GET the ticket and confirm
        its status"): Freshdesk's webhooks carry no signature, so the inbound hook acts on the
        ``status``, ``tags`` and ``updated_at`` read back here."""
        if not ticket.remote_id.isdigit():
            return Failed(f"Freshdesk ticket id {ticket.remote_id!r} is not a number")
        request = self.http.build_request(
            "GET", f"{self.base}/api/v2/tickets/{ticket.remote_id}", headers=self._headers()
        )
        return await self._call(request, f"Freshdesk get ticket {ticket.remote_id}")

    async def fetch_status(self, ticket: Ticket) -> str | Retry | Failed:
        """The ticket's status code as text: 2 Open, 3 Pending, 4 Resolved, 5 Closed ✅
        (python-freshdesk models.py); accounts may add custom statuses (6 and up) ❓."""
        data = await self.fetch_ticket(ticket)
        if isinstance(data, Retry | Failed):
            return data
        status = data.get("status")
        if not isinstance(status, int) or isinstance(status, bool):
            return Retry(f"Freshdesk get ticket {ticket.remote_id}: the answer has no status")
        return str(status)

    async def check(self) -> Result:
        """``GET /api/v2/agents/me`` (View Me ⚠, developers.freshdesk.com/api/#me): the key's
        own agent, so it proves the address and the key without touching any ticket."""
        request = self.http.build_request("GET", self.base + "/api/v2/agents/me", headers=self._headers())
        data = await self._call(request, "Freshdesk check")
        if isinstance(data, Retry | Failed):
            return data
        contact = data.get("contact")
        who = contact.get("email") if isinstance(contact, dict) else None
        if not isinstance(data.get("id"), int):
            return Failed(f"Freshdesk check: {self.base} does not answer like Freshdesk; check the url")
        return Delivered(
            Ticket(remote_id="", url=self.base), f"signed in to {self.base} as {who or 'an agent'}"
        )


def form(fields: dict[str, Any]) -> dict[str, str | list[str]]:
    """JSON fields as multipart parts: lists as ``name[]``, custom fields as
    ``custom_fields[name]``, numbers as text ✅ (python-freshdesk _create_ticket_with_attachment)."""
    out: dict[str, str | list[str]] = {}
    for name, value in fields.items():
        if isinstance(value, list):
            out[f"{name}[]"] = [str(v) for v in value]
        elif isinstance(value, dict):
            for key, item in value.items():
                out[f"{name}[{key}]"] = str(item)
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out
