"""Token-bucket rate limits per project key, per client IP and per sign-in identity.

One bucket per (scope, identity) in process memory answers every request at once; a
refused request learns how long to wait (``Retry-After``). Memory is bounded: idle buckets
are full buckets, and are dropped. Several server processes share one budget through
``bugline.sharedlimits``: each second they take the hits they let through from one bucket
per identity in the database, and an identity whose shared bucket is empty is refused
here (``block``) until it has refilled.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        *,
        scope: str = "",
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.scope = scope  # the shared buckets' name for this limit ("ip", "login_email")
        self.clock = clock
        self.max_keys = max_keys
        self.shared = False  # set by SharedLimits: count what is let through for the others
        self._buckets: dict[str, _Bucket] = {}
        self._pending: dict[str, int] = {}  # hits let through since the last share
        self._blocked: dict[str, float] = {}  # identity -> clock time its shared bucket has a token

    def hit(self, identity: str) -> float:
        """Take one token; return 0 when allowed, else the seconds until one is available."""
        now = self.clock()
        if self._blocked and (held := self._held(identity, now)):
            return held
        bucket = self._buckets.get(identity)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._sweep(now)
            bucket = self._buckets[identity] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if self.shared:
                self._count(identity, 1)
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def wait(self, identity: str) -> float:
        """Seconds until ``identity`` may go again (0 when it may), taking nothing."""
        now = self.clock()
        if self._blocked and (held := self._held(identity, now)):
            return held
        bucket = self._buckets.get(identity)
        if bucket is None:
            return 0.0
        tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def take_pending(self) -> dict[str, int]:
        """The hits let through per identity since the last call, for the shared buckets."""
        pending, self._pending = self._pending, {}
        return pending

    def give_back(self, pending: dict[str, int]) -> None:
        """Hits taken but not shared (the database did not answer): shared with the next ones."""
        for identity, hits in pending.items():
            self._count(identity, hits)

    def _count(self, identity: str, hits: int) -> None:
        """Hits waiting to be shared; a full table takes no new identity (memory stays bounded)."""
        if identity in self._pending or len(self._pending) < self.max_keys:
            self._pending[identity] = self._pending.get(identity, 0) + hits

    def block(self, identity: str, seconds: float) -> None:
        """Refuse ``identity`` for ``seconds``: the processes together have used its budget."""
        now = self.clock()
        if len(self._blocked) >= self.max_keys:
            self._blocked = {k: until for k, until in self._blocked.items() if until > now}
            if len(self._blocked) >= self.max_keys:
                return  # under attack from many identities: the local buckets still hold each
        self._blocked[identity] = max(self._blocked.get(identity, 0.0), now + seconds)

    def _held(self, identity: str, now: float) -> float:
        until = self._blocked.get(identity)
        if until is None:
            return 0.0
        if now < until:
            return until - now
        del self._blocked[identity]
        return 0.0

    def _sweep(self, now: float) -> None:
        full_after = self.capacity / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full_after}
        if len(self._buckets) >= self.max_keys:  # under attack from many identities: start over
            self._buckets.clear()


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
