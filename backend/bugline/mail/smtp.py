"""One SMTP conversation as configured, and what to do when it goes wrong.

Shared by the email connector (reports to a helpdesk's inbox) and customer notifications,
so both follow the same rules (../shared/specs/CONTRACTS.md section 7; the RFCs):

- Submission on port 587 with STARTTLS (RFC 6409, RFC 3207) or implicit TLS on 465
  (RFC 8314); certificates are always verified (``ca_file`` trusts a private CA).
  ``security=none`` is only for a relay on this machine (``is_local``): elsewhere the
  password and the mail would cross the network in clear.
- Reply codes: 4xx are transient, 5xx permanent (RFC 5321 section 4.2.1): 4xx, refused
  connections, dropped connections and timeouts -> ``Retry``; 5xx -> ``Failed``.

Everything here is blocking stdlib ``smtplib``: callers run it in a worker thread
(``anyio.to_thread``), and every step is bounded by ``Server.timeout``.
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bugline.connectors.base import Failed, Retry
from bugline.render import common

SUBMISSION_PORT = 587  # RFC 6409, with STARTTLS
IMPLICIT_TLS_PORT = 465  # RFC 8314
SECURITIES = ("starttls", "tls", "none")

# An ASCII address without display name, comments or quoting (RFC 5321 dot-atom local part):
# nothing a header could be broken with, and what smtplib can put in MAIL FROM / RCPT TO
# without SMTPUTF8. The domain is kept short enough for every Message-ID to fit the 200
# characters a ticket's remote id is stored in.
ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?=.{1,140}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


@dataclass(frozen=True, slots=True)
class Server:
    """Where and how to talk SMTP."""

    host: str
    port: int = 0  # 0: the security's standard port (587, or 465 for tls)
    security: str = "starttls"  # starttls | tls | none
    username: str = ""
    password: str = ""
    ca_file: str = ""  # PEM CAs to trust instead of the system's
    timeout: float = 30.0  # seconds per step
    helo: str = "localhost"  # the EHLO name: the sender's domain

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Server:
        """From the email connector's validated settings."""
        return cls(
            host=config["host"],
            port=int(config.get("port") or 0),
            security=config.get("security") or "starttls",
            username=config.get("username") or "",
            password=config.get("password") or "",
            ca_file=config.get("ca_file") or "",
            timeout=float(config.get("timeout") or 30),
            helo=str(config["from_address"]).rpartition("@")[2].lower(),
        )

    @property
    def effective_port(self) -> int:
        return self.port or (IMPLICIT_TLS_PORT if self.security == "tls" else SUBMISSION_PORT)


