"""Polling the helpdesks that cannot be relied on to push: django-helpdesk sends each webhook
once, with a 3-second timeout and no retry, and a status PATCH through its API sends none at
all (docs/helpdesk.md). So the worker also reads back, every ``interval``, the status of the
tickets that still have open reports, and applies a change it had not seen.

What was seen is kept on the ticket (``data.vendor_status``), so only a *change* at the vendor
acts: a ticket still resolved there never undoes a customer's "still broken". A ticket Bugline
created starts Open (1), which is what an unseen ticket is taken to have been.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import httpx
from sqlalchemy import Connection, Table, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.connectors import configs
from bugline.connectors.base import InvalidSettings
from bugline.connectors.base import Ticket as TicketRef
from bugline.db.engine import Writer
from bugline.db.models import ConnectorConfig, Report, Ticket, utcnow
from bugline.hooks import apply, djangohelpdesk
from bugline.hooks.inbound import Event
from bugline.lifecycle import status as lifecycle
from bugline.workloop import Periodic

log = logging.getLogger("bugline.hooks")
TICKETS = cast(Table, Ticket.__table__)

# kind -> (its status code -> Bugline status or None, names for the timeline, a new ticket's code)
POLLED: dict[str, tuple[dict[int, str | None], dict[int, str], str]] = {
    "django-helpdesk": (djangohelpdesk.STATES, djangohelpdesk.NAMES, "1"),
}


def _watched(limit: int) -> Any:
    """Created tickets of enabled polled connectors whose group still has an open report."""
    open_report = exists(
        select(Report.id).where(
            Report.project_id == Ticket.project_id,
            or_(Report.duplicate_group_id == Ticket.group_key, Report.id == Ticket.group_key),
            Report.status.in_(list(lifecycle.OPEN)),
        )
    )
    return (
        select(Ticket, ConnectorConfig)
        .join(ConnectorConfig, ConnectorConfig.id == Ticket.connector_id)
        .where(
            ConnectorConfig.kind.in_(list(POLLED)),
            ConnectorConfig.enabled.is_(True),
            Ticket.state == "created",
            open_report,
        )
        .order_by(Ticket.created_at.desc())
        .limit(limit)
    )


async def poll(
    writer: Writer,
    readers: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    *,
    now: datetime | None = None,
    limit: int = 200,
) -> dict[str, int]:
    """One pass; returns how many tickets were unchanged, changed, or could not be read."""
    now = now or utcnow()
    async with readers() as session:
        rows = [(r[0], r[1]) for r in (await session.execute(_watched(limit))).all()]
    counts: dict[str, int] = {}
    for ticket, connector in rows:
        outcome = await _one(writer, http, ticket, connector, now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


async def _one(
    writer: Writer, http: httpx.AsyncClient, ticket: Ticket, c: ConnectorConfig, now: datetime
) -> str:
    states, names, initial = POLLED[c.kind]
    try:
        connector = configs.instance(c, http)
    except InvalidSettings:
        return "unreadable"
    fetch: Callable[..., Any] | None = getattr(connector, "fetch_status", None)
    if fetch is None:
        return "unreadable"
    status = await fetch(
        TicketRef(remote_id=ticket.remote_id or "", url=ticket.url or "", data=dict(ticket.data))
    )
    if not isinstance(status, str):
        return "unreadable"  # the vendor is down or refused: the next pass tries again
    seen = str((ticket.data or {}).get("vendor_status") or initial)
    if status == seen:
        return "unchanged"
    code = int(status) if status.isdigit() else -1

    def write(conn: Connection) -> int:
        conn.execute(
            update(TICKETS)
            .where(TICKETS.c.id == ticket.id)
            .values(data={**(ticket.data or {}), "vendor_status": status})
        )
        to = states.get(code)
        if to is None:
            return 0
        event = Event(remote_id=ticket.remote_id or "", state=names.get(code, status), to=to, keys=())
        source = lifecycle.Source("connector", c.name, via=f"{connector.title} poll")
        return len(apply.move(conn, lifecycle.group_reports(conn, ticket), event, source, now))

    await writer.run(write)
    return "changed"


class Poller(Periodic):
    """The loop in ``bugline worker`` (and the web process unless BUGLINE_NOTIFY_IN_WEB=false)."""

    name = "ticket-poll"

    def __init__(
        self,
        writer: Writer,
        readers: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        *,
        interval: float,
    ) -> None:
        super().__init__(interval=interval, log=log)
        self.writer = writer
        self.readers = readers
        self.http = http

    async def tick(self) -> None:
        await poll(self.writer, self.readers, self.http)
