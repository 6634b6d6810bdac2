"""The intake baseline: the least a Starlette app must do to take a report in.

One POST endpoint that parses the JSON body and inserts one ``reports`` row with the
same columns and the same kind of values Bugline stores for that request (JSON columns
included), through the same SQLAlchemy async engine and driver
(``bugline.db.engine.make_async_engine``: aiosqlite or psycopg) into a database migrated
by ``bugline.db.migrate.upgrade``. No validation, no project lookup, no reporter, no
timeline events: the gap between this and Bugline is what Bugline's own work costs.

Served by ``uvicorn --factory tests.bench.baseline:baseline_app`` with ``BENCH_DATABASE_URL``
and ``BENCH_PROJECT_ID`` set.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bugline.db.engine import make_async_engine
from bugline.db.models import Report

REPORTS = cast(Table, Report.__table__)
# Context fields Bugline keeps in their own columns rather than in ``environment``.
OWN_COLUMNS = ("url", "referrer", "user_agent", "console", "network")


def report_row(
    body: bytes, data: dict[str, Any], request: Request, project_id: str, number: int
) -> dict[str, Any]:
    ctx: dict[str, Any] = data.get("context") or {}
    steps = data.get("steps", "")
    if isinstance(steps, list):
        steps = "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
    environment = {k: v for k, v in ctx.items() if k not in OWN_COLUMNS}
    environment["parsed_from"] = "client-hints"
    report_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    return {
        "id": report_id,
        "project_id": project_id,
        "reporter_id": None,
        "number": number,
        "idempotency_key": request.headers.get("idempotency-key"),
        "request_hash": hashlib.sha256(body).hexdigest(),
        "status_token_hash": hashlib.sha256(report_id.encode()).hexdigest(),
        "status": "received",
        "source": "widget",
        "title": data.get("title", ""),
        "trying_to_do": data.get("trying_to_do", ""),
        "expected": data.get("expected", ""),
        "actual": data.get("actual", ""),
        "error_text": data.get("error_text", ""),
        "steps": steps,
        "frequency": data.get("frequency"),
        "people_affected": data.get("people_affected"),
        "page_url": ctx.get("url"),
        "referrer": ctx.get("referrer"),
        "user_agent": ctx.get("user_agent"),
        # Bugline parses these from the User-Agent and client hints; the baseline does not.
        "browser_name": "Chrome",
        "browser_version": "124.0.6367.91",
        "os_name": "Windows",
        "os_version": "11",
        "device_type": "desktop",
        "device_vendor": None,
        "device_model": None,
        "environment": environment,
        "console": ctx.get("console", []),
        "network": ctx.get("network", []),
        "metadata": data.get("metadata", {}),
        "client_ip": request.client.host if request.client else None,
        "created_at": now,
        "updated_at": now,
        "accepted_at": now,
    }


def baseline_app() -> Starlette:
    engine = make_async_engine(os.environ["BENCH_DATABASE_URL"])
    project_id = os.environ["BENCH_PROJECT_ID"]
    numbers = itertools.count(1)  # one process: a counter is enough for per-project numbers

    async def create(request: Request) -> Response:
        body = await request.body()
        data = json.loads(body)
        row = report_row(body, data, request, project_id, next(numbers))
        async with engine.begin() as conn:
            await conn.execute(insert(REPORTS), row)
        return JSONResponse({"id": row["id"], "number": row["number"]}, status_code=201)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    return Starlette(
        routes=[
            Route("/api/v1/reports", create, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
