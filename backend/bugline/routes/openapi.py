"""GET /openapi.json: the public API described from the same pydantic models that validate it.

A test checks that every route the app serves is described here and that real
responses validate against the documented schemas, so the document cannot drift.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import bugline
from bugline.intake.schema import AttachmentsIn, CompleteIn, FinalizeIn, PartsIn, ReportIn, ReportPatch
from bugline.routes import (
    agentdoc,
    erasuresdoc,
    hooksdoc,
    notifydoc,
    reportapidoc,
    reportsapidoc,
    statusbatchdoc,
)

FORM_TEXT_FIELDS = (
    "title",
    "description",
    "trying_to_do",
    "expected",
    "actual",
    "error_text",
    "steps",
    "frequency",
    "people_affected",
    "email",
    "name",
    "reporter_id",
    "account",
    "plan",
    "url",
)
REQUEST_MODELS: list[type[BaseModel]] = [
    ReportIn,
    ReportPatch,
    AttachmentsIn,
    PartsIn,
    CompleteIn,
    FinalizeIn,
]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(name)}}}


def json_response(description: str, name: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(name)}}}


def finalize_error(description: str) -> dict[str, Any]:
    """A refused finalize carries the report; a refusal before it was looked at does not."""
    schema = {"anyOf": [ref("FinalizeError"), ref("Error")]}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    code: json_response(text, "Error")
    for code, text in {
        "400": "Malformed request (bad JSON, bad header)",
        "401": "Missing project key, report token or API token",
        "403": "Wrong key, an origin not on the project's allowlist, or a role without the right",
        "404": "Not found",
        "409": "Conflict with the report's state",
        "413": "Body or file too large",
        "415": "Wrong Content-Type, or a file type that is not accepted",
        "422": "Fields invalid; `fields` names each one",
        "429": "Rate limited; see Retry-After",
        "503": "Storage unavailable; retry",
    }.items()
}

KEY_PARAMS = [
    {
        "name": "key",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "Project public key (needed in the URL for browser CORS preflights).",
    },
]
TOKEN_PARAM = {
    "name": "X-Bugline-Report-Token",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "The status_token returned when the report was created.",
}
IDEMPOTENCY_PARAM = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "Retries with the same key return the first report instead of a new one.",
}
REPORT_ID = {"name": "report_id", "in": "path", "required": True, "schema": {"type": "string"}}
ATTACHMENT_ID = {"name": "attachment_id", "in": "path", "required": True, "schema": {"type": "string"}}


def errors(*codes: str) -> dict[str, Any]:
    return {c: ERRORS[c] for c in codes}


def operations() -> dict[str, Any]:
    common = ("400", "401", "403", "413", "415", "422", "429")
    open_report = [*KEY_PARAMS, TOKEN_PARAM, REPORT_ID]
    return {
        "/api/v1/reports": {
            "post": {
                "summary": "Create a report; declared attachments get upload slots",
                "security": [{"projectKey": []}],
                "parameters": [*KEY_PARAMS, IDEMPOTENCY_PARAM],
                "requestBody": json_body("ReportIn"),
                "responses": {
                    "201": json_response("Created", "Report"),
                    "200": json_response("Replayed: the report this Idempotency-Key created", "Report"),
                    **errors(*common),
                },
            }
        },
        "/api/v1/reports/form": {
            "post": {
                "summary": "Create a report with its files in one multipart/form-data request (curl -F)",
                "security": [{"projectKey": []}],
                "parameters": [*KEY_PARAMS, IDEMPOTENCY_PARAM],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"$ref": "#/components/schemas/TextForm"}
                        },
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "report": {
                                        "type": "string",
                                        "description": "The report as JSON (ReportIn without attachments)",
                                    },
                                    **{name: {"type": "string"} for name in FORM_TEXT_FIELDS},
                                    "screenshot": {"type": "string", "format": "binary"},
                                    "recording": {"type": "string", "format": "binary"},
                                    "log": {"type": "string", "format": "binary"},
                                    "file": {"type": "string", "format": "binary"},
                                },
                            }
                        },
                    },
                },
                "responses": {
                    "201": json_response("Created", "Report"),
                    "200": json_response("Replayed", "Report"),
                    **errors(*common, "503"),
                },
            }
        },
        "/api/v1/reports/{report_id}/attachments": {
            "post": {
                "summary": "More upload slots for a report awaiting its media",
                "security": [{"projectKey": []}],
                "parameters": open_report,
                "requestBody": json_body("AttachmentsIn"),
                "responses": {"201": json_response("Slots", "Slots"), **errors(*common, "404", "409")},
            }
        },
        "/api/v1/reports/{report_id}/attachments/{attachment_id}/parts": {
            "post": {
                "summary": "Signed URLs for more parts of a multipart (recording) upload",
                "security": [{"projectKey": []}],
                "parameters": [*open_report, ATTACHMENT_ID],
                "requestBody": json_body("PartsIn"),
                "responses": {"200": json_response("Part URLs", "Parts"), **errors(*common, "404", "409")},
            }
        },
        "/api/v1/reports/{report_id}/attachments/{attachment_id}/complete": {
            "post": {
                "summary": "Assemble the uploaded parts of a recording",
                "security": [{"projectKey": []}],
                "parameters": [*open_report, ATTACHMENT_ID],
                "requestBody": json_body("CompleteIn"),
                "responses": {
                    "200": json_response("Assembled", "Completed"),
                    **errors(*common, "404", "409"),
                },
            }
        },
        "/api/v1/reports/{report_id}": {
            "patch": {
                "summary": "Change the customer's words on a report still awaiting its media",
                "security": [{"projectKey": []}],
                "parameters": open_report,
                "requestBody": json_body("ReportPatch"),
                "responses": {"200": json_response("Updated", "Report"), **errors(*common, "404", "409")},
            }
        },
        "/api/v1/reports/{report_id}/finalize": {
            "post": {
                "summary": "Verify every uploaded file and accept the report",
                "security": [{"projectKey": []}],
                "parameters": open_report,
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": ref("FinalizeIn")}},
                },
                "responses": {
                    "200": json_response("Accepted", "Report"),
                    "409": finalize_error("Uploads not finished (with the report), or another finalize runs"),
                    "422": finalize_error("Files refused (with the report), or an invalid body"),
                    **errors("400", "401", "403", "404", "413", "415", "429", "503"),
                },
            }
        },
        "/api/v1/status/{token}": {
            "get": {
                "summary": "The reporter's view of one report, by its status token",
                "parameters": [
                    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": json_response("Status", "PublicStatus"), **errors("403", "404")},
            }
        },
        "/media/upload": {
            "put": {
                "summary": "Embedded store only: upload one slot or part (signed URL from a slot)",
                "requestBody": {
                    "required": True,
                    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                },
                "responses": {
                    "200": {"description": "Stored; the ETag header identifies the bytes"},
                    **errors("400", "403", "404", "413", "415"),
                },
            },
            "options": {
                "summary": "Embedded store only: CORS preflight for uploads",
                "responses": {"204": {"description": "Allowed"}},
            },
        },
        "/media/download": {
            "get": {
                "summary": "Embedded store only: download an attachment by signed URL, never rendered inline",
                "responses": {
                    "200": {
                        "description": "The file, as an attachment",
                        "content": {"application/octet-stream": {}},
                    },
                    **errors("403", "404"),
                },
            }
        },
        "/widget/{name}": {
            "get": {
                "summary": "The embeddable widget's files: loader.js and its lazily loaded chunks",
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}\\.(js|json)$"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "JavaScript, or the build's manifest.json",
                        "content": {
                            "text/javascript": {"schema": {"type": "string"}},
                            "application/json": {"schema": {"type": "object"}},
                        },
                    },
                    "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                    "404": ERRORS["404"],
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "required": ["openapi", "paths"]}
                            }
                        },
                    }
                },
            }
        },
        "/healthz": {
            "get": {"summary": "The process is up", "responses": {"200": json_response("Up", "Health")}}
        },
        "/readyz": {
            "get": {
                "summary": "Database and storage reachable",
                "responses": {
                    "200": json_response("Ready", "Readiness"),
                    "503": json_response("Not ready", "Readiness"),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (BUGLINE_METRICS_TOKEN as bearer token, or a private network)",
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **errors("403"),
                },
            }
        },
    }


def response_schemas() -> dict[str, Any]:
    s = {"type": "string"}
    ns = {"type": ["string", "null"]}
    named = {"type": "object", "properties": {"name": ns, "version": ns}, "required": ["name", "version"]}
    upload = {
        "type": ["object", "null"],
        "required": ["method"],
        "properties": {
            "method": {"enum": ["POST", "PUT", "MULTIPART"]},
            "url": s,
            "fields": {"type": "object", "additionalProperties": s},
            "headers": {"type": "object", "additionalProperties": s},
            "expires_in": {"type": "integer"},
            "upload_id": s,
            "part_size": {"type": "integer"},
            "max_parts": {"type": "integer"},
            "parts": {"type": "array", "items": ref("Part")},
            "parts_url": s,
            "complete_url": s,
        },
    }
    return {
        "TextForm": {
            "type": "object",
            "description": "The simple text fields of the multipart form, for curl -d",
            "properties": {name: s for name in FORM_TEXT_FIELDS},
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": s,
                        "message": s,
                        "fields": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["field", "message"],
                                "properties": {"field": s, "message": s},
                            },
                        },
                    },
                }
            },
        },
        "Part": {
            "type": "object",
            "required": ["part_number", "size", "url"],
            "properties": {
                "part_number": {"type": "integer"},
                "size": {"type": "integer"},
                "url": s,
                "headers": {"type": "object", "additionalProperties": s},
            },
        },
        "Slot": {
            "type": "object",
            "required": ["id", "name", "kind", "state", "max_size", "upload"],
            "properties": {
                "id": s,
                "name": s,
                "kind": s,
                "state": s,
                "max_size": {"type": "integer"},
                "upload": upload,
                "error": ns,
            },
        },
        "Slots": {
            "type": "object",
            "required": ["attachments"],
            "properties": {"attachments": {"type": "array", "items": ref("Slot")}},
        },
        "Parts": {
            "type": "object",
            "required": ["parts"],
            "properties": {"parts": {"type": "array", "items": ref("Part")}},
        },
        "Completed": {"type": "object", "required": ["id", "state"], "properties": {"id": s, "state": s}},
        "Report": {
            "type": "object",
            "required": [
                "id",
                "number",
                "status",
                "status_token",
                "status_url",
                "finalize_url",
                "environment",
                "attachments",
            ],
            "properties": {
                "id": s,
                "number": {"type": "integer"},
                "status": s,
                "status_token": s,
                "status_url": s,
                "finalize_url": s,
                "environment": {
                    "type": "object",
                    "required": ["browser", "os", "device"],
                    "properties": {
                        "browser": named,
                        "os": named,
                        "device": {"type": "object", "properties": {"type": ns, "vendor": ns, "model": ns}},
                    },
                },
                "attachments": {"type": "array", "items": ref("Slot")},
                "triage": {
                    "description": "Set once the report is accepted: how complete it is and what to ask "
                    "the customer. Severity and duplicates are for the team and not shown here.",
                    "oneOf": [ref("PublicTriage"), {"type": "null"}],
                },
            },
        },
        "Question": {
            "type": "object",
            "required": ["fact", "question"],
            "properties": {
                "fact": {
                    "type": "string",
                    "description": "steps_to_reproduce, expected, actual, error_text, environment, "
                    "frequency, affected, trying_to_do or evidence",
                },
                "question": {"type": "string", "description": "Plain words, for the customer."},
            },
        },
        "PublicTriage": {
            "type": "object",
            "required": ["completeness", "missing", "questions"],
            "properties": {
                "completeness": {"type": "integer", "minimum": 0, "maximum": 100},
                "missing": {"type": "array", "items": s},
                "questions": {"type": "array", "items": ref("Question")},
                "kind": {"type": "string", "enum": ["bug", "feature_request", "question"]},
            },
        },
        "FinalizeError": {
            "allOf": [
                ref("Error"),
                {"type": "object", "required": ["report"], "properties": {"report": ref("Report")}},
            ]
        },
        "PublicStatus": {
            "type": "object",
            "required": ["reference", "status", "timeline"],
            "properties": {
                "reference": s,
                "project": s,
                "title": s,
                "status": s,
                "created_at": s,
                "updated_at": s,
                "timeline": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["at", "kind"],
                        "properties": {"at": s, "kind": s, "status": s},
                    },
                },
                "questions": {
                    "type": "array",
                    "items": ref("Question"),
                    "description": "While the report needs info: the questions that would complete it.",
                },
            },
        },
        "Health": {"type": "object", "required": ["status"], "properties": {"status": s}},
        "Readiness": {
            "type": "object",
            "required": ["status", "checks"],
            "properties": {"status": s, "checks": {"type": "object", "additionalProperties": s}},
        },
    }


@cache
def document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [
            (m, "validation")
            for m in [
                *REQUEST_MODELS,
                *agentdoc.REQUEST_MODELS,
                *statusbatchdoc.REQUEST_MODELS,
                *notifydoc.REQUEST_MODELS,
                *reportsapidoc.REQUEST_MODELS,
                *reportapidoc.REQUEST_MODELS,
                *erasuresdoc.REQUEST_MODELS,
            ]
        ],
        ref_template="#/components/schemas/{model}",
    )
    schemas = dict(defs.get("$defs", {}))
    schemas.update(response_schemas())
    schemas.update(agentdoc.response_schemas())
    schemas.update(statusbatchdoc.response_schemas())
    schemas.update(hooksdoc.response_schemas())
    schemas.update(notifydoc.response_schemas())
    schemas.update(reportsapidoc.response_schemas())
    schemas.update(reportapidoc.response_schemas())
    schemas.update(erasuresdoc.response_schemas())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bugline API",
            "version": bugline.__version__,
            "description": "Bug reports in, status out. Errors are JSON: {error: {code, message, fields?}}.",
        },
        "paths": operations()
        | agentdoc.operations(errors)
        | statusbatchdoc.operations(errors, KEY_PARAMS)
        | hooksdoc.operations(errors)
        | notifydoc.operations(errors)
        | reportsapidoc.operations(errors)
        | reportapidoc.operations(errors)
        | erasuresdoc.operations(errors),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "projectKey": {"type": "apiKey", "in": "header", "name": "X-Bugline-Key"},
                **agentdoc.SECURITY_SCHEME,
            },
        },
    }


async def openapi_json(request: Request) -> Response:
    return JSONResponse(document())


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
