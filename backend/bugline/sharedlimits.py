"""Rate limits shared by every server process, through the database.

Each process answers requests from its own token buckets (``bugline.ratelimit``), so a
request never waits on the database for its limit. About once a second, each process takes
the hits it let through from one bucket per identity in ``rate_buckets``, refilled at the
same rate, in one statement; where that shared bucket has run dry, the process refuses the
identity until it has refilled. N processes behind a load balancer therefore allow one
budget, not N: a client can overshoot by what the processes let through in one interval,
and pays it back by waiting longer.

The statement's rows are sorted, so two processes sharing at once lock them in the same
order (no deadlock on PostgreSQL). Identities are stored as HMACs under the secret key:
the table names no IP address or email. Full buckets (untouched for five minutes) are
deleted on the way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, case, delete
from sqlalchemy.dialects import postgresql, sqlite

from bugline.db.engine import Writer
from bugline.db.models import RateBucket
from bugline.ratelimit import RateLimiter
from bugline.workloop import Periodic

log = logging.getLogger("bugline.ratelimit")

BUCKETS = cast(Table, RateBucket.__table__)
SWEEP_EVERY = 60.0  # seconds between deletions of full buckets
FULL_AFTER = 300.0  # a bucket untouched this long is full again (every limit refills in 60 s)


class SharedLimits(Periodic):
    name = "rate-limits"

    def __init__(
        self,
        writer: Writer,
        limiters: Sequence[RateLimiter],
        secret: str,
        *,
        interval: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        scopes = [lim.scope for lim in limiters]
        if "" in scopes or len(set(scopes)) != len(scopes):
            raise ValueError("every shared limiter needs a scope of its own")
        self.writer = writer
        self.limiters = {lim.scope: lim for lim in limiters}
        self._key = hashlib.sha256(b"bugline rate limits\0" + secret.encode()).digest()
        self.clock = clock
        self._next_sweep = 0.0
        for lim in limiters:
            lim.shared = interval > 0
        super().__init__(interval=interval, log=log)

    async def tick(self) -> None:
        await self.share()

    async def share(self) -> int:
        """Take every hit let through since the last share from the shared buckets, and refuse
        identities whose bucket ran dry; how many identities were shared."""
        now = self.clock()
        rows: list[dict[str, Any]] = []
        names: dict[tuple[str, str], str] = {}
        for scope, lim in self.limiters.items():
            for identity, hits in lim.take_pending().items():
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
                        "updated": now,
                    }
                )
        sweep = now >= self._next_sweep
        if not rows and not sweep:
            return 0
        rows.sort(key=lambda r: (r["scope"], r["identity"]))
        left = await self.writer.run(lambda conn: self._apply(conn, rows, now if sweep else None))
        if sweep:
            self._next_sweep = now + SWEEP_EVERY
        for scope, hashed, tokens in left:
            if tokens < 1:
                lim = self.limiters[scope]
                lim.block(names[(scope, hashed)], (1 - tokens) / lim.rate)
        return len(rows)

    def _apply(
        self, conn: Connection, rows: list[dict[str, Any]], sweep_at: float | None
    ) -> list[tuple[str, str, float]]:
        left: list[tuple[str, str, float]] = []
        if rows:
            table = BUCKETS
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            stmt = insert(table).values(rows)
            new = stmt.excluded
            # Seconds since the last share; a process whose clock runs behind adds none.
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
            left = [(r[0], r[1], float(r[2])) for r in result]
        if sweep_at is not None:
            conn.execute(delete(RateBucket).where(RateBucket.updated < sweep_at - FULL_AFTER))
        return left

    def _hash(self, scope: str, identity: str) -> str:
        return hmac.new(self._key, f"{scope}\0{identity}".encode(), hashlib.sha256).hexdigest()
