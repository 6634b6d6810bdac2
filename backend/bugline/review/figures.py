"""The review's arithmetic, pure: durations in people's words, percentiles, timings per
severity against their targets, and why one report took long (from its timeline)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MINUTE = 60
HOUR = 3600
DAY = 86400

# What a report waited on while in each status: the "why" of a slow report.
WAITING_ON = {
    "received": "waiting to reach the team (received, not yet forwarded)",
    "needs_info": "waiting on the customer's answers (needs info)",
    "escalated": "with the team, not yet started (escalated)",
    "in_progress": "being worked on (in progress)",
    "cannot_reproduce": "waiting on the customer after the team could not reproduce it",
    "reopened": "reopened by the customer, waiting on the team",
}


def span(delta: timedelta | float | None) -> str:
    """ "45 min", "3 h 20 min", "5 d 3 h": two units at most, rounded down."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    seconds = max(0, seconds)
    if seconds < MINUTE:
        return f"{seconds} s"
    if seconds < HOUR:
        return f"{seconds // MINUTE} min"
    if seconds < DAY:
        hours, rest = divmod(seconds, HOUR)
        return f"{hours} h" + (f" {rest // MINUTE} min" if rest >= MINUTE else "")
    days, rest = divmod(seconds, DAY)
    return f"{days} d" + (f" {rest // HOUR} h" if rest >= HOUR else "")


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of ascending values (``q`` in 0..1): always a value that
    occurred, so "90% took at most this" is literally true."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class Timing:
    """How long one severity's reports took, against the target."""

    severity: str
    count: int
    median: float | None  # seconds
    p90: float | None
    longest: float | None
    target: float | None  # seconds; None: no target (a first response set "off")
    within: int  # how many met the target

    @property
    def within_share(self) -> int | None:
        """Percent within target, rounded down (so 99.6% never reads as 100%)."""
        if not self.count or self.target is None:
            return None
        return self.within * 100 // self.count


def timing(severity: str, seconds: Iterable[float], target: timedelta | None) -> Timing:
    ordered = sorted(max(0.0, s) for s in seconds)
    limit = target.total_seconds() if target is not None else None
    return Timing(
        severity=severity,
        count=len(ordered),
        median=percentile(ordered, 0.5),
        p90=percentile(ordered, 0.9),
        longest=ordered[-1] if ordered else None,
        target=limit,
        within=sum(1 for s in ordered if limit is not None and s <= limit),
    )


@dataclass(frozen=True, slots=True)
class Step:
    """One entry of a report's timeline that the "why" reads."""

    at: datetime
    kind: str  # status_changed | sla_escalated | delivery_failed | severity_changed | ...
    to: str = ""  # the new status of a status change
    level: int = 0  # an escalation's level


def phases(received: datetime, resolved: datetime, steps: Sequence[Step]) -> dict[str, float]:
    """Seconds spent in each status between receipt and resolution, from the status changes."""
    spent: dict[str, float] = {}
    status, since = "received", received
    for step in sorted(steps, key=lambda s: s.at):
        if step.kind != "status_changed" or not step.to:
            continue
        at = min(max(step.at, received), resolved)
        spent[status] = spent.get(status, 0.0) + (at - since).total_seconds()
        status, since = step.to, at
    if status not in ("resolved", "closed"):
        spent[status] = spent.get(status, 0.0) + max(0.0, (resolved - since).total_seconds())
    return {k: v for k, v in spent.items() if v > 0 and k in WAITING_ON}


def why(received: datetime, resolved: datetime, steps: Sequence[Step]) -> str:
    """The reason a report took as long as it did, from its own timeline: where it waited
    longest, and what else happened on the way (reopened, escalated, deliveries failed)."""
    parts: list[str] = []
    spent = phases(received, resolved, steps)
    if spent:
        status, seconds = max(spent.items(), key=lambda kv: kv[1])
        parts.append(f"{span(seconds)} {WAITING_ON[status]}")
    reopened = sum(1 for s in steps if s.kind == "status_changed" and s.to == "reopened")
    if reopened:
        parts.append("reopened once" if reopened == 1 else f"reopened {reopened} times")
    levels = [s.level for s in steps if s.kind == "sla_escalated"]
    if levels:
        parts.append(f"escalated to level {max(levels)}")
    failed = sum(1 for s in steps if s.kind == "delivery_failed")
    if failed:
        parts.append("a delivery to the team failed" if failed == 1 else f"{failed} deliveries failed")
    if any(s.kind == "severity_changed" for s in steps):
        parts.append("severity changed by hand")
    return "; ".join(parts) if parts else "no waiting recorded on its timeline"
