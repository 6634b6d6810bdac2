"""A notification as the bytes an SMTP server receives.

- ``multipart/alternative``: plain text first, HTML second (RFC 2046 5.1.4: the richer last),
  quoted-printable so the message is 7-bit clean for every relay.
- ``Message-ID: <bugline.n.{notification id}@{sender's domain}>`` (RFC 5322 3.6.4): the same
  on every attempt, so when an attempt's answer is lost after the server took the message,
  the retry is the same message again and mailboxes that de-duplicate keep one (SMTP cannot
  ask whether a message arrived).
- ``References: <bugline.r.{report id}@{domain}>``: every mail about one report names the same
  (never sent) root, so mail clients thread them as one conversation.
- ``Auto-Submitted: auto-generated`` (RFC 3834 section 5: sent because something happened,
  not in reply to a message) and ``X-Auto-Response-Suppress: OOF, AutoReply``
  ([MS-OXCMAIL] 2.2.3.2.20): the customer's out-of-office answers go nowhere, bounces still do.
- ``List-Unsubscribe: <https://…/u/{token}>`` with ``List-Unsubscribe-Post:
  List-Unsubscribe=One-Click`` (RFC 8058): mail providers show an unsubscribe button that
  POSTs to the link; the page unsubscribes on that POST without asking again. (RFC 8058
  section 4 also wants the two headers covered by a DKIM signature: that is the sending
  relay's job.)
- ``Content-Language`` (RFC 3282): the language chosen for the customer.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from bugline.mail.smtp import ADDRESS
from bugline.render import common

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Sender:
    """The From of customer notifications: ``BUGLINE_MAIL_FROM``, display name and address."""

    name: str
    address: str

    @classmethod
    def parse(cls, mail_from: str) -> Sender:
        """``Acme Support <support@acme.com>`` or a bare address; ValueError when the address
        is not a plain ASCII one (what MAIL FROM can carry without SMTPUTF8)."""
        name, address = parseaddr(mail_from)
        if not ADDRESS.match(address):
            raise ValueError(f"BUGLINE_MAIL_FROM {mail_from!r} has no plain address like support@example.com")
        return cls(common.one_line(name, 100), address)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()


@dataclass(frozen=True, slots=True)
class Mail:
    sender: Sender
    sender_name: str  # shown in From (the project's name when BUGLINE_MAIL_FROM names nobody)
    to: str
    to_name: str
    subject: str
    text: str
    html: str
    message_id: str
    thread: str  # the report's thread root
    unsubscribe: str  # the one-click unsubscribe URL ("" when there is none)
    locale: str
    reply_to: str = ""
    report_ref: str = ""


def message_id(notification_id: str, domain: str) -> str:
    return f"<bugline.n.{_token(notification_id)}@{domain}>"


def thread_id(report_id: str, domain: str) -> str:
    return f"<bugline.r.{_token(report_id)}@{domain}>"


def _token(value: str) -> str:
    return value if _ID.match(value) else hashlib.sha256(value.encode()).hexdigest()[:32]


def compose(mail: Mail) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    local, _, domain = mail.sender.address.rpartition("@")
    msg["From"] = Address(display_name=common.one_line(mail.sender_name, 100), username=local, domain=domain)
    to_local, _, to_domain = mail.to.rpartition("@")
    msg["To"] = Address(display_name=common.one_line(mail.to_name, 100), username=to_local, domain=to_domain)
    if mail.reply_to:
        reply_local, _, reply_domain = mail.reply_to.rpartition("@")
        msg["Reply-To"] = Address(username=reply_local, domain=reply_domain)
    msg["Subject"] = common.one_line(mail.subject, 300)  # one line: no header injection
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = mail.message_id
    msg["References"] = mail.thread
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    if mail.unsubscribe:
        msg["List-Unsubscribe"] = f"<{mail.unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if mail.report_ref:
        msg["X-Bugline-Report"] = common.one_line(mail.report_ref, 50)
    msg.set_content(mail.text, cte="quoted-printable")
    msg.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    # After the parts exist: making the message multipart moves Content-* headers into its
    # first part.
    msg["Content-Language"] = mail.locale
    return msg.as_bytes()
