"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import anyio
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bugline.routes.edge import app_state
from bugline.storage.base import StoreError

READY_TIMEOUT = 3.0


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready only when both the database and the media store answer, each within a few seconds."""
    state = app_state(request)
    checks: dict[str, str] = {}
    try:
        with anyio.fail_after(READY_TIMEOUT):
            async with state.readers() as session:
                await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"failing: {type(exc).__name__}"
    try:
        with anyio.fail_after(READY_TIMEOUT):
            await state.store.check()
        checks["storage"] = "ok"
    except (StoreError, TimeoutError, OSError) as exc:
        checks["storage"] = f"failing: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


routes = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
