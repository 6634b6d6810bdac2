"""The /openapi.json part of routes/reportapi.py: one report read and acted on (issue 7),
described from the pydantic models that validate the bodies, and the report as
``agentops.view`` builds it for the page and the API alike."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bugline.routes.reportapi import MergeIn, NoteIn, ReportUpdate

REQUEST_MODELS: list[type[BaseModel]] = [ReportUpdate, NoteIn, MergeIn]
SECURITY: list[dict[str, list[str]]] = [{"apiToken": []}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, name: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


PARAMS = [
    _path("project_id", "The project's id"),
    _path("report_id", "The report's id, or its number in the project (42)"),
]
BASE = "/api/v1/projects/{project_id}/reports/{report_id}"


def operations(errors: Any) -> dict[str, Any]:
    """``errors(*codes)`` is openapi.py's shared error responses."""
    read = errors("401", "404", "429")
    write = errors("400", "401", "403", "404", "409", "413", "415", "422", "429")
    return {
        BASE: {
            "get": {
                "summary": "Everything about a report, as its dashboard page shows it",
                "description": "The checklist with missing facts flagged, severity with triage's reasons "
                "(and an agent's override), files with short-lived download links, environment, console, "
                "failed requests, metadata, the reporter and their other reports, the duplicate group, "
                "deliveries, linked tickets and the timeline (events and notifications).",
                "security": SECURITY,
                "parameters": PARAMS,
                "responses": {"200": _json("The report", "ReportDetail"), **read},
            },
            "patch": {
                "summary": "Edit fields (re-triaged), change severity with a reason, or change status",
                "description": "Everything given is applied in one transaction, in this order: fields, "
                "severity, status. A severity set here is kept over later automatic re-triage until "
                "severity 'auto' hands it back; each change is a severity_changed event with its reason.",
                "security": SECURITY,
                "parameters": PARAMS,
                "requestBody": _body("ReportUpdate"),
                "responses": {"200": _json("The report after the change", "ReportDetail"), **write},
            },
        },
        BASE + "/notes": {
            "post": {
                "summary": "Add an internal note (team only) or a public reply (mailed to the customer)",
                "security": SECURITY,
                "parameters": PARAMS,
                "requestBody": _body("NoteIn"),
                "responses": {"201": _json("Added", "NoteAdded"), **write},
            }
        },
        BASE + "/merge": {
            "post": {
                "summary": "Merge the report into another report's duplicate group",
                "security": SECURITY,
                "parameters": PARAMS,
                "requestBody": _body("MergeIn"),
                "responses": {"200": _json("The report in its new group", "ReportDetail"), **write},
            }
        },
        BASE + "/split": {
            "post": {
                "summary": "Split the report out of its duplicate group into a group of its own",
                "security": SECURITY,
                "parameters": PARAMS,
                "responses": {
                    "200": _json("The report in its own group", "ReportDetail"),
                    **errors("401", "403", "404", "409", "429"),
                },
            }
        },
    }


