"""A webhook receiver as a customer would write one, following docs/webhooks.md: verify the
Bugline signature and freshness, de-duplicate on Bugline-Webhook-Id, answer where the report
landed. No vendor spec exists for our own format: the checks are our documented contract."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bugline.connectors.webhook import verify
from tests.support.vendors.server import FakeVendor

SECRET = "receiver-secret-0123456789"


class FakeReceiver(FakeVendor):
    def __init__(self, secret: str = SECRET) -> None:
        super().__init__(None)
        self.secret = secret
        self.deliveries: dict[str, dict[str, Any]] = {}  # Bugline-Webhook-Id -> first payload
        self.received: list[dict[str, Any]] = []  # every verified payload, repeats included
        self.refused = 0

    def routes(self) -> list[BaseRoute]:
        return [Route("/hook", self.hook, methods=["POST"])]

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not verify(self.secret, headers, body, now=time.time()):
            self.refused += 1
            return JSONResponse({"error": "bad signature"}, status_code=401)
        payload = await request.json()
        self.received.append(payload)
        key = headers["bugline-webhook-id"]
        first = self.deliveries.setdefault(key, payload)
        number = list(self.deliveries).index(key) + 1
        del first
        return JSONResponse({"id": f"T-{number}", "url": f"{self.url}/tickets/{number}"}, status_code=200)

    def reports(self) -> list[dict[str, Any]]:
        """The distinct reports received (one per delivery id), in order."""
        return list(self.deliveries.values())
