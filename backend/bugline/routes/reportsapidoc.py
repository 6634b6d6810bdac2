"""The /openapi.json part of routes/reportsapi.py."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

REQUEST_MODELS: list[type[BaseModel]] = []


def operations(errors: Any) -> dict[str, Any]:
    """``errors(*codes)`` is openapi.py's shared error responses."""
    return {}


def response_schemas() -> dict[str, Any]:
    return {}
