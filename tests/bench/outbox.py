"""Forwarding: how fast the outbox empties with one and with three workers, and how soon an idle
deployment forwards a report it has just accepted.

Everything runs on PostgreSQL (the deployment with several workers) against an instantly
answering webhook receiver in its own process (``python -m tests.bench.outbox receiver``: a
bare ASGI app under uvicorn that records when each delivery arrived and answers 200).

Throughput. Per round, a fresh database holds REPORTS distinct, already triaged reports whose
webhook deliveries are pending but held back (due tomorrow). The workers start, connect and
go idle; then one transaction makes every delivery due and sends the NOTIFY, and the clock
runs until the last delivery is recorded done (its ``done_at``). The baseline, in the same
round, is the least any sender must do for the same deliveries: one process POSTing bodies of
the same size, signed the same way, CONCURRENCY at once (the outbox's per-process default),
with no database at all.

Latency when idle. A web process that triages (BUGLINE_OUTBOX_IN_WEB=false) and one worker
that forwards; reports without files are sent one at a time with a random pause between them,
and each is timed from the 201 answer to its arrival at the receiver. The worker is woken by
PostgreSQL's NOTIFY; the baseline is the same worker with NOTIFY off, which then polls every
second (the fallback the outbox uses where NOTIFY does not exist). A single web process doing
everything (the default deployment) wakes its own outbox directly and is shown as well.

Run as ``make bench`` (or ``python -m tests.bench.run --only outbox``); it measures and reports,
it never fails on a number.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import secrets
import select
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from bugline.app import create_app
from bugline.connectors import configs
from bugline.connectors.webhook import signature
from bugline.db.engine import make_sync_engine
from bugline.outbox.queue import CHANNEL
from bugline.settings import Settings
from tests.bench.common import (
    ORIGIN,
    ROOT,
    BenchError,
    add_project,
    event_loop_name,
    fresh_database,
    http_impl_name,
    uvicorn_server,
)
from tests.bench.load import report_body
from tests.bench.servers import UNLIMITED, bench_settings
from tests.support.ports import free_port

REPORTS = 600
ROUNDS = 3
CONCURRENCY = 8  # deliveries one process sends at once: BUGLINE_OUTBOX_CONCURRENCY's default
LATENCY_REPORTS = 50
LATENCY_WARMUP = 3
PAUSE = (0.05, 1.0)  # seconds between latency reports, random: no phase lock with a 1 s poll
SECRET = "bench-receiver-secret-0123456789"
DRAIN_TIMEOUT = 300.0
START_TIMEOUT = 60.0
WAIT_TIMEOUT = 30.0


# -- the receiver: its own process, answers at once, remembers arrivals ----------------------------


class Receiver:
    """A bare ASGI webhook receiver. POST /hook answers 200 at once and records the arrival
    (monotonic and wall clock, Bugline-Webhook-Id, the report id, body size); GET /__arrivals
    lists them, GET /__wait?report=ID waits for one report, POST /__reset forgets."""

    def __init__(self) -> None:
        self.arrivals: list[dict[str, Any]] = []
        self.by_report: dict[str, dict[str, Any]] = {}
        self.waiters: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        if path == "/hook":
            arrival: dict[str, Any] = {"mono": time.monotonic(), "wall": time.time(), "bytes": len(body)}
            headers = dict(scope["headers"])
            arrival["id"] = headers.get(b"bugline-webhook-id", b"").decode()
            with contextlib.suppress(ValueError, AttributeError, TypeError, KeyError):
                arrival["report"] = str(json.loads(body)["report"]["report_id"])
            self.arrivals.append(arrival)
            number = len(self.arrivals)
            if "report" in arrival:
                self.by_report.setdefault(arrival["report"], arrival)
                self.waiters.setdefault(arrival["report"], asyncio.Event()).set()
            await _answer(send, 200, {"id": f"T-{number}", "url": f"http://receiver.invalid/{number}"})
        elif path == "/__arrivals":
            await _answer(send, 200, self.arrivals)
        elif path == "/__wait":
            query = dict(
                part.split("=", 1) for part in scope["query_string"].decode().split("&") if "=" in part
            )
            report = query.get("report", "")
            event = self.waiters.setdefault(report, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), float(query.get("timeout", WAIT_TIMEOUT)))
            except TimeoutError:
                await _answer(send, 404, {"error": f"report {report} did not arrive"})
                return
            await _answer(send, 200, self.by_report[report])
        elif path == "/__reset":
            self.arrivals.clear()
            self.by_report.clear()
            self.waiters.clear()
            await _answer(send, 200, {})
        else:
            await _answer(send, 404, {"error": "not found"})


async def _answer(send: Any, status: int, data: Any) -> None:
    raw = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


def serve_receiver(port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        Receiver(),
        host="127.0.0.1",
        port=port,
        loop=event_loop_name(),
        http=http_impl_name(),
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        async def announce() -> None:
            while not server.started:
                await asyncio.sleep(0.01)
            print(f"READY http://127.0.0.1:{port}", flush=True)

        task = asyncio.create_task(announce())
        await server.serve()
        task.cancel()

    asyncio.run(main())


@dataclass
class ReceiverProcess:
    process: subprocess.Popen[bytes]
    url: str

    def arrivals(self) -> list[dict[str, Any]]:
        res = httpx.get(f"{self.url}/__arrivals", timeout=30, trust_env=False)
        res.raise_for_status()
        data: list[dict[str, Any]] = res.json()
        return data

    def wait(self, client: httpx.Client, report_id: str) -> dict[str, Any]:
        res = client.get(f"{self.url}/__wait", params={"report": report_id, "timeout": WAIT_TIMEOUT})
        if res.status_code != 200:
            raise BenchError(f"report {report_id} never reached the receiver")
        data: dict[str, Any] = res.json()
        return data

    def reset(self) -> None:
        httpx.post(f"{self.url}/__reset", timeout=10, trust_env=False).raise_for_status()


@contextlib.contextmanager
def receiver_process(log_path: Path) -> Iterator[ReceiverProcess]:
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.outbox", "receiver", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
        )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        line = process.stdout.readline().decode() if ready else ""
        if not line.startswith("READY "):
            raise BenchError(f"the receiver did not start: {line!r} {log_path.read_text(errors='replace')}")
        yield ReceiverProcess(process, line.split()[1])
    finally:
        stop(process)


# -- workers -------------------------------------------------------------------------------------


def poll_worker() -> int:
    """`bugline worker` with NOTIFY off: without a LISTEN connection the outbox polls every
    second, as it does where NOTIFY does not exist (the latency baseline)."""
    from bugline import cli
    from bugline.outbox import runner

    # The name the Outbox looks up when it decides whether to LISTEN: no URL, no Listener.
    runner.libpq_url = lambda url: None  # type: ignore[attr-defined]
    return cli.main(["worker"])


def worker_env(url: str, data_dir: Path, secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUGLINE_")}
    return env | {
        "BUGLINE_DATABASE_URL": url,
        "BUGLINE_DATA_DIR": str(data_dir),
        "BUGLINE_SECRET_KEY": secret,
        "BUGLINE_PUBLIC_URL": "http://127.0.0.1:9",
        "BUGLINE_LOG_LEVEL": "info",  # the default: it logs each vendor call, as in production
    }


@contextlib.contextmanager
def workers(
    count: int, env: dict[str, str], logs: Path, *, poll: bool = False
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` worker processes, returned once each has started (and, with NOTIFY, LISTENs)."""
    command = ["-m", "tests.bench.outbox", "poll-worker"] if poll else ["-m", "bugline", "worker"]
    started: list[subprocess.Popen[bytes]] = []
    paths: list[Path] = []
    try:
        for n in range(count):
            path = logs / f"worker-{n}-{time.monotonic_ns()}.log"
            with path.open("wb") as log:
                started.append(
                    subprocess.Popen(
                        [sys.executable, *command],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        cwd=ROOT,
                    )
                )
            paths.append(path)
        deadline = time.monotonic() + START_TIMEOUT
        while not all("started" in p.read_text(errors="replace") for p in paths):
            dead = [p for w, p in zip(started, paths, strict=True) if w.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise BenchError(f"a worker did not start:\n{(dead or paths)[0].read_text(errors='replace')}")
            time.sleep(0.05)
        if not poll:
            wait_listening(env["BUGLINE_DATABASE_URL"], count)
        time.sleep(0.5)  # the start-up pass finds nothing due; let it end
        yield started
    finally:
        for w in started:
            stop(w)


def wait_listening(url: str, count: int) -> None:
    """Until ``count`` connections LISTEN on the outbox channel (the workers' listeners)."""
    deadline = time.monotonic() + START_TIMEOUT
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = %s",
                (f"LISTEN {CHANNEL}",),
            ).fetchone()
            if row and row[0] >= count:
                return
            time.sleep(0.05)
    raise BenchError(f"{count} workers never all listened on {CHANNEL}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -- reports -------------------------------------------------------------------------------------


def distinct_report(rng: random.Random) -> dict[str, Any]:
    """The realistic widget report of the intake benchmark, with its own words, error, page
    and failed request: no two are duplicates, so each delivery creates a ticket."""

    def word() -> str:
        return "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(4))

    w = [word() for _ in range(12)]
    body = report_body()
    body.update(
        title=f"{w[0].capitalize()} {w[1]} fails",
        trying_to_do=f"Open the {w[1]} {w[2]} page and send the {w[3]} form",
        expected=f"A {w[4]} confirmation with the {w[5]} total",
        actual=f"The page turns blank and says '{w[6]} {w[7]}'",
        error_text=f"{w[8].capitalize()}Error: {w[9]} unavailable",
        steps=[f"Open {w[1]}", f"Pick {w[10]}", f"Click {w[11].capitalize()}"],
    )
    body["reporter"] = {"id": f"u-{w[0]}", "email": f"{w[2]}@example.com", "account": w[3], "plan": "pro"}
    ctx = body["context"]
    ctx["url"] = f"https://app.example.com/{w[1]}/{w[2]}"
    ctx["route"] = f"/{w[1]}/{w[2]}"
    ctx["console"] = [
        {
            "level": "error",
            "message": f"{w[9].capitalize()}Error: {w[10]} is undefined",
            "stack": f"at {w[4]} ({w[5]}.js:10:15)\n    at {w[6]} ({w[7]}.js:88:3)",
        }
    ]
    ctx["network"] = [
        {
            "method": "POST",
            "url": f"https://api.example.com/{w[11]}/{w[0]}",
            "status": 500,
            "duration_ms": 120.5,
        }
    ]
    return body


def add_webhook(url: str, project_id: str, receiver_url: str) -> None:
    engine = make_sync_engine(url)
    try:
        with Session(engine) as s, s.begin():
            configs.add(
                s, project_id, "webhook", {"url": f"{receiver_url}/hook", "secret": SECRET}, name="hook"
            )
    finally:
        engine.dispose()


async def _pretriaged(url: str, data_dir: Path, secret: str, key: str, count: int, seed: int) -> None:
    """Intake and triage in this process (no worker runs yet); the deliveries stay held back."""
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key=secret,
        public_url="http://bugline.bench",
        rate_limit_per_key=UNLIMITED,
        rate_limit_per_ip=UNLIMITED,
        triage_in_web=False,
        outbox_in_web=False,
        log_level="warning",
    )
    app = create_app(settings)
    state = app.state.bugline
    rng = random.Random(seed)
    headers = {"X-Bugline-Key": key, "Origin": ORIGIN}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as client:
            for _ in range(count):
                res = await client.post("/api/v1/reports", json=distinct_report(rng), headers=headers)
                if res.status_code != 201:
                    raise BenchError(f"intake refused a bench report: {res.status_code} {res.text[:300]}")
        await state.backlog.drain()
    finally:
        await state.close()


