"""Rate limits shared by every server process, through the database.

Each process answers requests from its own token buckets (``bugline.ratelimit``), so a
request never waits on the database for its limit. About once a second, each process takes
the hits it let through from one bucket per identity in ``rate_buckets``, refilled at the
same rate; where that shared bucket has run dry, the process refuses the identity until it
has refilled. N processes behind a load balancer therefore allow one budget, not N: a client
can overshoot by what the processes let through in one interval, and pays it back by waiting
longer.

- Time is the database's (``now()``), so processes whose clocks disagree refill alike.
- Rows are written sorted, in statements of at most ``CHUNK`` rows (PostgreSQL takes at most
  65,535 parameters), in one transaction: two processes sharing at once lock them in the
  same order, so neither waits on the other in a cycle. Full buckets are deleted in a
  transaction of their own that skips rows another process holds.
- Identities are HMACs under the secret key: the table names no IP address or email. During
  a rolling key rotation old and new processes count one client apart, for the rollout.
- When the database does not answer, the hits taken go back to be shared next time, each
  process keeps its own limits meanwhile, and the failure is logged once, not every second.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Float, Table, case, delete, func, literal, select, tuple_
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite

from bugline.db.engine import Writer
from bugline.db.models import RateBucket
from bugline.ratelimit import RateLimiter
from bugline.workloop import Background

log = logging.getLogger("bugline.ratelimit")

BUCKETS = cast(Table, RateBucket.__table__)
CHUNK = 1000  # rows per statement: 6 parameters each
SWEEP_EVERY = 60.0  # seconds between deletions of full buckets
FULL_AFTER = 300.0  # a bucket untouched this long is full again (every limit refills in 60 s)


def database_now(dialect: str) -> Any:
    """Seconds since the epoch by the database's clock, the one every process shares."""
    if dialect == "postgresql":
        return sql_cast(func.extract("epoch", func.now()), Float)
    return (func.julianday("now") - literal(2440587.5)) * literal(86400.0)


class SharedLimits(Background):
    """Not a ``Periodic``: its pass runs every second, so a failure is logged once per outage
    (and its recovery), not once per pass."""

    name = "rate-limits"

    def __init__(
        self,
        writer: Writer,
        limiters: Sequence[RateLimiter],
        secret: str,
        *,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        scopes = [lim.scope for lim in limiters]
        if "" in scopes or len(set(scopes)) != len(scopes):
            raise ValueError("every shared limiter needs a scope of its own")
        self.writer = writer
        self.limiters = {lim.scope: lim for lim in limiters}
        self._key = hashlib.sha256(b"bugline rate limits\0" + secret.encode()).digest()
        self.clock = clock  # when the next sweep is due; the buckets' time is the database's
        self._next_sweep = 0.0
        self.interval = interval
        for lim in limiters:
            lim.shared = interval > 0
        super().__init__()

    def start(self) -> None:
        if self.interval > 0:  # 0: every process keeps its own limits
            super().start()

    async def run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.share()
            except Exception:
                if not failing:
                    log.exception("sharing rate limits failed; each process counts on its own until it works")
                failing = True
            else:
                if failing:
                    log.info("rate limits are shared again")
                failing = False

    async def share(self) -> int:
        """Take every hit let through since the last share from the shared buckets, and refuse
        identities whose bucket ran dry; how many identities were shared."""
        taken = {scope: lim.take_pending() for scope, lim in self.limiters.items()}
        rows: list[dict[str, Any]] = []
        names: dict[tuple[str, str], str] = {}
        for scope, pending in taken.items():
            lim = self.limiters[scope]
            for identity, hits in pending.items():
                hashed = self._hash(scope, identity)
                names[(scope, hashed)] = identity
                # A new row is a full bucket minus the hits; an old one is refilled, then
                # charged the same hits (capacity - tokens below).
                rows.append(
                    {
                        "scope": scope,
                        "identity": hashed,
                        "tokens": lim.capacity - hits,
                        "capacity": lim.capacity,
                        "rate": lim.rate,
                    }
                )
        if rows:
            rows.sort(key=lambda r: (r["scope"], r["identity"]))
            try:
                left = await self.writer.run(lambda conn: self._take(conn, rows))
            except BaseException:
                for scope, pending in taken.items():
                    self.limiters[scope].give_back(pending)
                raise
            for scope, hashed, tokens in left:
                if tokens < 1:
                    lim = self.limiters[scope]
                    lim.block(names[(scope, hashed)], (1 - tokens) / lim.rate)
        if self.clock() >= self._next_sweep:
            await self.writer.run(self._sweep)
            self._next_sweep = self.clock() + SWEEP_EVERY
        return len(rows)

    def _take(self, conn: Connection, rows: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
        table = BUCKETS
        now = database_now(conn.dialect.name)
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        left: list[tuple[str, str, float]] = []
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            stmt = insert(table).values([row | {"updated": now} for row in chunk])
            new = stmt.excluded
            # Seconds since the last share; never negative, whatever the rows say.
            elapsed = case((new.updated > table.c.updated, new.updated - table.c.updated), else_=0.0)
            refilled = table.c.tokens + elapsed * new.rate
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.scope, table.c.identity],
                set_={
                    "tokens": case((refilled > new.capacity, new.capacity), else_=refilled)
                    - (new.capacity - new.tokens),
                    "capacity": new.capacity,
                    "rate": new.rate,
                    "updated": case((new.updated > table.c.updated, new.updated), else_=table.c.updated),
                },
            )
            result = conn.execute(stmt.returning(table.c.scope, table.c.identity, table.c.tokens))
            left.extend((r[0], r[1], float(r[2])) for r in result)
        return left

    @staticmethod
    def _sweep(conn: Connection) -> None:
        """Delete buckets untouched for FULL_AFTER seconds, skipping rows another process holds."""
        table = BUCKETS
        stale = (
            select(table.c.scope, table.c.identity)
            .where(table.c.updated < database_now(conn.dialect.name) - FULL_AFTER)
            .with_for_update(skip_locked=True)
        )
        conn.execute(delete(table).where(tuple_(table.c.scope, table.c.identity).in_(stale)))

    def _hash(self, scope: str, identity: str) -> str:
        return hmac.new(self._key, f"{scope}\0{identity}".encode(), hashlib.sha256).hexdigest()
