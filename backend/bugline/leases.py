"""Leasing rows of a work table (the outbox's deliveries, the customer notifications): any
number of processes take disjoint rows without waiting on each other, and a process that
dies just lets its lease run out.

A work table has ``id``, ``state`` (one value meaning "to do"), ``available_at``,
``leased_until``, ``lease_owner`` and ``attempts``.

- ``claim`` is one ``WITH picked AS (SELECT … FOR UPDATE SKIP LOCKED) UPDATE …`` that sets
  ``leased_until`` and counts the attempt (PostgreSQL; SQLite has one writer and ignores
  the locking clause).
- ``settle`` writes an outcome only while the caller still holds the lease (``lease_owner``
  matches and the row is still to do), so a process that stalled past its lease cannot
  overwrite what the one that took over recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Connection, Table, and_, func, or_, select, update


@dataclass(frozen=True, slots=True)
class Leases:
    table: Table
    pending: str = "pending"

    def due(self, now: datetime) -> Any:
        c = self.table.c
        return and_(
            c.state == self.pending,
            c.available_at <= now,
            or_(c.leased_until.is_(None), c.leased_until < now),
        )

    def claim(
        self,
        conn: Connection,
        *,
        owner: str,
        now: datetime,
        limit: int,
        lease: timedelta,
        where: Any = None,
    ) -> list[str]:
        """Lease up to ``limit`` due rows (oldest due first) for ``owner``; their ids.
        ``where`` narrows the rows that may be taken."""
        c = self.table.c
        condition = self.due(now) if where is None else and_(self.due(now), where)
        # A CTE, not ``id IN (subquery)``: PostgreSQL may run an IN-subquery again for every
        # row it joins (a nested-loop semi join, its choice on a table it thinks small), and
        # each run locks another batch, so one claim took every due row. A CTE that locks rows
        # runs once. (Found on the outbox; bugline.outbox.queue.claim says the same.)
        pick = (
            select(c.id)
            .where(condition)
            .order_by(c.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer and ignores it
            .cte("picked")
        )
        result = conn.execute(
            update(self.table)
            .where(c.id.in_(select(pick.c.id)), self.due(now))
            .values(attempts=c.attempts + 1, leased_until=now + lease, lease_owner=owner)
            .returning(c.id)
        )
        return [row[0] for row in result]

    def next_due(self, conn: Connection) -> datetime | None:
        """When the earliest row to do becomes due (or its lease runs out)."""
        c = self.table.c
        value = conn.execute(
            select(func.min(func.coalesce(c.leased_until, c.available_at))).where(c.state == self.pending)
        ).scalar()
        if isinstance(value, str):  # SQLite returns the aggregate untyped
            value = datetime.fromisoformat(value)
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def mine(self, row_id: str | BindParameter[Any], owner: str | BindParameter[Any]) -> Any:
        """The row while ``owner`` holds its lease (values, or bound parameters for a statement
        built once)."""
        c = self.table.c
        return and_(c.id == row_id, c.lease_owner == owner, c.state == self.pending)

    def settle(self, conn: Connection, row_id: str, owner: str, **values: Any) -> bool:
        """Record an outcome (``values``) and end the lease, if ``owner`` still holds it."""
        done = conn.execute(
            update(self.table).where(self.mine(row_id, owner)).values(leased_until=None, **values)
        )
        return bool(done.rowcount)

    def again(
        self, conn: Connection, row_id: str, owner: str, *, at: datetime, error: str | None, **values: Any
    ) -> bool:
        """Back to waiting until ``at`` (a retry), lease given up."""
        extra: dict[str, Any] = {"available_at": at, "lease_owner": None, **values}
        if error is not None:
            extra["last_error"] = error[:2000]
        return self.settle(conn, row_id, owner, **extra)
