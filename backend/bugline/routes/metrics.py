"""GET /metrics: Prometheus text format, for scrapers only.

Report volumes and queue depths are business information, so /metrics answers a scraper
that sends ``BUGLINE_METRICS_TOKEN`` as a bearer token, or, with no token configured, only
loopback and private-network addresses (a scraper inside the cluster), never the internet.
"""

from __future__ import annotations

import hmac
import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bugline.db.models import utcnow
from bugline.errors import ApiError
from bugline.observe import metrics, queues
from bugline.routes.edge import app_state, client_ip


def _allowed(request: Request) -> bool:
    settings = app_state(request).settings
    if settings.metrics_token:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        )
    try:
        address = ipaddress.ip_address(client_ip(request, settings.trusted_proxies))
    except ValueError:
        return False
    return address.is_loopback or address.is_private


async def scrape(request: Request) -> Response:
    if not _allowed(request):
        raise ApiError(
            403,
            "forbidden",
            "send BUGLINE_METRICS_TOKEN as 'Authorization: Bearer ...' "
            "(or scrape from a private network when no token is set)",
        )
    state = app_state(request)
    now = utcnow()
    async with state.readers() as session:
        rows = await session.run_sync(lambda s: queues.read(s.connection(), now))
    per_scrape = CollectorRegistry(auto_describe=True)
    per_scrape.register(metrics.QueueCollector(lambda: rows, lambda: now))
    body = generate_latest(metrics.REGISTRY) + generate_latest(per_scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


routes = [Route("/metrics", scrape, methods=["GET"])]
