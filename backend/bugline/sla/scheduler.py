"""The loop that fires due SLA timers: escalations, breaches, follow-ups, the 14-day closure.

Exactly once, across restarts and any number of workers: each pass claims due timers with
``timers.claim_due`` (a conditional UPDATE over ``FOR UPDATE SKIP LOCKED`` on PostgreSQL)
inside the transaction that writes their effects (timeline events, outbox deliveries, the
status change and the customer's notification), so a timer is marked fired if and only if
its effects are committed. A crash before the commit leaves it pending for the next pass.

What each kind does (``fire``):
- ``escalation`` (levels 2 and 3): an internal ``sla_escalated`` event; an ``escalate:<key>``
  delivery to every enabled connector with the project's lead role (the team lead's
  destination) and to every connector holding the group's ticket, which raises the
  ticket's priority (``Connector.escalate``) one step per level and says why.
- ``first_response`` / ``resolution``: the target passed unmet: an internal ``sla_breached``
  event for the monthly review (``bugline.sla.review.breaches``).
- ``follow_up``: an internal ``follow_up_due`` event, a ``follow_up:<n>`` note on the ticket
  of every connector with the owner role holding it, and the next follow-up 48 hours on.
- ``close``: the report is still "cannot reproduce" 14 days on: closed through
  ``lifecycle.change``, which tells the customer.

``clock`` is any callable returning an aware datetime, so tests move time.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.db.models import Report, ReportEvent, ReportStatus, Timer, utcnow
from bugline.lifecycle import status as lifecycle
from bugline.observe import metrics
from bugline.outbox import plan
from bugline.outbox.queue import Planned, enqueue
from bugline.routing.facts import DEFAULT_ROLE
from bugline.sla import policy, timers
from bugline.sla.targets import (
    DEFAULT_SEVERITY,
    SEVERITIES,
    Targets,
    format_duration,
    parse_duration,
    targets_or_defaults,
)
from bugline.workloop import Background

log = logging.getLogger("bugline.sla")
EVENTS = cast(Table, ReportEvent.__table__)
REPORTS = cast(Table, Report.__table__)
TIMERS = cast(Table, Timer.__table__)
SYSTEM = "system"
# Outcomes that wrote outbox deliveries: the outbox is woken after such a pass.
DELIVERS = frozenset({"escalated", "followed_up"})


def raised(severity: str | None, level: int) -> str:
    """The priority an escalation raises the ticket to: one step up per level above the first
    (a medium report at level 2 becomes high, at level 3 critical), never past critical."""
    sev = severity if severity in SEVERITIES else DEFAULT_SEVERITY
    return SEVERITIES[max(0, SEVERITIES.index(sev) - (level - 1))]


@dataclass(frozen=True, slots=True)
class Ctx:
    """One claimed timer, its report, and the transaction its effects are written in."""

    conn: Connection
    timer: Timer
    report: policy.Subject
    number: int
    targets: Targets
    now: datetime

    @property
    def severity(self) -> str:
        sev = self.report.severity
        return sev if sev in SEVERITIES else DEFAULT_SEVERITY

    @property
    def anchor(self) -> datetime:
        value = self.timer.data.get("anchor")
        return datetime.fromisoformat(str(value)) if value else self.report.received

    @property
    def since(self) -> str:
        """How long the report has waited, and since what: "2h after it was received"."""
        start = {
            "answered": "the customer answered our questions",
            "reopened": "it was reopened",
        }.get(str(self.timer.data.get("from")), "it was received")
        return f"{format_duration(self.now - self.anchor)} after {start}"

    def event(self, kind: str, data: dict[str, Any]) -> None:
        """An internal timeline entry (never shown to the customer)."""
        payload = {"timer": self.timer.id, "key": self.timer.key, "due_at": self.timer.due_at.isoformat()}
        payload.update(data)
        self.conn.execute(
            insert(EVENTS).values(
                project_id=self.report.project_id,
                report_id=self.report.id,
                at=self.now,
                kind=kind,
                actor_type=SYSTEM,
                actor="SLA",
                public=False,
                data=payload,
            )
        )


def fire(conn: Connection, timer: Timer, now: datetime) -> str:
    """Apply one claimed timer's effects; returns what happened."""
    report = policy.subject(conn, timer.report_id)
    if report is None:
        return "gone"
    if report.status not in lifecycle.OPEN:
        return "skipped"  # resolved or closed since (its timers are cancelled then; belt and braces)
    number = conn.execute(select(REPORTS.c.number).where(REPORTS.c.id == report.id)).scalar_one()
    ctx = Ctx(conn, timer, report, int(number or 0), targets_or_defaults(report.settings), now)
    if timer.kind == "close":
        return close(ctx)
    if report.status == ReportStatus.CANNOT_REPRODUCE:
        return "skipped"  # the team answered; the 14-day closure runs instead
    if timer.kind == "escalation":
        return escalate(ctx)
    if timer.kind in policy.BREACHES:
        return breach(ctx)
    if timer.kind == "follow_up":
        return follow_up(ctx)
    log.warning("timer %s of report %s has an unknown kind %r", timer.id, report.id, timer.kind)
    return "unknown"


