"""Dashboard: the report page at /reports/{id} and its actions (issue 7)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
