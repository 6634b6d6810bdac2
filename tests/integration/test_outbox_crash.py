"""Forwarding with real `bugline worker` processes on one PostgreSQL database: several workers
sharing the outbox under a flaky receiver, and a worker killed in the middle of a delivery.

PostgreSQL only: this is the deployment that runs several workers (SKIP LOCKED leases and
NOTIFY wake-ups); SQLite has one writer. The web app under test only accepts
(BUGLINE_TRIAGE_IN_WEB=false, BUGLINE_OUTBOX_IN_WEB=false); the workers triage and forward.
They share its database, data folder (the local media store) and secret key.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, func, select, text, update

from bugline.db.engine import make_sessionmaker
from bugline.db.migrate import upgrade
from bugline.db.models import Delivery, DeliveryState, Report, ReportEvent, Ticket, utcnow
from bugline.outbox import queue
from bugline.settings import Settings
from tests.conftest import PG_ADMIN_DSN, Bugline, make_settings, start_bugline
from tests.integration.test_intake import report_body
from tests.integration.test_outbox import add_webhook, deliveries, submit
from tests.support.vendors.receiver import FakeReceiver
from tests.support.vendors.server import Fault

pytestmark = pytest.mark.anyio

REPORTS = 60
LEASE = 8  # BUGLINE_OUTBOX_LEASE (s): the holder is killed while its call (cut off at 80 %) is open
SETTLE_TIMEOUT = 240.0  # generous: the machine is shared and retries back off


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database of its own: the workers triage and forward whatever is in the database they
    are given, so they must not see other tests' reports."""
    name = f"bugline_crash_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def web(pg_url: str, tmp_path: Path) -> AsyncIterator[Bugline]:
    """The web app as deployed beside workers: it accepts reports, nothing more."""
    settings = make_settings(pg_url, tmp_path / "data", triage_in_web=False, outbox_in_web=False)
    async for b in start_bugline(settings):
        yield b


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def workers(settings: Settings, count: int, logs: Path, **extra: str) -> Iterator[list[Worker]]:
    """``count`` `bugline worker` processes with the app's settings (plus ``extra`` BUGLINE_*
    variables); stopped with SIGTERM at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUGLINE_")}
    env |= {
        "BUGLINE_DATABASE_URL": settings.effective_database_url,
        "BUGLINE_DATA_DIR": str(settings.data_dir),
        "BUGLINE_SECRET_KEY": settings.secret_key,
        "BUGLINE_PUBLIC_URL": settings.effective_public_url,
        "BUGLINE_LOG_LEVEL": "info",
    }
    env |= {f"BUGLINE_{name.upper()}": value for name, value in extra.items()}
    started: list[Worker] = []
    try:
        for n in range(count):
            log = logs / f"worker-{n}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "bugline", "worker"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            started.append(Worker(process, log))
        yield started
    finally:
        for w in started:
            if w.process.poll() is None:
                w.process.send_signal(signal.SIGTERM)
        for w in started:
            try:
                w.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.process.kill()
                w.process.wait(timeout=10)


def owner_pid(owner: str | None) -> int:
    """The process id in a lease owner's name (``host:pid:random``, runner.worker_name)."""
    assert owner is not None
    return int(owner.split(":")[1])


def distinct_report(i: int, rng: random.Random) -> dict[str, Any]:
    """A complete bug report sharing no error, page, request or wording with the others, so
    that none is a duplicate of another and each gets a ticket of its own."""

    def word() -> str:
        return "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(4))

    w = [word() for _ in range(16)]
    return report_body(
        title=f"{w[0].capitalize()} {w[1]} crashes",
        trying_to_do=f"Open the {w[1]} {w[2]} view",
        expected=f"The {w[3]} {w[4]} list",
        actual=f"A blank {w[5]} screen with {w[6]}",
        error_text=f"{w[7].capitalize()}Error: {w[8]} {w[9]} unavailable",
        steps=[f"Open {w[10]}", f"Choose {w[11]}", f"Click {w[12]}"],
        reporter={"id": f"u-{i}", "email": f"{w[13]}@example.com", "account": w[14]},
        context={
            "url": f"https://app.example.com/{w[1]}/{w[2]}",
            "console": [{"level": "error", "message": f"{w[15].capitalize()}Error: {w[0]} is undefined"}],
            "network": [{"method": "POST", "url": f"https://api.example.com/{w[3]}/{w[9]}", "status": 500}],
        },
    )


