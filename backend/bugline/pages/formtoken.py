"""Signed form tokens: a POST must carry one issued by the page that showed the form.

The token binds the form's purpose ("answer", "reopen", "unsubscribe") and its subject (a
report or reporter id) to the moment it was issued, signed with the app's secret
(``tokens.sign``, HMAC-SHA256). No cookie and no server-side state: a token from another
report, another form or another installation fails, and one older than ``MAX_AGE`` is
expired. The capability itself is the status token in the URL; this only makes sure the
POST comes from our own form, recently (a replayed or forged form changes nothing).
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

from bugline.tokens import sign

# Long enough for a customer to look up their browser version and write steps; short enough
# that a token copied out of an old page is of no use.
MAX_AGE = timedelta(hours=24)
# Clocks of several web processes differ a little; a token from "the future" beyond this is forged.
SKEW = timedelta(minutes=5)
MAX_LENGTH = 100


class Check(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"  # genuine, but too old: show the form again with what was typed
    INVALID = "invalid"  # missing, malformed, forged, or for another form or report


def _mac(secret: str, purpose: str, subject: str, issued: int) -> str:
    return sign(secret, f"form:{purpose}", f"{subject}:{issued}")


def issue(secret: str, purpose: str, subject: str, now: datetime) -> str:
    issued = int(now.timestamp())
    return f"{issued}.{_mac(secret, purpose, subject, issued)}"


def check(
    secret: str | Sequence[str],
    purpose: str,
    subject: str,
    token: str | None,
    now: datetime,
    max_age: timedelta = MAX_AGE,
) -> Check:
    """VALID, EXPIRED or INVALID; ``secret`` may be the current key and those before a
    rotation (Settings.secret_keys): a form opened just before the rotation still counts."""
    keys = (secret,) if isinstance(secret, str) else tuple(secret)
    results = [_check(key, purpose, subject, token, now, max_age) for key in keys]
    if Check.VALID in results:
        return Check.VALID
    return Check.EXPIRED if Check.EXPIRED in results else Check.INVALID


def _check(
    secret: str, purpose: str, subject: str, token: str | None, now: datetime, max_age: timedelta
) -> Check:
    if not token or len(token) > MAX_LENGTH or not token.isascii():
        return Check.INVALID
    stamp, _, mac = token.partition(".")
    if not stamp.isdigit() or len(stamp) > 12:
        return Check.INVALID
    issued = int(stamp)
    if not hmac.compare_digest(mac.encode(), _mac(secret, purpose, subject, issued).encode()):
        return Check.INVALID
    age = now.timestamp() - issued
    if age < -SKEW.total_seconds():
        return Check.INVALID
    if age > max_age.total_seconds():
        return Check.EXPIRED
    return Check.VALID
