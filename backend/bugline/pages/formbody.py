"""Reading a page's form POST: capped in bytes and fields, decoded to plain text fields.

Browsers send ``application/x-www-form-urlencoded`` for our forms; mail clients sending an
RFC 8058 one-click unsubscribe SHOULD send ``multipart/form-data`` (RFC 8058 section 3.1,
https://www.rfc-editor.org/rfc/rfc8058#section-3.1), so both are read. Files are not
accepted and are skipped. The body is read through ``routes.edge.read_body``, which stops
at the cap whether or not a Content-Length was sent.
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from urllib.parse import parse_qsl

from starlette.requests import Request

from bugline.errors import ApiError
from bugline.pages.language import ENGLISH
from bugline.routes.edge import read_body

MAX_FIELDS = 40
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# Control characters other than tab and newline have no place in a customer's answer, and
# PostgreSQL refuses NUL in text outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class FormError(Exception):
    """A body we cannot read: ``key`` names the sentence in pages/words/ (the customer's page
    says it in their language), ``message`` is the English one (the dashboard's)."""

    def __init__(self, status: int, key: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.key = key
        self.message = ENGLISH(key)
        self.headers = headers or {}
        super().__init__(self.message)


def clean(value: str) -> str:
    """Line endings to ``\\n``, control characters out, outer whitespace trimmed."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


async def read_form(request: Request, limit: int) -> dict[str, str]:
    """The form's fields (the first value of each name), or FormError."""
    fields: dict[str, str] = {}
    for name, value in await read_pairs(request, limit):
        fields.setdefault(name, value)
    return fields


async def read_pairs(request: Request, limit: int, max_fields: int = MAX_FIELDS) -> list[tuple[str, str]]:
    """Every (name, value) of the form in order, repeated names kept, or FormError."""
    ctype = request.headers.get("content-type", "")
    kind = ctype.split(";", 1)[0].strip().lower()
    if kind not in (URLENCODED, MULTIPART):
        raise FormError(415, "form_not_ours")
    try:
        body = await read_body(request, limit)
    except ApiError as exc:
        if exc.status == 413:
            raise FormError(413, "form_too_long") from None
        raise FormError(exc.status, "form_unreadable") from None
    return _urlencoded(body, max_fields) if kind == URLENCODED else _multipart(ctype, body, max_fields)


def _urlencoded(body: bytes, max_fields: int) -> list[tuple[str, str]]:
    try:
        text = body.decode("ascii")  # percent-encoded: anything else is not from a browser form
        return parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=max_fields
        )
    except (UnicodeDecodeError, ValueError):
        raise FormError(400, "form_unreadable") from None


def _multipart(ctype: str, body: bytes, max_fields: int) -> list[tuple[str, str]]:
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise FormError(400, "form_unreadable")
    pairs: list[tuple[str, str]] = []
    for part in message.iter_parts():
        if len(pairs) >= max_fields:
            raise FormError(400, "form_too_many_fields")
        if not isinstance(part, EmailMessage):
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename() is not None:
            continue  # no files here
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        try:
            pairs.append((name, payload.decode(part.get_content_charset() or "utf-8")))
        except (LookupError, UnicodeDecodeError):
            raise FormError(400, "form_unreadable") from None
    return pairs
