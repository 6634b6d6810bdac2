"""Dashboard: projects and their set-up at /projects, the agent's account and tokens at /account (issue 7).

Handlers live in ``bugline.projectadmin`` (one module per page group); this is the table.
Every /projects/{id}… route checks membership first (404 for a non-member, as for a missing
id), then the role (reading: agent; set-up: lead; members: admin), then the form's CSRF token.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from bugline.projectadmin import (
    accountpages,
    connectorpages,
    memberpages,
    notificationpages,
    projectpages,
    routingpages,
    settingpages,
)

P = "/projects/{project_id:str}"
GET, POST = ["GET"], ["POST"]

routes: list[BaseRoute] = [
    Route("/projects", projectpages.projects, methods=GET),
    Route("/projects", projectpages.create, methods=POST),
    Route(P, projectpages.overview, methods=GET),
    Route(f"{P}/name", projectpages.rename, methods=POST),
    Route(f"{P}/key", projectpages.rotate_key, methods=POST),
    Route(f"{P}/origins", projectpages.origins, methods=POST),
    Route(f"{P}/connectors", connectorpages.listing, methods=GET),
    Route(f"{P}/connectors", connectorpages.add, methods=POST),
    Route(f"{P}/connectors/new", connectorpages.new, methods=GET),
    Route(f"{P}/connectors/{{connector_id:str}}", connectorpages.edit, methods=GET),
    Route(f"{P}/connectors/{{connector_id:str}}", connectorpages.save, methods=POST),
    Route(f"{P}/connectors/{{connector_id:str}}/enabled", connectorpages.enabled, methods=POST),
    Route(f"{P}/connectors/{{connector_id:str}}/remove", connectorpages.remove, methods=POST),
    Route(f"{P}/connectors/{{connector_id:str}}/check", connectorpages.check, methods=POST),
    Route(f"{P}/connectors/{{connector_id:str}}/test", connectorpages.test, methods=POST),
    Route(f"{P}/routing", routingpages.show, methods=GET),
    Route(f"{P}/routing", routingpages.save, methods=POST),
    Route(f"{P}/routing/dry-run", routingpages.dry_run, methods=POST),
    Route(f"{P}/sla", settingpages.sla, methods=["GET", "POST"]),
    Route(f"{P}/triage", settingpages.triage, methods=["GET", "POST"]),
    Route(f"{P}/notifications", notificationpages.overview, methods=GET),
    Route(f"{P}/notifications", notificationpages.save_preferences, methods=POST),
    Route(f"{P}/notifications/{{kind:str}}", notificationpages.editor, methods=GET),
    Route(f"{P}/notifications/{{kind:str}}", notificationpages.save, methods=POST),
    Route(f"{P}/notifications/{{kind:str}}/preview", notificationpages.show_preview, methods=POST),
    Route(f"{P}/notifications/{{kind:str}}/reset", notificationpages.reset, methods=POST),
    Route(f"{P}/members", memberpages.listing, methods=GET),
    Route(f"{P}/members", memberpages.add, methods=POST),
    Route(f"{P}/members/{{user_id:str}}", memberpages.change, methods=POST),
    Route(f"{P}/members/{{user_id:str}}/remove", memberpages.remove, methods=POST),
    Route("/account", accountpages.account, methods=GET),
    Route("/account/name", accountpages.name, methods=POST),
    Route("/account/password", accountpages.password, methods=POST),
    Route("/account/tokens", accountpages.create_token, methods=POST),
    Route("/account/tokens/{token_id:str}/revoke", accountpages.revoke_token, methods=POST),
    Route("/account/users", accountpages.users, methods=["GET", "POST"]),
]