def prepare(url: str, data_dir: Path, secret: str, receiver_url: str, count: int, seed: int) -> None:
    project = add_project(url)
    add_webhook(url, project.id, receiver_url)
    asyncio.run(_pretriaged(url, data_dir, secret, project.public_key, count, seed))
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE deliveries SET available_at = now() + interval '1 day'")
        row = conn.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()
    if not row or row[0] != count:
        raise BenchError(
            f"{count} reports made {row[0] if row else 0} deliveries (duplicates or needs_info?)"
        )


# -- throughput ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    sender: str
    deliveries: int
    seconds: float
    body_bytes: int
    busiest_share: float | None = None  # of the deliveries, the part the busiest worker sent
    cpu_ms: float | None = None  # the workers' CPU time per delivery (user + system)

    @property
    def per_s(self) -> float:
        return self.deliveries / self.seconds


def release_and_drain(url: str, count: int) -> float:
    """Make every held delivery due (one transaction, with NOTIFY); seconds until the last is done."""
    with psycopg.connect(url) as conn:
        started = time.time()
        conn.execute("UPDATE deliveries SET available_at = now() WHERE state = 'pending'")
        conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
        conn.commit()
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'failed'), "
                "max(done_at) FROM deliveries"
            ).fetchone()
            conn.commit()
            assert row is not None
            done, failed, last = int(row[0]), int(row[1]), row[2]
            if failed:
                raise BenchError(f"{failed} deliveries failed")
            if done == count:
                finished = last if last.tzinfo else last.replace(tzinfo=UTC)
                return float(finished.timestamp() - started)
            time.sleep(0.05)
    raise BenchError(f"the outbox did not drain {count} deliveries within {DRAIN_TIMEOUT:.0f} s")


