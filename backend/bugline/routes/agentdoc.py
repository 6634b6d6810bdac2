"""The agent API's part of /openapi.json: set-up of connectors and routing, the dry-run and
"forward now", described from the same pydantic models that validate their bodies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bugline.routes.agent import STATES, ConnectorIn, ConnectorPatch, DryRunIn, RetryIn, RoutingIn

REQUEST_MODELS: list[type[BaseModel]] = [ConnectorIn, ConnectorPatch, DryRunIn, RoutingIn, RetryIn]
SECURITY: list[dict[str, list[str]]] = [{"apiToken": []}]
SECURITY_SCHEME = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token (`bugline create-token EMAIL`), "
        "sent as `Authorization: Bearer blt_…`.",
    }
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, name: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def operations(errors: Any) -> dict[str, Any]:
    """``errors(*codes)`` is openapi.py's shared error responses."""
    read = errors("401", "404", "429")
    write = errors("400", "401", "403", "404", "413", "415", "422", "429")
    project = [_path("project_id")]
    connector = [*project, _path("connector_id")]
    return {
        "/api/v1/connector-kinds": {
            "get": {
                "summary": "Connector kinds this server ships, with the settings each takes",
                "security": SECURITY,
                "responses": {"200": _json("Kinds", "ConnectorKinds"), **errors("401", "429")},
            }
        },
        "/api/v1/projects/{project_id}/connectors": {
            "get": {
                "summary": "The project's connectors, secrets masked",
                "security": SECURITY,
                "parameters": project,
                "responses": {"200": _json("Connectors", "ConnectorList"), **read},
            },
            "post": {
                "summary": "Add a connector (lead); its settings are validated by its kind",
                "security": SECURITY,
                "parameters": project,
                "requestBody": _body("ConnectorIn"),
                "responses": {"201": _json("Added", "Connector"), **write},
            },
        },
        "/api/v1/projects/{project_id}/connectors/{connector_id}": {
            "get": {
                "summary": "One connector, by id or name",
                "security": SECURITY,
                "parameters": connector,
                "responses": {"200": _json("Connector", "Connector"), **read},
            },
            "patch": {
                "summary": "Change settings (merged; a masked value keeps the secret), roles, enabled (lead)",
                "security": SECURITY,
                "parameters": connector,
                "requestBody": _body("ConnectorPatch"),
                "responses": {"200": _json("Changed", "Connector"), **write},
            },
            "delete": {
                "summary": "Remove a connector (lead)",
                "security": SECURITY,
                "parameters": connector,
                "responses": {"204": {"description": "Removed"}, **errors("401", "403", "404", "429")},
            },
        },
        "/api/v1/projects/{project_id}/connectors/{connector_id}/check": {
            "post": {
                "summary": "Check the connection and credentials without creating anything (lead)",
                "security": SECURITY,
                "parameters": connector,
                "responses": {
                    "200": _json("Outcome", "CheckResult"),
                    **errors("401", "403", "404", "409", "429"),
                },
            }
        },
        "/api/v1/projects/{project_id}/connectors/{connector_id}/test": {
            "post": {
                "summary": "Send a test report through the connector: a real ticket or message, marked as a "
                "test (lead)",
                "security": SECURITY,
                "parameters": connector,
                "responses": {
                    "200": _json("Outcome", "TestResult"),
                    **errors("401", "403", "404", "409", "429"),
                },
            }
        },
        "/api/v1/projects/{project_id}/routing": {
            "get": {
                "summary": "The project's routing rules, the effective list, and warnings",
                "security": SECURITY,
                "parameters": project,
                "responses": {"200": _json("Rules", "Routing"), **read},
            },
            "put": {
                "summary": "Replace the project's routing rules (lead); errors name the key path",
                "security": SECURITY,
                "parameters": project,
                "requestBody": _body("RoutingIn"),
                "responses": {"200": _json("Saved", "Routing"), **write},
            },
        },
        "/api/v1/projects/{project_id}/routing/dry-run": {
            "post": {
                "summary": "Where a stored or made-up report would go, and why; nothing is sent",
                "security": SECURITY,
                "parameters": project,
                "requestBody": _body("DryRunIn"),
                "responses": {"200": _json("Plan", "DryRun"), **write, **errors("409")},
            }
        },
        "/api/v1/projects/{project_id}/reports/{report_id}/forward": {
            "post": {
                "summary": "Forward now: retry failed deliveries and route a report that was never routed",
                "security": SECURITY,
                "parameters": [*project, _path("report_id")],
                "responses": {"202": _json("Queued", "Forwarded"), **errors("401", "404", "409", "429")},
            }
        },
        "/api/v1/projects/{project_id}/deliveries": {
            "get": {
                "summary": "The project's deliveries, newest first (state=failed: what needs a person)",
                "security": SECURITY,
                "parameters": [
                    *project,
                    {"name": "state", "in": "query", "required": False, "schema": {"enum": list(STATES)}},
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                    },
                ],
                "responses": {"200": _json("Deliveries", "DeliveryList"), **read, **errors("422")},
            }
        },
        "/api/v1/projects/{project_id}/deliveries/retry": {
            "post": {
                "summary": "Retry failed deliveries by hand (all, or the ids given) from attempt one",
                "security": SECURITY,
                "parameters": project,
                "requestBody": _body("RetryIn"),
                "responses": {"202": _json("Queued again", "Retried"), **write},
            }
        },
    }


