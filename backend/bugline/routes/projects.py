"""Dashboard: projects and their set-up at /projects, the agent's account and tokens at /account (issue 7)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