def outbox_round(tmpdir: Path, receiver: ReceiverProcess, count: int, round_no: int) -> Throughput:
    with fresh_database("postgresql", tmpdir) as url:
        data_dir = tmpdir / f"throughput-{count}w-{round_no}-{time.monotonic_ns()}"
        data_dir.mkdir()
        secret = secrets.token_urlsafe(40)
        prepare(url, data_dir, secret, receiver.url, REPORTS, seed=round_no * 10 + count)
        receiver.reset()
        with workers(count, worker_env(url, data_dir, secret), data_dir) as procs:
            before = sum(cpu_seconds(p.pid) for p in procs)
            seconds = release_and_drain(url, REPORTS)
            cpu = sum(cpu_seconds(p.pid) for p in procs) - before
        arrivals = receiver.arrivals()
        with psycopg.connect(url) as conn:
            shares = [
                int(n) for _, n in conn.execute("SELECT lease_owner, count(*) FROM deliveries GROUP BY 1")
            ]
    ids = {a["id"] for a in arrivals}
    if len(arrivals) != REPORTS or len(ids) != REPORTS:
        raise BenchError(
            f"the receiver got {len(arrivals)} requests for {len(ids)} deliveries, not {REPORTS}"
        )
    body = int(statistics.median(a["bytes"] for a in arrivals))
    label = "1 worker" if count == 1 else f"{count} workers"
    return Throughput(label, REPORTS, seconds, body, max(shares) / REPORTS, cpu / REPORTS * 1000)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (proc(5), /proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _bare_send(url: str, count: int, body_bytes: int) -> float:
    """The baseline sender: signed POSTs of ``body_bytes`` each, CONCURRENCY at once, no database."""
    filler = "x" * max(0, body_bytes - 120)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(client: httpx.AsyncClient, n: int) -> None:
        body = json.dumps(
            {"type": "report.forwarded", "id": f"bare-{n}", "report": {"text": filler}}
        ).encode()
        now = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Bugline-Webhook-Id": f"bare-{n}",
            "Bugline-Timestamp": str(now),
            "Bugline-Signature": signature(SECRET, now, body),
        }
        async with gate:
            res = await client.post(f"{url}/hook", content=body, headers=headers)
        res.raise_for_status()

    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        started = time.monotonic()
        await asyncio.gather(*(one(client, n) for n in range(count)))
        return time.monotonic() - started


