"""HMAC-SHA256 signatures and timestamp windows, compared in constant time.

Every comparison goes through ``same`` (``hmac.compare_digest`` over UTF-8 bytes: a hostile
non-ASCII header cannot make it raise, and the time taken does not depend on where the
strings differ). A missing header, a malformed one and a wrong one are all 401, each with a
message that says which, so the vendor's delivery log tells an admin what to fix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from datetime import datetime

from bugline.hooks.inbound import Rejected


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def hex_sha256(secret: str, message: bytes) -> str:
    return hmac_sha256(secret, message).hex()


def b64_sha256(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac_sha256(secret, message)).decode("ascii")


def required(value: str, header: str) -> str:
    if not value:
        raise Rejected(f"unsigned: the {header} header is missing")
    if len(value) > 512:
        raise Rejected(f"the {header} header is too long to be a signature")
    return value


def check(expected: str, given: str, header: str) -> None:
    if not same(expected, given):
        raise Rejected(
            f"the {header} signature does not match this body and the connector's webhook_secret "
            "(wrong secret, or the body was changed on the way)"
        )


def prefixed(value: str, prefix: str, header: str) -> str:
    """``sha256=abc…`` -> ``abc…`` (the prefix names the algorithm; only it is accepted)."""
    if not value.startswith(prefix):
        raise Rejected(f"the {header} header must start with {prefix!r}")
    return value[len(prefix) :]


def fresh(sent: float, now: datetime, window: float, what: str) -> None:
    """``sent`` (epoch seconds) within ``window`` seconds of ``now``, either way (clocks skew)."""
    if not math.isfinite(sent):
        raise Rejected(f"{what} is not a time")
    age = now.timestamp() - sent
    if age > window:
        raise Rejected(f"stale: {what} is {age:.0f} s old; deliveries older than {window:.0f} s are refused")
    if age < -window:
        raise Rejected(
            f"{what} is {-age:.0f} s in the future; more than {window:.0f} s of clock skew is refused"
        )


def epoch_seconds(text: str, what: str) -> float:
    """Whole or fractional epoch seconds, as Slack sends them."""
    text = text.strip()
    if not text or len(text) > 20 or not text.isascii() or not text.replace(".", "", 1).isdigit():
        raise Rejected(f"{what} must be Unix time in seconds")
    return float(text)


SECRET_HEADER = "X-Bugline-Hook-Secret"  # noqa: S105 - a header name
SECRET_PARAMETER = "secret"  # noqa: S105 - a query parameter name
MIN_SHARED_SECRET = 16


def shared(given_header: str, given_query: str, secret: str) -> None:
    """For vendors that sign nothing (Freshdesk, django-helpdesk): the secret itself travels,
    in the ``X-Bugline-Hook-Secret`` header (Freshdesk's webhook action can add headers ⚠) or
    as ``?secret=`` in the URL (django-helpdesk's webhook settings are bare URLs; the header
    is preferred where possible: URLs end up in logs). A secret sent as is must be long enough
    not to be guessed; the ticket is then read back from the vendor before anything changes."""
    if len(secret) < MIN_SHARED_SECRET:
        raise Rejected(
            f"the connector's webhook_secret has fewer than {MIN_SHARED_SECRET} characters: too easy to "
            "guess for a secret that is sent as it is; set a longer one"
        )
    given = given_header or given_query
    if not given:
        raise Rejected(
            f"unsigned: send the connector's webhook_secret in the {SECRET_HEADER} header "
            f"or the ?{SECRET_PARAMETER}= parameter"
        )
    if not same(secret, given):
        raise Rejected("the secret sent does not match the connector's webhook_secret")