async def hurry(b: Bugline) -> int:
    """Jump over retry backoff (what the clock would do) and wake the workers, which sleep
    until the next due delivery. Leased rows are left alone."""
    now = utcnow()
    async with b.engine.begin() as conn:
        moved = await conn.execute(
            update(Delivery)
            .where(
                Delivery.project_id == b.project.id,
                Delivery.state == DeliveryState.PENDING,
                Delivery.available_at > now,
                Delivery.leased_until.is_(None),
            )
            .values(available_at=now)
        )
        if moved.rowcount:
            await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": queue.CHANNEL})
    return int(moved.rowcount)


async def tickets(b: Bugline) -> list[Ticket]:
    async with make_sessionmaker(b.engine)() as session:
        q = select(Ticket).where(Ticket.project_id == b.project.id)
        return list((await session.execute(q)).scalars())


async def forwarded_events(b: Bugline) -> dict[str, int]:
    """How many `forwarded` timeline events each report has."""
    async with make_sessionmaker(b.engine)() as session:
        q = (
            select(ReportEvent.report_id, func.count())
            .where(ReportEvent.project_id == b.project.id, ReportEvent.kind == "forwarded")
            .group_by(ReportEvent.report_id)
        )
        return {str(r): int(n) for r, n in (await session.execute(q)).all()}


async def untriaged(b: Bugline) -> int:
    async with make_sessionmaker(b.engine)() as session:
        q = (
            select(func.count())
            .select_from(Report)
            .where(Report.project_id == b.project.id, Report.triaged_at.is_(None))
        )
        return int((await session.execute(q)).scalar_one())


def tails(ws: list[Worker]) -> str:
    return "\n".join(f"--- worker {w.pid}:\n" + "\n".join(w.output().splitlines()[-15:]) for w in ws)


async def test_three_workers_deliver_every_report_exactly_once_through_a_flaky_receiver(
    web: Bugline, tmp_path: Path
) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(web, receiver)
        # 30 % of requests fail: 5xx, 429, a connection dropped before the receiver saw the
        # request, and the hard case, a connection dropped after the receiver stored the
        # report (the answer is lost, so Bugline must send it again under the same id).
        receiver.fail_with = (
            Fault.status(500),
            Fault.status(503),
            Fault.status(429, headers={"Retry-After": "1"}),
            Fault.drop(),
            Fault.drop(process=True),
        )
        receiver.seed(5)
        receiver.fail_rate = 0.3
        receiver.script(Fault.drop(process=True), Fault.drop(process=True))  # the hard case, surely
        rng = random.Random(5)
        submitted = {await submit(web, distinct_report(i, rng)) for i in range(REPORTS)}
        assert len(submitted) == REPORTS

        with workers(web.settings, 3, tmp_path) as ws:
            deadline = time.monotonic() + SETTLE_TIMEOUT
            while True:
                ds = await deliveries(web)
                if (
                    not await untriaged(web)
                    and len(ds) == REPORTS
                    and all(d.state != DeliveryState.PENDING for d in ds)
                ):
                    break
                assert time.monotonic() < deadline, (
                    f"not settled after {SETTLE_TIMEOUT:.0f} s: {len(ds)} deliveries, "
                    f"{sum(d.state == DeliveryState.PENDING for d in ds)} pending\n{tails(ws)}"
                )
                await hurry(web)
                await asyncio.sleep(0.3)
            assert all(w.process.poll() is None for w in ws), tails(ws)  # no worker died on the way
        assert [w.process.returncode for w in ws] == [0, 0, 0], tails(ws)

        assert [(d.state, d.last_error) for d in ds if d.state != DeliveryState.DONE] == []
        assert all(d.outcome == "created" for d in ds)
        # The receiver: every report once, under one id each, though some were sent again.
        reports = receiver.reports()
        assert len(reports) == REPORTS
        assert {p["report"]["report_id"] for p in reports} == submitted
        assert {p["type"] for p in reports} == {"report.forwarded"}
        assert receiver.refused == 0
        resent = len(receiver.received) - len(reports)
        assert resent >= 2, "the receiver never stored a report whose answer was lost"
        lost_answers = [r for r in receiver.requests if r.fault == "drop after processing"]
        assert len(lost_answers) >= 2
        # Bugline's side: one ticket per report, each report forwarded once on its timeline.
        ts = await tickets(web)
        assert len(ts) == REPORTS
        assert {t.report_id for t in ts} == submitted
        assert {t.state for t in ts} == {"created"}
        assert len({t.remote_id for t in ts}) == REPORTS
        assert await forwarded_events(web) == dict.fromkeys(submitted, 1)


