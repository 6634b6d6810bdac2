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
    return f"{_base(public_url)}/s/{status_token(secret_key, report_id)}"


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


def verify_unsubscribe(secret_key: str, token: str) -> str | None:
    """The reporter id a genuine unsubscribe token names, or None (any tampering, any shape
    that is not ours). The MAC is compared in constant time."""
    if len(token) > 200:
        return None
    reporter_id, dot, mac = token.rpartition(".")
    if not dot or not _REPORTER_ID.match(reporter_id) or not _HEX.match(mac):
        return None
    expected = sign(secret_key, UNSUBSCRIBE, reporter_id)
    return reporter_id if hmac.compare_digest(mac.encode(), expected.encode()) else None


def links_for(public_url: str, secret_key: str, report_id: str, reporter_id: str | None) -> Links:
    status = status_url(public_url, secret_key, report_id)
    return Links(
        status=status,
        answer=status + "/answer",
        reopen=status + "/reopen",
        unsubscribe=unsubscribe_url(public_url, secret_key, reporter_id) if reporter_id else "",
    )


def _base(public_url: str) -> str:
    return public_url.rstrip("/")
