"""The inbound status webhooks' part of /openapi.json: ``POST /hooks/{connector_id}``.

Merged by openapi.py: ``"paths": ... | hooksdoc.operations(errors)`` and
``schemas.update(hooksdoc.response_schemas())``. Which headers a delivery carries depends on the
connector's kind; each is listed, optional here, required by that vendor's check."""

from __future__ import annotations

from typing import Any

from bugline.hooks.signatures import SECRET_HEADER, SECRET_PARAMETER

# (header, which vendor sends it, what it is)
HEADERS: list[tuple[str, str]] = [
    ("X-Zendesk-Webhook-Signature", "Zendesk: base64(HMAC-SHA256(secret, timestamp + body))"),
    ("X-Zendesk-Webhook-Signature-Timestamp", "Zendesk: ISO 8601; refused more than 5 minutes off"),
    ("X-Zendesk-Webhook-Invocation-Id", "Zendesk: de-duplication"),
    ("X-Hub-Signature-256", "GitHub: sha256=hex(HMAC-SHA256(secret, body))"),
    ("X-GitHub-Event", "GitHub: issues (closed, reopened, labeled) or ping"),
    ("X-GitHub-Delivery", "GitHub: de-duplication"),
    ("X-Hub-Signature", "Jira: sha256=hex(HMAC-SHA256(secret, body))"),
    ("X-Atlassian-Webhook-Identifier", "Jira: de-duplication"),
    ("Linear-Signature", "Linear: hex(HMAC-SHA256(secret, body)); body.webhookTimestamp within 60 s"),
    ("Linear-Delivery", "Linear: de-duplication"),
    ("X-Slack-Signature", "Slack: v0=hex(HMAC-SHA256(secret, 'v0:' + timestamp + ':' + body))"),
    ("X-Slack-Request-Timestamp", "Slack: Unix seconds; refused more than 5 minutes off"),
    (SECRET_HEADER, "Freshdesk (or django-helpdesk): the connector's webhook_secret itself"),
]


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": description,
    }


def operations(errors: Any) -> dict[str, Any]:
    """``errors(*codes)`` is openapi.py's shared error responses."""
    parameters = [
        {"name": "connector_id", "in": "path", "required": True, "schema": {"type": "string"}},
        {
            "name": SECRET_PARAMETER,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "django-helpdesk (whose webhook settings are bare URLs): the connector's "
            f"webhook_secret. Freshdesk sends it in {SECRET_HEADER} instead.",
        },
        *(_header(name, text) for name, text in HEADERS),
    ]
    result = {"application/json": {"schema": {"$ref": "#/components/schemas/HookResult"}}}
    ignored = {"application/json": {"schema": {"$ref": "#/components/schemas/HookIgnored"}}}
    return {
        "/hooks/{connector_id}": {
            "post": {
                "summary": "A helpdesk's or tracker's status webhook for one connector (set its "
                "webhook_secret); the ticket's whole duplicate group moves and every reporter is told",
                "description": "The body is the vendor's own (JSON; Slack: a form with payload=JSON), at "
                "most 1 MB, verified exactly as the vendor signs it: unsigned, mis-signed, stale and "
                "replayed deliveries get 401 saying why. Freshdesk and django-helpdesk sign nothing: "
                "the shared secret is checked and the ticket is read back from the vendor. A repeated "
                "delivery answers 200 with duplicate: true and changes nothing.",
                "parameters": parameters,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "application/x-www-form-urlencoded": {
                            "schema": {"type": "object", "properties": {"payload": {"type": "string"}}}
                        },
                    },
                },
                "responses": {
                    "200": {"description": "Applied, or a repeat (duplicate: true)", "content": result},
                    "202": {
                        "description": "Genuine, but no status change: another event, or a ticket "
                        "Bugline did not create",
                        "content": ignored,
                    },
                    "503": {
                        "description": "The ticket could not be read back from the vendor; nothing "
                        "changed: deliver again (see Retry-After)",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                    **errors("400", "401", "404", "413"),
                },
            }
        }
    }


def response_schemas() -> dict[str, Any]:
    s = {"type": "string"}
    return {
        "HookResult": {
            "type": "object",
            "required": ["duplicate"],
            "properties": {
                "duplicate": {"type": "boolean", "description": "true: seen before; nothing changed"},
                "ticket": {**s, "description": "The vendor's ticket id, as the connector stored it"},
                "vendor_state": {**s, "description": "The vendor's own word for the state"},
                "status": {
                    "type": "string",
                    "enum": ["open", "in_progress", "resolved", "cannot_reproduce", "closed", "reopened"],
                    "description": "What the state means for Bugline; open: reopens a finished "
                    "report, otherwise changes nothing",
                },
                "reports": {"type": "integer", "description": "Reports in the ticket's group"},
                "changed": {"type": "integer", "description": "Reports whose status changed"},
            },
        },
        "HookIgnored": {
            "type": "object",
            "required": ["ignored"],
            "properties": {"ignored": {**s, "description": "Why nothing changed"}},
        },
    }