async def test_worker_killed_mid_delivery_is_taken_over_and_the_report_arrives_once(
    web: Bugline, tmp_path: Path
) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(web, receiver)
        # The receiver stores the first request, then holds its answer: the worker sending it
        # is mid-delivery when it is killed, and the report is already at the receiver.
        receiver.script(Fault.hang(600, process=True))
        with workers(web.settings, 2, tmp_path, outbox_lease=str(LEASE)) as ws:
            report_id = await submit(web, report_body())
            await receiver.arrival(1, "POST", "/hook", timeout=60)
            [d] = await deliveries(web, report_id)
            assert d.state == DeliveryState.PENDING and d.attempts == 1
            [holder] = [w for w in ws if w.pid == owner_pid(d.lease_owner)]
            [survivor] = [w for w in ws if w is not holder]
            holder.process.send_signal(signal.SIGKILL)
            assert holder.process.wait(timeout=10) == -signal.SIGKILL

            # Nobody touches a leased delivery while its lease runs.
            await asyncio.sleep(1.0)
            [d] = await deliveries(web, report_id)
            assert d.state == DeliveryState.PENDING and owner_pid(d.lease_owner) == holder.pid
            assert len(receiver.requests) == 1

            # The lease runs out (nothing announces that: the survivor sleeps until the earliest
            # lease ends, then looks) and the survivor sends the report again, same id.
            assert d.leased_until is not None
            lease_end = d.leased_until.timestamp()
            deadline = time.monotonic() + 60
            while (d := (await deliveries(web, report_id))[0]).state == DeliveryState.PENDING:
                assert time.monotonic() < deadline, f"not taken over\n{tails(ws)}"
                await asyncio.sleep(0.2)
            assert survivor.process.poll() is None, tails([survivor])
        assert survivor.process.returncode == 0, tails([survivor])

        assert d.state == DeliveryState.DONE and d.outcome == "created", d.last_error
        assert d.attempts == 2 and owner_pid(d.lease_owner) == survivor.pid
        first, second = receiver.requests
        assert first.fault == "hang 600s after processing" and second.fault is None and second.status == 200
        wall = time.time() - time.monotonic()  # the receiver records arrivals on the monotonic clock
        assert second.at + wall >= lease_end - 0.01, "taken over while the dead worker's lease still ran"
        assert first.headers["bugline-webhook-id"] == second.headers["bugline-webhook-id"]
        assert [p["attempt"] for p in receiver.received] == [1, 2]
        [stored] = receiver.reports()
        assert stored["report"]["report_id"] == report_id
        [ticket] = await tickets(web)
        assert ticket.state == "created" and ticket.report_id == report_id and ticket.remote_id == "T-1"
        assert await forwarded_events(web) == {report_id: 1}


async def test_a_claim_leases_no_more_than_its_limit_and_workers_get_disjoint_batches(web: Bugline) -> None:
    async with FakeReceiver() as receiver:
        await add_webhook(web, receiver)
        rng = random.Random(11)
        for i in range(40):
            await submit(web, distinct_report(i, rng))
        await web.triaged()  # 40 deliveries due at once, as after an outage; nothing sends them
        writer = web.app.state.bugline.writer

        def take(owner: str) -> Callable[[Connection], list[str]]:
            return lambda conn: queue.claim(conn, owner=owner, now=utcnow(), limit=8)

        first = await writer.run(take("first"))
        assert len(first) == 8
        batches = await asyncio.gather(*(writer.run(take(f"w{n}")) for n in range(3)))
        assert [len(b) for b in batches] == [8, 8, 8]
        taken = [i for b in [first, *batches] for i in b]
        assert len(set(taken)) == len(taken) == 32  # disjoint
        assert receiver.received == []
