"""One delivery, start to end: reserve the group's ticket, build the document, call the
connector (outside any transaction), record what happened.

Exactly once, per (connector, duplicate group): the first delivery of a group reserves a
``tickets`` row in state ``creating`` (a unique key, so two workers cannot both reserve);
the vendor's answer turns it into ``created``. Later duplicates find it and comment on the
ticket instead of creating another; one that finds it still ``creating`` waits a moment
(without using an attempt). If a worker dies between the vendor's answer and the record,
the lease runs out, another worker resumes the same reservation, and the connector is told
this is a retry with the ticket's stable key: it passes the key as the vendor's idempotency
key or searches for the ticket it hid the key in before creating one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, cast

import httpx
from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bugline.connectors import configs
from bugline.connectors.base import (
    Attempt,
    Connector,
    Delivered,
    Failed,
    InvalidSettings,
    Result,
    Retry,
    Target,
    Ticket,
)
from bugline.connectors.document import ReportDocument, Update
from bugline.db.engine import Writer
from bugline.db.models import (
    ConnectorConfig,
    Delivery,
    DeliveryState,
    Report,
    ReportEvent,
    ReportStatus,
    utcnow,
)
from bugline.db.models import Ticket as TicketRow
from bugline.lifecycle import status as lifecycle
from bugline.observe import logs, metrics
from bugline.outbox import queue, retry
from bugline.outbox.document import Loaded, build, load
from bugline.storage.base import MediaStore

log = logging.getLogger("bugline.outbox")
TICKETS = cast(Table, TicketRow.__table__)
WAIT_FOR_TICKET = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class Context:
    writer: Writer
    readers: async_sessionmaker[AsyncSession]
    store: MediaStore
    http: httpx.AsyncClient
    owner: str  # this worker's lease name
    public_url: str
    link_ttl: int  # seconds presigned media links in tickets stay valid
    lease: float = queue.LEASE.total_seconds()  # seconds this worker holds a delivery

    @property
    def call_timeout(self) -> float:
        """A vendor call is cut off well inside the lease, so no other worker takes the
        delivery over while this one may still be talking to the vendor."""
        return self.lease * 0.8


@dataclass(frozen=True, slots=True)
class Plan:
    """What the reservation decided for this delivery."""

    step: Literal["create", "update", "wait", "gone"]
    delivery: Delivery | None = None
    connector: ConnectorConfig | None = None
    ticket: TicketRow | None = None
    resumed: bool = False  # an earlier attempt may have created the ticket already


def reserve(conn: Connection, delivery_id: str, owner: str) -> Plan:
    with Session(bind=conn) as s:
        d = s.get(Delivery, delivery_id)
        if d is None or d.lease_owner != owner or d.state != DeliveryState.PENDING:
            return Plan("gone")
        c = s.get(ConnectorConfig, d.connector_id)
        report = s.get(Report, d.report_id)
        if c is None or report is None:
            return Plan("gone", d)
        group_key = report.duplicate_group_id or report.id
        t = s.execute(
            select(TicketRow).where(TicketRow.connector_id == c.id, TicketRow.group_key == group_key)
        ).scalar_one_or_none()
        if t is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(TICKETS).values(
                            id=d.id,
                            project_id=d.project_id,
                            connector_id=c.id,
                            group_key=group_key,
                            report_id=d.report_id,
                            delivery_id=d.id,
                            state="creating",
                            data={},
                            created_at=utcnow(),
                        )
                    )
            except IntegrityError:  # another worker reserved the group a moment ago
                return Plan("wait", d, c)
            return Plan("create", d, c, s.get(TicketRow, d.id), resumed=d.attempts > 1)
        if t.state == "created":
            return Plan("update", d, c, t)
        if t.delivery_id == d.id:
            return Plan("create", d, c, t, resumed=True)
        other = s.get(Delivery, t.delivery_id) if t.delivery_id else None
        if other is None or other.state == DeliveryState.FAILED:
            # The delivery that reserved the group gave up (bad settings fixed since, say):
            # take the reservation over. It may have got as far as the vendor, so search first.
            t.delivery_id = d.id
            t.report_id = d.report_id
            s.flush()
            return Plan("create", d, c, t, resumed=True)
        return Plan("wait", d, c)


async def process(ctx: Context, delivery_id: str) -> str:
    """Run one leased delivery; returns what happened (for logs and tests)."""
    plan = await ctx.writer.run(lambda conn: reserve(conn, delivery_id, ctx.owner))
    d, c = plan.delivery, plan.connector
    if plan.step == "gone" or d is None or c is None:
        if d is not None:
            await ctx.writer.run(
                lambda conn: queue.give_up(
                    conn,
                    d.id,
                    ctx.owner,
                    now=utcnow(),
                    error="the report or its connector is gone",
                    status=None,
                )
            )
        return "gone"
    if plan.step == "wait":
        await ctx.writer.run(
            lambda conn: queue.again(
                conn, d.id, ctx.owner, at=utcnow() + WAIT_FOR_TICKET, error=None, count_attempt=False
            )
        )
        return "wait"
    if not c.enabled:
        return await _record(ctx, plan, Failed(f"connector {c.name!r} is disabled"))
    try:
        connector = configs.instance(c, ctx.http)
    except (KeyError, InvalidSettings) as exc:
        return await _record(ctx, plan, Failed(f"connector {c.name!r} settings: {exc}"))
    async with ctx.readers() as session:
        loaded = await session.run_sync(lambda s: load(s, d.report_id))
        origin = await session.run_sync(lambda s: intake_request(s, d.report_id))
    if loaded is None:
        return await _record(ctx, plan, Failed("the report is gone"))
    # Every line logged from here on (connector, outcome) carries the report's id and the id
    # of the HTTP request that brought it in: one filter follows a report from intake to here.
    with logs.bound(d.report_id, origin):
        return await _send(ctx, plan, connector, loaded)


def intake_request(s: Session, report_id: str) -> str | None:
    """The X-Request-ID of the request that created the report (on its "created" event)."""
    data = s.execute(
        select(ReportEvent.data)
        .where(ReportEvent.report_id == report_id, ReportEvent.kind == "created")
        .limit(1)
    ).scalar()
    value = data.get("request_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


async def _send(ctx: Context, plan: Plan, connector: Connector, loaded: Loaded) -> str:
    d, c = plan.delivery, plan.connector
    assert d is not None and c is not None
    doc = await build(loaded, ctx.store, public_url=ctx.public_url, link_ttl=ctx.link_ttl)
    ticket = plan.ticket
    assert ticket is not None
    target = Target(
        options={str(k): str(v) for k, v in (d.target.get("options") or {}).items()},
        tags=tuple(str(t) for t in d.target.get("tags") or ()),
    )
    try:
        if plan.step == "create":
            # The ticket row's id is the key: stable across retries and take-overs of this group.
            attempt = Attempt(key=ticket.id, number=max(d.attempts, 2 if plan.resumed else 1))
            result = await asyncio.wait_for(connector.deliver(doc, target, attempt), ctx.call_timeout)
        else:
            existing = Ticket(remote_id=ticket.remote_id or "", url=ticket.url or "", data=dict(ticket.data))
            attempt = Attempt(key=d.id, number=d.attempts)
            result = await asyncio.wait_for(_word(connector, existing, doc, d, attempt), ctx.call_timeout)
    except TimeoutError:
        result = Retry(f"{c.kind}: no answer within {ctx.call_timeout:.0f} s")
    except Exception as exc:  # a connector bug must not kill the worker; it is retried, and logged
        log.exception("connector %s raised on delivery %s", c.kind, d.id)
        result = Retry(f"{c.kind}: internal error {type(exc).__name__}")
    return await _record(ctx, plan, result)


async def _word(
    connector: Connector, ticket: Ticket, doc: ReportDocument, d: Delivery, attempt: Attempt
) -> Result:
    """What a delivery says on a ticket that exists: another duplicate joined (create), an
    SLA escalation (raise the priority where the vendor has one, else a comment), or the
    customer's "still broken" (reopen)."""
    note = str(d.target.get("note") or "")
    if d.action.startswith("escalate"):
        level = str(d.target.get("level") or doc.severity)
        try:
            return await connector.escalate(ticket, level, note, attempt)
        except NotImplementedError:
            pass
    elif d.action == "create":
        note = _note(doc.reference, doc.duplicates.reports, doc.duplicates.people, doc.duplicates.accounts)
    return await connector.update(ticket, Update(report=doc, note=note), attempt)


