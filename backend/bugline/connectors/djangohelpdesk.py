"""django-helpdesk: one ticket per report, a private follow-up per later update.

django-helpdesk (https://github.com/django-helpdesk/django-helpdesk) is an open-source,
self-hosted helpdesk. Its REST API (``helpdesk/views/api.py``, ``helpdesk/serializers.py``
of release 2.6.1, the version the tests run against; docs/helpdesk.md) gives:

- ``POST {url}/api/tickets/`` (multipart or JSON) with ``queue`` (an id: the API has no queue
  endpoint, so a slug cannot be resolved), ``title`` (at most 200 characters), ``description``,
  ``priority`` (1 Critical, 2 High, 3 Normal, 4 Low, 5 Very Low) and ``submitter_email``.
  ``Authorization: Token T`` of a staff user (the API allows staff only).
- ``GET {url}/api/tickets/`` pages tickets oldest first (``count``, ``page``, ``page_size``) and
  has no search; ``GET {url}/api/tickets/ID/`` includes every follow-up and its attachments.
- ``POST {url}/api/followups/`` with ``ticket``, ``comment``, ``public`` and ``attachments``
  (several files). Its ``title`` renames the ticket, so none is sent.

Things about it that shape this module:

- The ticket's first follow-up is public, and django-helpdesk emails the submitter a receipt
  with a link to view the ticket. Files therefore go into a separate private follow-up, not
  into the ticket itself; ``reporter_as_submitter`` decides whether the customer is the submitter.
- A file whose extension the helpdesk refuses (its ``HELPDESK_VALID_EXTENSIONS``; the default
  leaves out .webm, .log, .json) makes the follow-up answer 500 after saving part of it, so
  such files are linked, not uploaded: ``attachment_types`` mirrors the helpdesk's list.
- Follow-up comments are rendered as Django templates (``update_ticket``): ``{{ ticket.… }}``
  in a customer's text would be filled in and ``{# … #}`` would vanish; ``_inert`` prevents it.
- When a webhook target or the mail server it notifies is unreachable, it answers 500 after
  saving the ticket or follow-up. There is no idempotency key, so every ticket and follow-up
  carries a marker line, and a retry looks for it first (``_find_earlier``).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

import httpx

from bugline.connectors import http as vendor_http
from bugline.connectors.base import (
    Attempt,
    Connector,
    Delivered,
    Failed,
    InvalidSettings,
    Result,
    Retry,
    Setting,
    Target,
    Ticket,
    validate_settings,
)
from bugline.connectors.document import Level, Media, ReportDocument, Update
from bugline.render import common, text

# django-helpdesk's TICKET_PRIORITY_CHOICES: 1 Critical, 2 High, 3 Normal, 4 Low, 5 Very Low.
PRIORITIES: dict[Level, int] = {"critical": 1, "high": 2, "medium": 3, "low": 4}
TITLE_LIMIT = 200  # Ticket.title is a CharField(max_length=200): longer answers 400
# The package's default HELPDESK_VALID_EXTENSIONS (helpdesk/settings.py, 2.6.1).
DEFAULT_TYPES = (".txt", ".asc", ".pdf", ".doc", ".docx", ".odt", ".jpg", ".png", ".eml")
# Files per follow-up: Django refuses requests with more than DATA_UPLOAD_MAX_NUMBER_FILES
# (default 100) files; far fewer keeps one request's size reasonable.
FILES_PER_REQUEST = 10
# How far back a retry looks for the ticket an interrupted attempt created (_find_earlier).
PAGE_SIZE = 100
SEARCH_PAGES = 10
MARKER_PREFIX = "Bugline delivery: "

_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,63}$")
_EXTENSION = re.compile(r"^\.[a-z0-9]{1,16}$")
_TEMPLATE_SYNTAX = re.compile(r"\{(?=[{%#])|%(?=\})")


class DjangoHelpdeskConnector(Connector):
    kind: ClassVar[str] = "django-helpdesk"
    title: ClassVar[str] = "django-helpdesk"
    uploads_files: ClassVar[bool] = True
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting(
            "url",
            "where the helpdesk is mounted, e.g. https://support.example.com/helpdesk (its API is "
            "under {url}/api/)",
            kind="url",
        ),
        Setting(
            "token",
            "the REST framework token of a staff user (manage.py drf_create_token USER)",
            kind="secret",
        ),
        Setting("queue", "the id of the queue new tickets go into (a route may name another)", kind="int"),
        Setting(
            "submitter_email",
            "the submitter when the reporter gave no email (or reporter_as_submitter is off)",
            kind="email",
            required=False,
        ),
        Setting(
            "reporter_as_submitter",
            "make the customer the ticket's submitter: django-helpdesk then emails them a receipt "
            "with a link to the ticket's public view, which shows the ticket's description",
            kind="bool",
            required=False,
            default=True,
        ),
        Setting(
            "attachment_types",
            "file extensions the helpdesk accepts (its HELPDESK_VALID_EXTENSIONS), comma-separated; "
            "other files are linked, not uploaded; * uploads every file",
            kind="list",
            required=False,
            default=list(DEFAULT_TYPES),
        ),
        Setting(
            "webhook_secret",
            "a random secret (at least 16 characters) for the helpdesk's follow-up webhook: set "
            "HELPDESK_FOLLOWUP_WEBHOOK_URLS to Bugline's /hooks/<connector id>?secret=<it>; Bugline "
            "then reads the ticket back to confirm its status",
            kind="secret",
            required=False,
        ),
    )

    @classmethod
    def validate(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        try:
            config = validate_settings(cls.settings, raw)
        except InvalidSettings as exc:
            errors.update(exc.errors)
            config = _valid_part(cls.settings, raw, errors)  # so the checks below name theirs too
        queue = config.get("queue")
        if queue is not None and queue < 1:
            errors["queue"] = "must be a queue id (a positive whole number)"
        types = config.get("attachment_types")
        if types is not None:
            normalised = _extensions(types)
            if normalised is None:
                errors["attachment_types"] = "must be extensions like .png, .pdf (or * for every file)"
            else:
                config["attachment_types"] = normalised
        if errors:
            raise InvalidSettings(errors)
        return config

    # ---- the three operations ------------------------------------------------------------

    async def deliver(self, doc: ReportDocument, target: Target, attempt: Attempt) -> Result:
        queue = _queue_of(target, self.config["queue"])
        if queue is None:
            return Failed(
                f"django-helpdesk: the route's queue {target.options.get('queue')!r} is not a queue id"
            )
        marker = marker_for(attempt.key)
        uploads, linked = self._split_media(doc.media)
        ticket: dict[str, Any] | None = None
        found = False
        if attempt.retry:
            earlier = await self._find_earlier(marker)
            if isinstance(earlier, Retry | Failed):
                return earlier  # not knowing is no reason to risk a second ticket
            ticket, found = earlier, earlier is not None
        if ticket is None:
            created = await self._create(doc, queue, marker)
            if isinstance(created, Retry | Failed):
                return created
            ticket = created
        ticket_id = ticket.get("id")
        if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
            return Retry("django-helpdesk create ticket: the answer had no ticket id")
        missing = _not_attached(uploads, ticket)
        sent = await self._attach(ticket_id, doc, missing)
        if isinstance(sent, Retry | Failed):
            return sent  # the ticket exists: the retry finds it by its marker and adds what is missing
        done, too_large = sent
        return Delivered(
            Ticket(
                remote_id=str(ticket_id),
                url=self._staff_url(ticket_id),
                data={"id": ticket_id, "queue": queue},
            ),
            detail=_detail(found, len(uploads) - len(missing) if found else 0, done, too_large, linked),
        )

    async def update(self, ticket: Ticket, change: Update, attempt: Attempt) -> Result:
        ticket_id = _ticket_id(ticket)
        if ticket_id is None:
            return Failed(f"django-helpdesk follow-up: {ticket.remote_id!r} is not a ticket id")
        marker = marker_for(attempt.key)
        if attempt.retry:
            current = await self._get_ticket(ticket_id)
            if isinstance(current, Retry | Failed):
                return current
            if any(_has_marker(f.get("comment"), marker) for f in _followups(current)):
                return Delivered(ticket, detail="found the follow-up an earlier attempt added")
        what = "django-helpdesk add follow-up"
        body = {
            "ticket": ticket_id,
            "comment": with_marker(_inert(text.update(change)), marker),
            "public": False,
        }
        response = await self._call("POST", "/api/followups/", what, json=body)
        if not isinstance(response, httpx.Response):
            return response
        followup = vendor_http.json_body(response, what)
        if isinstance(followup, Retry):
            return followup  # it may be saved: the retry looks for its marker
        return Delivered(ticket, detail=f"follow-up {followup.get('id', '?')} added (internal)")

    async def check(self) -> Result:
        """List one ticket: proves the URL, that the token is valid and that its user is staff
        (the API refuses others with 403). The API cannot show queues, so the queue id is
        only proven by the first delivery (a wrong one answers 400, naming the queue)."""
        what = "django-helpdesk check"
        response = await self._call("GET", "/api/tickets/", what, params={"page_size": "1"})
        if not isinstance(response, httpx.Response):
            return response
        listed = vendor_http.json_body(response, what)
        if isinstance(listed, Retry):
            return listed
        count = listed.get("count")
        if not isinstance(count, int):
            return Retry(f"{what}: the answer was not a page of tickets")
        return Delivered(
            Ticket(remote_id="", url=self.config["url"] + "/"),
            detail=f"the token works; {count} tickets visible to its user",
        )

    # ---- reading back (bugline.hooks) ----------------------------------------------------

    async def fetch_ticket(self, ticket: Ticket) -> dict[str, Any] | Retry | Failed:
        """The ticket as the helpdesk shows it now: ``status`` and every follow-up with its
        ``public`` flag and ``new_status``. Its webhooks carry no signature, so the inbound hook
        acts on what it reads back here, never on what the webhook claimed."""
        ticket_id = _ticket_id(ticket)
        if ticket_id is None:
            return Failed(f"django-helpdesk: {ticket.remote_id!r} is not a ticket id")
        return await self._get_ticket(ticket_id)

    async def fetch_status(self, ticket: Ticket) -> str | Retry | Failed:
        """The ticket's status code as text: 1 Open, 2 Reopened, 3 Resolved, 4 Closed, 5 Duplicate
        (helpdesk/models.py ``Ticket.STATUS_CHOICES``)."""
        current = await self.fetch_ticket(ticket)
        if isinstance(current, Retry | Failed):
            return current
        status = current.get("status")
        if not isinstance(status, int) or isinstance(status, bool):
            return Retry(f"django-helpdesk get ticket {ticket.remote_id}: the answer had no status")
        return str(status)

    # ---- creating -----------------------------------------------------------------------

    async def _create(self, doc: ReportDocument, queue: int, marker: str) -> dict[str, Any] | Retry | Failed:
        """The ticket, text only: files go into a private follow-up (see the module docstring)."""
        form = {
            "queue": str(queue),
            "title": _title(doc),
            "description": with_marker(text.report(doc), marker),
            "priority": str(PRIORITIES.get(doc.severity, 3)),
        }
        submitter = self._submitter(doc)
        if submitter:
            form["submitter_email"] = submitter
        what = "django-helpdesk create ticket"
        response = await self._call("POST", "/api/tickets/", what, data=form)
        if not isinstance(response, httpx.Response):
            return response  # a 500 may hide a saved ticket: the retry looks for the marker first
        return vendor_http.json_body(response, what)

    def _submitter(self, doc: ReportDocument) -> str:
        email = doc.reporter.email.strip()
        if self.config.get("reporter_as_submitter", True) and _EMAIL.match(email):
            return email
        fallback: str = self.config.get("submitter_email") or ""
        return fallback

    # ---- exactly once --------------------------------------------------------------------

    async def _find_earlier(self, marker: str) -> dict[str, Any] | Retry | Failed | None:
        """The ticket an interrupted attempt created, found by the marker line of its description.

        The API has no search and lists tickets oldest first, so this reads the last pages
        (the newest tickets) backwards: an interrupted attempt's ticket is among the newest,
        and reading at most SEARCH_PAGES x PAGE_SIZE tickets keeps a retry cheap on a
        helpdesk with years of tickets. Tickets the token's user cannot see are not listed,
        but the connector's own tickets are in its queue, which a staff user sees."""
        what = "django-helpdesk list tickets"
        first = await self._get_json("/api/tickets/", what, {"page_size": "1"})
        if isinstance(first, Retry | Failed):
            return first
        count = first.get("count") if first else 0
        if not isinstance(count, int):
            return Retry(f"{what}: the answer was not a page of tickets")
        last = max(1, math.ceil(count / PAGE_SIZE))
        for page in range(last, max(0, last - SEARCH_PAGES), -1):
            listed = await self._get_json(
                "/api/tickets/", what, {"page": str(page), "page_size": str(PAGE_SIZE)}
            )
            if isinstance(listed, Retry | Failed):
                return listed
            results = listed.get("results") if listed else []
            for ticket in reversed(results if isinstance(results, list) else []):
                if isinstance(ticket, dict) and _has_marker(ticket.get("description"), marker):
                    return ticket
        return None

    # ---- attachments ---------------------------------------------------------------------

    def _split_media(self, media: Sequence[Media]) -> tuple[list[Media], list[Media]]:
        """(files to upload, files left as the links the report already lists)."""
        types: list[str] = self.config.get("attachment_types") or list(DEFAULT_TYPES)
        uploads: list[Media] = []
        linked: list[Media] = []
        for item in media:
            if item.size <= 0:
                continue  # django-helpdesk silently drops empty files (lib.process_attachments)
            extension = os.path.splitext(item.name)[1].lower()
            # Files without an extension pass the helpdesk's check (validators.py).
            if "*" in types or extension in ("", ".") or extension in types:
                uploads.append(item)
            else:
                linked.append(item)
        return uploads, linked

    async def _attach(
        self, ticket_id: int, doc: ReportDocument, files: list[Media]
    ) -> tuple[int, list[Media]] | Retry | Failed:
        """Upload ``files`` in private follow-ups; (files uploaded, files too large for the server).

        A 413 (a proxy's body limit) on a batch is tried file by file; a single file still too
        large stays a link rather than failing a delivery whose ticket already exists."""
        done = 0
        too_large: list[Media] = []
        batches = [files[i : i + FILES_PER_REQUEST] for i in range(0, len(files), FILES_PER_REQUEST)]
        while batches:
            batch = batches.pop(0)
            sent = await self._upload(ticket_id, doc, batch)
            if sent == "too large":
                if len(batch) > 1:
                    batches[:0] = [[item] for item in batch]
                else:
                    too_large.extend(batch)
                continue
            if isinstance(sent, Retry | Failed):
                return sent
            done += len(batch)
        return done, too_large

    async def _upload(
        self, ticket_id: int, doc: ReportDocument, files: list[Media]
    ) -> Literal["sent", "too large"] | Retry | Failed:
        names = ", ".join(common.one_line(f.name, 120) for f in files)
        comment = _inert(f"Files of Bugline report {doc.reference}: {names}")
        form = StreamedForm(
            fields=(("ticket", str(ticket_id)), ("comment", comment), ("public", "false")),
            files=tuple(("attachments", f) for f in files),
        )
        what = "django-helpdesk upload files"
        request = self.http.build_request(
            "POST",
            self._api("/api/followups/"),
            content=form.stream(),
            headers={**self._auth(), "Content-Type": form.content_type, "Content-Length": str(form.length)},
        )
        try:
            response = await vendor_http.send(self.http, request, what)
        except MediaError as exc:
            return exc.result
        if isinstance(response, Retry):
            return response
        if response.status_code == 413:
            return "too large"
        problem = vendor_http.failure(response, what)
        if problem is not None:
            return problem  # a 500 may hide saved files: the retry counts what is there
        return "sent"

    # ---- HTTP ----------------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return f"{self.config['url']}{path}"

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.config['token']}", "Accept": "application/json"}

    def _staff_url(self, ticket_id: int) -> str:
        return f"{self.config['url']}/tickets/{ticket_id}/"

    async def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        allowed: tuple[int, ...] = (),
    ) -> httpx.Response | Retry | Failed:
        request = self.http.build_request(
            method, self._api(path), json=json, data=data, params=params, headers=self._auth()
        )
        response = await vendor_http.send(self.http, request, what)
        if isinstance(response, Retry) or response.status_code in allowed:
            return response
        problem = vendor_http.failure(response, what)
        return response if problem is None else problem

    async def _get_json(
        self, path: str, what: str, params: dict[str, str] | None = None
    ) -> dict[str, Any] | Retry | Failed | None:
        """GET a JSON object; None for 404 (a page that emptied while we read, a deleted ticket)."""
        response = await self._call("GET", path, what, params=params, allowed=(404,))
        if not isinstance(response, httpx.Response):
            return response
        if response.status_code == 404:
            return None
        return vendor_http.json_body(response, what)

    async def _get_ticket(self, ticket_id: int) -> dict[str, Any] | Retry | Failed:
        what = f"django-helpdesk get ticket {ticket_id}"
        current = await self._get_json(f"/api/tickets/{ticket_id}/", what)
        if current is None:
            return Failed(f"{what}: the ticket no longer exists (HTTP 404)", status=404)
        return current


