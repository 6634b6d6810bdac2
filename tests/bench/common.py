"""What every benchmark shares: uvicorn servers in subprocesses, throwaway databases, /proc readings."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bugline.db.engine import make_sync_engine
from bugline.db.migrate import upgrade
from bugline.db.models import Project, Report
from bugline.tokens import public_key
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = os.environ.get("BUGLINE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
# The project's allowlisted origin: every intake request says it comes from this page.
ORIGIN = "https://app.example.com"
SERVER_START_TIMEOUT = 30.0
SERVER_STOP_GRACE = 10.0


def event_loop_name() -> str:
    """uvloop when it is installed, else asyncio: the same for every server of one run."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def http_impl_name() -> str:
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


class BenchError(RuntimeError):
    """A benchmark could not run as designed (a server did not start, requests failed)."""


@dataclass
class Server:
    """A uvicorn subprocess serving one app on a loopback port."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=SERVER_STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextlib.contextmanager
def uvicorn_server(factory: str, env: Mapping[str, str], log_path: Path) -> Iterator[Server]:
    """Run ``factory`` (``module:function`` returning an ASGI app) in its own uvicorn process.

    One worker, no access log, the same event loop and HTTP parser for every server.
    ``BENCH_PUBLIC_URL`` is set to the server's own address, so the URLs it hands out work.
    The server is stopped when the block ends, whatever happens inside it.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--loop",
        event_loop_name(),
        "--http",
        http_impl_name(),
        "--lifespan",
        "on",
        "--log-level",
        "warning",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            env={**os.environ, **env, "BENCH_PUBLIC_URL": url},
        )
    server = Server(process, url, log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        server.stop()


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    with httpx.Client(timeout=2, trust_env=False) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise BenchError(
                    f"the server exited with {server.process.returncode} during start:\n{server.log_tail()}"
                )
            try:
                client.get(f"{server.url}/healthz")
                return
            except httpx.TransportError:
                time.sleep(0.1)
    raise BenchError(f"the server did not answer within {SERVER_START_TIMEOUT:.0f} s:\n{server.log_tail()}")


@contextlib.contextmanager
def fresh_database(kind: str, tmpdir: Path) -> Iterator[str]:
    """A new, migrated database: a SQLite file in ``tmpdir`` or a throwaway PostgreSQL database."""
    if kind == "sqlite":
        url = f"sqlite:///{tmpdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        upgrade(url)
        yield url
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"bugline_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_project(url: str) -> Project:
    """A project whose widget may run on ORIGIN; returns it (id and public key are set)."""
    engine = make_sync_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            project = Project(name="Bench", public_key=public_key(), allowed_origins=[ORIGIN])
            session.add(project)
        return project
    finally:
        engine.dispose()


def count_reports(url: str) -> int:
    engine = make_sync_engine(url)
    try:
        with Session(engine) as session:
            return int(session.execute(select(func.count()).select_from(Report)).scalar_one())
    finally:
        engine.dispose()


def proc_status_kib(pid: int, field: str) -> int:
    """A ``Vm*`` line of /proc/PID/status (VmRSS, VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {field}")


def reset_peak_rss(pid: int) -> None:
    """Make VmHWM (the peak resident set) start again from the current VmRSS (proc(5), clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def median(values: list[float]) -> float:
    return statistics.median(values)
