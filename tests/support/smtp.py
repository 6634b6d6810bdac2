"""A real SMTP server on loopback for tests: aiosmtpd's Controller in a background thread.

    from tests.support.smtp import SmtpServer

    with SmtpServer() as smtp:                          # plain SMTP on 127.0.0.1:<free port>
        send_something(smtp.host, smtp.port)
        [mail] = smtp.messages                          # every accepted message, in order
        mail.mail_from, mail.rcpt_tos, mail.data        # the envelope and the raw bytes
        mail.message["Subject"], mail.text(), mail.html(), mail.attachments()

    with SmtpServer(security="starttls", auth=("bugline", "s3cret")) as smtp:
        smtp.ca_file        # PEM of the server's self-signed certificate: the client trusts it
        ...                 # MAIL before STARTTLS is refused (530), AUTH is required (LOGIN, PLAIN)
    with SmtpServer(security="tls") as smtp: ...        # implicit TLS (SMTPS, RFC 8314)

    smtp.fail_next(451)                 # the next message's DATA is answered 451 (transient)
    smtp.fail_next(550, at="rcpt")      # ... or its RCPT TO answered 550 (permanent)
    smtp.wait(2, timeout=5)             # block until two messages have arrived

Options: ``security`` none | starttls | tls; ``auth`` (login, password) makes AUTH required;
``mechanisms`` the AUTH mechanisms offered (LOGIN and PLAIN by default); ``size_limit`` the
SIZE advertised in EHLO (bigger messages are refused with 552, as RFC 1870 says).

The certificate (CN localhost, SANs DNS:localhost and IP:127.0.0.1, valid for two days) is
made once per test process with ``openssl req`` (Debian ships openssl; the ``cryptography``
package is not a dependency of the project). A missing openssl fails the test, never skips it.
"""

from __future__ import annotations

import atexit
import email.policy
import functools
import shutil
import ssl
import subprocess
import tempfile
import threading
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.ports import free_port

Security = Literal["none", "starttls", "tls"]
Stage = Literal["rcpt", "data"]

HOST = "127.0.0.1"
SERVER_NAME = "smtp.test"  # the name the server gives in its greeting and EHLO answer
DEFAULT_SIZE_LIMIT = 32 * 1024 * 1024  # aiosmtpd's own default

_FAULT_TEXT = {4: "4.3.0 Try again later (scripted)", 5: "5.7.1 Refused (scripted)"}


@dataclass(frozen=True)
class Received:
    """One accepted message: its envelope, the raw bytes as sent, and how it came in."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    secure: bool  # the session was encrypted (STARTTLS or implicit TLS)
    login: str | None  # the user that authenticated, None without AUTH
    message: EmailMessage = field(repr=False)

    def headers(self, name: str) -> list[str]:
        return [str(v) for v in self.message.get_all(name, [])]

    def text(self) -> str:
        """The text/plain body (the plain alternative of a multipart message)."""
        return self._body("plain")

    def html(self) -> str:
        """The text/html body, "" when there is none."""
        return self._body("html")

    def attachments(self) -> list[tuple[str, str, bytes]]:
        """(file name, content type, bytes) of every attachment, in order."""
        out: list[tuple[str, str, bytes]] = []
        for part in self.message.iter_attachments():
            assert isinstance(part, EmailMessage)
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out.append((part.get_filename() or "", part.get_content_type(), payload))
        return out

    def _body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return ""
        content = part.get_content()
        assert isinstance(content, str)
        return content


class SmtpServer:
    """See the module docstring. Start with ``with`` (or ``start()``/``stop()``)."""

    def __init__(
        self,
        *,
        security: Security = "none",
        auth: tuple[str, str] | None = None,
        mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
        size_limit: int = DEFAULT_SIZE_LIMIT,
    ) -> None:
        self.host = HOST
        self.port = free_port()
        self.security = security
        self.auth = auth
        self.messages: list[Received] = []
        self.attempts: list[str] = []  # "login ok" / "login refused" / "fault 451 at data" ...
        self._faults: deque[tuple[int, Stage]] = deque()
        self._arrived = threading.Condition()
        self.ca_file = certificate()[0] if security != "none" else ""
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": self.port,
            "server_hostname": SERVER_NAME,
            "data_size_limit": size_limit,
            "ident": "Bugline test SMTP",
        }
        if security != "none":
            kwargs["ssl_context" if security == "tls" else "tls_context"] = _server_context()
        if security == "starttls":
            kwargs["require_starttls"] = True  # MAIL before STARTTLS is refused with 530
        if auth is not None:
            kwargs["authenticator"] = self._authenticate
            # aiosmtpd only counts STARTTLS as TLS; an implicit-TLS session is encrypted from
            # the first byte, so AUTH is allowed there too, and plain sessions may AUTH as well
            # (a local relay, which the security="none" tests need). AUTH is then required by
            # handle_MAIL below: aiosmtpd's own auth_required warns without auth_require_tls.
            kwargs["auth_require_tls"] = security == "starttls"
            kwargs["auth_exclude_mechanism"] = [m for m in ("LOGIN", "PLAIN") if m not in mechanisms]
        self._controller = Controller(_Handler(self), **kwargs)

    # ---- control ---------------------------------------------------------------------------

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, code: int, at: Stage = "data") -> None:
        """Answer the next message's RCPT TO or DATA with ``code`` (451: try again; 550: refused).
        Several calls queue several faults, one per message."""
        self._faults.append((code, at))

    def wait(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until at least ``count`` messages have arrived; AssertionError after ``timeout``."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} of {count} messages arrived in {timeout} s")
            return list(self.messages)

    # ---- what the handler calls (in the server's thread) -----------------------------------

    def _fault(self, stage: Stage) -> str | None:
        if self._faults and self._faults[0][1] == stage:
            code, _ = self._faults.popleft()
            self.attempts.append(f"fault {code} at {stage}")
            return f"{code} {_FAULT_TEXT.get(code // 100, 'scripted')}"
        return None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert self.auth is not None
        ok = (
            isinstance(data, LoginPassword)
            and data.login == self.auth[0].encode()
            and data.password == self.auth[1].encode()
        )
        self.attempts.append(f"login {'ok' if ok else 'refused'} ({mechanism})")
        return AuthResult(success=ok, handled=False, auth_data=self.auth[0] if ok else None)

    def _store(self, session: Session, envelope: Envelope) -> None:
        raw = envelope.original_content or b""
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        received = Received(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=raw,
            secure=session.ssl is not None or self.security == "tls",
            login=session.auth_data if session.authenticated else None,
            message=message,
        )
        with self._arrived:
            self.messages.append(received)
            self._arrived.notify_all()


class _Handler:
    """aiosmtpd handler hooks: AUTH required when configured, scripted faults, then store."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.server.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        fault = self.server._fault("rcpt")
        if fault:
            return fault
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = self.server._fault("data")
        if fault:
            return fault
        self.server._store(session, envelope)
        return "250 2.0.0 Message accepted for delivery"


# ---- the self-signed certificate -------------------------------------------------------------


@functools.cache
def certificate() -> tuple[str, str]:
    """(certificate PEM path, key PEM path), made once per process in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="bugline-smtp-tls-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError(
            "openssl is needed to make the test SMTP server's certificate (apt install openssl)"
        )
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return str(cert), str(key)


def _server_context() -> ssl.SSLContext:
    cert, key = certificate()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