class Conversation:
    """One SMTP connection, and what to say when it goes wrong: ``stage`` is the step in
    progress, so a reason reads "email: timed out during STARTTLS with smtp.x:587"."""

    def __init__(self, server: Server, what: str = "email") -> None:
        self.server = server
        self.what = what
        self.security = server.security
        self.host = server.host
        self.port = server.effective_port
        self.timeout = server.timeout
        self.stage = "connecting"

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.server.ca_file or None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def open(self) -> smtplib.SMTP:
        """Connected, greeted, encrypted and logged in as configured."""
        # EHLO names the sender's domain: smtplib's default (socket.getfqdn) can stall on DNS
        # and tells the server this machine's internal name.
        if self.security == "tls":
            self.stage = "connecting with TLS"
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.server.helo,
                timeout=self.timeout,
                context=self.context(),
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, local_hostname=self.server.helo, timeout=self.timeout)
        try:
            self.stage = "EHLO"
            smtp.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                self.stage = "STARTTLS"
                smtp.starttls(context=self.context())  # raises unless the server answers 220
                self.stage = "EHLO after STARTTLS"
                smtp.ehlo_or_helo_if_needed()
            if self.server.username:
                self.stage = "login"
                smtp.login(self.server.username, self.server.password)
        except BaseException:
            close(smtp)
            raise
        return smtp

    def security_label(self, smtp: smtplib.SMTP) -> str:
        sock = getattr(smtp, "sock", None)
        version = sock.version() if isinstance(sock, ssl.SSLSocket) else None
        name = {"starttls": "STARTTLS", "tls": "implicit TLS", "none": "no TLS"}[self.security]
        return f"{name}, {version}" if version else name

    def outcome(self, exc: BaseException) -> Retry | Failed:
        """What to do after ``exc``: 4xx and network trouble retry, 5xx and configuration
        mistakes fail (a person has to act)."""
        during = f"{self.what}: {self.stage} with {self.where}"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            address, (code, answer) = next(iter(exc.recipients.items()), ("?", (0, b"")))
            return by_code(
                code, f"{during}: the server refused the recipient {address}: {code} {reply_text(answer)}"
            )
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            said = f"{exc.smtp_code} {reply_text(exc.smtp_error)}"
            if 400 <= exc.smtp_code < 500:
                return Retry(f"{during}: the login failed for now ({said})", status=exc.smtp_code)
            return Failed(
                f"{during}: the server refused the login of {self.server.username!r} ({said}); "
                "check username and password",
                status=exc.smtp_code,
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            return by_code(exc.smtp_code, f"{during}: {exc.smtp_code} {reply_text(exc.smtp_error)}")
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            hint = {
                "STARTTLS": "; the server does not offer STARTTLS: use security=tls on its TLS port",
                "login": "; the server offers no AUTH: leave username and password empty",
            }.get(self.stage, "")
            return Failed(f"{during}: {exc}{hint}")
        if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, TimeoutError):
            return Retry(f"{during}: timed out after {self.timeout:g} s")  # smtplib wraps read timeouts
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return Retry(f"{during}: the server closed the connection ({exc})"[:300])
        if isinstance(exc, smtplib.SMTPException):
            return Retry(f"{during}: {type(exc).__name__}: {exc}"[:300])
        if isinstance(exc, ssl.SSLCertVerificationError):
            return Failed(
                f"{during}: the server's certificate is not trusted ({exc.verify_message}); "
                "if it is signed by a private CA, set ca_file to that CA's PEM file"
            )
        if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return Retry(f"{during}: the connection was cut during TLS ({exc})"[:300])
        if isinstance(exc, ssl.SSLError):
            return Failed(
                f"{during}: TLS failed ({exc.reason or exc}); is security right for this port? "
                f"tls is TLS from the first byte (port {IMPLICIT_TLS_PORT}), starttls upgrades a plain "
                f"connection (port {SUBMISSION_PORT})"
            )
        if isinstance(exc, TimeoutError):
            return Retry(f"{during}: timed out after {self.timeout:g} s")
        if isinstance(exc, OSError):
            return Retry(f"{during}: {type(exc).__name__}: {exc}"[:300])
        raise exc  # not a conversation problem: a bug, which the caller's loop logs and retries


def send(
    server: Server, sender: str, recipients: Sequence[str], data: bytes, *, what: str = "email"
) -> Retry | Failed | None:
    """One message, one connection (blocking: call it in a thread); None once the server
    accepted the message."""
    talk = Conversation(server, what)
    try:
        smtp = talk.open()
        try:
            talk.stage = "sending the message"
            smtp.sendmail(sender, list(recipients), data)
        finally:
            close(smtp)
    except Exception as exc:  # every way a conversation ends early becomes Retry or Failed
        return talk.outcome(exc)
    return None


def by_code(code: int, reason: str) -> Retry | Failed:
    """RFC 5321 section 4.2.1: 4yz transient, 5yz permanent. Anything else (a server that
    answers nonsense) is treated as transient."""
    reason = reason[:300]
    if 500 <= code < 600:
        return Failed(reason, status=code)
    return Retry(reason, status=code or None)


def expect(reply: tuple[int, bytes], *codes: int) -> None:
    code, answer = reply
    if code not in codes:
        raise smtplib.SMTPResponseException(code, answer)


def size_limit(smtp: smtplib.SMTP) -> int:
    """The SIZE the server advertised in EHLO (RFC 1870), 0 for none or no limit."""
    value = smtp.esmtp_features.get("size", "").strip()
    return int(value) if value.isdigit() else 0


def close(smtp: smtplib.SMTP) -> None:
    """QUIT politely; a message already accepted stays sent whatever QUIT does."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def reply_text(answer: bytes | str) -> str:
    raw = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return common.one_line(raw, 200)


# ---- settings checks -------------------------------------------------------------------------


def ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_local(host: str) -> bool:
    """A relay on this machine: the only place ``security=none`` is allowed."""
    address = ip(host.strip("[]"))
    return host == "localhost" if address is None else address.is_loopback


def ca_problem(path: str) -> str:
    """Why ``path`` cannot be used as the CA file, or ""."""
    try:
        context = ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        return "no such file"
    except (OSError, ssl.SSLError) as exc:
        return f"cannot be read as PEM CA certificates ({type(exc).__name__})"
    if not context.cert_store_stats()["x509"]:
        return "holds no certificate"
    return ""
