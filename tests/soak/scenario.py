"""The soak: many reporters against 2 web processes and 2 workers on PostgreSQL and SeaweedFS,
while PostgreSQL restarts, S3 goes away, the helpdesk answers 500 and then hangs, and workers
and web processes are SIGKILLed. Then the books are balanced.

What must hold (``Result.problems`` lists each breach, in words):
- accepted = stored = delivered: every report whose finalize answered ``received`` is in the
  database past ``awaiting_media`` with its screenshot stored (size and SHA-256 as sent, the
  object in the bucket), its delivery done, and at the helpdesk; the helpdesk has nothing else;
- exactly once: one delivery id per report at the helpdesk (raw re-sends of the same id are
  counted apart: delivery is at-least-once, made exactly-once by the receiver's de-duplication
  on ``Bugline-Webhook-Id``, as docs/webhooks.md asks of receivers);
- errors 0: every failure a reporter saw was one the widget retries and a legitimate answer
  while a dependency was down (no 500, no other 4xx), and every submission got through;
- nothing half-written: no report row beyond the accepted ones (a retry never made a second
  report), none left awaiting its media, no delivery pending, leased or failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.soak.fleet import Fleet
from tests.soak.reporter import ORIGIN, Submission, run_reporters
from tests.soak.services import PrivatePostgres, RestartableSeaweed, start_postgres, start_seaweed
from tests.support.ports import free_ports
from tests.support.vendors.receiver import SECRET, FakeReceiver
from tests.support.vendors.server import Fault

# Deliveries and webhook arrivals are attributed to a fault up to this long after it ended:
# the retries it caused come back on the backoff schedule.
AFTERMATH = 15.0


@dataclass(frozen=True)
class Plan:
    """The numbers of one run. ``short()`` is what ``make test`` runs, ``long()`` is ``make soak``."""

    name: str
    reporters: int
    load_seconds: float
    scale: float  # the widget's retry schedule multiplied by this
    pg_restarts: tuple[float, ...]
    s3_outage: tuple[float, float]  # (at, seconds stopped)
    helpdesk: tuple[float, float, float]  # (at, seconds of 500s, seconds of hanging)
    hang_seconds: float  # each hung request, longer than the connector timeout (8 s)
    worker_kills: tuple[float, ...]
    app_kills: tuple[float, ...]
    drain_seconds: float
    lease: int = 10

    @classmethod
    def short(cls) -> Plan:
        return cls(
            name="short",
            reporters=16,
            load_seconds=40.0,
            scale=0.3,
            pg_restarts=(4.0,),
            s3_outage=(8.0, 3.0),
            helpdesk=(18.0, 4.0, 9.0),
            hang_seconds=10.0,
            worker_kills=(20.0,),
            app_kills=(26.0,),
            drain_seconds=90.0,
        )

    @classmethod
    def long(cls) -> Plan:
        return cls(
            name="long",
            reporters=40,
            load_seconds=240.0,
            scale=1.0,
            pg_restarts=(15.0, 150.0),
            s3_outage=(35.0, 30.0),
            helpdesk=(95.0, 20.0, 30.0),
            hang_seconds=12.0,
            worker_kills=(85.0, 175.0),
            app_kills=(120.0, 200.0),
            drain_seconds=200.0,
        )


@dataclass
class FaultWindow:
    name: str
    start: float
    end: float = 0.0
    note: str = ""


@dataclass
class Result:
    plan: Plan
    seconds: float = 0.0
    submissions: list[Submission] = field(default_factory=list)
    accepted: int = 0
    stored: int = 0
    delivered: int = 0
    report_rows: int = 0
    raw_posts: int = 0  # verified webhook POSTs the helpdesk answered 200, repeats included
    resent: int = 0  # of those, repeats of a delivery id already received
    errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    faults: list[FaultWindow] = field(default_factory=list)
    retries_by_fault: dict[str, Counter[str]] = field(default_factory=dict)
    helpdesk_faults: Counter[str] = field(default_factory=Counter)  # webhook requests answered by a fault
    deliveries: int = 0
    delivery_attempts: int = 0
    started: float = 0.0  # monotonic, when the load began
    drain_seconds: float = 0.0

    def latencies(self, first_try_only: bool = False) -> list[float]:
        return sorted(
            s.latency for s in self.submissions if s.accepted and (not first_try_only or s.attempts == 1)
        )


def percentile(values: list[float], pct: float) -> float:
    """Nearest rank of sorted values."""
    if not values:
        return math.nan
    return values[max(1, min(len(values), math.ceil(pct / 100 * len(values)))) - 1]


@contextlib.contextmanager
def world(
    plan: Plan,
) -> Iterator[tuple[PrivatePostgres, RestartableSeaweed, Fleet, FakeReceiver, str, list[int]]]:
    """Everything the soak needs, started and, whatever happens, stopped and removed."""
    root = Path(tempfile.mkdtemp(prefix="bugline-soak-"))
    pg: PrivatePostgres | None = None
    weed: RestartableSeaweed | None = None
    fleet: Fleet | None = None
    receiver = FakeReceiver()
    try:
        pg = start_postgres()
        weed = start_seaweed(root / "seaweed")
        url = pg.create_database("bugline")
        ports = free_ports(2)
        fleet = Fleet(
            root / "fleet",
            url,
            weed.endpoint_url,
            weed.access_key,
            weed.secret_key,
            public_url=f"http://127.0.0.1:{ports[0]}",
            lease=plan.lease,
        )
        fleet.command("migrate")
        out = fleet.command("create-project", "Soak", "--origin", ORIGIN)
        found = re.search(r"Public key: (\S+)", out)
        assert found, out
        receiver.start()
        fleet.command(
            "connector",
            "add",
            "Soak",
            "webhook",
            f"url={receiver.url}/hook",
            f"secret={SECRET}",
            "name=helpdesk",
        )
        for port in ports:
            fleet.start_app(port)
        fleet.start_worker()
        fleet.start_worker()
        yield pg, weed, fleet, receiver, found.group(1), ports
    finally:
        if fleet is not None:
            fleet.stop_all()
        receiver.stop()
        if weed is not None:
            weed.stop()
        if pg is not None:
            pg.stop()
            pg.remove()
        if os.environ.get("SOAK_KEEP"):  # logs of every process, for a failure's post-mortem
            print(f"soak: kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


async def _at(t0: float, offset: float) -> None:
    await asyncio.sleep(max(0.0, t0 + offset - time.monotonic()))


async def run_faults(
    plan: Plan,
    t0: float,
    pg: PrivatePostgres,
    weed: RestartableSeaweed,
    fleet: Fleet,
    receiver: FakeReceiver,
    ports: list[int],
    windows: list[FaultWindow],
) -> None:
    """Each fault at its time, blocking work in threads so the reporters keep going meanwhile."""

    kinds = Counter[str]()

    async def window(kind: str, offset: float, action: Callable[[FaultWindow], Any]) -> None:
        await _at(t0, offset)
        kinds[kind] += 1
        # Each window its own name, so two restarts of the same kind keep their own figures.
        name = kind if kinds[kind] == 1 else f"{kind} #{kinds[kind]}"
        w = FaultWindow(name, time.monotonic())
        windows.append(w)
        result = action(w)
        if asyncio.iscoroutine(result):
            await result
        w.end = time.monotonic()

    def pg_restart(w: FaultWindow) -> Any:
        return asyncio.to_thread(pg.restart)

    async def s3_outage(w: FaultWindow) -> None:
        await asyncio.to_thread(weed.stop, 1.0)
        await asyncio.sleep(plan.s3_outage[1])
        started = time.monotonic()
        await asyncio.to_thread(weed.start)
        w.note = f"stopped {plan.s3_outage[1]:g} s, back in {time.monotonic() - started:.1f} s more"

    async def met(kind: str, since: float, at_least: float) -> float:
        """Keep a fault up ``at_least`` seconds and, up to three times that, until a delivery
        met it: an S3 outage just before can hold every delivery back for a while (finalize
        waits on S3), and a fault no request met proves nothing. The seconds it lasted."""
        await asyncio.sleep(at_least)
        deadline = since + 3 * at_least
        while time.monotonic() < deadline and not any(
            (r.fault or "").startswith(kind) and r.at >= since for r in receiver.requests
        ):
            await asyncio.sleep(0.25)
        return time.monotonic() - since

    async def helpdesk(w: FaultWindow) -> None:
        receiver.fail_with = (Fault.status(500),)
        receiver.fail_rate = 1.0
        errors = await met("status 500", time.monotonic(), plan.helpdesk[1])
        # Half the hung requests are processed first and only the answer is lost: the retry then
        # re-sends a delivery the receiver already has (de-duplicated on its id).
        receiver.fail_with = (Fault.hang(plan.hang_seconds), Fault.hang(plan.hang_seconds, process=True))
        hangs = await met("hang", time.monotonic(), plan.helpdesk[2])
        receiver.fail_rate = 0.0
        w.note = f"500 for {errors:.0f} s, then hanging {plan.hang_seconds:g} s per request for {hangs:.0f} s"

    def kill_worker(w: FaultWindow) -> Any:
        victim = fleet.running("worker")[0]
        fleet.kill(victim)
        w.note = f"SIGKILL {victim.name}"
        return asyncio.to_thread(fleet.start_worker)

    async def kill_app(w: FaultWindow) -> None:
        victim = fleet.running("app")[0]
        fleet.kill(victim)
        await asyncio.to_thread(fleet.start_app, victim.port)
        w.note = f"SIGKILL {victim.name}; a new one answered on :{victim.port} {time.monotonic() - w.start:.1f} s later"

    tasks = [window("postgres restart", at, pg_restart) for at in plan.pg_restarts]
    tasks.append(window("s3 outage", plan.s3_outage[0], s3_outage))
    tasks.append(window("helpdesk 500 then hang", plan.helpdesk[0], helpdesk))
    tasks += [window("worker SIGKILL", at, kill_worker) for at in plan.worker_kills]
    tasks += [window("app SIGKILL", at, kill_app) for at in plan.app_kills]
    await asyncio.gather(*tasks)


def _attribute(at: float, windows: list[FaultWindow]) -> str:
    """The fault a failure at ``at`` belongs to: the latest one started before it, if recent."""
    best = "no fault"
    started = -math.inf
    for w in windows:
        end = w.end or math.inf
        if w.start <= at <= end + AFTERMATH and w.start > started:
            best, started = w.name, w.start
    return best


def _rows(pg_url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(pg_url) as conn:
        return list(conn.execute(sql).fetchall())


def _outstanding(url: str, accepted: set[str], receiver: FakeReceiver) -> int:
    arrived = {str(p["report"]["report_id"]) for p in receiver.reports() if "report" in p}
    busy = _rows(url, "SELECT count(*) FROM deliveries WHERE state <> 'done'")[0][0]
    untriaged = _rows(url, "SELECT count(*) FROM reports WHERE status = 'received' AND triaged_at IS NULL")[
        0
    ][0]
    return len(accepted - arrived) + int(busy) + int(untriaged)


def run(plan: Plan, log: Callable[[str], None] = print) -> Result:
    result = Result(plan)
    with world(plan) as (pg, weed, fleet, receiver, key, ports):
        url = fleet.database_url
        t0 = result.started = time.monotonic()
        until = t0 + plan.load_seconds
        deadline = until + plan.drain_seconds * 0.6

        async def main() -> list[Submission]:
            faults = asyncio.create_task(
                run_faults(plan, t0, pg, weed, fleet, receiver, ports, result.faults)
            )
            subs = await run_reporters(
                ports, key, reporters=plan.reporters, until=until, deadline=deadline, scale=plan.scale
            )
            await faults
            return subs

        log(f"soak ({plan.name}): {plan.reporters} reporters for {plan.load_seconds:g} s, faults on")
        result.submissions = asyncio.run(main())
        accepted = {s.report_id for s in result.submissions if s.accepted}
        log(f"load done: {len(result.submissions)} submissions, {len(accepted)} accepted; draining")
        drain_start = time.monotonic()
        while time.monotonic() - drain_start < plan.drain_seconds:
            if _outstanding(url, accepted, receiver) == 0:
                break
            time.sleep(1.0)
        result.drain_seconds = time.monotonic() - drain_start
        result.seconds = time.monotonic() - t0
        time.sleep(1.0)  # a last re-send in flight gets the chance to show up as one
        judge(result, url, weed, receiver, fleet)
    return result


def judge(result: Result, url: str, weed: RestartableSeaweed, receiver: FakeReceiver, fleet: Fleet) -> None:
    problems = result.problems
    subs = result.submissions
    accepted = {s.report_id: s for s in subs if s.accepted}
    result.accepted = len(accepted)
    if not subs or not accepted:
        problems.append("no report was accepted at all")

    # Errors: what the reporters saw.
    for s in subs:
        if not s.accepted:
            result.errors.append(
                f"submission {s.key} (report {s.report_id or '-'}) not accepted: {s.gave_up}"
            )
        for f in s.failures:
            if not f.expected:
                result.errors.append(
                    f"{f.step} on app {f.app} answered {f.what} (report {s.report_id or '-'})"
                )
    for f_sub in subs:
        for f in f_sub.failures:
            result.retries_by_fault.setdefault(_attribute(f.at, result.faults), Counter())[
                f"{f.step} {f.what}"
            ] += 1
    problems += result.errors

    # Stored: the database and the bucket.
    reports = _rows(url, "SELECT id, status, idempotency_key, triaged_at IS NOT NULL FROM reports")
    result.report_rows = len(reports)
    by_id = {r[0]: r for r in reports}
    extra = set(by_id) - set(accepted)
    for rid in sorted(extra):
        problems.append(
            f"report {rid} is in the database (status {by_id[rid][1]}) but no reporter saw it accepted"
        )
    keys = Counter(r[2] for r in reports)
    problems += [f"idempotency key {k} made {n} reports" for k, n in keys.items() if n > 1]
    attachments: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in _rows(url, "SELECT report_id, state, size, sha256, storage_key FROM attachments"):
        attachments[row[0]].append(row)
    s3 = weed.client()
    stored = 0
    for rid, sub in accepted.items():
        row = by_id.get(rid)
        if row is None:
            problems.append(f"accepted report {rid} is not in the database")
            continue
        if row[1] == "awaiting_media":
            problems.append(f"accepted report {rid} is still awaiting_media")
            continue
        if not row[3]:
            problems.append(f"accepted report {rid} was never triaged")
        atts = attachments.get(rid, [])
        good = [a for a in atts if a[1] == "stored" and a[2] == sub.size and a[3] == sub.sha256]
        if len(atts) != 1 or len(good) != 1:
            problems.append(
                f"accepted report {rid}: attachments {[(a[1], a[2]) for a in atts]}, want one stored screenshot of {sub.size} bytes"
            )
            continue
        try:
            head = s3.head_object(Bucket=fleet.bucket, Key=good[0][4])  # type: ignore[attr-defined]
        except Exception as exc:
            problems.append(f"accepted report {rid}: its screenshot is not in the bucket ({exc})")
            continue
        if int(head["ContentLength"]) != sub.size:
            problems.append(
                f"accepted report {rid}: the bucket holds {head['ContentLength']} bytes, sent {sub.size}"
            )
            continue
        stored += 1
    result.stored = stored

    # Delivered: the outbox and the helpdesk.
    for rid, state, attempts, error in _rows(
        url, "SELECT report_id, state, attempts, last_error FROM deliveries WHERE state <> 'done'"
    ):
        problems.append(f"delivery of report {rid} is {state} after {attempts} attempts: {error}")
    done = Counter(r[0] for r in _rows(url, "SELECT report_id FROM deliveries WHERE state = 'done'"))
    for rid in accepted:
        if done.get(rid, 0) != 1:
            problems.append(f"accepted report {rid} has {done.get(rid, 0)} done deliveries, want 1")
    ids_of: dict[str, set[str]] = defaultdict(set)
    reports_of: dict[str, set[str]] = defaultdict(set)
    seen: set[str] = set()
    for payload in receiver.received:
        if "report" not in payload:
            continue
        rid, wid = str(payload["report"]["report_id"]), str(payload["id"])
        ids_of[rid].add(wid)
        reports_of[wid].add(rid)
        result.raw_posts += 1
        if wid in seen:
            result.resent += 1
        seen.add(wid)
    delivered = set(ids_of)
    result.delivered = len(delivered & set(accepted))
    for rid in sorted(set(accepted) - delivered):
        problems.append(f"accepted report {rid} never reached the helpdesk")
    for rid in sorted(delivered - set(accepted)):
        problems.append(f"the helpdesk got report {rid}, which no reporter saw accepted")
    for rid, wids in ids_of.items():
        if len(wids) > 1:
            problems.append(
                f"report {rid} reached the helpdesk as {len(wids)} different deliveries {sorted(wids)}: a duplicate ticket"
            )
    for wid, rids in reports_of.items():
        if len(rids) > 1:
            problems.append(f"delivery id {wid} carried {len(rids)} different reports")
    if receiver.refused:
        problems.append(f"the helpdesk refused {receiver.refused} deliveries with a bad signature")
    for rec in receiver.requests:
        if rec.fault is not None and rec.path == "/hook":
            result.helpdesk_faults[rec.fault] += 1
    ((result.deliveries, attempts),) = _rows(
        url, "SELECT count(*), coalesce(sum(attempts), 0) FROM deliveries"
    )
    result.delivery_attempts = int(attempts)

    # Processes that died without being killed.
    for proc in fleet.crashed():
        problems.append(f"{proc.name} exited on its own ({proc.process.returncode}):\n{proc.log_tail(15)}")