# ---- a streamed multipart/form-data body -----------------------------------------------------


class MediaError(Exception):
    """Reading a stored file failed while it was being sent; ``result`` says what to do."""

    def __init__(self, result: Retry | Failed) -> None:
        super().__init__(result.reason)
        self.result = result


class StreamedForm:
    """multipart/form-data (RFC 7578) whose files are streamed from ``Media.read()``, never held
    whole in memory. Its exact length is known up front (``Media.size``), so the body goes out
    with Content-Length: servers behind WSGI, Django's runserver among them, do not accept a
    chunked request body."""

    def __init__(self, fields: Sequence[tuple[str, str]], files: Sequence[tuple[str, Media]]) -> None:
        self.boundary = secrets.token_hex(16)
        self.fields = tuple(fields)
        self.files = tuple(files)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _field_part(self, name: str, value: str) -> bytes:
        head = f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
        return head.encode() + value.encode("utf-8") + b"\r\n"

    def _file_head(self, name: str, media: Media) -> bytes:
        content_type = media.content_type if re.match(r"^[\w.+-]+/[\w.+-]+$", media.content_type) else ""
        return (
            f"--{self.boundary}\r\nContent-Disposition: form-data; "
            f'name="{_quote(name)}"; filename="{_quote(media.name)}"\r\n'
            f"Content-Type: {content_type or 'application/octet-stream'}\r\n\r\n"
        ).encode()

    def _tail(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    @property
    def length(self) -> int:
        total = sum(len(self._field_part(n, v)) for n, v in self.fields)
        total += sum(len(self._file_head(n, m)) + m.size + 2 for n, m in self.files)
        return total + len(self._tail())

    async def stream(self) -> AsyncIterator[bytes]:
        for name, value in self.fields:
            yield self._field_part(name, value)
        for name, media in self.files:
            yield self._file_head(name, media)
            sent = 0
            try:
                async for chunk in media.read():
                    sent += len(chunk)
                    if sent > media.size:
                        break
                    yield chunk
            except Exception as exc:  # the media store's own errors (network, missing object)
                reason = f"reading {media.name} from storage: {type(exc).__name__}: {exc}"
                raise MediaError(Retry(reason[:300])) from exc
            if sent != media.size:
                # The declared Content-Length would be wrong; the stored file is not what the
                # report recorded, and sending again would not change that.
                raise MediaError(
                    Failed(f"stored file {media.name} has {sent} bytes, the report recorded {media.size}")
                )
            yield b"\r\n"
        yield self._tail()


def _quote(value: str) -> str:
    """A name or filename inside a quoted Content-Disposition parameter, escaped as browsers do
    (WHATWG HTML, "multipart/form-data encoding algorithm"): quote and newlines percent-encoded."""
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


# ---- helpers (module level: pure) ------------------------------------------------------------


def marker_for(key: str) -> str:
    """The marker line a retry finds the ticket or follow-up by; odd keys are hashed."""
    token = key if _KEY.match(key) else hashlib.sha256(key.encode()).hexdigest()
    return MARKER_PREFIX + token


def with_marker(body: str, marker: str) -> str:
    return f"{body.rstrip()}\n\n{marker}"


def _has_marker(body: Any, marker: str) -> bool:
    return isinstance(body, str) and any(line.strip() == marker for line in body.splitlines())


def _inert(comment: str) -> str:
    """A follow-up comment that django-helpdesk's template rendering leaves as written.

    ``update_ticket`` renders every follow-up comment as a Django template with the ticket
    and queue as context, so ``{{ ticket.ticket_url }}`` in a customer's text would be filled
    in and ``{# … #}`` would disappear. It wraps ``{% … %}`` in ``{% verbatim %}`` itself, but
    by replacing every ``%}``, so a ``%}`` without its ``{%`` ("100%}") ends in a template
    syntax error and a 500. A zero-width space after each ``{`` that would open a tag,
    variable or comment, and after each ``%`` before ``}``, keeps the text as shown."""
    return _TEMPLATE_SYNTAX.sub(lambda m: m.group(0) + "\u200b", comment)


def _title(doc: ReportDocument) -> str:
    """The renderer's title within django-helpdesk's 200 characters, the reference kept."""
    full = common.title(doc)
    if len(full) <= TITLE_LIMIT:
        return full
    suffix = f" ({doc.reference})"
    return common.clip(full.removesuffix(suffix), TITLE_LIMIT - len(suffix)) + suffix


def _queue_of(target: Target, default: int) -> int | None:
    chosen = target.options.get("queue", "").strip()
    if not chosen:
        return default
    return int(chosen) if chosen.isdigit() and int(chosen) > 0 else None


def _ticket_id(ticket: Ticket) -> int | None:
    value = ticket.data.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(ticket.remote_id) if ticket.remote_id.isdigit() else None


def _followups(ticket: Mapping[str, Any]) -> list[dict[str, Any]]:
    followups = ticket.get("followup_set")
    return [f for f in followups if isinstance(f, dict)] if isinstance(followups, list) else []


def _not_attached(uploads: list[Media], ticket: Mapping[str, Any]) -> list[Media]:
    """The files not yet on the ticket, matched by name and size (an earlier attempt may have
    uploaded some before it was interrupted)."""
    present: Counter[tuple[str, int]] = Counter()
    for followup in _followups(ticket):
        for item in followup.get("followupattachment_set") or []:
            if isinstance(item, dict):
                present[(str(item.get("filename")), int(item.get("size") or 0))] += 1
    missing: list[Media] = []
    for media in uploads:
        if present[(media.name, media.size)] > 0:
            present[(media.name, media.size)] -= 1
        else:
            missing.append(media)
    return missing


def _valid_part(
    spec: tuple[Setting, ...], raw: Mapping[str, Any], errors: Mapping[str, str]
) -> dict[str, Any]:
    """The settings that are valid on their own, when others are not."""
    part: dict[str, Any] = {}
    for setting in spec:
        if setting.name in errors:
            continue
        try:
            part.update(validate_settings((setting,), {setting.name: raw.get(setting.name)}))
        except InvalidSettings:
            continue
    return part


def _extensions(values: Sequence[str]) -> list[str] | None:
    out: list[str] = []
    for value in values:
        item = value.strip().lower()
        if item == "*":
            out.append(item)
            continue
        item = item if item.startswith(".") else "." + item
        if not _EXTENSION.match(item):
            return None
        out.append(item)
    return list(dict.fromkeys(out))


def _detail(found: bool, already: int, done: int, too_large: list[Media], linked: list[Media]) -> str:
    parts = ["found the ticket an earlier attempt created" if found else "ticket created"]
    uploaded = already + done
    if uploaded:
        parts.append(common.plural(uploaded, "file") + " attached")
    if linked:
        types = ", ".join(sorted({os.path.splitext(m.name)[1].lower() for m in linked}))
        parts.append(
            f"{common.plural(len(linked), 'file')} linked, not uploaded ({types} not in attachment_types)"
        )
    if too_large:
        parts.append(f"{common.plural(len(too_large), 'file')} too large for the helpdesk (HTTP 413), linked")
    return "; ".join(parts)