def baseline_round(receiver: ReceiverProcess, body_bytes: int) -> Throughput:
    receiver.reset()
    seconds = asyncio.run(_bare_send(receiver.url, REPORTS, body_bytes))
    if len(receiver.arrivals()) != REPORTS:
        raise BenchError("the baseline sender lost requests")
    return Throughput("baseline", REPORTS, seconds, body_bytes)


# -- latency when idle ---------------------------------------------------------------------------


def web_app() -> Starlette:
    """A web process that accepts and triages; forwarding is left to `bugline worker`."""
    return create_app(dataclasses.replace(bench_settings(), outbox_in_web=False))


@dataclass(frozen=True)
class Latency:
    deployment: str
    accepted_ms: list[float]  # 201 answer -> arrival at the receiver
    decided_ms: list[float]  # delivery written (triage's transaction) -> arrival

    @property
    def p50(self) -> float:
        return percentile(self.accepted_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.accepted_ms, 95)

    @property
    def decided_p50(self) -> float:
        return percentile(self.decided_ms, 50)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))  # nearest rank
    return ordered[rank]


DEPLOYMENTS: dict[str, tuple[str, str | None]] = {
    # name -> (uvicorn factory, worker: "notify" | "poll" | None)
    "web + worker, NOTIFY wake-up": ("tests.bench.outbox:web_app", "notify"),
    "web + worker, NOTIFY off: 1 s poll (baseline)": ("tests.bench.outbox:web_app", "poll"),
    "one web process (default: outbox in web)": ("tests.bench.servers:bugline_app", None),
}


