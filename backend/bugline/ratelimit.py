"""Token-bucket rate limits per project key and per client IP, in process memory.

One bucket per (scope, identity); a refused request learns how long to wait
(``Retry-After``). Memory is bounded: idle buckets are full buckets, and are dropped.
Several server processes each keep their own buckets, so the effective limit is
per process; docs/decisions.md records why that is enough for now.
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
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def hit(self, identity: str) -> float:
        """Take one token; return 0 when allowed, else the seconds until one is available."""
        now = self.clock()
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
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def wait(self, identity: str) -> float:
        """Seconds until ``identity`` may go again (0 when it may), taking nothing."""
        bucket = self._buckets.get(identity)
        if bucket is None:
            return 0.0
        tokens = min(self.capacity, bucket.tokens + (self.clock() - bucket.updated) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def _sweep(self, now: float) -> None:
        full_after = self.capacity / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full_after}
        if len(self._buckets) >= self.max_keys:  # under attack from many identities: start over
            self._buckets.clear()


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
