"""Every dashboard page route, in matching order (``/reports/views`` before ``/reports/{id}``).

Pages for people, not API: /openapi.json leaves them out (its test reads this list)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from bugline.routes import dashauth, inbox, projects, reportpage, review

routes: list[BaseRoute] = [
    *dashauth.routes,
    *inbox.routes,
    *reportpage.routes,
    *projects.routes,
    *review.routes,
]
