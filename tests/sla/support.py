"""What the SLA tests share: a clock they move by hand, reports forwarded through the real
intake, triage and outbox, and reads of timers, events, deliveries and notifications."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, select, update

from bugline.db.engine import Writer, make_sessionmaker
from bugline.db.models import (
    ConnectorConfig,
    Delivery,
    Notification,
    Report,
    ReportEvent,
    Timer,
    utcnow,
)
from bugline.lifecycle import status as lifecycle
from bugline.sla import policy
from bugline.sla.scheduler import Scheduler
from tests.conftest import Bugline
from tests.integration.test_intake import report_body
from tests.integration.test_outbox import add_webhook, submit
from tests.support.vendors.receiver import FakeReceiver

T = TypeVar("T")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SLA_EVENTS = ("sla_escalated", "sla_breached", "follow_up_due")
AGENT = lifecycle.Source("connector", "desk", via="Webhook")


@dataclass
class Clock:
    """The scheduler's clock: starts at ``start`` and moves only when told."""

    start: datetime
    now: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.now = self.start

    def __call__(self) -> datetime:
        return self.now

    def at(self, offset: timedelta) -> datetime:
        """Set the time to ``start + offset``."""
        self.now = self.start + offset
        return self.now


async def new_clock(b: Bugline) -> Clock:
    """A clock at the real now, on a database where only this test's timers run: the database
    lives for the session, and earlier tests' pending timers (other projects) would fire too
    when this test moves time weeks ahead."""
    await write(
        b,
        lambda conn: conn.execute(
            update(Timer)
            .where(Timer.project_id != b.project.id, Timer.state == "pending")
            .values(state="cancelled")
        ),
    )
    return Clock(utcnow().replace(microsecond=0))


async def write(b: Bugline, work: Callable[[Connection], T]) -> T:
    writer: Writer = b.app.state.bugline.writer
    return await writer.run(work)


def scheduler(b: Bugline, clock: Clock, **kw: Any) -> Scheduler:
    state = b.app.state.bugline
    return Scheduler(state.writer, state.readers, clock=clock, **kw)


async def desk_and_lead(b: Bugline, desk: FakeReceiver, lead: FakeReceiver) -> tuple[str, str]:
    """The team's helpdesk (routed every report) and the team lead's destination."""
    d = await add_webhook(b, desk, name="desk", roles=["helpdesk"])
    lead_connector = await add_webhook(b, lead, name="lead", roles=["lead"])
    return d.id, lead_connector.id


async def forwarded(b: Bugline, clock: Clock, severity: str, **body: Any) -> str:
    """A report received at the clock's start, triaged as ``severity`` and forwarded to the
    helpdesk (the forwarding is the status change that arms its timers)."""
    report_id = await submit(b, report_body(**body))
    await b.triaged()

    def triaged_as(conn: Connection) -> None:
        # As if triage had judged it ``severity`` at the clock's start: its hook arms the
        # timers from the receipt, so the ones it armed for the real time and severity go.
        conn.execute(
            update(Report).where(Report.id == report_id).values(severity=severity, accepted_at=clock.start)
        )
        conn.execute(delete(Timer).where(Timer.report_id == report_id))
        policy.on_accepted(
            conn, project_id=b.project.id, report_id=report_id, severity=severity, status="received", now=clock()
        )

    await write(b, triaged_as)
    outcome = await b.app.state.bugline.outbox.drain()
    assert outcome.get("created", 0) + outcome.get("updated", 0) >= 1, outcome
    return report_id


async def change(b: Bugline, report_id: str, to: str, clock: Clock, **kw: Any) -> list[lifecycle.Changed]:
    source = kw.pop("source", AGENT)
    return await write(
        b, lambda conn: lifecycle.change(conn, [report_id], to, source=source, now=clock(), **kw)
    )


async def timers(b: Bugline, report_id: str) -> dict[str, Timer]:
    async with make_sessionmaker(b.engine)() as session:
        q = select(Timer).where(Timer.report_id == report_id).order_by(Timer.due_at)
        return {t.key: t for t in (await session.execute(q)).scalars()}


async def pending(b: Bugline, report_id: str) -> dict[str, datetime]:
    return {k: t.due_at for k, t in (await timers(b, report_id)).items() if t.state == "pending"}


async def events(b: Bugline, report_id: str, kinds: tuple[str, ...] = SLA_EVENTS) -> list[ReportEvent]:
    async with make_sessionmaker(b.engine)() as session:
        q = (
            select(ReportEvent)
            .where(ReportEvent.report_id == report_id, ReportEvent.kind.in_(kinds))
            .order_by(ReportEvent.id)
        )
        return list((await session.execute(q)).scalars())


async def deliveries(b: Bugline, report_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(connector name, action, target) of the report's deliveries, oldest first."""
    async with make_sessionmaker(b.engine)() as session:
        q = (
            select(ConnectorConfig.name, Delivery.action, Delivery.target)
            .join(ConnectorConfig, ConnectorConfig.id == Delivery.connector_id)
            .where(Delivery.report_id == report_id)
            .order_by(Delivery.created_at, ConnectorConfig.name)
        )
        return [(r[0], r[1], dict(r[2])) for r in (await session.execute(q)).all()]


async def notifications(b: Bugline, report_id: str) -> list[Notification]:
    async with make_sessionmaker(b.engine)() as session:
        q = select(Notification).where(Notification.report_id == report_id).order_by(Notification.created_at)
        return list((await session.execute(q)).scalars())


async def report(b: Bugline, report_id: str) -> Report:
    async with make_sessionmaker(b.engine)() as session:
        return (await session.execute(select(Report).where(Report.id == report_id))).scalar_one()
