"""Every HTTP request: an id (the caller's ``X-Request-ID`` when it is a sane token, else a
new one) echoed in the response and carried by every log line written while serving it,
and the request counted and timed for /metrics under its route template."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bugline.observe import logs, metrics

# A load balancer's or the widget's id is reused so one id spans the hops; anything else
# (too long, odd characters: log injection) is replaced.
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_CONVERTER = re.compile(r"\{(\w+):\w+\}")


def route_templates(routes: list[BaseRoute]) -> dict[Any, str]:
    """endpoint -> path template as /openapi.json writes it (``{token}``, not ``{token:str}``);
    a mounted app is labelled by its mount path."""
    out: dict[Any, str] = {}
    for route in routes:
        if isinstance(route, Route):
            out.setdefault(route.endpoint, _CONVERTER.sub(r"{\1}", route.path))
        elif isinstance(route, Mount):
            out.setdefault(route.app, route.path + "/{path}")
    return out


class RequestMiddleware:
    def __init__(self, app: ASGIApp, templates: dict[Any, str] | None = None) -> None:
        self.app = app
        self.templates = templates or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = given if _SANE.match(given) else uuid.uuid4().hex
        token = logs.request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)
            # Routing wrote the matched endpoint into this same scope; no match is one label,
            # so scanners probing random paths cannot grow the metrics without bound.
            route = self.templates.get(scope.get("endpoint"), "unmatched")
            method = scope.get("method", "GET")
            metrics.HTTP_REQUESTS.labels(route, method, str(status)).inc()
            metrics.HTTP_SECONDS.labels(route, method).observe(time.perf_counter() - started)
