"""One error type for everything the client did wrong, turned into JSON only at the HTTP edge.

Every refusal names the problem in words a developer can act on, with a stable
machine-readable ``code`` and, for validation, the exact fields at fault.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            err["fields"] = self.fields
        err.update(self.extra)
        return {"error": err}


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def handle_store_error(request: Request, exc: Exception) -> Response:
    """Storage trouble is the server's, and passing: say so, and when to retry."""
    return JSONResponse(
        {
            "error": {
                "code": "storage_unavailable",
                "message": f"media storage did not answer ({exc}); retry shortly",
            }
        },
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def handle_database_unavailable(request: Request, exc: Exception) -> Response:
    """The database dropped the connection or refused a new one (a restart, a failover, a
    deadlock victim): passing, like storage trouble. Without this the client gets a bare 500
    and cannot tell "try again" from "this will never work". Writes are single transactions,
    so a retry (same Idempotency-Key for a report) finds either nothing or the finished row."""
    return JSONResponse(
        {
            "error": {
                "code": "database_unavailable",
                "message": "the database did not answer; retry shortly (a report sent again "
                "with the same Idempotency-Key is stored once)",
            }
        },
        status_code=503,
        headers={"Retry-After": "2"},
    )


# Plain-words messages for the HTTP errors Starlette raises itself (unknown route, wrong method).
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 413: "too_large"}


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    from starlette.exceptions import HTTPException

    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=exc.status_code, headers=exc.headers
    )