def response_schemas() -> dict[str, Any]:
    s = {"type": "string"}
    obj = {"type": "object"}
    setting = {
        "type": "object",
        "required": ["name", "help", "type", "required", "secret"],
        "properties": {
            "name": s,
            "help": s,
            "type": s,
            "required": {"type": "boolean"},
            "secret": {"type": "boolean"},
            "choices": {"type": "array", "items": s},
        },
    }
    connector = {
        "type": "object",
        "required": ["id", "name", "kind", "title", "roles", "enabled", "settings", "created_at"],
        "properties": {
            "id": s,
            "name": s,
            "kind": s,
            "title": s,
            "roles": {"type": "array", "items": s},
            "enabled": {"type": "boolean"},
            "settings": obj,
            "created_at": s,
        },
    }
    return {
        "ConnectorKinds": {
            "type": "object",
            "required": ["kinds"],
            "properties": {
                "kinds": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kind", "title", "settings"],
                        "properties": {
                            "kind": s,
                            "title": s,
                            "uploads_files": {"type": "boolean"},
                            "settings": {"type": "array", "items": setting},
                        },
                    },
                }
            },
        },
        "Connector": connector,
        "ConnectorList": {
            "type": "object",
            "required": ["connectors"],
            "properties": {"connectors": {"type": "array", "items": _ref("Connector")}},
        },
        "CheckResult": {
            "type": "object",
            "required": ["ok"],
            "properties": {
                "ok": {"type": "boolean"},
                "outcome": {"enum": ["retry", "failed"]},
                "reason": s,
                "status": {"type": ["integer", "null"]},
            },
        },
        "TestResult": {
            "type": "object",
            "required": ["ok"],
            "properties": {
                "ok": {"type": "boolean"},
                "ticket": {
                    "type": "object",
                    "required": ["id", "url"],
                    "properties": {"id": s, "url": s},
                },
                "outcome": {"enum": ["retry", "failed"]},
                "reason": s,
                "status": {"type": ["integer", "null"]},
            },
        },
        "Routing": {
            "type": "object",
            "required": ["routing"],
            "properties": {
                "routing": {"type": ["object", "null"]},
                "effective": {"type": "array", "items": obj},
                "warnings": {"type": "array", "items": s},
                "error": s,
            },
        },
        "DryRun": {
            "type": "object",
            "required": ["plan", "explanation"],
            "properties": {"plan": obj, "explanation": s},
        },
        "DeliveryList": {
            "type": "object",
            "required": ["deliveries"],
            "properties": {
                "deliveries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "state", "attempts", "report", "connector", "created_at"],
                        "properties": {
                            "id": s,
                            "state": {"enum": list(STATES)},
                            "attempts": {"type": "integer"},
                            "outcome": {"type": ["string", "null"]},
                            "error": {"type": ["string", "null"]},
                            "status": {"type": ["integer", "null"]},
                            "next_attempt_at": {"type": ["string", "null"]},
                            "created_at": s,
                            "done_at": {"type": ["string", "null"]},
                            "rules": {"type": "array", "items": s},
                            "report": obj,
                            "connector": obj,
                        },
                    },
                }
            },
        },
        "Retried": {
            "type": "object",
            "required": ["retried"],
            "properties": {"retried": {"type": "integer"}},
        },
        "Forwarded": {
            "type": "object",
            "required": ["retried", "added"],
            "properties": {"retried": {"type": "integer"}, "added": {"type": "integer"}},
        },
    }