def _note(reference: str, reports: int, people: int, accounts: int) -> str:
    who = f"{people} {'person' if people == 1 else 'people'}"
    if accounts > 1:
        who += f" in {accounts} accounts"
    return f"Another report of this problem ({reference}): {reports} reports from {who} so far."


async def _record(ctx: Context, plan: Plan, result: Result) -> str:
    d, c, t = plan.delivery, plan.connector, plan.ticket
    assert d is not None and c is not None
    kind = (
        "delivered" if isinstance(result, Delivered) else "retry" if isinstance(result, Retry) else "failed"
    )
    metrics.DELIVERIES.labels(c.kind, kind).inc()
    log.info(
        "delivery %s to %s: %s",
        d.id,
        c.kind,
        kind,
        extra={"report_id": d.report_id, "delivery_id": d.id, "connector": c.kind, "action": d.action},
    )
    now = utcnow()
    base: dict[str, Any] = {"connector": c.name, "kind": c.kind, "attempt": d.attempts}

    def write(conn: Connection) -> str:
        if isinstance(result, Delivered):
            outcome = "created" if plan.step == "create" else "updated"
            ticket_id = t.id if t is not None else ""
            if not queue.finish(conn, d.id, ctx.owner, now=now, ticket_id=ticket_id, outcome=outcome):
                return "lost-lease"
            if plan.step == "create" and t is not None:
                conn.execute(
                    update(TICKETS)
                    .where(TICKETS.c.id == t.id)
                    .values(
                        state="created",
                        remote_id=result.ticket.remote_id,
                        url=result.ticket.url,
                        data=result.ticket.data,
                        delivery_id=d.id,
                    )
                )
            data = {
                **base,
                "outcome": outcome,
                "remote_id": result.ticket.remote_id,
                "url": result.ticket.url,
            }
            if result.detail:
                data["detail"] = result.detail
            queue.record_event(
                conn,
                project_id=d.project_id,
                report_id=d.report_id,
                now=now,
                kind="forwarded",
                connector=c.name,
                data=data,
            )
            # In the team's tool now: for the customer, that is the escalation (they hear it,
            # with a timeframe); a later delivery of the same report changes nothing.
            lifecycle.change(
                conn,
                [d.report_id],
                ReportStatus.ESCALATED,
                source=lifecycle.Source("connector", c.name, via=f"forwarded to {c.kind}"),
                now=now,
                only_from=(ReportStatus.RECEIVED, ReportStatus.REOPENED),
            )
            return outcome
        if isinstance(result, Retry) and not retry.exhausted(d.attempts):
            at = now + timedelta(seconds=retry.delay(d.attempts, result.after))
            if not queue.again(conn, d.id, ctx.owner, at=at, error=result.reason, status=result.status):
                return "lost-lease"
            queue.record_event(
                conn,
                project_id=d.project_id,
                report_id=d.report_id,
                now=now,
                kind="delivery_retry",
                connector=c.name,
                data={**base, "error": result.reason, "next_attempt_at": at.isoformat()},
            )
            return "retry"
        reason = result.reason if isinstance(result, Failed | Retry) else "unknown"
        status = result.status if isinstance(result, Failed | Retry) else None
        if isinstance(result, Retry):
            reason = f"gave up after {d.attempts} attempts: {reason}"
        if not queue.give_up(conn, d.id, ctx.owner, now=now, error=reason, status=status):
            return "lost-lease"
        # The alert: operators' log alerting picks this line up; the agent API and
        # `bugline delivery list --state failed` show it, and "retry" starts it again.
        log.error(
            "delivery failed for good: project=%s report=%s connector=%s (%s) delivery=%s: %s",
            d.project_id,
            d.report_id,
            c.name,
            c.kind,
            d.id,
            reason,
        )
        queue.record_event(
            conn,
            project_id=d.project_id,
            report_id=d.report_id,
            now=now,
            kind="delivery_failed",
            connector=c.name,
            data={**base, "error": reason},
        )
        return "failed"

    outcome = await ctx.writer.run(write)
    if outcome == "lost-lease":
        log.warning("delivery %s: lease lost before the outcome was recorded; another worker has it", d.id)
    return outcome
