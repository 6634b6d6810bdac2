"""Email to any helpdesk's inbound address (or a team's mailbox), over SMTP.

One message per report: ``multipart/mixed`` holding the report as ``multipart/alternative``
(plain text and HTML, from ``bugline.render``) and the report's files as attachments, up to
``max_attachment_bytes`` in all (the rest stay the links the report lists, and the message
says so). A later duplicate is a reply in the same thread (``In-Reply-To``/``References``).

The rules, from ../shared/specs/CONTRACTS.md section 7 (no vendor spec; the RFCs):

- Submission on port 587 with STARTTLS (RFC 6409, RFC 3207) or implicit TLS on 465
  (RFC 8314); certificates are always verified (``ca_file`` trusts a private CA). Without
  TLS, the password and the customer's report would cross the network in clear, so
  ``security=none`` is only accepted for a relay on this machine (localhost, 127.0.0.1, ::1).
- Reply codes: 4xx are transient, 5xx permanent (RFC 5321 section 4.2.1): 4xx, refused
  connections, dropped connections and timeouts -> ``Retry``; 5xx -> ``Failed``.
- ``Message-ID: <bugline.{attempt key}@{domain of from_address}>`` (RFC 5322 section 3.6.4)
  is the same on every retry of one delivery: when an attempt's answer is lost after the
  server took the message, the retry sends the same message again, and helpdesks and mail
  stores that de-duplicate by Message-ID keep one. SMTP has no way to ask whether a message
  arrived, so this id is the whole exactly-once story here.
- ``Auto-Submitted: auto-generated`` (RFC 3834 section 5) tells the helpdesk's autoresponder
  not to answer, so two systems cannot mail each other in a loop; ``X-Auto-Response-Suppress:
  OOF, AutoReply`` asks the same of Microsoft Exchange ([MS-OXCMAIL] 2.2.3.2.20), leaving
  bounces (NDRs) on.
- No structured priority field: ``X-Priority`` and ``Importance`` (RFC 2156 section 5.3.4),
  which mail clients and several helpdesks show.

The SMTP conversation (``bugline.mail.smtp``, shared with customer notifications) is stdlib
``smtplib`` in a worker thread (``anyio.to_thread``); every step is bounded by ``timeout``.
Files are read into memory first (at most ``max_attachment_bytes``), then the whole message
is built and sent in the thread.
"""

from __future__ import annotations

import email.policy
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from hashlib import sha256
from html import escape
from typing import Any, ClassVar

import anyio.to_thread
import httpx

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
    checked_settings,
)
from bugline.connectors.document import Level, Media, ReportDocument, Update
from bugline.mail.smtp import (
    ADDRESS,
    IMPLICIT_TLS_PORT,
    SUBMISSION_PORT,
    Conversation,
    Server,
    ca_problem,
    close,
    expect,
    ip,
    is_local,
    size_limit,
)
from bugline.render import common, html, text

DEFAULT_ATTACHMENT_BYTES = 10_000_000  # 10 MB: most helpdesks take 20-50 MB per message
MAX_ATTACHMENT_BYTES = 50_000_000  # files are held in memory while a message is built
SENDER_NAME = "Bugline"

# X-Priority 1 (highest) .. 5 (lowest), Importance high | normal | low (RFC 2156 5.3.4).
PRIORITIES: dict[Level, tuple[str, str]] = {
    "critical": ("1 (Highest)", "high"),
    "high": ("1 (Highest)", "high"),
    "medium": ("3 (Normal)", "normal"),
    "low": ("5 (Lowest)", "low"),
}

_ADDRESS = ADDRESS  # plain ASCII addresses only (bugline.mail.smtp says why)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*$"
)
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
_MESSAGE_ID = re.compile(r"^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,128}@[A-Za-z0-9.-]{1,200}>$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")


