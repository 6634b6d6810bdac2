"""What every public API request goes through: project key, origin, rate limit, body parsing.

Handlers call these in order; each raises ApiError with the status a client can act
on (401 no key, 403 wrong key or origin, 413 too big, 415 wrong type, 429 slow down).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from bugline.db.models import Project
from bugline.errors import ApiError
from bugline.intake.schema import field_errors
from bugline.origins import origin_allowed
from bugline.ratelimit import RateLimiter, retry_after_header
from bugline.state import AppState

Model = TypeVar("Model", bound=BaseModel)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.bugline
    return state


def project_key(request: Request) -> str:
    key = request.headers.get("x-bugline-key") or request.query_params.get("key") or ""
    if not key:
        raise ApiError(
            401,
            "missing_key",
            "send the project's public key in the X-Bugline-Key header or the ?key= parameter",
        )
    if len(key) > 64 or not key.isascii():
        raise ApiError(403, "invalid_key", "this project key is not valid")
    return key


def check_origin(request: Request, project: Project) -> None:
    """Browsers always send Origin on cross-origin calls: it must be on the project's allowlist."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if not origin_allowed(origin, project.allowed_origins):
        raise ApiError(
            403,
            "origin_not_allowed",
            f"{origin} may not send reports to this project; add it with "
            f"`bugline create-project --origin` or in the project's settings",
        )
    request.scope.setdefault("state", {})["cors_origin"] = origin


async def require_project(request: Request) -> Project:
    """The project this request reports to, after the per-IP limit, the origin check and the
    per-key limit, in that order: one noisy client cannot use up a project's budget."""
    state = app_state(request)
    try:
        key = project_key(request)
    except ApiError:
        readable_error(request)
        raise
    limit_ip(request)
    project = await state.projects.get(state.readers, key)
    if project is None:
        readable_error(request)
        raise ApiError(403, "invalid_key", "no project has this key; copy it again from the embed snippet")
    check_origin(request, project)
    _limit(state.per_key, project.id)
    return project


def readable_error(request: Request) -> None:
    """Let a browser read why its key was refused; there is no project data to protect."""
    origin = request.headers.get("origin")
    if origin:
        request.scope.setdefault("state", {})["cors_origin"] = origin


def client_ip(request: Request, trusted_proxies: int) -> str:
    if trusted_proxies > 0:
        # Every X-Forwarded-For line counts: a proxy may append its own line rather than
        # extend the client's, and the client controls the leftmost entries either way.
        joined = ",".join(request.headers.getlist("x-forwarded-for"))
        hops = [h.strip() for h in joined.split(",") if h.strip()]
        if len(hops) >= trusted_proxies:
            return hops[-trusted_proxies][:64]
    return request.client.host if request.client else "unknown"


def ip_identity(ip: str) -> str:
    """One rate-limit bucket per IPv4 address, and per /64 for IPv6 (one subscriber's range)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _limit(limiter: RateLimiter, identity: str) -> None:
    wait = limiter.hit(identity)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests; try again in {max(1, round(wait))} s",
            headers=retry_after_header(wait),
        )


def limit_ip(request: Request) -> None:
    state = app_state(request)
    _limit(state.per_ip, ip_identity(client_ip(request, state.settings.trusted_proxies)))


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "bad_content_length", "Content-Length must be a number of bytes")
        if int(declared) > limit:
            raise ApiError(
                413, "body_too_large", f"the body is {declared} bytes; at most {limit} are accepted"
            )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "body_too_large", f"the body is over the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def require_json(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the body as application/json (got {ctype or 'no Content-Type'})",
        )


class _NotJson(ValueError):
    """NaN and Infinity: Python's json reads them, JSON and PostgreSQL's json type do not."""


def _refuse_constant(name: str) -> Any:
    raise _NotJson(name)


# A \u0000 escape not itself escaped (an even number of backslashes before it): JSON can only
# carry a NUL this way, and PostgreSQL's text columns cannot store one.
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def parse_json(body: bytes) -> Any:
    if _NUL_ESCAPE.search(body):
        raise ApiError(400, "nul_character", "the text contains a NUL character (\\u0000); remove it")
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except _NotJson as exc:
        raise ApiError(400, "malformed_json", f"{exc} is not a JSON number; send a number or null") from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "the JSON is nested too deeply") from None
    except UnicodeDecodeError:
        raise ApiError(400, "malformed_json", "the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            "malformed_json",
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None


def validate(model: type[Model], data: Any) -> Model:
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_body", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = field_errors(exc)
        first = fields[0]
        raise ApiError(
            422,
            "invalid_fields",
            f"{first['field']} {first['message']}"
            + (f" (and {len(fields) - 1} more)" if len(fields) > 1 else ""),
            fields=fields,
        ) from None


async def json_body(request: Request, model: type[Model], limit: int) -> tuple[Model, bytes]:
    require_json(request)
    body = await read_body(request, limit)
    return validate(model, parse_json(body)), body


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    key = key.strip().strip('"')
    if not key or len(key) > 200 or not key.isascii() or not key.isprintable():
        raise ApiError(
            400, "invalid_idempotency_key", "Idempotency-Key must be 1-200 printable ASCII characters"
        )
    return key


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def report_token(request: Request) -> str:
    token = request.headers.get("x-bugline-report-token", "")
    if not token or len(token) > 100:
        raise ApiError(
            401,
            "missing_report_token",
            "send the status_token returned when the report was created in the X-Bugline-Report-Token header",
        )
    return token
