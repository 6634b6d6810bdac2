"""The notification API's part of /openapi.json (``routes/notifyapi.py``): a project's own
templates and settings, and previews, described from the models that validate the bodies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bugline.notify.queue import KINDS
from bugline.routes.agentdoc import SECURITY
from bugline.routes.notifyapi import DraftIn, PreferencesIn, TemplateIn

REQUEST_MODELS: list[type[BaseModel]] = [TemplateIn, DraftIn, PreferencesIn]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, name: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _path(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _query(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


def operations(errors: Any) -> dict[str, Any]:
    """``errors(*codes)`` is openapi.py's shared error responses."""
    read = errors("401", "404", "429")
    write = errors("400", "401", "403", "404", "413", "415", "422", "429")
    project = [_path("project_id")]
    kind = [*project, _path("kind", {"enum": list(KINDS)})]
    locale = _query("locale", "a language the project writes in (de, en, ...)")
    base = "/api/v1/projects/{project_id}/notifications"
    return {
        f"{base}/templates": {
            "get": {
                "summary": "Kinds, languages, the variables and filters a template may use, and the "
                "project's own templates and settings",
                "security": SECURITY,
                "parameters": project,
                "responses": {"200": _json("Overview", "NotificationTemplates"), **read},
            }
        },
        f"{base}/templates/{{kind}}": {
            "put": {
                "summary": "Save the project's template for a kind (lead): any of subject, text, html, for "
                "every language or only `locale`; checked in the sandbox, refused with 422 naming the part",
                "security": SECURITY,
                "parameters": kind,
                "requestBody": _body("TemplateIn"),
                "responses": {"200": _json("Saved, with a preview", "SavedTemplate"), **write},
            },
            "delete": {
                "summary": "Back to the built-in template for a kind (lead); `locale` for one language's",
                "security": SECURITY,
                "parameters": [*kind, locale],
                "responses": {"204": {"description": "Removed"}, **errors("401", "403", "404", "422", "429")},
            },
        },
        f"{base}/templates/{{kind}}/preview": {
            "get": {
                "summary": "A kind as the customer would get it (nothing is sent; links are look-alikes), "
                "for a stored report or a made-up one",
                "security": SECURITY,
                "parameters": [*kind, locale, _query("report_id", "a report of the project; none: a sample")],
                "responses": {"200": _json("Preview", "NotificationPreview"), **read, **errors("422")},
            },
            "post": {
                "summary": "Preview a template before saving it",
                "security": SECURITY,
                "parameters": kind,
                "requestBody": _body("DraftIn"),
                "responses": {"200": _json("Preview", "NotificationPreview"), **write},
            },
        },
        f"{base}/settings": {
            "get": {
                "summary": "The project's notification settings: on or off, languages, team names, sender",
                "security": SECURITY,
                "parameters": project,
                "responses": {"200": _json("Settings", "NotificationSettings"), **read},
            },
            "put": {
                "summary": "Replace the project's notification settings (lead); templates are kept",
                "security": SECURITY,
                "parameters": project,
                "requestBody": _body("PreferencesIn"),
                "responses": {"200": _json("Saved", "NotificationSettings"), **write},
            },
        },
    }


def response_schemas() -> dict[str, Any]:
    s = {"type": "string"}
    strings = {"type": "array", "items": s}
    parts = {
        "type": "object",
        "properties": {"subject": s, "text": s, "html": s},
        "additionalProperties": False,
    }
    team = {"oneOf": [s, {"type": "object", "additionalProperties": s}]}
    settings = {
        "type": "object",
        "properties": {
            "enabled": {"type": "boolean"},
            "locale": s,
            "locales": strings,
            "team": team,
            "teams": {"type": "object", "additionalProperties": team},
            "from_name": s,
            "reply_to": s,
        },
        "additionalProperties": False,
    }
    preview = {
        "type": "object",
        "required": ["locale", "subject", "text", "html", "overridden", "problems", "sample"],
        "properties": {
            "kind": {"enum": list(KINDS)},
            "locale": s,
            "subject": s,
            "text": s,
            "html": s,
            "overridden": strings,
            "problems": strings,
            "sample": {"type": "boolean"},
        },
    }
    return {
        "NotificationTemplates": {
            "type": "object",
            "required": ["kinds", "locales", "variables", "filters", "templates", "settings"],
            "properties": {
                "kinds": strings,
                "locales": strings,
                "variables": strings,
                "filters": strings,
                "templates": {"type": "object", "additionalProperties": parts},
                "settings": _ref("NotificationSettings"),
            },
        },
        "NotificationSettings": settings,
        "NotificationPreview": preview,
        "SavedTemplate": {
            "type": "object",
            "required": ["kind", "locale", "template", "preview"],
            "properties": {
                "kind": {"enum": list(KINDS)},
                "locale": {"type": ["string", "null"]},
                "template": parts,
                "preview": _ref("NotificationPreview"),
            },
        },
    }
