"""Structured logs: one JSON object per line (BUGLINE_LOG_FORMAT=json) carrying the request
id of the HTTP request being served and the report id being worked on, so one report can be
followed from intake to delivery with a single filter.

The ids live in context variables: the request middleware sets ``request_id``; intake,
triage, the outbox and the notifications set ``report_id`` around their work (``bound``).
A report keeps the id of the request that created it (its "created" event), and the outbox
logs it with each delivery, so the intake's request id reaches the worker's lines too.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("bugline_request_id", default=None)
report_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("bugline_report_id", default=None)
origin_request: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "bugline_origin_request", default=None
)

# Attributes every LogRecord has; anything else passed in ``extra=`` is written as a field.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


@contextlib.contextmanager
def bound(report: str | None, request: str | None = None) -> Iterator[None]:
    """Log lines inside carry ``report_id`` (and the id of the request that created it)."""
    t1 = report_id.set(report)
    t2 = origin_request.set(request)
    try:
        yield
    finally:
        report_id.reset(t1)
        origin_request.reset(t2)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, var in (
            ("request_id", request_id),
            ("report_id", report_id),
            ("origin_request_id", origin_request),
        ):
            value = var.get()
            if value:
                entry[key] = value
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = (
                    value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
                )
        if record.exc_info:
            entry["error"] = "".join(traceback.format_exception(*record.exc_info))[-8000:]
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The human default: time, logger, message, and the ids when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC)
        line = f"{at:%Y-%m-%d %H:%M:%S} {record.levelname.lower():7} {record.name}: {record.getMessage()}"
        ids = [f"{k}={v.get()}" for k, v in (("request", request_id), ("report", report_id)) if v.get()]
        if ids:
            line += " [" + " ".join(ids) + "]"
        if record.exc_info:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info))
        return line


def configure(level: str, fmt: str) -> None:
    """Bugline's and uvicorn's loggers to stderr in one format (called once by serve and worker)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
