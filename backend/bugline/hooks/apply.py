"""The one transaction a verified delivery runs: de-duplicate it, find its ticket, and move
every report of the ticket's duplicate group through ``lifecycle.change`` (the timeline entry
naming the source, each reporter's notification, the SLA timers), all or nothing.

The delivery's keys go into ``hook_deliveries`` (unique per connector) in that same
transaction, so a delivery is either applied and remembered or neither: a repeat finds its key
and changes nothing, and two copies racing on PostgreSQL meet the unique constraint, whose
error the caller reports as the duplicate it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.orm import Session

from bugline.db.models import ConnectorConfig, HookDelivery, ReportStatus, Ticket
from bugline.hooks import states
from bugline.hooks.inbound import Event
from bugline.lifecycle import status as lifecycle

TICKETS = cast(Table, Ticket.__table__)
HOOKS = cast(Table, HookDelivery.__table__)


@dataclass(frozen=True, slots=True)
class Outcome:
    duplicate: bool = False
    unknown_ticket: bool = False
    changed: int = 0
    reports: int = 0


def tickets(conn: Connection, connector_id: str, remote_id: str, *, fold_case: bool = False) -> list[Ticket]:
    """The connector's created tickets with this remote id (one, in practice)."""
    column = func.lower(TICKETS.c.remote_id) if fold_case else TICKETS.c.remote_id
    wanted = remote_id.lower() if fold_case else remote_id
    with Session(bind=conn) as s:
        query = select(Ticket).where(
            Ticket.connector_id == connector_id, Ticket.state == "created", column == wanted
        )
        return list(s.execute(query).scalars())


def seen(conn: Connection, connector_id: str, keys: Sequence[str]) -> bool:
    found = conn.execute(
        select(HOOKS.c.id).where(HOOKS.c.connector_id == connector_id, HOOKS.c.delivery_key.in_(list(keys)))
    ).first()
    return found is not None


def apply(conn: Connection, connector: ConnectorConfig, event: Event, via: str, now: datetime) -> Outcome:
    if seen(conn, connector.id, event.keys):
        return Outcome(duplicate=True)
    found = tickets(conn, connector.id, event.remote_id, fold_case=event.fold_case)
    if not found:
        return Outcome(unknown_ticket=True)
    for key in dict.fromkeys(event.keys):
        conn.execute(insert(HOOKS).values(connector_id=connector.id, delivery_key=key, received_at=now))
    reports = list(dict.fromkeys(r for t in found for r in lifecycle.group_reports(conn, t)))
    source = lifecycle.Source("connector", connector.name, via=via)
    changed = move(conn, reports, event, source, now)
    return Outcome(changed=len(changed), reports=len(reports))


def move(
    conn: Connection, reports: list[str], event: Event, source: lifecycle.Source, now: datetime
) -> list[lifecycle.Changed]:
    """The event's status for each report, from where each one is (states.py has the rules)."""

    def change(ids: list[str], to: str, only_from: frozenset[str] | None = None) -> list[lifecycle.Changed]:
        return lifecycle.change(
            conn,
            ids,
            to,
            source=source,
            now=now,
            public_note=event.public_note,
            internal_note=event.internal_note,
            only_from=only_from,
        )

    if event.to == states.OPEN:
        return change(reports, ReportStatus.REOPENED, states.DONE)
    if event.to == ReportStatus.REOPENED:
        return change(reports, ReportStatus.REOPENED, states.REOPENABLE)
    if event.to == ReportStatus.IN_PROGRESS:
        reopened = change(reports, ReportStatus.REOPENED, states.DONE)
        moved = {c.report_id for c in reopened}
        rest = [r for r in reports if r not in moved]
        return reopened + change(rest, ReportStatus.IN_PROGRESS, states.WORKABLE)
    return change(reports, event.to)
