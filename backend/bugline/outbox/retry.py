"""When to try a failed delivery again, and when to stop.

Exponential backoff with full jitter (so a hundred deliveries failing together during a
vendor outage don't all come back in the same second), capped at an hour, and a vendor's
own Retry-After wins when it asks for longer. Twelve attempts span about a day and a half:
long enough to ride out a vendor outage, short enough that a person hears about a dead
destination the same week.
"""

from __future__ import annotations

import random

BASE = 5.0  # seconds before the second attempt, on average
CAP = 3600.0
MAX_ATTEMPTS = 12
MAX_RETRY_AFTER = 6 * 3600.0  # a vendor asking for more than this is misconfigured; don't stall a day


def delay(attempts: int, retry_after: float | None = None, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after ``attempts`` failed tries (1 after the first failure)."""
    ceiling = min(CAP, BASE * 2 ** max(0, attempts - 1))
    wait = (rng or random).uniform(ceiling / 2, ceiling)  # "equal jitter": never retry at once
    if retry_after is not None:
        wait = max(wait, min(retry_after, MAX_RETRY_AFTER))
    return wait


def exhausted(attempts: int) -> bool:
    return attempts >= MAX_ATTEMPTS
