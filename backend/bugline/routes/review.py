"""Dashboard: the monthly review at /review, with charts and a CSV export (issue 7)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
