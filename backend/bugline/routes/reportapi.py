"""Agent API: the agent API's report read, update and forward (issue 7)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
