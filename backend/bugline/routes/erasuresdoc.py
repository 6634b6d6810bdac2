"""The /openapi.json part of routes/erasures.py."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bugline.routes.agentdoc import SECURITY
from bugline.routes.erasures import ErasureIn

REQUEST_MODELS: list[type[BaseModel]] = [ErasureIn]


def _json(description: str, name: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


_ERASURE = {
    "type": "object",
    "required": ["id", "reason", "subject_sha256", "requested_by", "reports", "files", "at"],
    "properties": {
        "id": {"type": "string"},
        "reason": {"type": "string", "enum": ["request", "retention"]},
        "subject_sha256": {"type": ["string", "null"]},
        "requested_by": {"type": ["string", "null"]},
        "reports": {"type": "integer"},
        "files": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
    },
}


def operations(errors: Any) -> dict[str, Any]:
    """``errors(*codes)`` is openapi.py's shared error responses."""
    path = {"name": "project_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/api/v1/projects/{project_id}/erasures": {
            "get": {
                "summary": "The record of erasures in a project (admin)",
                "security": SECURITY,
                "parameters": [path],
                "responses": {
                    "200": {
                        "description": "Newest first",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ErasureList"}}
                        },
                    },
                    **errors("401", "403", "404", "429"),
                },
            },
            "post": {
                "summary": "Erase a reporter's personal data, their reports' words and files (admin)",
                "security": SECURITY,
                "parameters": [path],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErasureIn"}}},
                },
                "responses": {
                    "201": _json("Erased and recorded (also when nothing matched)", "Erasure"),
                    **errors("400", "401", "403", "404", "413", "415", "422", "429"),
                },
            },
        }
    }


def response_schemas() -> dict[str, Any]:
    return {
        "Erasure": _ERASURE,
        "ErasureList": {
            "type": "object",
            "required": ["erasures"],
            "properties": {"erasures": {"type": "array", "items": {"$ref": "#/components/schemas/Erasure"}}},
        },
    }
