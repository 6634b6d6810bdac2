"""The Bugline processes under test: ``bugline serve`` and ``bugline worker`` as an operator runs
them (``python -m bugline ...`` with ``BUGLINE_*`` settings), each killable and restartable.

Web processes only accept (triage, outbox and notifications are off in them), the workers do
the rest: the deployment docs/deploy.md recommends under load.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
UNLIMITED = 1_000_000_000


class FleetError(RuntimeError):
    """A command failed or a process did not come up; the message carries its output."""


@dataclass
class Proc:
    role: str  # app | worker
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int = 0

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Fleet:
    """Settings shared by every process, and the processes started so far."""

    root: Path
    database_url: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    public_url: str
    lease: int = 10
    bucket: str = "bugline-soak"
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(40))
    procs: list[Proc] = field(default_factory=list)
    started: int = 0

    def env(self, **extra: str) -> dict[str, str]:
        # Our environment minus any BUGLINE_* of the caller's: Bugline refuses unknown settings,
        # and only what is set here should shape the processes under test.
        base = {k: v for k, v in os.environ.items() if not k.startswith("BUGLINE_") and k != "PORT"}
        return {
            **base,
            "PYTHONUNBUFFERED": "1",
            "BUGLINE_DATABASE_URL": self.database_url,
            "BUGLINE_DATA_DIR": str(self.root / "data"),
            "BUGLINE_SECRET_KEY": self.secret_key,
            "BUGLINE_PUBLIC_URL": self.public_url,
            "BUGLINE_S3_BUCKET": self.bucket,
            "BUGLINE_S3_ENDPOINT_URL": self.s3_endpoint,
            "AWS_ACCESS_KEY_ID": self.s3_access_key,
            "AWS_SECRET_ACCESS_KEY": self.s3_secret_key,
            "BUGLINE_RATE_LIMIT_PER_KEY": str(UNLIMITED),
            "BUGLINE_RATE_LIMIT_PER_IP": str(UNLIMITED),
            "BUGLINE_TRIAGE_IN_WEB": "false",
            "BUGLINE_OUTBOX_IN_WEB": "false",
            "BUGLINE_NOTIFY_IN_WEB": "false",
            # A killed worker's deliveries come back after the lease; vendor calls are cut at
            # 80% of it (8 s), which is the connector timeout the hanging helpdesk outlasts.
            "BUGLINE_OUTBOX_LEASE": str(self.lease),
            "BUGLINE_POLL_INTERVAL": "0",
            "BUGLINE_LOG_LEVEL": "warning",
            **extra,
        }

    def command(self, *args: str) -> str:
        """Run ``bugline ARGS`` to completion (migrate, create-project, connector add)."""
        done = subprocess.run(
            [sys.executable, "-m", "bugline", *args],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise FleetError(
                f"bugline {' '.join(args)} failed ({done.returncode}):\n{done.stderr}{done.stdout}"
            )
        return done.stdout

    def _spawn(self, role: str, port: int = 0) -> Proc:
        self.started += 1
        name = f"{role}-{self.started}"
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{name}.log"
        command = "serve" if role == "app" else "worker"
        extra = {"PORT": str(port)} if role == "app" else {}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bugline", command],
                env=self.env(**extra),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        proc = Proc(role, name, process, log_path, port)
        self.procs.append(proc)
        return proc

    def start_app(self, port: int) -> Proc:
        proc = self._spawn("app", port)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if not proc.alive():
                raise FleetError(f"{proc.name} exited during start:\n{proc.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2, trust_env=False).status_code
                    == 200
                ):
                    return proc
            if time.monotonic() > deadline:
                raise FleetError(f"{proc.name} did not answer on :{port}:\n{proc.log_tail()}")
            time.sleep(0.1)

    def start_worker(self) -> Proc:
        proc = self._spawn("worker")
        time.sleep(0.5)
        if not proc.alive():
            raise FleetError(f"{proc.name} exited during start:\n{proc.log_tail()}")
        return proc

    def running(self, role: str) -> list[Proc]:
        return [p for p in self.procs if p.role == role and p.alive()]

    def kill(self, proc: Proc) -> None:
        """SIGKILL: no shutdown handler runs, whatever was in hand is left mid-way."""
        with contextlib.suppress(ProcessLookupError):
            proc.process.send_signal(signal.SIGKILL)
        proc.process.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.alive():
                proc.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.kill(proc)

    def crashed(self) -> list[Proc]:
        """Processes that died on their own (not killed by us: those exit with -SIGKILL)."""
        return [
            p
            for p in self.procs
            if p.process.poll() is not None
            and p.process.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM)
        ]
