"""Zendesk Support: a report becomes a ticket with an internal note, files attached.

Vendor rules are from ../shared/specs/CONTRACTS.md section 1 and the saved OpenAPI subset
``zendesk/zendesk-tickets-uploads-subset.openapi.json`` (create/show/update ticket, upload
file), unless a comment says otherwise.

Exactly once. Ticket creation carries ``Idempotency-Key: <attempt.key>``: a repeat with the
same key and the same body answers the ticket the first request created, with
``x-idempotency-lookup: hit`` (https://developer.zendesk.com/api-reference/ticketing/introduction/#idempotency,
cited in zendesk/zendesk_api_client_rb#510 ⚠). The same key with a *different* body is
refused with 400 ``IdempotentRequestError`` (⚠: cloudbees-oss/zendesk-java-client
IdempotencyUtil.java @4ee2fc6d and the eesel.ai blog), and keys live about 2 hours ⚠.
So the create body must come out byte-identical on a retry, and two things in a report
change between attempts: upload tokens (new on every upload) and the presigned download
links (signed with a fresh expiry every time the document is built). Hence the order:

1. create the ticket from the report WITHOUT its files (a stable body);
2. upload the files and attach them with a second internal note (``PUT`` with
   ``comment.uploads``), tagging the ticket ``bugline_files`` in the same request, with
   ``safe_update`` so the tag list we write back cannot overwrite a concurrent change.

A retry whose create comes back as a ``hit`` reads the ticket (``GET``) and skips step 2
when the tag is there. The subset has no search or list endpoint, so ``external_id``
(``bugline-<key>``) is there for people, not looked up. Two limits follow: a retry whose
report changed meanwhile (a new duplicate, a new severity) gets the 400 and is reported as
Failed, naming the external_id, rather than risking a second ticket; and a retry after the
key expired (~2 hours ⚠; the outbox backs off up to an hour between attempts) is a ``miss``
and creates a second ticket with the same external_id.

Settings: ``url`` is the account (``acme`` or ``https://acme.zendesk.com``); plain http is
accepted only for 127.0.0.1/localhost, which is what the tests' fake Zendesk listens on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import replace
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
from bugline.render import common, html, outline
from bugline.render.outline import Para, Section

# CONTRACTS.md "Suggested severity mapping"; the enum is the OAS's TicketUpdateInput.priority.
PRIORITY: dict[Level, str] = {"critical": "urgent", "high": "high", "medium": "normal", "low": "low"}
TYPES = ("problem", "incident", "question", "task")
# A report's kind -> ticket type when the settings don't force one. A feature request is
# none of Zendesk's four types, so it is left without one (Zendesk allows that).
TYPE_BY_KIND = {"bug": "problem", "question": "question"}

FILES_TAG = "bugline_files"  # the files note was added (see the module docstring)
# Zendesk's attachment size limit is 50 MB ❓ (support article, not in the OAS); bigger
# files stay links in the files note.
MAX_UPLOAD = 50 * 1000 * 1000
KEY_LIMIT = 255  # Idempotency-Key: any string up to 255 characters ⚠ (eesel.ai blog)

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
_TAG_JUNK = re.compile(r"[^\w-]+")


def tag(text: str) -> str:
    """A Zendesk tag: lower case, no spaces (Zendesk splits tags on spaces ❓), and only
    letters, digits, ``_`` and ``-`` (the characters Zendesk's own tags use; whether it
    keeps others such as ``:`` is ❓, so ``severity:high`` becomes ``severity_high``)."""
    return _TAG_JUNK.sub("_", common.one_line(text).lower()).strip("_")


def custom_field_pairs(items: list[str]) -> list[dict[str, Any]]:
    """``["360001=web", "360002=yes"]`` -> ``[{"id": 360001, "value": "web"}, ...]``."""
    out: list[dict[str, Any]] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isdigit():
            raise ValueError(f"{item!r}: each entry is FIELD_ID=value, the field's numeric id")
        out.append({"id": int(key.strip()), "value": value.strip()})
    return out


class ZendeskConnector(Connector):
    kind: ClassVar[str] = "zendesk"
    title: ClassVar[str] = "Zendesk"
    uploads_files: ClassVar[bool] = True
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("url", "your Zendesk: the subdomain (acme) or its address (https://acme.zendesk.com)"),
        Setting("email", "the email of the agent whose API token this is", kind="email"),
        Setting(
            "api_token", "an API token (Admin Center > Apps and integrations > Zendesk API)", kind="secret"
        ),
        Setting("group_id", "the group new tickets go to (numeric id)", kind="int", required=False),
        Setting(
            "ticket_type",
            "force this ticket type; by default bugs are problems and questions are questions",
            kind="choice",
            required=False,
            choices=TYPES,
        ),
        Setting(
            "custom_fields",
            "ticket fields to set, as FIELD_ID=value, comma separated",
            kind="list",
            required=False,
        ),
        Setting("tags", "extra tags on every ticket, comma separated", kind="list", required=False),
        Setting(
            "webhook_secret",
            "the signing secret of the Zendesk webhook that reports status changes to Bugline's "
            "/hooks/<connector id> (Admin Center > Webhooks > the webhook > Signing secret)",
            kind="secret",
            required=False,
        ),
    )

    @classmethod
    def validate(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        return account_settings(
            cls.settings, raw, vendor_domain="zendesk.com", custom_fields=custom_field_pairs, tag=tag
        )

    # ---- plumbing ------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return str(self.config["url"])

    def _headers(self) -> dict[str, str]:
        # Basic {email}/token:{api_token} ✅ (support article 4408831452954).
        return basic_json_headers(f"{self.config['email']}/token", self.config["api_token"])

    def agent_url(self, ticket_id: int | str) -> str:
        # The agent UI link is ❓ in CONTRACTS.md (the API answers only the API URL).
        return f"{self.base}/agent/tickets/{ticket_id}"

    async def _call(
        self, method: str, path: str, what: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> tuple[httpx.Response, dict[str, Any]] | Retry | Failed:
        request = self.http.build_request(
            method, self.base + path, json=json, headers={**self._headers(), **(headers or {})}
        )
        response = await send(self.http, request, what)
        if isinstance(response, Retry):
            return response
        bad = failure(response, what)
        if bad is not None:
            return bad
        data = json_body(response, what)
        if isinstance(data, Retry):
            return data
        return response, data

    # ---- create --------------------------------------------------------------------------

    def ticket_body(self, doc: ReportDocument, target: Target, attempt: Attempt) -> dict[str, Any]:
        """The create request: the same bytes for every attempt of one delivery as long as
        the report itself did not change (files are attached afterwards, see above)."""
        ticket: dict[str, Any] = {
            "subject": common.title(doc),
            # The OAS's TicketCommentObject has both ``body`` (text) and ``html_body``; the
            # report is HTML, so html_body. public=false: an internal note, the customer
            # is not mailed our triage.
            "comment": {"html_body": html.report(replace(doc, media=())), "public": False},
            "priority": PRIORITY.get(doc.severity, "normal"),
            "tags": self.tags(doc, target),
            "external_id": f"bugline-{attempt.key}",
        }
        kind = (
            target.options.get("ticket_type") or self.config.get("ticket_type") or TYPE_BY_KIND.get(doc.kind)
        )
        if kind in TYPES:
            ticket["type"] = kind
        group = target.options.get("group_id") or self.config.get("group_id")
        if group is not None and str(group).isdigit():
            ticket["group_id"] = int(group)
        if self.config.get("custom_fields"):
            ticket["custom_fields"] = custom_field_pairs(self.config["custom_fields"])
        email = doc.reporter.email.strip()
        if email and _EMAIL.match(email) and len(email) <= 254:
            # A requester by email: Zendesk finds or creates the end user ✅ (OAS
            # TicketObject.requester, "Creating a ticket with a new requester").
            name = common.one_line(doc.reporter.name, 200) or email.split("@")[0]
            ticket["requester"] = {"name": name, "email": email}
        return {"ticket": ticket}

    def tags(self, doc: ReportDocument, target: Target) -> list[str]:
        raw = [*common.labels(doc), *self.config.get("tags", []), *target.tags]
        return list(dict.fromkeys(t for t in (tag(x) for x in raw) if t))

    async def deliver(self, doc: ReportDocument, target: Target, attempt: Attempt) -> Result:
        key = (
            attempt.key if len(attempt.key) <= KEY_LIMIT else hashlib.sha256(attempt.key.encode()).hexdigest()
        )
        request = self.http.build_request(
            "POST",
            self.base + "/api/v2/tickets",
            json=self.ticket_body(doc, target, attempt),
            headers={**self._headers(), "Idempotency-Key": key},
        )
        what = "Zendesk create ticket"
        response = await send(self.http, request, what)
        if isinstance(response, Retry):
            return response
        if response.status_code == 400 and _error_name(response) == "IdempotentRequestError":
            return Failed(
                "Zendesk already has a ticket from an earlier attempt of this delivery, but the report "
                f"changed since, so Zendesk will not say which: search Zendesk for external_id "
                f"bugline-{attempt.key} and link it by hand",
                status=400,
            )
        bad = failure(response, what)
        if bad is not None:
            return bad
        data = json_body(response, what)
        if isinstance(data, Retry):
            return data
        created = _ticket_of(data)
        if created is None:
            return Retry(f"{what}: the answer has no ticket id")
        ticket_id = created["id"]
        lookup = response.headers.get("x-idempotency-lookup", "").lower()
        earlier = lookup == "hit" or (lookup != "miss" and attempt.retry)
        ticket = Ticket(
            remote_id=str(ticket_id),
            url=self.agent_url(ticket_id),
            data={"api_url": str(created.get("url") or f"{self.base}/api/v2/tickets/{ticket_id}.json")},
        )
        found = "found the ticket an earlier attempt created" if earlier else "ticket created"
        if not doc.media:
            return Delivered(ticket, found)
        if earlier:
            # The replayed answer is the ticket as it was then: read it as it is now.
            got = await self._call("GET", f"/api/v2/tickets/{ticket_id}", "Zendesk show ticket")
            if not isinstance(got, tuple):
                return got
            current = _ticket_of(got[1])
            if current is None:
                return Retry("Zendesk show ticket: the answer has no ticket")
            created = current
        if FILES_TAG in (created.get("tags") or []):
            return Delivered(ticket, f"{found}; its files were attached already")
        attached = await self._attach(doc, ticket_id, created)
        if not isinstance(attached, str):
            return attached
        return Delivered(ticket, f"{found}; {attached}")

    # ---- files ---------------------------------------------------------------------------

    async def _attach(
        self, doc: ReportDocument, ticket_id: int, current: dict[str, Any]
    ) -> str | Retry | Failed:
        """Upload the files into one upload token and add them with an internal note."""
        token: str | None = None
        uploaded: list[Media] = []
        for media in doc.media:
            if media.size > MAX_UPLOAD or media.size < 0:
                continue
            got = await self._upload(media, token)
            if not isinstance(got, str):
                return got
            token = got
            uploaded.append(media)
        comment: dict[str, Any] = {"html_body": files_note(doc, uploaded), "public": False}
        if token is not None:
            comment["uploads"] = [token]
        tags = [*[str(t) for t in current.get("tags") or []], FILES_TAG]
        update: dict[str, Any] = {"comment": comment, "tags": list(dict.fromkeys(tags))}
        stamp = current.get("updated_at")
        if isinstance(stamp, str) and stamp:
            # Refused (409) if the ticket changed since we read its tags: the outbox retries.
            update |= {"safe_update": True, "updated_stamp": stamp}
        put = await self._call(
            "PUT", f"/api/v2/tickets/{ticket_id}", "Zendesk attach files", json={"ticket": update}
        )
        if not isinstance(put, tuple):
            return put
        skipped = len(doc.media) - len(uploaded)
        text = f"{common.plural(len(uploaded), 'file')} attached"
        return text + (f", {skipped} too large (linked)" if skipped else "")

    async def _upload(self, media: Media, token: str | None) -> str | Retry | Failed:
        """POST /api/v2/uploads?filename=NAME[&token=T] with the raw bytes and their real
        type ✅ (OAS UploadFiles description; the OAS itself leaves out the parameter and
        the body). Passing the first answer's token adds the file to the same upload."""
        what = f"Zendesk upload {media.name}"
        params = {"filename": common.one_line(media.name, 200) or "file"}
        if token:
            params["token"] = token
        request = self.http.build_request(
            "POST",
            self.base + "/api/v2/uploads",
            params=params,
            content=media.read(),
            headers={
                **self._headers(),
                "Content-Type": content_type(media.content_type),
                "Content-Length": str(media.size),  # streamed, never held whole in memory
            },
        )
        try:
            response = await send(self.http, request, what)
        except Exception as exc:  # the file could not be read from storage: try again later
            return Retry(f"{what}: reading the file failed: {type(exc).__name__}: {exc}"[:300])
        if isinstance(response, Retry):
            return response
        bad = failure(response, what)
        if bad is not None:
            return bad
        data = json_body(response, what)
        if isinstance(data, Retry):
            return data
        upload = data.get("upload")
        got = upload.get("token") if isinstance(upload, dict) else None
        if not isinstance(got, str) or not got:
            return Retry(f"{what}: the answer has no upload token")
        return got

    # ---- update and check ----------------------------------------------------------------

    async def update(self, ticket: Ticket, change: Update, attempt: Attempt) -> Result:
        """An internal note on the ticket. PUT takes no idempotency key, so a retry after an
        interrupted attempt may add the note twice: harmless, and better than losing it."""
        if not ticket.remote_id.isdigit():
            return Failed(f"Zendesk ticket id {ticket.remote_id!r} is not a number")
        body = {"ticket": {"comment": {"html_body": html.update(change), "public": False}}}
        got = await self._call("PUT", f"/api/v2/tickets/{ticket.remote_id}", "Zendesk add comment", json=body)
        if not isinstance(got, tuple):
            return got
        return Delivered(ticket, "comment added")

    async def check(self) -> Result:
        """Show ticket 1: 200 or a JSON 404 ``RecordNotFound`` both prove the address and
        the credentials (an agent's) work; 401/403 do not. The subset has no "who am I"
        endpoint, and Show Ticket is allowed for agents only, which is what we need."""
        what = "Zendesk check"
        request = self.http.build_request("GET", self.base + "/api/v2/tickets/1", headers=self._headers())
        response = await send(self.http, request, what)
        if isinstance(response, Retry):
            return response
        ok = Delivered(
            Ticket(remote_id="", url=self.base), f"signed in to {self.base} as {self.config['email']}"
        )
        if response.status_code == 404:
            # Zendesk's JSON for an unknown record ❓; anything else means this is not Zendesk.
            if _error_name(response) == "RecordNotFound":
                return ok
            return Failed(
                f"{what}: {self.base} answered 404 like no Zendesk account does; check the url", 404
            )
        bad = failure(response, what)
        if bad is not None:
            return bad
        data = json_body(response, what)
        if isinstance(data, Retry):
            return data
        if _ticket_of(data) is None:
            return Failed(
                f"{what}: {self.base} does not answer like Zendesk; check the url", response.status_code
            )
        return ok


def files_note(doc: ReportDocument, uploaded: list[Media]) -> str:
    """The second internal note: which files the report had, attached or (too big) linked."""
    head = f"Files from report {doc.reference}: {len(uploaded)} of {len(doc.media)} attached to this note."
    sections = [Section("", (Para((outline.text(head),)),)), outline.attachments(doc.media)]
    return html.render(tuple(s for s in sections if s.blocks))


def _ticket_of(data: dict[str, Any]) -> dict[str, Any] | None:
    ticket = data.get("ticket")
    if (
        not isinstance(ticket, dict)
        or not isinstance(ticket.get("id"), int)
        or isinstance(ticket["id"], bool)
    ):
        return None
    return ticket


def _error_name(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, str) else ""
