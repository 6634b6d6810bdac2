"""POST /hooks/{connector_id}: a helpdesk's or tracker's status webhook, one URL per connector.

In order: the body (at most MAX_BODY bytes, 413), the connector (an unknown id, or a kind
with no status to send back, is a bare 404), its ``webhook_secret`` (401 when none is set),
the vendor's own signature and freshness check (401 saying why: unsigned, mis-signed, stale),
what the delivery says (400 when it is not the vendor's shape; 202 when it changes no status
or names a ticket Bugline did not create), for vendors that sign nothing the ticket read back
from the vendor (503 when it cannot be read: nothing changed, deliver again), then one
transaction (hooks/apply.py): a repeat answers 200 ``{"duplicate": true}`` and changes
nothing. Per-vendor rules: the modules of bugline.hooks.

No rate limit by IP: a helpdesk sends bursts from a few addresses, and what protects the
endpoint is the signature (HMAC keys cannot be guessed online) or, for shared secrets, their
minimum length (signatures.shared). A disabled connector still receives: its tickets exist and
their outcome is still the customer's news.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bugline.connectors import configs
from bugline.connectors.base import InvalidSettings
from bugline.connectors.base import Ticket as RemoteTicket
from bugline.db.models import ConnectorConfig, utcnow
from bugline.errors import ApiError
from bugline.hooks import apply
from bugline.hooks.inbound import Event, Ignored, Inbound, Malformed, Rejected, Unavailable, Vendor
from bugline.hooks.vendors import vendor as vendor_for
from bugline.routes.edge import app_state, read_body
from bugline.state import AppState

log = logging.getLogger("bugline.hooks")

MAX_BODY = 1_000_000  # bytes; issue and ticket events are a few KiB (GitHub caps payloads at 25 MB)
_ID = re.compile(r"^[0-9a-f]{32}$")
# Shape errors a hostile but correctly signed body could still provoke deep in a reader.
_SHAPE_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError)


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "there is no webhook at this address")


async def _connector(state: AppState, connector_id: str) -> ConnectorConfig | None:
    if not _ID.match(connector_id):
        return None
    async with state.readers() as session:
        return await session.get(ConnectorConfig, connector_id)


def _read(vendor: Vendor, inbound: Inbound, secret: str) -> Event | Ignored:
    try:
        vendor.verify(inbound, secret)
    except Rejected as exc:
        log.warning("webhook refused (%s): %s", vendor.kind, exc)
        raise ApiError(401, "webhook_rejected", str(exc)) from None
    except _SHAPE_ERRORS as exc:
        raise ApiError(
            401, "webhook_rejected", f"the delivery cannot be verified: {type(exc).__name__}"
        ) from None
    try:
        return vendor.read(inbound)
    except Malformed as exc:
        raise ApiError(400, "malformed_webhook", str(exc)) from None
    except _SHAPE_ERRORS as exc:
        raise ApiError(
            400,
            "malformed_webhook",
            f"the body does not have the shape of a {vendor.via}: {type(exc).__name__}",
        ) from None


async def _confirmed(state: AppState, row: ConnectorConfig, vendor: Vendor, event: Event) -> Event | Ignored:
    """For vendors that sign nothing: the ticket read back through the connector."""
    async with state.readers() as session:
        found = await session.run_sync(
            lambda s: apply.tickets(s.connection(), row.id, event.remote_id, fold_case=event.fold_case)
        )
    if not found:
        return Ignored("unknown ticket")
    try:
        connector = configs.instance(row, state.outbox.http)
    except InvalidSettings as exc:
        raise ApiError(503, "connector_settings", f"the connector's settings are invalid: {exc}") from None
    ticket = found[0]
    remote = RemoteTicket(remote_id=ticket.remote_id or "", url=ticket.url or "", data=dict(ticket.data))
    try:
        return await vendor.confirm(connector, remote, event)
    except Unavailable as exc:
        raise ApiError(503, "vendor_unavailable", str(exc), headers={"Retry-After": "60"}) from None
    except _SHAPE_ERRORS as exc:
        raise ApiError(
            503, "vendor_unavailable", f"the ticket read back was not understood: {type(exc).__name__}"
        ) from None


async def receive(request: Request) -> Response:
    state = app_state(request)
    body = await read_body(request, MAX_BODY)
    row = await _connector(state, request.path_params["connector_id"])
    vendor = vendor_for(row.kind) if row is not None else None
    if row is None or vendor is None:
        raise _not_found()
    secret = row.config.get("webhook_secret")
    if not isinstance(secret, str) or not secret:
        raise ApiError(
            401,
            "no_webhook_secret",
            "this connector has no webhook_secret, so no delivery can be verified: set it to the "
            "vendor's signing secret (bugline connector, or the agent API)",
        )
    inbound = Inbound(body=body, headers=request.headers, query=request.query_params, now=utcnow())
    event = _read(vendor, inbound, secret)
    if isinstance(event, Event) and not event.to:
        event = await _confirmed(state, row, vendor, event)
    if isinstance(event, Ignored):
        return JSONResponse({"ignored": event.reason}, status_code=202)
    confirmed = event
    try:
        outcome = await state.writer.run(
            lambda conn: apply.apply(conn, row, confirmed, vendor.via, inbound.now)
        )
    except IntegrityError:  # the same delivery, applied a moment ago by a concurrent request
        outcome = apply.Outcome(duplicate=True)
    if outcome.duplicate:
        return JSONResponse({"duplicate": True})
    if outcome.unknown_ticket:
        return JSONResponse({"ignored": "unknown ticket"}, status_code=202)
    log.info(
        "webhook %s ticket %s: %s -> %s, %d of %d reports changed",
        vendor.kind,
        event.remote_id,
        event.state,
        event.to,
        outcome.changed,
        outcome.reports,
    )
    answer: dict[str, Any] = {
        "duplicate": False,
        "ticket": event.remote_id,
        "vendor_state": event.state,
        "status": event.to,
        "reports": outcome.reports,
        "changed": outcome.changed,
    }
    return JSONResponse(answer)


routes = [Route("/hooks/{connector_id}", receive, methods=["POST"])]
