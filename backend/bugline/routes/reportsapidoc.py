"""The /openapi.json part of routes/reportsapi.py."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bugline.inbox.filters import CONNECTOR_STATES, KINDS, MAX_LIMIT, PAGE_SIZE, SEVERITIES, SORTS, STATUSES
from bugline.routes.agentdoc import SECURITY

REQUEST_MODELS: list[type[BaseModel]] = []


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _list(values: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "description": "One of, or several separated by commas: " + ", ".join(values)}


def operations(errors: Any) -> dict[str, Any]:
    """``errors(*codes)`` is openapi.py's shared error responses."""
    s = {"type": "string"}
    date = {"type": "string", "format": "date"}
    percent = {"type": "integer", "minimum": 0, "maximum": 100}
    params = [
        {"name": "project_id", "in": "path", "required": True, "schema": s},
        _query("status", _list(STATUSES), "Report status"),
        _query("severity", _list(SEVERITIES), "Severity tier; none = not triaged yet"),
        _query("kind", _list(KINDS), "Bug, feature request or question; none = not triaged yet"),
        _query("category", s, "Routing category (billing, security, ...); several separated by commas"),
        _query("connector", _list(CONNECTOR_STATES), "Forwarding state: failed wins over pending"),
        _query("group", s, "A duplicate group's id: its reports"),
        _query("reporter", s, "The reporter's email or the host app's user id"),
        _query("account", s, "The reporter's customer account"),
        _query("from", date, "Received on or after this day (UTC)"),
        _query("to", date, "Received on or before this day (UTC)"),
        _query("min_complete", percent, "Completeness at least"),
        _query("max_complete", percent, "Completeness at most"),
        _query(
            "q", {"type": "string", "maxLength": 200}, "Words from the report (the last as a prefix), or #42"
        ),
        _query("sort", {"enum": list(SORTS), "default": "newest"}, "Order"),
        _query("cursor", s, "next_cursor of the previous page (same sort)"),
        _query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": PAGE_SIZE},
            "Page size",
        ),
    ]
    return {
        "/api/v1/projects/{project_id}/reports": {
            "get": {
                "summary": "The project's reports: the inbox's filters, search, sorts and cursor pages",
                "security": SECURITY,
                "parameters": params,
                "responses": {
                    "200": {
                        "description": "One page",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ReportList"}}
                        },
                    },
                    **errors("400", "401", "404", "429"),
                },
            }
        }
    }


def response_schemas() -> dict[str, Any]:
    s = {"type": "string"}
    ns = {"type": ["string", "null"]}
    ni = {"type": ["integer", "null"]}
    fields = {
        "id": s,
        "number": {"type": "integer"},
        "title": s,
        "status": {"enum": list(STATUSES)},
        "severity": ns,
        "kind": ns,
        "category": ns,
        "completeness": ni,
        "unread_language": {
            "type": "string",
            "description": "The report's language when triage does not read it ('es'), else empty: "
            "completeness is then what could be confirmed, and nothing was asked",
        },
        "reporter_email": ns,
        "reporter_name": ns,
        "account": ns,
        "group_id": ns,
        "group_size": ni,
        "connector_state": {"enum": list(CONNECTOR_STATES)},
        "created_at": {"type": "string", "format": "date-time"},
    }
    return {
        "ReportSummary": {
            "type": "object",
            "required": list(fields),
            "additionalProperties": False,
            "properties": fields,
        },
        "ReportList": {
            "type": "object",
            "required": ["reports", "next_cursor"],
            "properties": {
                "reports": {"type": "array", "items": {"$ref": "#/components/schemas/ReportSummary"}},
                "next_cursor": {"type": ["string", "null"], "description": "null on the last page"},
            },
        },
    }
