"""The email connector against a real SMTP server on loopback (tests/support/smtp.py): what
a helpdesk's inbound address receives, threading, TLS and AUTH, and every SMTP failure
mapped to what the outbox should do."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator, Iterator
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from bugline.connectors import registry
from bugline.connectors.base import Attempt, Delivered, Failed, InvalidSettings, Retry, Target, Ticket, mask
from bugline.connectors.document import Media, Reporter
from bugline.connectors.email import EmailConnector, message_id_for
from bugline.render import common
from tests.connectors.factory import LOG, PNG, hostile, make_document, make_media, make_update, reader
from tests.support.ports import refusing_port
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.anyio

SENDER = "bugline@shop.example"
HELPDESK = "support@acme.example"
LOGIN = ("bugline", "correct-horse-battery")


def settings(smtp: SmtpServer, **overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "to": HELPDESK,
        "from_address": SENDER,
        "host": smtp.host,
        "port": smtp.port,
        "security": smtp.security,
        "timeout": 5,
    }
    if smtp.security != "none":
        raw["ca_file"] = smtp.ca_file
    if smtp.auth is not None:
        raw["username"], raw["password"] = smtp.auth
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not None}


def connector(smtp: SmtpServer, http: httpx.AsyncClient, **overrides: Any) -> EmailConnector:
    return EmailConnector(EmailConnector.validate(settings(smtp, **overrides)), http)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


# ---- what arrives -----------------------------------------------------------------------------


async def test_report_arrives_as_multipart_with_the_facts_headers_and_files(
    smtp: SmtpServer, http: httpx.AsyncClient
) -> None:
    doc = make_document()
    result = await connector(smtp, http).deliver(doc, Target(), Attempt("k1"))

    assert isinstance(result, Delivered)
    message_id = f"<bugline.k1@{SENDER.split('@')[1]}>"
    assert result.ticket == Ticket(
        remote_id=message_id,
        url="",
        data={"message_id": message_id, "subject": common.title(doc), "to": HELPDESK},
    )
    [mail] = smtp.messages
    assert mail.mail_from == SENDER and mail.rcpt_tos == (HELPDESK,)
    m = mail.message
    assert m["Subject"] == "[High] Pay button does nothing (#42)" == common.title(doc)
    assert m["From"] == f"Bugline <{SENDER}>" and m["To"] == HELPDESK
    assert m["Message-ID"] == message_id
    assert m["Auto-Submitted"] == "auto-generated"  # RFC 3834: autoresponders stay quiet
    assert m["X-Bugline-Report"] == doc.report_id
    assert (m["X-Priority"], m["Importance"]) == ("1 (Highest)", "high")
    assert m["Reply-To"] is None and m["In-Reply-To"] is None
    assert parsedate_to_datetime(str(m["Date"])).tzinfo is not None
    assert m.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in m.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "image/png",
        "text/plain",
    ]

    body = mail.text()
    for fact in doc.facts:
        if fact.value:
            assert fact.value.splitlines()[0] in body
    assert "+ mentions payment failure" in body and "3 reports from 2 people in 1 account" in body
    assert "TypeError: Cannot read properties of undefined" in body
    assert "POST https://shop.example.com/api/checkout" in body
    assert doc.link in body and "Chrome 131.0" in body
    page = mail.html()
    assert "<h3>What happened</h3>" in page and f'href="{doc.link}"' in page
    assert "<title>[High] Pay button does nothing (#42)</title>" in page

    assert mail.attachments() == [("checkout.png", "image/png", PNG), ("console.log", "text/plain", LOG)]
    assert "Not attached" not in body
    assert result.detail.endswith("2 files attached")


@pytest.mark.parametrize(
    ("severity", "x_priority", "importance"),
    [
        ("critical", "1 (Highest)", "high"),
        ("high", "1 (Highest)", "high"),
        ("medium", "3 (Normal)", "normal"),
        ("low", "5 (Lowest)", "low"),
    ],
)
async def test_severity_becomes_x_priority_and_importance(
    smtp: SmtpServer, http: httpx.AsyncClient, severity: str, x_priority: str, importance: str
) -> None:
    doc = make_document(severity=severity)
    assert isinstance(await connector(smtp, http).deliver(doc, Target(), Attempt("k")), Delivered)
    [mail] = smtp.messages
    assert (mail.message["X-Priority"], mail.message["Importance"]) == (x_priority, importance)
    assert mail.message["Subject"].startswith(f"[{severity.title()}] ")


async def test_retries_of_one_delivery_carry_the_same_message_id(
    smtp: SmtpServer, http: httpx.AsyncClient
) -> None:
    c = connector(smtp, http)
    first = await c.deliver(make_document(), Target(), Attempt("d-1"))
    again = await c.deliver(make_document(), Target(), Attempt("d-1", number=2))
    other = await c.deliver(make_document(), Target(), Attempt("d-2"))
    assert isinstance(first, Delivered) and isinstance(again, Delivered) and isinstance(other, Delivered)
    ids = [str(m.message["Message-ID"]) for m in smtp.messages]
    assert (
        ids[0] == ids[1] == first.ticket.remote_id == again.ticket.remote_id == "<bugline.d-1@shop.example>"
    )
    assert ids[2] == "<bugline.d-2@shop.example>"


def test_message_ids_are_valid_for_any_key() -> None:
    odd = message_id_for("a:b/c d<e>", "shop.example")
    assert odd == message_id_for("a:b/c d<e>", "shop.example")  # stable: hashed, not random
    assert odd.startswith("<bugline.") and odd.endswith("@shop.example>")
    assert all(ch.isalnum() or ch in "<>.@-_" for ch in odd)
    assert message_id_for("0f6c1a527d1e4c479a512b8e3c4d5e6f", "x.example") == (
        "<bugline.0f6c1a527d1e4c479a512b8e3c4d5e6f@x.example>"
    )


async def test_a_duplicate_is_a_reply_in_the_same_thread(smtp: SmtpServer, http: httpx.AsyncClient) -> None:
    c = connector(smtp, http)
    created = await c.deliver(make_document(), Target(), Attempt("t-1"))
    assert isinstance(created, Delivered)
    change = make_update()
    replied = await c.update(created.ticket, change, Attempt("u-1"))

    assert isinstance(replied, Delivered) and replied.ticket == created.ticket
    original, reply = smtp.messages
    assert reply.rcpt_tos == (HELPDESK,)
    assert reply.message["In-Reply-To"] == original.message["Message-ID"]
    assert reply.message["References"] == original.message["Message-ID"]
    assert reply.message["Message-ID"] == "<bugline.u-1@shop.example>"
    assert reply.message["Subject"] == "Re: " + original.message["Subject"]
    assert reply.message["Auto-Submitted"] == "auto-generated"
    assert change.note in reply.text() and "#57" in reply.text()
    assert "3 reports" not in reply.text() and "4 reports from 3 people in 2 accounts" in reply.text()
    assert "<p>Another customer reported this problem (#57)" in reply.html()
    assert reply.attachments() == [("pay-button.png", "image/png", PNG)]


async def test_a_route_may_send_elsewhere_and_the_replies_follow(
    smtp: SmtpServer, http: httpx.AsyncClient
) -> None:
    c = connector(smtp, http)
    created = await c.deliver(make_document(), Target(options={"to": "billing@acme.example"}), Attempt("r"))
    assert isinstance(created, Delivered)
    assert isinstance(await c.update(created.ticket, make_update(), Attempt("r-u")), Delivered)
    assert [m.rcpt_tos for m in smtp.messages] == [("billing@acme.example",), ("billing@acme.example",)]


async def test_reply_to_is_the_reporter_only_when_asked(smtp: SmtpServer, http: httpx.AsyncClient) -> None:
    assert isinstance(await connector(smtp, http).deliver(make_document(), Target(), Attempt("a")), Delivered)
    c = connector(smtp, http, reply_to_reporter=True)
    assert isinstance(await c.deliver(make_document(), Target(), Attempt("b")), Delivered)
    no_email = make_document(reporter=Reporter(name="Anon"))
    assert isinstance(await c.deliver(no_email, Target(), Attempt("c")), Delivered)
    assert [m.message["Reply-To"] for m in smtp.messages] == [None, "Dana Smith <dana@acme.example>", None]


# ---- files ------------------------------------------------------------------------------------


async def test_files_beyond_the_cap_are_linked_and_the_message_says_so(
    smtp: SmtpServer, http: httpx.AsyncClient
) -> None:
    doc = make_document()  # checkout.png (73 bytes), then console.log (267 bytes)
    c = connector(smtp, http, max_attachment_bytes=len(PNG) + 100)
    result = await c.deliver(doc, Target(), Attempt("cap"))

    assert isinstance(result, Delivered)
    [mail] = smtp.messages
    assert mail.attachments() == [("checkout.png", "image/png", PNG)]
    body = mail.text()
    assert "Not attached to this email" in body
    assert "console.log (267 B): over the 173 B this connection attaches per message" in body
    assert doc.media[1].url in body  # the link the report lists is still there
    assert "<strong>Not attached to this email</strong>" in mail.html()
    assert "1 file attached" in result.detail and "1 file linked" in result.detail


async def test_a_cap_of_zero_links_every_file(smtp: SmtpServer, http: httpx.AsyncClient) -> None:
    result = await connector(smtp, http, max_attachment_bytes=0).deliver(
        make_document(), Target(), Attempt("z")
    )
    assert isinstance(result, Delivered)
    [mail] = smtp.messages
    assert mail.attachments() == [] and mail.message.get_content_type() == "multipart/alternative"
    assert "checkout.png (73 B)" in mail.text() and "console.log (267 B)" in mail.text()


async def test_a_message_over_the_servers_size_limit_goes_with_links_instead(http: httpx.AsyncClient) -> None:
    big = make_media("recording.webm", b"\x1a\x45\xdf\xa3" * 50_000, "video/webm", "recording")
    with SmtpServer(size_limit=150_000) as smtp:  # EHLO advertises SIZE 150000 (RFC 1870)
        result = await connector(smtp, http).deliver(make_document(media=(big,)), Target(), Attempt("s"))
        assert isinstance(result, Delivered)
        [mail] = smtp.messages
        assert mail.attachments() == []
        assert "recording.webm (200.0 KB): the mail server takes messages up to 150.0 KB" in mail.text()


async def test_file_types_are_kept_and_odd_ones_become_octet_streams(
    smtp: SmtpServer, http: httpx.AsyncClient
) -> None:
    media = (
        make_media("trace.json", b'{"a": 1}', "application/json", "file"),
        make_media("notes.txt", "naïve — ünïcode\n".encode(), "text/plain", "file"),
        make_media("weird.bin", b"\x00\x01", "text/plain\r\nX-Injected: 1", "file"),
        make_media("nested.eml", b"Subject: x\r\n\r\nhi\r\n", "message/rfc822", "file"),
        make_media("résumé 2025.pdf", b"%PDF-1.4\n", "application/pdf", "file"),
    )
    result = await connector(smtp, http).deliver(make_document(media=media), Target(), Attempt("t"))
    assert isinstance(result, Delivered)
    [mail] = smtp.messages
    assert mail.attachments() == [
        ("trace.json", "application/json", b'{"a": 1}'),
        ("notes.txt", "text/plain", "naïve — ünïcode\n".encode()),
        ("weird.bin", "application/octet-stream", b"\x00\x01"),
        ("nested.eml", "application/octet-stream", b"Subject: x\r\n\r\nhi\r\n"),
        ("résumé 2025.pdf", "application/pdf", b"%PDF-1.4\n"),
    ]
    assert mail.message["X-Injected"] is None


async def test_a_store_that_cannot_read_a_file_means_retry(smtp: SmtpServer, http: httpx.AsyncClient) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"\x89PNG"
        raise ConnectionResetError("store went away")

    media = Media("a.png", "image/png", 100, "screenshot", "https://media.example.com/a.png", broken)
    result = await connector(smtp, http).deliver(make_document(media=(media,)), Target(), Attempt("m"))
    assert isinstance(result, Retry) and "a.png" in result.reason
    assert smtp.messages == []


async def test_a_stored_file_of_the_wrong_size_is_linked(smtp: SmtpServer, http: httpx.AsyncClient) -> None:
    short = dataclasses.replace(make_media("short.png"), size=len(PNG) + 5)
    long = dataclasses.replace(make_media("long.png"), size=len(PNG) - 5, read=reader(PNG, chunk=8))
    result = await connector(smtp, http).deliver(make_document(media=(short, long)), Target(), Attempt("w"))
    assert isinstance(result, Delivered)
    [mail] = smtp.messages
    assert mail.attachments() == []
    assert mail.text().count("the stored file is not the size the report recorded") == 2


# ---- TLS and AUTH -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "label"),
    [
        ({"security": "starttls", "auth": LOGIN}, "STARTTLS"),
        ({"security": "starttls", "auth": LOGIN, "mechanisms": ("LOGIN",)}, "STARTTLS"),
        ({"security": "tls", "auth": LOGIN}, "implicit TLS"),
        ({"security": "tls"}, "implicit TLS"),
        ({"security": "none"}, "no TLS"),
        ({"security": "none", "auth": LOGIN}, "no TLS"),  # a relay on this machine
    ],
)
async def test_tls_and_login_as_configured(
    server: dict[str, Any], label: str, http: httpx.AsyncClient
) -> None:
    with SmtpServer(**server) as smtp:
        c = connector(smtp, http)
        checked = await c.check()
        assert isinstance(checked, Delivered), checked
        assert f"({label}" in checked.detail and f"to {HELPDESK}" in checked.detail
        result = await c.deliver(make_document(), Target(), Attempt("tls"))
        assert isinstance(result, Delivered), result
        [mail] = smtp.messages
        assert mail.secure is (server["security"] != "none")
        assert mail.login == (LOGIN[0] if "auth" in server else None)
        assert mail.attachments()[0] == ("checkout.png", "image/png", PNG)


async def test_check_sends_nothing(http: httpx.AsyncClient) -> None:
    with SmtpServer(security="starttls", auth=LOGIN) as smtp:
        result = await connector(smtp, http).check()
        assert isinstance(result, Delivered)
        assert "logged in as bugline" in result.detail and "STARTTLS, TLSv1." in result.detail
        assert smtp.messages == [] and smtp.attempts == ["login ok (PLAIN)"]


# ---- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "at", "expected"),
    [
        (451, "data", Retry),
        (452, "data", Retry),
        (421, "data", Retry),
        (550, "data", Failed),
        (554, "data", Failed),
        (450, "rcpt", Retry),
        (550, "rcpt", Failed),
    ],
)
async def test_smtp_replies_map_4xx_to_retry_and_5xx_to_failed(
    smtp: SmtpServer, http: httpx.AsyncClient, code: int, at: str, expected: type
) -> None:
    smtp.fail_next(code, at=at)  # type: ignore[arg-type]
    result = await connector(smtp, http).deliver(make_document(), Target(), Attempt("f"))
    assert isinstance(result, expected), result
    assert isinstance(result, Retry | Failed) and result.status == code and str(code) in result.reason
    assert smtp.messages == []


async def test_after_a_451_the_retry_delivers_with_the_same_message_id(
    smtp: SmtpServer, http: httpx.AsyncClient
) -> None:
    c = connector(smtp, http)
    smtp.fail_next(451)
    assert isinstance(await c.deliver(make_document(), Target(), Attempt("again")), Retry)
    result = await c.deliver(make_document(), Target(), Attempt("again", number=2))
    assert isinstance(result, Delivered)
    [mail] = smtp.messages
    assert mail.message["Message-ID"] == result.ticket.remote_id == "<bugline.again@shop.example>"


@pytest.mark.parametrize("operation", ["deliver", "check"])
async def test_wrong_password_fails_with_a_clear_reason(operation: str, http: httpx.AsyncClient) -> None:
    with SmtpServer(security="starttls", auth=LOGIN) as smtp:
        c = connector(smtp, http, password="not-the-password")
        result = await (
            c.check() if operation == "check" else c.deliver(make_document(), Target(), Attempt("p"))
        )
        assert isinstance(result, Failed) and result.status == 535
        assert (
            "refused the login of 'bugline'" in result.reason
            and "check username and password" in result.reason
        )
        assert "not-the-password" not in result.reason
        assert smtp.messages == []


async def test_server_down_means_retry(http: httpx.AsyncClient) -> None:
    with SmtpServer() as smtp:
        pass  # its settings, on a port that refuses connections
    with refusing_port() as down:
        smtp.port = down
        c = connector(smtp, http)
        result = await c.deliver(make_document(), Target(), Attempt("down"))
        assert isinstance(result, Retry) and "ConnectionRefusedError" in result.reason
        assert isinstance(await c.check(), Retry)


async def test_a_server_that_never_greets_times_out_into_retry(http: httpx.AsyncClient) -> None:
    with socket.socket() as silent:  # the kernel accepts connections; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        raw = {"to": HELPDESK, "from_address": SENDER, "host": "127.0.0.1", "security": "none"}
        c = EmailConnector(
            EmailConnector.validate({**raw, "port": silent.getsockname()[1], "timeout": 1}), http
        )
        result = await c.deliver(make_document(), Target(), Attempt("slow"))
    assert isinstance(result, Retry) and "timed out after 1 s" in result.reason


async def test_an_untrusted_certificate_fails_and_names_ca_file(http: httpx.AsyncClient) -> None:
    for security in ("starttls", "tls"):
        with SmtpServer(security=security) as smtp:
            result = await connector(smtp, http, ca_file=None).deliver(
                make_document(), Target(), Attempt("c")
            )
            assert isinstance(result, Failed) and "certificate is not trusted" in result.reason
            assert "ca_file" in result.reason and smtp.messages == []


@pytest.mark.parametrize(
    ("server", "client", "says"),
    [
        ("none", "starttls", "does not offer STARTTLS"),  # never falls back to plain text
        ("starttls", "tls", "is security right for this port?"),
    ],
)
async def test_the_wrong_security_mode_fails_and_says_so(
    server: str, client: str, says: str, http: httpx.AsyncClient
) -> None:
    with SmtpServer(security=server) as smtp:  # type: ignore[arg-type]
        raw = settings(smtp, security=client, ca_file=smtp.ca_file or None)
        result = await EmailConnector(EmailConnector.validate(raw), http).deliver(
            make_document(), Target(), Attempt("m")
        )
        assert isinstance(result, Failed) and says in result.reason
        assert smtp.messages == []


async def test_check_fails_when_the_server_refuses_the_recipient(
    smtp: SmtpServer, http: httpx.AsyncClient
) -> None:
    smtp.fail_next(550, at="rcpt")
    result = await connector(smtp, http).check()
    assert (
        isinstance(result, Failed)
        and result.status == 550
        and "RCPT TO:<support@acme.example>" in result.reason
    )


@pytest.mark.parametrize(("security", "port"), [("tls", 465), ("starttls", 587)])
async def test_the_port_defaults_to_the_securitys_own(
    security: str, port: int, http: httpx.AsyncClient
) -> None:
    raw = {"to": HELPDESK, "from_address": SENDER, "host": "127.0.0.1", "security": security, "timeout": 2}
    result = await EmailConnector(EmailConnector.validate(raw), http).check()
    # Nothing this test trusts listens there: the reason names where the connector went.
    assert isinstance(result, Retry | Failed) and f"127.0.0.1:{port}" in result.reason


# ---- hostile input ----------------------------------------------------------------------------

HEADERS = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "X-Bugline-Report",
    "X-Priority",
    "Importance",
    "MIME-Version",
    "Content-Type",
}
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "body",
    "h3",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "code",
    "pre",
    "a",
    "br",
}


class Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend(attrs)


async def test_a_hostile_report_cannot_add_headers_recipients_or_markup(
    smtp: SmtpServer, http: httpx.AsyncClient
) -> None:
    injected = "Hi\r\nBcc: victim@evil.example\r\nX-Injected: yes\n\n<script>alert(1)</script>"
    doc = hostile(
        title=injected,
        reporter=Reporter(name=injected, email="dana@acme.example\r\nBcc: victim@evil.example"),
        report_id="r1\r\nX-Injected: yes",
    )
    result = await connector(smtp, http, reply_to_reporter=True).deliver(doc, Target(), Attempt("h"))

    assert isinstance(result, Delivered)
    [mail] = smtp.messages
    assert mail.rcpt_tos == (HELPDESK,)
    assert set(mail.message.keys()) == HEADERS  # no Bcc, no X-Injected, no Reply-To from a bad address
    assert mail.message["Subject"] == common.title(doc)
    assert "\n" not in str(mail.message["Subject"]) and "\r" not in str(mail.message["Subject"])
    assert mail.message["X-Bugline-Report"] == "r1 X-Injected: yes"
    head = mail.data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\r\nX-Injected:" not in head

    page = mail.html()
    markup = Markup()
    markup.feed(page)
    assert markup.tags <= ALLOWED_TAGS
    assert not [name for name, _ in markup.attributes if name.startswith("on")]
    hrefs = [value or "" for name, value in markup.attributes if name == "href"]
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    assert "<script" not in page and "&lt;script&gt;" in page


async def test_a_hostile_route_address_sends_nothing(smtp: SmtpServer, http: httpx.AsyncClient) -> None:
    c = connector(smtp, http)
    for to in (
        "x@acme.example\r\nBcc: victim@evil.example",
        "a@acme.example, b@evil.example",
        "Eve <e@evil.example>",
    ):
        result = await c.deliver(make_document(), Target(options={"to": to}), Attempt("to"))
        assert isinstance(result, Failed) and "not a plain email address" in result.reason
    assert smtp.messages == []


async def test_a_reply_to_a_ticket_without_a_message_id_fails(
    smtp: SmtpServer, http: httpx.AsyncClient
) -> None:
    bad = Ticket(remote_id="x\r\nBcc: victim@evil.example", data={})
    result = await connector(smtp, http).update(bad, make_update(), Attempt("u"))
    assert isinstance(result, Failed) and smtp.messages == []


# ---- settings ---------------------------------------------------------------------------------


def test_registered_as_email() -> None:
    assert registry.get("email") is EmailConnector
    assert EmailConnector.uploads_files and EmailConnector.title == "Email"


def test_password_is_masked() -> None:
    config = EmailConnector.validate(
        {
            "to": HELPDESK,
            "from_address": SENDER,
            "host": "smtp.example.com",
            "username": "u",
            "password": "p" * 16 + "f00d",
        }
    )
    shown = mask(EmailConnector.settings, config)
    assert shown["password"] == "…f00d" and shown["username"] == "u" and shown["host"] == "smtp.example.com"
    assert "p" * 16 not in str(shown)


def test_defaults_and_validating_twice_changes_nothing() -> None:
    config = EmailConnector.validate({"to": HELPDESK, "from_address": SENDER, "host": "SMTP.Example.com"})
    assert config == {
        "to": HELPDESK,
        "from_address": SENDER,
        "host": "smtp.example.com",
        "security": "starttls",
        "max_attachment_bytes": 10_000_000,
        "reply_to_reporter": False,
        "timeout": 30,
    }
    assert EmailConnector.validate(config) == config  # the outbox validates the stored settings again


NOT_PEM = str(Path(__file__))


@pytest.mark.parametrize(
    ("overrides", "keys"),
    [
        ({"to": None}, {"to"}),
        ({"to": "Support <support@acme.example>"}, {"to"}),
        ({"to": "a@b.example,c@d.example"}, {"to"}),
        ({"from_address": "not-an-address"}, {"from_address"}),
        ({"from_address": "x@" + "a" * 150 + ".example"}, {"from_address"}),
        ({"host": "smtp://smtp.example.com"}, {"host"}),
        ({"host": "smtp.example.com:587"}, {"host"}),
        ({"port": 70000}, {"port"}),
        ({"port": "587a"}, {"port"}),
        ({"security": "ssl"}, {"security"}),
        ({"security": "none"}, {"security"}),  # smtp.example.com is not this machine
        ({"username": "u"}, {"password"}),
        ({"password": "secret-password"}, {"username"}),
        ({"username": "u", "password": "pässword"}, {"password"}),
        ({"ca_file": "/nonexistent/ca.pem"}, {"ca_file"}),
        ({"ca_file": NOT_PEM}, {"ca_file"}),
        ({"max_attachment_bytes": -1}, {"max_attachment_bytes"}),
        ({"max_attachment_bytes": 10**9}, {"max_attachment_bytes"}),
        ({"timeout": 0}, {"timeout"}),
        ({"reply_to_reporter": "maybe"}, {"reply_to_reporter"}),
        ({"tls": "yes"}, {"tls"}),
        ({"to": "nope", "port": 0, "security": "none"}, {"to", "port", "security"}),
    ],
)
def test_invalid_settings_name_the_keys(overrides: dict[str, Any], keys: set[str]) -> None:
    raw = {"to": HELPDESK, "from_address": SENDER, "host": "smtp.example.com", **overrides}
    with pytest.raises(InvalidSettings) as err:
        EmailConnector.validate({k: v for k, v in raw.items() if v is not None})
    assert set(err.value.errors) == keys


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1", "[::1]", "127.0.0.53"])
def test_no_tls_is_allowed_for_this_machine(host: str) -> None:
    config = EmailConnector.validate(
        {"to": HELPDESK, "from_address": SENDER, "host": host, "security": "none"}
    )
    assert config["security"] == "none"
