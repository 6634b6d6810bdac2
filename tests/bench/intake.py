"""Intake throughput and latency: Bugline's POST /api/v1/reports against the bare baseline.

For each database (SQLite, PostgreSQL) and each server (baseline, Bugline): a fresh
migrated database with one project, the server in its own uvicorn process, the load
generator (tests/bench/load.py) in another, then the server is stopped and the database
removed. Afterwards the rows are counted: every request must have stored one report.

The pair runs ROUNDS times, baseline and Bugline alternating, and each server's round
with the highest throughput is kept: on a shared two-core machine other work can only
slow a round down, so the best round is the one least disturbed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bugline.db.engine import make_sync_engine
from bugline.db.models import Report
from tests.bench.common import (
    ROOT,
    BenchError,
    add_project,
    count_reports,
    fresh_database,
    uvicorn_server,
)

CONCURRENCY = 8
WARMUP = 200
REQUESTS = 2000
LOAD_TIMEOUT = 240.0
TARGET_RATIO = 0.5
ROUNDS = 3

SERVERS = {
    "baseline": "tests.bench.baseline:baseline_app",
    "bugline": "tests.bench.servers:bugline_app",
    "worker": "tests.bench.servers:bugline_web_app",  # plus one `bugline worker` process
}
DRAIN_TIMEOUT = 300.0


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    body_bytes: int
    # Bugline only: seconds from the last response until every report had its triage verdict.
    drain_s: float | None = None
    # CPU time of the server process (and the worker's, if any) from the first measured request
    # until every report was triaged, per request: unlike requests/s it hardly moves when other
    # work shares the machine, so it compares servers measured minutes apart.
    cpu_ms: float | None = None


@dataclass(frozen=True)
class IntakeResult:
    database: str
    baseline: LoadResult
    bugline: LoadResult
    worker: LoadResult | None = None  # web process only accepts; a `bugline worker` triages

    @property
    def ratio(self) -> float:
        return self.bugline.rps / self.baseline.rps

    @property
    def worker_ratio(self) -> float | None:
        return self.worker.rps / self.baseline.rps if self.worker else None

    @property
    def met(self) -> bool:
        return self.ratio >= TARGET_RATIO


def _load(url: str, key: str, requests: int) -> dict[str, Any]:
    args = [
        sys.executable,
        "-m",
        "tests.bench.load",
        "--url",
        url,
        "--key",
        key,
        "--concurrency",
        str(CONCURRENCY),
        "--warmup",
        "0",
        "--requests",
        str(requests),
    ]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=LOAD_TIMEOUT, check=False)
    if done.returncode != 0:
        raise BenchError(f"the load generator failed ({done.returncode}):\n{done.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if out["ok"] != requests:
        raise BenchError(f"not every request stored a report: {out['statuses']}")
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (proc(5), /proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_measured(url: str, key: str) -> LoadResult:
    """The measured requests, after the warm-up (each its own load generator run)."""
    out = _load(url, key, REQUESTS)
    return LoadResult(
        requests=out["requests"],
        seconds=out["seconds"],
        rps=out["rps"],
        p50_ms=out["p50_ms"],
        p99_ms=out["p99_ms"],
        body_bytes=out["body_bytes"],
    )


def measure(database: str, server: str, tmpdir: Path) -> LoadResult:
    with fresh_database(database, tmpdir) as url:
        project = add_project(url)
        data_dir = tmpdir / f"{server}-{database}-{uuid.uuid4().hex[:6]}"
        data_dir.mkdir()
        env = {
            "BENCH_DATABASE_URL": url,
            "BENCH_PROJECT_ID": project.id,
            "BENCH_DATA_DIR": str(data_dir),
            "BENCH_SECRET_KEY": secrets.token_urlsafe(40),
        }
        worker = start_worker(url, data_dir, env["BENCH_SECRET_KEY"]) if server == "worker" else None
        try:
            with uvicorn_server(SERVERS[server], env, data_dir / "server.log") as srv:
                pids = [srv.pid] + ([worker.pid] if worker is not None else [])
                _load(srv.url, project.public_key, WARMUP)
                if server != "baseline":
                    wait_triaged(url)  # the warm-up's triage is not the measured requests' CPU
                before = sum(cpu_seconds(pid) for pid in pids)
                result = run_measured(srv.url, project.public_key)
                if server != "baseline":
                    result = dataclasses.replace(result, drain_s=wait_triaged(url))
                spent = sum(cpu_seconds(pid) for pid in pids) - before
                result = dataclasses.replace(result, cpu_ms=spent * 1000 / REQUESTS)
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
        stored = count_reports(url)
        if stored != WARMUP + REQUESTS:
            raise BenchError(
                f"{server} on {database}: {stored} reports stored for {WARMUP + REQUESTS} requests"
            )
    return result


def start_worker(url: str, data_dir: Path, secret: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUGLINE_")}
    env |= {"BUGLINE_DATABASE_URL": url, "BUGLINE_DATA_DIR": str(data_dir), "BUGLINE_SECRET_KEY": secret,
            "BUGLINE_LOG_LEVEL": "warning"}
    log_file = open(data_dir / "worker.log", "wb")  # noqa: SIM115 (the process owns it until it exits)
    return subprocess.Popen([sys.executable, "-m", "bugline", "worker"], env=env, stdout=log_file,
                            stderr=subprocess.STDOUT)


def wait_triaged(url: str) -> float:
    """Seconds until no accepted report is waiting for its verdict."""
    engine = make_sync_engine(url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < DRAIN_TIMEOUT:
            with Session(engine) as session:
                waiting = session.execute(
                    select(func.count()).select_from(Report).where(Report.triaged_at.is_(None))
                ).scalar_one()
            if not waiting:
                return time.monotonic() - started
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise BenchError(f"triage did not catch up within {DRAIN_TIMEOUT:.0f} s")


def run_intake(tmpdir: Path, log: Any = print) -> list[IntakeResult]:
    results = []
    for database in ("sqlite", "postgresql"):
        best: dict[str, LoadResult] = {}
        for round_no in range(1, ROUNDS + 1):
            for server in ("baseline", "bugline", "worker"):
                log(
                    f"intake round {round_no}/{ROUNDS}: {server} on {database} "
                    f"({WARMUP} warm-up + {REQUESTS} requests, {CONCURRENCY} at once)"
                )
                r = measure(database, server, tmpdir)
                drained = f", triaged {r.drain_s:.1f} s after the last response" if r.drain_s is not None else ""
                cpu = f", {r.cpu_ms:.2f} ms CPU per request" if r.cpu_ms is not None else ""
                log(f"  {r.rps:,.0f} req/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms{drained}{cpu}")
                if server not in best or r.rps > best[server].rps:
                    best[server] = r
        results.append(IntakeResult(database, best["baseline"], best["bugline"], best["worker"]))
    return results