def latency_round(tmpdir: Path, receiver: ReceiverProcess, deployment: str, seed: int) -> Latency:
    factory, worker = DEPLOYMENTS[deployment]
    rng = random.Random(seed)
    with fresh_database("postgresql", tmpdir) as url:
        data_dir = tmpdir / f"latency-{time.monotonic_ns()}"
        data_dir.mkdir()
        secret = secrets.token_urlsafe(40)
        project = add_project(url)
        add_webhook(url, project.id, receiver.url)
        env = {"BENCH_DATABASE_URL": url, "BENCH_DATA_DIR": str(data_dir), "BENCH_SECRET_KEY": secret}
        with contextlib.ExitStack() as stack:
            srv = stack.enter_context(uvicorn_server(factory, env, data_dir / "server.log"))
            if worker is not None:
                stack.enter_context(
                    workers(1, worker_env(url, data_dir, secret), data_dir, poll=worker == "poll")
                )
            headers = {"X-Bugline-Key": project.public_key, "Origin": ORIGIN}
            accepted: dict[str, float] = {}
            arrived: dict[str, dict[str, Any]] = {}
            with httpx.Client(timeout=WAIT_TIMEOUT + 10, trust_env=False) as client:
                for n in range(LATENCY_WARMUP + LATENCY_REPORTS):
                    time.sleep(rng.uniform(*PAUSE))
                    res = client.post(f"{srv.url}/api/v1/reports", json=distinct_report(rng), headers=headers)
                    at = time.monotonic()
                    if res.status_code != 201 or res.json().get("status") != "received":
                        raise BenchError(f"intake answered {res.status_code}: {res.text[:300]}")
                    report_id = str(res.json()["id"])
                    arrival = receiver.wait(client, report_id)
                    if n >= LATENCY_WARMUP:
                        accepted[report_id], arrived[report_id] = at, arrival
        with psycopg.connect(url) as conn:
            decided = {str(r): t for r, t in conn.execute("SELECT report_id, created_at FROM deliveries")}
    return Latency(
        deployment,
        [(arrived[r]["mono"] - accepted[r]) * 1000 for r in accepted],
        [(arrived[r]["wall"] - _ts(decided[r])) * 1000 for r in accepted],
    )