def escalate(ctx: Ctx) -> str:
    level = int(ctx.timer.data.get("level") or 2)
    to = raised(ctx.severity, level)
    resolution = format_duration(ctx.targets.resolution(ctx.severity))
    note = (
        f"SLA escalation, level {level}: report #{ctx.number} ({ctx.severity}) is still not resolved "
        f"{ctx.since} (target: resolved within {resolution}). Priority raised to {to}."
    )
    action = f"escalate:{ctx.timer.key}"
    leads = lead_connectors(ctx.conn, ctx.report.project_id, ctx.targets.lead_role)
    to_lead = enqueue(
        ctx.conn,
        project_id=ctx.report.project_id,
        report_id=ctx.report.id,
        planned=[Planned(connector_id=cid, action=action, note=note, level=to) for cid, _ in leads],
        now=ctx.now,
    )
    on_tickets = plan.tell_tickets(
        ctx.conn,
        project_id=ctx.report.project_id,
        report_id=ctx.report.id,
        action=action,
        note=note,
        now=ctx.now,
        level=to,
    )
    if not leads:
        log.warning(
            "project %s: SLA escalation of report #%s but no enabled connector has the role %r",
            ctx.report.project_id,
            ctx.number,
            ctx.targets.lead_role,
        )
    ctx.event(
        "sla_escalated",
        {
            "level": level,
            "severity": ctx.severity,
            "raised_to": to,
            "note": note,
            "lead": [name for _, name in leads],
            "deliveries": to_lead + on_tickets,
        },
    )
    return "escalated"


def breach(ctx: Ctx) -> str:
    policy.record_breach(ctx.conn, policy.TimerRow.of(ctx.timer), ctx.now)
    return "breached"


