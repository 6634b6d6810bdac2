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

import json
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
}


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    body_bytes: int


@dataclass(frozen=True)
class IntakeResult:
    database: str
    baseline: LoadResult
    bugline: LoadResult

    @property
    def ratio(self) -> float:
        return self.bugline.rps / self.baseline.rps

    @property
    def met(self) -> bool:
        return self.ratio >= TARGET_RATIO


def run_load(url: str, key: str) -> LoadResult:
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
        str(WARMUP),
        "--requests",
        str(REQUESTS),
    ]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=LOAD_TIMEOUT, check=False)
    if done.returncode != 0:
        raise BenchError(f"the load generator failed ({done.returncode}):\n{done.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if out["ok"] != REQUESTS:
        raise BenchError(f"not every request stored a report: {out['statuses']}")
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
        with uvicorn_server(SERVERS[server], env, data_dir / "server.log") as srv:
            result = run_load(srv.url, project.public_key)
        stored = count_reports(url)
        if stored != WARMUP + REQUESTS:
            raise BenchError(
                f"{server} on {database}: {stored} reports stored for {WARMUP + REQUESTS} requests"
            )
    return result


def run_intake(tmpdir: Path, log: Any = print) -> list[IntakeResult]:
    results = []
    for database in ("sqlite", "postgresql"):
        best: dict[str, LoadResult] = {}
        for round_no in range(1, ROUNDS + 1):
            for server in ("baseline", "bugline"):
                log(
                    f"intake round {round_no}/{ROUNDS}: {server} on {database} "
                    f"({WARMUP} warm-up + {REQUESTS} requests, {CONCURRENCY} at once)"
                )
                r = measure(database, server, tmpdir)
                log(f"  {r.rps:,.0f} req/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms")
                if server not in best or r.rps > best[server].rps:
                    best[server] = r
        results.append(IntakeResult(database, best["baseline"], best["bugline"]))
    return results
