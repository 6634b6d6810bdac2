"""The customer's links, built in one place so the mails and the pages agree (/tmp design,
"Public links"):

- status page        {public_url}/s/{status_token}
- answer questions   {public_url}/s/{status_token}/answer
- still broken       {public_url}/s/{status_token}/reopen   (GET confirms; only POST reopens,
                     because mail scanners fetch every GET link in a message)
- unsubscribe        {public_url}/u/{reporter_id}.{hmac}    (GET confirms; POST unsubscribes;
                     RFC 8058 one-click POST body "List-Unsubscribe=One-Click")

The status token is derived from the report id (``bugline.tokens.status_token``), so no
token has to be stored to put it in a mail. The unsubscribe token names the reporter and
carries an HMAC over its id, checked in constant time; it does not expire (an unsubscribe
link in a year-old mail must still work, RFC 8058 section 3.1 asks for a long-lived one).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bugline.tokens import sign, status_token

UNSUBSCRIBE = "unsubscribe"  # the HMAC purpose: a token for one purpose is no good for another
_REPORTER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Links:
    status: str
    answer: str
    reopen: str
    unsubscribe: str  # "" when there is no reporter to unsubscribe


def status_url(public_url: str, secret_key: str, report_id: str) -> str:
    return token_url(public_url, status_token(secret_key, report_id))


def token_url(public_url: str, token: str) -> str:
    """The status page of the report a status token opens."""
    return f"{_base(public_url)}/s/{token}"


def answer_url(public_url: str, secret_key: str, report_id: str) -> str:
    return status_url(public_url, secret_key, report_id) + "/answer"


def reopen_url(public_url: str, secret_key: str, report_id: str) -> str:
    return status_url(public_url, secret_key, report_id) + "/reopen"


def unsubscribe_token(secret_key: str, reporter_id: str) -> str:
    if not _REPORTER_ID.match(reporter_id):
        raise ValueError("a reporter id is letters, digits, - and _")
    return f"{reporter_id}.{sign(secret_key, UNSUBSCRIBE, reporter_id)}"


def unsubscribe_url(public_url: str, secret_key: str, reporter_id: str) -> str:
    return f"{_base(public_url)}/u/{unsubscribe_token(secret_key, reporter_id)}"


def verify_unsubscribe(secret_key: str | Sequence[str], token: str) -> str | None:
    """The reporter id a genuine unsubscribe token names, or None (any tampering, any shape
    that is not ours). The MAC is compared in constant time, against the current key and the
    ones before a rotation (a year-old mail's link must still work)."""
    if len(token) > 200:
        return None
    reporter_id, dot, mac = token.rpartition(".")
    if not dot or not _REPORTER_ID.match(reporter_id) or not _HEX.match(mac):
        return None
    keys = (secret_key,) if isinstance(secret_key, str) else tuple(secret_key)
    for key in keys:
        if hmac.compare_digest(mac.encode(), sign(key, UNSUBSCRIBE, reporter_id).encode()):
            return reporter_id
    return None


def links_for(
    public_url: str, secret_key: str, report_id: str, reporter_id: str | None, *, token: str | None = None
) -> Links:
    """The customer's links; ``token``: the report's status token when the caller knows it
    (made with a key from before a rotation), else derived from ``secret_key``."""
    status = token_url(public_url, token) if token else status_url(public_url, secret_key, report_id)
    return Links(
        status=status,
        answer=status + "/answer",
        reopen=status + "/reopen",
        unsubscribe=unsubscribe_url(public_url, secret_key, reporter_id) if reporter_id else "",
    )


def _base(public_url: str) -> str:
    return public_url.rstrip("/")