def follow_up(ctx: Ctx) -> str:
    n = int(ctx.timer.data.get("n") or 1)
    note = (
        f"Follow-up reminder {n}: report #{ctx.number} ({ctx.severity}, {ctx.report.status}) is still open "
        f"{ctx.since}. Please check its progress and update the customer."
    )
    told = plan.tell_tickets(
        ctx.conn,
        project_id=ctx.report.project_id,
        report_id=ctx.report.id,
        action=ctx.timer.key,  # "follow_up:<n>": a note on the ticket, no change of priority
        note=note,
        now=ctx.now,
        roles=(ctx.targets.owner_role,),
    )
    ctx.event("follow_up_due", {"n": n, "status": ctx.report.status, "deliveries": told, "note": note})
    # The next one, every interval from this one's due time (not from now: no drift), but never
    # in the past: a worker that was down for days sends one reminder, not one per missed slot.
    every = ctx.targets.follow_up
    due = ctx.timer.due_at + every
    if due <= ctx.now:
        due += every * ((ctx.now - due) // every + 1)
    base = {k: v for k, v in ctx.timer.data.items() if k in ("round", "anchor", "from", "severity")}
    policy.follow_up(ctx.conn, ctx.report.project_id, ctx.report.id, n + 1, due, base, ctx.now)
    return "followed_up"


CLOSE_NOTE = (
    "We could not reproduce this problem and have had no new information for {period}, so we have "
    "closed this report. If it happens again, tell us and we will look at it again."
)


def close(ctx: Ctx) -> str:
    if ctx.report.status != ReportStatus.CANNOT_REPRODUCE:
        return "skipped"
    # The period the timer was set with (the project may have changed it since).
    raw = ctx.timer.data.get("after")
    after = (parse_duration(str(raw), "after") if raw else None) or ctx.targets.cannot_reproduce_close
    days, rest = divmod(int(after.total_seconds()), 86400)
    if days and not rest:
        period, rule = (f"{days} days" if days > 1 else "a day"), f"{days}-day cannot-reproduce rule"
    else:
        hours = -(-int(after.total_seconds()) // 3600)
        period, rule = f"{hours} hours", f"{hours}-hour cannot-reproduce rule"
    changed = lifecycle.change(
        ctx.conn,
        [ctx.report.id],
        ReportStatus.CLOSED,
        source=lifecycle.Source(SYSTEM, None, via=rule),
        now=ctx.now,
        public_note=CLOSE_NOTE.format(period=period),
        only_from=(ReportStatus.CANNOT_REPRODUCE,),
    )
    return "closed" if changed else "skipped"


def lead_connectors(conn: Connection, project_id: str, role: str) -> list[tuple[str, str]]:
    """(id, name) of the project's enabled connectors with the lead role."""
    return [
        (cid, name)
        for cid, name, _, roles, enabled in plan.connectors_of(conn, project_id)
        if enabled and role in (roles or (DEFAULT_ROLE,))
    ]


# ---- the loop ------------------------------------------------------------------------------


class Scheduler(Background):
    """Fires due timers every ``interval`` seconds (sooner when one is due sooner)."""

    name = "sla"

    def __init__(
        self,
        writer: Writer,
        readers: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
        interval: float = 30.0,
        batch: int = 100,
        after: Callable[[], None] | None = None,
    ) -> None:
        self.writer = writer
        self.readers = readers
        self.clock = clock
        self.interval = interval
        self.batch = batch
        self.after = after  # wakes the outbox (and the notifications) after deliveries were written
        super().__init__()

    async def tick(self) -> dict[str, int]:
        """Fire everything due now; returns how many timers ended each way."""
        now = self.clock()
        counts: dict[str, int] = {}
        while True:
            breached: list[str] = []
            outcomes = await self.writer.run(functools.partial(self._pass, now=now, breached=breached))
            for target in breached:  # counted once the pass committed
                metrics.SLA_BREACHES.labels(target).inc()
            for outcome in outcomes:
                counts[outcome] = counts.get(outcome, 0) + 1
            if len(outcomes) < self.batch:
                break
        if self.after is not None and (DELIVERS | {"closed"}) & set(counts):
            self.after()
        return counts

    def _pass(self, conn: Connection, *, now: datetime, breached: list[str] | None = None) -> list[str]:
        outcomes: list[str] = []
        if breached is not None:
            breached.clear()  # the writer may run a pass again after a conflict
        for timer in timers.claim_due(conn, now=now, limit=self.batch):
            try:
                with conn.begin_nested():
                    outcomes.append(fire(conn, timer, now))
                if outcomes[-1] == "breached" and breached is not None:
                    breached.append(timer.kind)
            except Exception as exc:  # a bug in one timer's effects must not hold up the others
                log.exception("SLA timer %s (%s) of report %s failed", timer.id, timer.key, timer.report_id)
                error = f"{type(exc).__name__}: {exc}"[:500]
                conn.execute(
                    update(TIMERS)
                    .where(TIMERS.c.id == timer.id)
                    .values(state="failed", data={**timer.data, "error": error})
                )
                outcomes.append("failed")
        return outcomes

    async def next_due(self) -> datetime | None:
        async with self.readers() as session:
            q = select(func.min(TIMERS.c.due_at)).where(TIMERS.c.state == "pending")
            value = await session.run_sync(lambda s: s.execute(q).scalar())
        if isinstance(value, str):  # SQLite returns the aggregate untyped
            value = datetime.fromisoformat(value)
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return cast(datetime | None, value)

    async def run(self) -> None:
        while True:
            try:
                # A read first: an idle scheduler writes nothing (SQLite has one write lock).
                nxt = await self.next_due()
                if nxt is not None and nxt <= self.clock():
                    await self.tick()
                    nxt = await self.next_due()
                sleep = self.interval
                if nxt is not None:
                    sleep = max(0.0, min(self.interval, (nxt - self.clock()).total_seconds()))
            except Exception:  # the database is down: try again later
                log.exception("SLA scheduler: a pass failed; retrying in %.0f s", self.interval)
                sleep = self.interval
            await asyncio.sleep(max(sleep, 0.05))
