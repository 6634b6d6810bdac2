"""HTTP calls for connectors: one place that turns transport errors and vendor status codes
into ``Retry`` or ``Failed``, and reads the vendors' rate-limit headers.

Sources for the headers (see ../shared/specs/CONTRACTS.md): Retry-After (seconds) on 429
from Zendesk, Jira, Freshdesk, Slack, GitHub secondary limits; GitHub primary limits send
``x-ratelimit-remaining: 0`` with ``x-ratelimit-reset`` (epoch seconds) on 403/429;
Jira adds ``X-RateLimit-Reset`` as an ISO-8601 time.
"""

from __future__ import annotations

import base64
import re
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bugline.connectors.base import Failed, Retry

_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")


def content_type(value: str) -> str:
    """The media type to declare for a file. Sniffed types are always plain ``type/subtype``;
    anything else (a parameter, a line break) must never reach a header, where it could add
    headers of its own, so it goes out as application/octet-stream."""
    value = value.strip()
    return value if _MEDIA_TYPE.match(value) else "application/octet-stream"


def basic_json_headers(user: str, password: str) -> dict[str, str]:
    """HTTP Basic credentials (RFC 7617) and a JSON Accept, as Zendesk, Jira and Freshdesk take."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}", "Accept": "application/json"}


# 408 and 425 are the server asking to try again; 409 is often a race on the vendor side.
_RETRYABLE = frozenset({408, 409, 425, 429})


def retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds to wait before trying again, from whichever header the vendor sent."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:  # an HTTP date (RFC 9110 allows it)
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
        return max(0.0, float(headers["x-ratelimit-reset"]) - now)  # GitHub: epoch seconds
    reset = headers.get("x-ratelimit-reset", "")
    if reset and not reset.isdigit():
        try:  # Jira: ISO-8601
            return max(0.0, datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - now)
        except ValueError:
            pass
    return None


def failure(response: httpx.Response, what: str) -> Retry | Failed | None:
    """None when the response is a success; otherwise what the outbox should do about it."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    wait = retry_after(response.headers)
    snippet = _snippet(response)
    reason = f"{what}: HTTP {status}{' ' + snippet if snippet else ''}"
    if status in _RETRYABLE or status >= 500:
        return Retry(reason, after=wait, status=status)
    if status == 403 and (wait is not None or response.headers.get("x-ratelimit-remaining") == "0"):
        return Retry(reason, after=wait, status=status)  # GitHub rate limits come as 403
    return Failed(reason, status=status)


async def send(http: httpx.AsyncClient, request: httpx.Request, what: str) -> httpx.Response | Retry:
    """Send; a transport failure (refused, reset, timed out) comes back as ``Retry``."""
    try:
        return await http.send(request)
    except httpx.TimeoutException:
        return Retry(f"{what}: timed out")
    except httpx.TransportError as exc:
        return Retry(f"{what}: {type(exc).__name__}: {exc}"[:300])


def json_body(response: httpx.Response, what: str) -> dict[str, Any] | Retry:
    """The response's JSON object, or ``Retry`` when the vendor answered something else
    (an HTML error page from a proxy, a truncated body)."""
    try:
        data = response.json()
    except ValueError:
        return Retry(f"{what}: the answer was not JSON ({_snippet(response) or 'empty'})")
    if not isinstance(data, dict):
        return Retry(f"{what}: the answer was not a JSON object")
    return data


def _snippet(response: httpx.Response) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    return " ".join(text.split())[:200]
