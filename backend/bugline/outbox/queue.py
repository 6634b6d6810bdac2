"""The outbox table's operations, each one statement or one short transaction.

- ``enqueue`` runs inside the transaction that decided the delivery (triage's), so a
  decision and its deliveries commit together or not at all; the unique
  (report, connector, action) key makes deciding twice harmless.
- ``claim`` leases due rows: ``attempts + 1`` and ``leased_until`` in one UPDATE over a
  ``FOR UPDATE SKIP LOCKED`` sub-select on PostgreSQL, so any number of workers take
  disjoint rows without waiting on each other. A worker that dies leaves its lease to
  expire; the row is then due again.
- ``finish`` / ``again`` / ``give_up`` record an outcome only while the caller still holds
  the lease (``lease_owner`` matches), so a worker that lost its lease (stalled past it)
  cannot overwrite what the worker that took over recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from bugline.db.models import ConnectorConfig, Delivery, DeliveryState, Report, ReportEvent, new_id
from bugline.leases import Leases

DELIVERIES = cast(Table, Delivery.__table__)
EVENTS = cast(Table, ReportEvent.__table__)
CHANNEL = "bugline_outbox"  # PostgreSQL LISTEN/NOTIFY channel that wakes idle workers
LEASE = timedelta(seconds=120)  # default; BUGLINE_OUTBOX_LEASE
LEASES = Leases(DELIVERIES, pending=DeliveryState.PENDING)


@dataclass(frozen=True, slots=True)
class Planned:
    """A delivery routing decided: which connector, with which options and tags, and why."""

    connector_id: str
    options: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    action: str = "create"  # or "escalate:<key>" / "reopen:<key>": a word on the group's ticket
    note: str = ""  # what that word says ("No resolution after 24 hours: escalated to the lead")
    level: str = ""  # escalate: the priority to raise the ticket to


def enqueue(
    conn: Connection, *, project_id: str, report_id: str, planned: Iterable[Planned], now: datetime
) -> int:
    """Write the deliveries (skipping any already decided); returns how many are new."""
    rows = [
        {
            "id": new_id(),
            "project_id": project_id,
            "report_id": report_id,
            "connector_id": p.connector_id,
            "action": p.action,
            "state": DeliveryState.PENDING,
            "target": {"options": dict(p.options), "tags": list(p.tags), "note": p.note, "level": p.level},
            "rules": list(p.rules),
            "attempts": 0,
            "available_at": now,
            "created_at": now,
        }
        for p in planned
    ]
    if not rows:
        return 0
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(DELIVERIES).on_conflict_do_nothing(
            index_elements=["report_id", "connector_id", "action"]
        )
    else:
        stmt = sqlite.insert(DELIVERIES).on_conflict_do_nothing(
            index_elements=["report_id", "connector_id", "action"]
        )
    added = len(conn.execute(stmt.returning(DELIVERIES.c.id), rows).all())
    if added and dialect == "postgresql":
        # Delivered on commit, to every listening worker: delivery starts within milliseconds
        # of the decision instead of at the next poll.
        conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    return added


def claim(conn: Connection, *, owner: str, now: datetime, limit: int, lease: timedelta = LEASE) -> list[str]:
    """Lease up to ``limit`` due deliveries for ``owner`` for ``lease``; returns their ids
    (bugline.leases: a CTE with FOR UPDATE SKIP LOCKED, shared with the notifications)."""
    return LEASES.claim(conn, owner=owner, now=now, limit=limit, lease=lease)


def next_due(conn: Connection) -> datetime | None:
    """When the earliest pending delivery becomes due (or its lease runs out)."""
    return LEASES.next_due(conn)


def _mine(delivery_id: str, owner: str) -> Any:
    return LEASES.mine(delivery_id, owner)


def finish(
    conn: Connection, delivery_id: str, owner: str, *, now: datetime, ticket_id: str, outcome: str
) -> bool:
    done = conn.execute(
        update(DELIVERIES)
        .where(_mine(delivery_id, owner))
        .values(
            state=DeliveryState.DONE,
            done_at=now,
            ticket_id=ticket_id,
            outcome=outcome,
            leased_until=None,
            last_error=None,
            last_status=None,
        )
    )
    return bool(done.rowcount)


def again(
    conn: Connection,
    delivery_id: str,
    owner: str,
    *,
    at: datetime,
    error: str | None,
    status: int | None = None,
    count_attempt: bool = True,
) -> bool:
    """Back to pending until ``at``. ``count_attempt=False`` when nothing was tried (waiting
    for another delivery to create the group's ticket), so waiting never uses up attempts."""
    values: dict[str, Any] = {"available_at": at, "leased_until": None, "lease_owner": None}
    if error is not None:
        values.update(last_error=error[:2000], last_status=status)
    if not count_attempt:
        values["attempts"] = DELIVERIES.c.attempts - 1
    return bool(conn.execute(update(DELIVERIES).where(_mine(delivery_id, owner)).values(**values)).rowcount)


def give_up(
    conn: Connection, delivery_id: str, owner: str, *, now: datetime, error: str, status: int | None
) -> bool:
    return bool(
        conn.execute(
            update(DELIVERIES)
            .where(_mine(delivery_id, owner))
            .values(
                state=DeliveryState.FAILED,
                done_at=now,
                leased_until=None,
                last_error=error[:2000],
                last_status=status,
            )
        ).rowcount
    )


def record_event(
    conn: Connection,
    *,
    project_id: str,
    report_id: str,
    now: datetime,
    kind: str,
    connector: str,
    data: dict[str, Any],
) -> None:
    conn.execute(
        insert(EVENTS).values(
            project_id=project_id,
            report_id=report_id,
            at=now,
            kind=kind,
            actor_type="connector",
            actor=connector,
            public=False,
            data=data,
        )
    )


def pending_count(conn: Connection, project_ids: Sequence[str] | None = None) -> int:
    q = select(func.count()).select_from(DELIVERIES).where(DELIVERIES.c.state == DeliveryState.PENDING)
    if project_ids is not None:
        q = q.where(DELIVERIES.c.project_id.in_(project_ids))
    return int(conn.execute(q).scalar() or 0)


def restart(
    conn: Connection,
    *,
    project_id: str,
    now: datetime,
    ids: Sequence[str] | None = None,
    report_id: str | None = None,
) -> int:
    """Failed deliveries start again from their first attempt ("retry by hand"); only the
    project's own rows, and only failed ones (a pending or done delivery is left alone)."""
    q = update(DELIVERIES).where(
        DELIVERIES.c.project_id == project_id, DELIVERIES.c.state == DeliveryState.FAILED
    )
    if ids is not None:
        q = q.where(DELIVERIES.c.id.in_(list(ids)))
    if report_id is not None:
        q = q.where(DELIVERIES.c.report_id == report_id)
    result = conn.execute(
        q.values(state=DeliveryState.PENDING, attempts=0, available_at=now, done_at=None, lease_owner=None)
    )
    return int(result.rowcount or 0)


def listing(conn: Connection, *, project_id: str, state: str | None, limit: int) -> list[dict[str, Any]]:
    """The project's deliveries, newest first, with what an operator needs to act."""
    c = cast(Table, ConnectorConfig.__table__)
    r = cast(Table, Report.__table__)
    q = (
        select(
            DELIVERIES.c.id,
            DELIVERIES.c.state,
            DELIVERIES.c.attempts,
            DELIVERIES.c.last_error,
            DELIVERIES.c.last_status,
            DELIVERIES.c.available_at,
            DELIVERIES.c.created_at,
            DELIVERIES.c.done_at,
            DELIVERIES.c.outcome,
            DELIVERIES.c.rules,
            DELIVERIES.c.report_id,
            r.c.number,
            c.c.name,
            c.c.kind,
        )
        .join(c, c.c.id == DELIVERIES.c.connector_id)
        .join(r, r.c.id == DELIVERIES.c.report_id)
        .where(DELIVERIES.c.project_id == project_id)
        .order_by(DELIVERIES.c.created_at.desc())
        .limit(limit)
    )
    if state is not None:
        q = q.where(DELIVERIES.c.state == state)
    out = []
    for row in conn.execute(q):
        out.append(
            {
                "id": row.id,
                "state": row.state,
                "attempts": row.attempts,
                "outcome": row.outcome,
                "error": row.last_error,
                "status": row.last_status,
                "next_attempt_at": row.available_at.isoformat()
                if row.state == DeliveryState.PENDING
                else None,
                "created_at": row.created_at.isoformat(),
                "done_at": row.done_at.isoformat() if row.done_at else None,
                "rules": list(row.rules or []),
                "report": {"id": row.report_id, "number": row.number},
                "connector": {"name": row.name, "kind": row.kind},
            }
        )
    return out