def _ts(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


# -- the run and its block -----------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxResult:
    baseline: Throughput
    one: Throughput
    three: Throughput
    latency: list[Latency]
    date: str  # when the run started, UTC
    load_before: float  # the machine's 1-minute load average then (it is shared)

    @property
    def scaling(self) -> float:
        return self.three.per_s / self.one.per_s


def run_outbox(tmpdir: Path, log: Callable[[str], None] = print) -> tuple[str, dict[str, Any]]:
    """Run the rounds; returns the BENCHMARKS.md block and the raw numbers."""
    tmpdir = tmpdir / "outbox"
    tmpdir.mkdir(exist_ok=True)
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = os.getloadavg()[0]
    best: dict[str, Throughput] = {}
    latency: list[Latency] = []
    with receiver_process(tmpdir / "receiver.log") as receiver:
        for round_no in range(1, ROUNDS + 1):
            for count in (1, 3):
                log(f"outbox round {round_no}/{ROUNDS}: {REPORTS} deliveries, {count} worker(s)")
                r = outbox_round(tmpdir, receiver, count, round_no)
                log(f"  {r.per_s:,.0f} deliveries/s ({r.seconds:.2f} s)")
                if r.sender not in best or r.per_s > best[r.sender].per_s:
                    best[r.sender] = r
            log(f"outbox round {round_no}/{ROUNDS}: baseline sender")
            b = baseline_round(receiver, best["1 worker"].body_bytes)
            log(f"  {b.per_s:,.0f} requests/s ({b.seconds:.2f} s)")
            if "baseline" not in best or b.per_s > best["baseline"].per_s:
                best["baseline"] = b
        for n, deployment in enumerate(DEPLOYMENTS):
            log(f"outbox latency: {deployment}, {LATENCY_REPORTS} reports one at a time")
            receiver.reset()
            lat = latency_round(tmpdir, receiver, deployment, seed=n)
            log(f"  p50 {lat.p50:.0f} ms, p95 {lat.p95:.0f} ms")
            latency.append(lat)
    result = OutboxResult(best["baseline"], best["1 worker"], best["3 workers"], latency, date, load_before)
    raw = dataclasses.asdict(result) | {"scaling": result.scaling}
    return block(result), raw


def block(result: OutboxResult) -> str:
    base = result.baseline.per_s
    lines = [
        f"Webhook deliveries from PostgreSQL to an instantly answering receiver in its own process "
        f"([outbox.py](tests/bench/outbox.py)). **Throughput**: {REPORTS:,} distinct, already triaged "
        "reports wait in the outbox (each creates a ticket); the `bugline worker` processes start and go "
        "idle, then one transaction makes every delivery due and sends the NOTIFY; timed until the last "
        "delivery is recorded done. Each worker sends up to "
        f"{CONCURRENCY} at once (`BUGLINE_OUTBOX_CONCURRENCY`'s default) and logs at the default level. The "
        f"baseline is one process POSTing bodies of the same size ({result.one.body_bytes:,} bytes, signed the "
        f"same way, {CONCURRENCY} in flight) to the same receiver with no database: the least any sender "
        f"does. Best of {ROUNDS} rounds each, a fresh database per round. *Busiest worker* is the share of "
        "the deliveries the busiest worker sent (1/3 is an even split); *worker CPU* is the workers' user + "
        "system time per delivery.",
        "",
        "| sender | deliveries | seconds | deliveries/s | ratio to baseline | busiest worker | worker CPU (ms) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in (result.baseline, result.one, result.three):
        name = {
            "baseline": "baseline: bare signed POSTs, no database",
            "1 worker": "Bugline, 1 `bugline worker`",
            "3 workers": "Bugline, 3 `bugline worker` processes",
        }[t.sender]
        share = "" if t.busiest_share is None else f"{t.busiest_share:.0%}"
        cpu = "" if t.cpu_ms is None else f"{t.cpu_ms:.1f}"
        lines.append(
            f"| {name} | {t.deliveries:,} | {t.seconds:.2f} | {t.per_s:,.0f} | {t.per_s / base:.2f} "
            f"| {share} | {cpu} |"
        )
    polling = next(lat for lat in result.latency if "poll" in lat.deployment)
    cores = os.cpu_count() or 0
    lines += [
        "",
        f"3 workers / 1 worker: **{result.scaling:.2f}**. The workers, PostgreSQL and the receiver share "
        f"this machine's {cores} cores: at {result.one.cpu_ms or 0:.0f} ms of worker CPU per delivery, the "
        "workers alone would fill them at about "
        f"{cores * 1000 / (result.one.cpu_ms or 1):,.0f} deliveries/s.",
        "",
        f"**Latency when idle**: {LATENCY_REPORTS} reports without files sent one at a time to a uvicorn web "
        f"process (after {LATENCY_WARMUP} unmeasured), a random {PAUSE[0]:g} to {PAUSE[1]:g} s pause before each; "
        "*accepted → received* runs from the 201 answer to the report's arrival at the receiver (triage, "
        "routing, the delivery's transaction, the wake-up and the POST); *decided → received* from the "
        "delivery's `created_at` (triage's transaction) to the arrival. In the first two rows the web process "
        "triages (`BUGLINE_OUTBOX_IN_WEB=false`) and one `bugline worker` forwards; the baseline is the same "
        "worker with NOTIFY off, polling every second.",
        "",
        "| deployment | accepted → received p50 (ms) | p95 (ms) | decided → received p50 (ms) "
        "| p50 / baseline p50 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for lat in result.latency:
        lines.append(
            f"| {lat.deployment} | {lat.p50:,.0f} | {lat.p95:,.0f} | {lat.decided_p50:,.0f} "
            f"| {lat.p50 / polling.p50:.2f} |"
        )
    notify = next(lat for lat in result.latency if "NOTIFY wake-up" in lat.deployment)
    lines += [
        "",
        f"Target: a worker forwards an accepted report well under 1 s after intake. "
        f"**{'Met' if notify.p95 < 1000 else 'Not met'}** (p95 {notify.p95:,.0f} ms with NOTIFY).",
        "",
        f"Measured {result.date} by `make bench` (this section alone: `.venv/bin/python -m tests.bench.run "
        f"--only outbox`); load average before: {result.load_before:.2f}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The outbox benchmark's helper processes.")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("receiver", help="serve the instantly answering webhook receiver")
    rec.add_argument("--port", type=int, required=True)
    sub.add_parser("poll-worker", help="run `bugline worker` with NOTIFY off (it polls every second)")
    args = parser.parse_args(argv)
    if args.command == "receiver":
        serve_receiver(args.port)
        return 0
    return poll_worker()


if __name__ == "__main__":
    sys.exit(main())
