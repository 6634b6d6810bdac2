"""Agent API: GET /api/v1/projects/{project_id}/reports: the agent API's report list (issue 7)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