def response_schemas() -> dict[str, Any]:
    s = {"type": "string"}
    ns = {"type": ["string", "null"]}
    ni = {"type": ["integer", "null"]}
    b = {"type": "boolean"}
    strings = {"type": "array", "items": s}

    def obj(required: list[str], **props: Any) -> dict[str, Any]:
        return {"type": "object", "required": required, "properties": props}

    def nullable(schema: dict[str, Any]) -> dict[str, Any]:
        return {"oneOf": [schema, {"type": "null"}]}

    brief = obj(
        ["id", "number", "title", "status"],
        id=s,
        number={"type": "integer"},
        title=s,
        status=s,
        severity=ns,
        created_at=ns,
    )
    return {
        "ReportDetail": obj(
            [
                "id",
                "project_id",
                "number",
                "reference",
                "title",
                "status",
                "checklist",
                "severity",
                "environment",
                "console",
                "network",
                "metadata",
                "reporter",
                "attachments",
                "duplicates",
                "similar",
                "deliveries",
                "tickets",
                "timeline",
            ],
            id=s,
            project_id=s,
            number={"type": "integer"},
            reference={"type": "string", "description": "#42"},
            title=s,
            status=s,
            source=s,
            kind=ns,
            category=ns,
            categories=strings,
            completeness=ni,
            missing={**strings, "description": "Checklist facts triage found missing"},
            unread_language={
                **s,
                "description": "The language the report is written in when triage does not read it, "
                "as a code ('es'), else empty: its facts are unchecked, not missing, and the customer "
                "is not asked for them",
            },
            unread_language_name={**s, "description": "unread_language in words ('Spanish')"},
            unchecked={**strings, "description": "Facts triage could not check (see unread_language)"},
            created_at=ns,
            updated_at=ns,
            triaged_at=ns,
            checklist={
                "type": "array",
                "items": obj(
                    ["name", "label", "value", "missing"],
                    name=s,
                    label=s,
                    value=s,
                    words={**s, "description": "A choice in words: 'Every time' for always"},
                    missing=b,
                    question={**s, "description": "Triage's question for the customer when missing"},
                    note=s,
                ),
            },
            severity=obj(
                ["level", "set_by", "override", "triage"],
                level=ns,
                set_by={"enum": ["agent", "triage"]},
                override=nullable(obj(["level", "by", "at", "reason"], level=s, by=ns, at=ns, reason=ns)),
                triage=obj(
                    ["level", "reasons"],
                    level=ns,
                    score={"type": ["number", "null"]},
                    reasons=strings,
                ),
            ),
            environment={"type": "object", "additionalProperties": True},
            console={
                "type": "array",
                "items": obj(
                    ["level", "message"], level=s, message=s, stack=s, source=s, count={"type": "integer"}
                ),
            },
            network={
                "type": "array",
                "items": obj(
                    ["method", "url", "status"],
                    method=s,
                    url=s,
                    status={"type": "integer"},
                    duration_ms={"type": ["number", "null"]},
                    error=s,
                ),
            },
            metadata={"type": "array", "items": obj(["key", "value"], key=s, value={})},
            reporter=nullable(
                obj(
                    ["id", "other_reports"],
                    id=s,
                    name=ns,
                    email=ns,
                    external_id=ns,
                    account=ns,
                    plan=ns,
                    locale=ns,
                    unsubscribed=b,
                    other_reports={"type": "array", "items": brief},
                )
            ),
            attachments={
                "type": "array",
                "items": obj(
                    ["id", "kind", "filename", "state", "download_url"],
                    id=s,
                    kind=s,
                    filename=s,
                    content_type=ns,
                    size=ni,
                    state=s,
                    error=ns,
                    sha256=ns,
                    download_url={
                        "type": ["string", "null"],
                        "description": "A short-lived download link (null until the file is stored)",
                    },
                ),
            },
            duplicates=nullable(
                obj(
                    ["group_id", "status", "reports", "reporters", "accounts", "members"],
                    group_id=s,
                    status=s,
                    reports={"type": "integer"},
                    reporters={"type": "integer"},
                    accounts={"type": "integer"},
                    primary_report_id=ns,
                    reasons=strings,
                    members={"type": "array", "items": brief},
                )
            ),
            similar={
                "type": "array",
                "description": "Open reports of other duplicate groups that may be the same problem, "
                "best first (at most 3), with why: the agent merges them (POST .../merge)",
                "items": obj(
                    ["id", "number", "title", "status", "score", "reasons"],
                    id=s,
                    number={"type": "integer"},
                    title=s,
                    status=s,
                    severity=ns,
                    score={"type": "number", "description": "0..2: signature similarity plus word overlap"},
                    reasons=strings,
                ),
            },
            deliveries={
                "type": "array",
                "items": obj(
                    ["id", "connector", "action", "state", "attempts"],
                    id=s,
                    connector=s,
                    connector_kind=s,
                    action=s,
                    state=s,
                    attempts={"type": "integer"},
                    outcome=ns,
                    last_error=ns,
                    last_status=ni,
                    available_at=ns,
                    done_at=ns,
                ),
            },
            tickets={
                "type": "array",
                "items": obj(
                    ["id", "connector", "state"],
                    id=s,
                    connector=s,
                    connector_kind=s,
                    state=s,
                    remote_id=ns,
                    url=ns,
                    created_at=ns,
                ),
            },
            timeline={
                "type": "array",
                "items": obj(
                    ["type", "id", "at", "kind", "actor_type", "public", "data"],
                    type={"enum": ["event", "notification"]},
                    id=s,
                    at=ns,
                    kind=s,
                    actor_type=s,
                    actor=ns,
                    public=b,
                    data={"type": "object"},
                ),
            },
        ),
        "NoteAdded": obj(
            ["event_id", "visibility", "mailed", "not_mailed_because"],
            event_id={"type": "integer"},
            visibility={"enum": ["internal", "public"]},
            mailed=b,
            not_mailed_because=ns,
        ),
    }
