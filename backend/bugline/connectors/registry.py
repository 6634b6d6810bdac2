"""Every connector kind Bugline ships, listed explicitly (no folder scanning: what ships is
what this table says, in this order, which is also the order `bugline connector kinds`
prints). Modules are imported on first use, so a process that never forwards does not pay
for nine vendor modules."""

from __future__ import annotations

import importlib

from bugline.connectors.base import Connector

# kind -> "module:Class"
KINDS: dict[str, str] = {
    "zendesk": "bugline.connectors.zendesk:ZendeskConnector",
    "jira": "bugline.connectors.jira:JiraConnector",
    "freshdesk": "bugline.connectors.freshdesk:FreshdeskConnector",
    "github": "bugline.connectors.github:GitHubConnector",
    "linear": "bugline.connectors.linear:LinearConnector",
    "slack": "bugline.connectors.slack:SlackConnector",
    "email": "bugline.connectors.email:EmailConnector",
    "webhook": "bugline.connectors.webhook:WebhookConnector",
    "django-helpdesk": "bugline.connectors.djangohelpdesk:DjangoHelpdeskConnector",
}


def kinds() -> list[str]:
    return list(KINDS)


def get(kind: str) -> type[Connector]:
    """The connector class for ``kind``; KeyError names the kinds that exist."""
    try:
        path = KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown connector kind {kind!r}; known: {', '.join(KINDS)}") from None
    module, _, name = path.partition(":")
    cls: type[Connector] = getattr(importlib.import_module(module), name)
    if cls.kind != kind:
        raise RuntimeError(f"{path} says its kind is {cls.kind!r}, registered as {kind!r}")
    return cls
