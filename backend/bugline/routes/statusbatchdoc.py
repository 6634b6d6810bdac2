"""POST /api/v1/status/batch's part of /openapi.json (the widget's "My reports"), described from
the pydantic model that validates its body. openapi.py merges it like agentdoc."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bugline.routes.statusbatch import MAX_TOKENS, StatusBatchIn

REQUEST_MODELS: list[type[BaseModel]] = [StatusBatchIn]

_S = {"type": "string"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def operations(errors: Any, key_params: list[dict[str, Any]]) -> dict[str, Any]:
    """``errors(*codes)`` and ``key_params`` (the ``?key=`` parameter) are openapi.py's."""
    return {
        "/api/v1/status/batch": {
            "post": {
                "summary": f"The reporter's view of up to {MAX_TOKENS} reports sent from one browser, "
                "by their status tokens",
                "description": "Only reports of the key's project; tokens that find no report are "
                "left out of the answer.",
                "security": [{"projectKey": []}],
                "parameters": key_params,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("StatusBatchIn")}},
                },
                "responses": {
                    "200": {
                        "description": "The reports found, in the order asked",
                        "content": {"application/json": {"schema": _ref("StatusBatch")}},
                    },
                    **errors("400", "401", "403", "413", "415", "422", "429"),
                },
            }
        }
    }


def response_schemas() -> dict[str, Any]:
    return {
        "StatusBatch": {
            "type": "object",
            "required": ["reports"],
            "properties": {"reports": {"type": "array", "items": _ref("StatusBatchReport")}},
        },
        "StatusBatchReport": {
            "type": "object",
            "required": [
                "token",
                "reference",
                "number",
                "title",
                "status",
                "created_at",
                "updated_at",
                "page_url",
                "timeline",
            ],
            "properties": {
                "token": {**_S, "description": "The status token this entry answers"},
                "reference": _S,
                "number": {"type": "integer"},
                "title": _S,
                "status": _S,
                "created_at": _S,
                "updated_at": _S,
                "page_url": {**_S, "description": "The reporter's status page: {public_url}/s/{token}"},
                "timeline": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["at", "kind"],
                        "properties": {
                            "at": _S,
                            "kind": _S,
                            "status": _S,
                            "note": {**_S, "description": "The team's public note, if any"},
                        },
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
    }