class EmailConnector(Connector):
    kind: ClassVar[str] = "email"
    title: ClassVar[str] = "Email"
    uploads_files: ClassVar[bool] = True
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting(
            "to",
            "the helpdesk's inbound address (e.g. support@acme.zendesk.com); a route may name "
            "another with the option to",
            kind="email",
        ),
        Setting(
            "from_address",
            "the sender: an address the SMTP server lets you send from (bounces come back to it); "
            "its domain ends every Message-ID",
            kind="email",
        ),
        Setting("host", "the SMTP server, e.g. smtp.example.com"),
        Setting(
            "port",
            f"the SMTP port: {SUBMISSION_PORT} (submission with STARTTLS) unless set, "
            f"{IMPLICIT_TLS_PORT} with security=tls",
            kind="int",
            required=False,
        ),
        Setting(
            "security",
            "starttls (upgrade a plain connection, port 587), tls (TLS from the first byte, port "
            "465) or none (only for a relay on this machine: the password and the reports would "
            "otherwise cross the network unencrypted)",
            kind="choice",
            required=False,
            default="starttls",
            choices=("starttls", "tls", "none"),
        ),
        Setting("username", "the SMTP login, if the server wants one", required=False),
        Setting("password", "the SMTP password (with username)", kind="secret", required=False),
        Setting(
            "ca_file",
            "a PEM file of CA certificates to trust instead of the system's (a private relay's "
            "CA); certificates are always verified",
            required=False,
        ),
        Setting(
            "max_attachment_bytes",
            f"files attached per message, in bytes, in all (default {DEFAULT_ATTACHMENT_BYTES:,}; "
            "0 attaches none); files beyond it are linked and the message says so",
            kind="int",
            required=False,
            default=DEFAULT_ATTACHMENT_BYTES,
        ),
        Setting(
            "reply_to_reporter",
            "set Reply-To to the customer's address. Off by default: helpdesks answer (and send "
            "their notifications) to Reply-To, which would mail the customer from a tool they "
            "never dealt with; the customer's address is in the report either way",
            kind="bool",
            required=False,
            default=False,
        ),
        Setting(
            "timeout",
            "seconds each step of the SMTP conversation may take (1-60)",
            kind="int",
            required=False,
            default=30,
        ),
    )

    @classmethod
    def validate(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        config, errors = checked_settings(cls.settings, raw)  # so the checks below name theirs too
        for name in ("to", "from_address"):
            if name in config and not _ADDRESS.match(config[name]):
                errors[name] = (
                    "must be a plain ASCII address like support@example.com (domain at most 140 characters)"
                )
        if "host" in config:
            host = config["host"].strip("[]").lower()
            if not (_HOSTNAME.match(host) or ip(host)):
                errors["host"] = "must be a host name or an IP address, without scheme or port"
            config["host"] = host
            if config.get("security") == "none" and not is_local(host):
                errors["security"] = (
                    "none is only allowed for a relay on this machine (localhost, 127.0.0.1, ::1): "
                    "elsewhere the password and the reports would cross the network unencrypted"
                )
        port = config.get("port")
        if port is not None and not 1 <= port <= 65535:
            errors["port"] = "must be a TCP port (1-65535)"
        user, password = config.get("username"), config.get("password")
        if password and not user:
            errors["username"] = "required with a password"
        if user and not password:
            errors["password"] = "required with a username"  # noqa: S105 (a message, not a password)
        for name, value in (("username", user), ("password", password)):
            if value and not _PRINTABLE_ASCII.match(value):
                errors[name] = "must be printable ASCII (Python's SMTP client sends AUTH as ASCII)"
        cap = config.get("max_attachment_bytes")
        if cap is not None and not 0 <= cap <= MAX_ATTACHMENT_BYTES:
            errors["max_attachment_bytes"] = f"must be between 0 and {MAX_ATTACHMENT_BYTES:,}"
        timeout = config.get("timeout")
        if timeout is not None and not 1 <= timeout <= 60:
            errors["timeout"] = "must be between 1 and 60 seconds"
        ca_file = config.get("ca_file")
        if ca_file:
            problem = ca_problem(ca_file)
            if problem:
                errors["ca_file"] = problem
        if errors:
            raise InvalidSettings(errors)
        return config

    def __init__(self, config: Mapping[str, Any], http: httpx.AsyncClient) -> None:
        super().__init__(config, http)
        self.sender: str = self.config["from_address"]
        self.domain = self.sender.rpartition("@")[2].lower()

    # ---- the three operations ------------------------------------------------------------

    async def deliver(self, doc: ReportDocument, target: Target, attempt: Attempt) -> Result:
        to = target.options.get("to", "").strip() or self.config["to"]
        if not _ADDRESS.match(to):
            return Failed(f"email: the route's to {common.one_line(to, 100)!r} is not a plain email address")
        files = await gather(doc.media, self.config.get("max_attachment_bytes", DEFAULT_ATTACHMENT_BYTES))
        if isinstance(files, Retry):
            return files
        message_id = message_id_for(attempt.key, self.domain)
        subject = common.title(doc)
        letter = Letter(
            sender=self.sender,
            to=to,
            subject=subject,
            text=text.report(doc),
            html=html.report(doc),
            message_id=message_id,
            report_id=doc.report_id,
            severity=doc.severity,
            reply_to=self._reply_to(doc),
            files=files,
        )
        sent = await anyio.to_thread.run_sync(self._send, letter)
        if not isinstance(sent, Letter):
            return sent
        return Delivered(
            Ticket(
                remote_id=message_id, url="", data={"message_id": message_id, "subject": subject, "to": to}
            ),
            detail=_detail(f"sent to {to} as {message_id}", sent.files),
        )

    async def update(self, ticket: Ticket, change: Update, attempt: Attempt) -> Result:
        original = str(ticket.data.get("message_id") or ticket.remote_id)
        if not _MESSAGE_ID.match(original):
            return Failed(
                f"email reply: the ticket's Message-ID {common.one_line(original, 100)!r} is not one"
            )
        to = str(ticket.data.get("to") or self.config["to"])
        if not _ADDRESS.match(to):
            return Failed(f"email reply: {common.one_line(to, 100)!r} is not a plain email address")
        files = await gather(
            change.report.media, self.config.get("max_attachment_bytes", DEFAULT_ATTACHMENT_BYTES)
        )
        if isinstance(files, Retry):
            return files
        subject = common.one_line(str(ticket.data.get("subject") or common.title(change.report)), 300)
        letter = Letter(
            sender=self.sender,
            to=to,
            subject=subject if subject.lower().startswith("re:") else f"Re: {subject}",
            text=text.update(change),
            html=html.update(change),
            message_id=message_id_for(attempt.key, self.domain),
            report_id=change.report.report_id,
            severity=change.report.severity,
            reply_to=self._reply_to(change.report),
            files=files,
            in_reply_to=original,
        )
        sent = await anyio.to_thread.run_sync(self._send, letter)
        if not isinstance(sent, Letter):
            return sent
        return Delivered(ticket, detail=_detail(f"reply sent to {to} as {letter.message_id}", sent.files))

    async def check(self) -> Result:
        """Connect, EHLO, STARTTLS and log in as configured, NOOP, then MAIL FROM and RCPT TO
        the configured address and RSET: proves the server lets ``from_address`` send to
        ``to`` (the usual "relay denied" mistake) without sending anything."""
        return await anyio.to_thread.run_sync(self._check)

    # ---- building ------------------------------------------------------------------------

    def _reply_to(self, doc: ReportDocument) -> Address | None:
        if not self.config.get("reply_to_reporter"):
            return None
        address = doc.reporter.email.strip()
        if not _ADDRESS.match(address):
            return None  # no Reply-To rather than a broken or hostile one
        local, _, domain = address.rpartition("@")
        return Address(display_name=common.one_line(doc.reporter.name, 100), username=local, domain=domain)

    # ---- the SMTP conversation (in a worker thread) ---------------------------------------

    def _send(self, letter: Letter) -> Letter | Retry | Failed:
        """Send; the letter as sent (its files may have become links), or what went wrong."""
        try:
            data = compose(letter)
        except (ValueError, TypeError) as exc:  # a header EmailMessage refuses: our bug, not the server's
            return Failed(f"email: could not build the message: {exc}"[:300])
        talk = Conversation(Server.of(self.config))
        try:
            smtp = talk.open()
            try:
                limit = size_limit(smtp)
                if limit and len(data) > limit and letter.files.attached:
                    reason = f"the mail server takes messages up to {common.human_size(limit)}"
                    letter = replace(letter, files=letter.files.all_linked(reason))
                    data = compose(letter)
                talk.stage = "sending the message"
                smtp.sendmail(letter.sender, [letter.to], data)
            finally:
                close(smtp)
        except Exception as exc:  # every way a conversation ends early becomes Retry or Failed
            return talk.outcome(exc)
        return letter

    def _check(self) -> Result:
        talk = Conversation(Server.of(self.config))
        try:
            smtp = talk.open()
            try:
                talk.stage = "NOOP"
                expect(smtp.noop(), 250)
                talk.stage = f"MAIL FROM:<{self.sender}>"
                expect(smtp.mail(self.sender), 250)
                talk.stage = f"RCPT TO:<{self.config['to']}>"
                expect(smtp.rcpt(self.config["to"]), 250, 251)
                smtp.rset()
                limit = size_limit(smtp)
                security = talk.security_label(smtp)
            finally:
                close(smtp)
        except Exception as exc:
            return talk.outcome(exc)
        parts = [f"{talk.where} ({security})"]
        if self.config.get("username"):
            parts.append(f"logged in as {self.config['username']}")
        parts.append(f"accepts mail from {self.sender} to {self.config['to']}")
        if limit:
            parts.append(f"messages up to {common.human_size(limit)}")
        return Delivered(Ticket(remote_id="", url=""), detail="; ".join(parts))


# ---- the message --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Files:
    """The report's files: read into memory to attach, or left as the links the body lists."""

    attached: tuple[tuple[Media, bytes], ...] = ()
    linked: tuple[tuple[Media, str], ...] = ()  # (file, why it is not attached)

    def all_linked(self, reason: str) -> Files:
        return Files((), self.linked + tuple((m, reason) for m, _ in self.attached))


@dataclass(frozen=True, slots=True)
class Letter:
    sender: str
    to: str
    subject: str
    text: str
    html: str
    message_id: str
    report_id: str
    severity: Level
    reply_to: Address | None
    files: Files = field(default_factory=Files)
    in_reply_to: str = ""


async def gather(media: tuple[Media, ...], cap: int) -> Files | Retry:
    """Read files to attach, in order, while they fit in ``cap`` bytes in all; the others are
    linked. A storage error is a ``Retry`` (the store may be back soon)."""
    attached: list[tuple[Media, bytes]] = []
    linked: list[tuple[Media, str]] = []
    room = cap
    for item in media:
        if item.size > room:
            linked.append((item, f"over the {common.human_size(cap)} this connection attaches per message"))
            continue
        try:
            data = await _read(item)
        except Exception as exc:  # the media store's own errors (network, missing object)
            return Retry(
                f"email: reading {common.one_line(item.name, 120)} from storage: {type(exc).__name__}"
            )
        if data is None:
            linked.append((item, "the stored file is not the size the report recorded"))
            continue
        attached.append((item, data))
        room -= len(data)
    return Files(tuple(attached), tuple(linked))


async def _read(item: Media) -> bytes | None:
    """The file's bytes, or None when the store holds more or less than ``item.size``."""
    chunks: list[bytes] = []
    total = 0
    stream: AsyncIterator[bytes] = item.read()
    try:
        async for chunk in stream:
            total += len(chunk)
            if total > item.size:
                return None
            chunks.append(chunk)
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
    return b"".join(chunks) if total == item.size else None


def compose(letter: Letter) -> bytes:
    """The message as it goes on the wire (CRLF line ends, 7-bit clean: quoted-printable
    bodies, base64 files), so no relay has to convert it."""
    msg = EmailMessage(policy=email.policy.SMTP)
    local, _, domain = letter.sender.rpartition("@")
    msg["From"] = Address(display_name=SENDER_NAME, username=local, domain=domain)
    msg["To"] = letter.to
    msg["Subject"] = common.one_line(letter.subject, 300)  # one line: no header injection
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = letter.message_id
    if letter.in_reply_to:
        msg["In-Reply-To"] = letter.in_reply_to
        msg["References"] = letter.in_reply_to
    if letter.reply_to is not None:
        msg["Reply-To"] = letter.reply_to
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    msg["X-Bugline-Report"] = common.one_line(letter.report_id, 100)
    x_priority, importance = PRIORITIES.get(letter.severity, PRIORITIES["medium"])
    msg["X-Priority"] = x_priority
    msg["Importance"] = importance
    note = letter.files.linked
    msg.set_content(letter.text.rstrip("\n") + _note_text(note), cte="quoted-printable")
    msg.add_alternative(
        _html_page(letter.subject, letter.html + _note_html(note)), subtype="html", cte="quoted-printable"
    )
    for item, data in letter.files.attached:
        maintype, subtype = _content_type(item.content_type)
        msg.add_attachment(data, maintype, subtype, filename=common.one_line(item.name, 200) or "file")
    return msg.as_bytes()


def message_id_for(key: str, domain: str) -> str:
    """``<bugline.{key}@{domain}>``, the same for every attempt of one delivery. Keys that are
    not plain letters, digits, - and _ (or are long) are hashed to stay a valid msg-id."""
    token = key if _KEY.match(key) else sha256(key.encode()).hexdigest()[:32]
    return f"<bugline.{token}@{domain}>"


def _html_page(subject: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{escape(common.one_line(subject, 300))}</title></head>\n<body>\n{body}</body></html>\n"
    )


def _note_text(linked: tuple[tuple[Media, str], ...]) -> str:
    if not linked:
        return "\n"
    rows = "\n".join(f"- {_name(m)} ({common.human_size(m.size)}): {why}" for m, why in linked)
    return f"\n\nNot attached to this email (their links are under Attachments):\n{rows}\n"


def _note_html(linked: tuple[tuple[Media, str], ...]) -> str:
    if not linked:
        return ""
    rows = "".join(
        f"<li>{escape(_name(m))} ({common.human_size(m.size)}): {escape(why)}</li>" for m, why in linked
    )
    head = "<p><strong>Not attached to this email</strong> (their links are under Attachments):</p>"
    return f"{head}<ul>{rows}</ul>\n"


def _name(item: Media) -> str:
    return common.one_line(item.name, 120) or "file"


def _content_type(value: str) -> tuple[str, str]:
    """The sniffed type as (maintype, subtype); anything odd is application/octet-stream.
    multipart/* and message/* cannot be attached as bytes, so they are octet-streams too."""
    value = value.strip().lower()
    if not _CONTENT_TYPE.match(value) or value.startswith(("multipart/", "message/")):
        return "application", "octet-stream"
    maintype, _, subtype = value.partition("/")
    return maintype, subtype


def _detail(head: str, files: Files) -> str:
    parts = [head]
    if files.attached:
        parts.append(common.plural(len(files.attached), "file") + " attached")
    if files.linked:
        reasons = sorted({why for _, why in files.linked})
        parts.append(f"{common.plural(len(files.linked), 'file')} linked ({'; '.join(reasons)})")
    return "; ".join(parts)
