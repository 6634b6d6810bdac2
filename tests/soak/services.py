"""The soak suite's own PostgreSQL cluster and SeaweedFS, which it may restart and stop at will.

The shared PostgreSQL on 127.0.0.1:5432 serves other test sessions, so the soak test never
touches it: it runs ``initdb`` into a temp dir and starts a private cluster on a free port
(trust auth, loopback only). SeaweedFS is started the same way as tests/support/seaweed.py
does, but on ports and credentials chosen once, so that a stopped server comes back on the
same address with the same data and the app's presigned URLs keep working.

A missing binary is a failure (``ServiceError``), never a skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import psycopg
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.support.ports import free_ports
from tests.support.seaweed import find_weed, grpc_sockets, server_args, write_identities

START_TIMEOUT = 60.0
PROBE_BUCKET = "soak-probe"


class ServiceError(RuntimeError):
    """A service could not be found, started or stopped; the message carries its log tail."""


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- PostgreSQL ------------------------------------------------------------------------------------


def pg_bindir() -> Path:
    """Debian's PostgreSQL binaries (the newest major version installed)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise ServiceError("pg_ctl not found under /usr/lib/postgresql/*/bin nor on PATH: install postgresql")


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own: ``start()``, ``restart()`` (the fault), ``stop()``."""

    root: Path
    port: int
    bindir: Path = field(default_factory=pg_bindir)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = START_TIMEOUT) -> None:
        # initdb refuses to run as root, so as root everything runs as the postgres user.
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", _pg_user(), "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise ServiceError(
                f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}\n"
                f"log tail:\n{_tail(self.log_path)}"
            )

    def _options(self) -> str:
        # Sockets in our own dir (the system one belongs to the shared server); enough
        # connections for 3 apps and 3 workers with their pools; fsync off: throwaway data,
        # and the restart fault is a clean one (pg_ctl -m fast), not a power cut.
        return (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -c max_connections=300 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam(_pg_user())
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", self._options(), "-l", str(self.log_path), "-w", "start"
        )
        self.wait_ready()

    def restart(self) -> None:
        """The fault: a fast restart drops every connection and refuses new ones meanwhile."""
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            self._options(),
            "-l",
            str(self.log_path),
            "-m",
            "fast",
            "-w",
            "restart",
        )
        self.wait_ready()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.Error as exc:
                if time.monotonic() > deadline:
                    raise ServiceError(f"PostgreSQL did not come up: {exc}\n{_tail(self.log_path)}") from exc
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _pg_user() -> str:
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ServiceError("running as root needs a 'postgres' user to run initdb and pg_ctl as") from exc
    return "postgres"


def start_postgres() -> PrivatePostgres:
    """A new cluster in its own dir under /tmp: the postgres user must be able to reach it, and
    pytest's temp dirs are private to root. ``remove()`` deletes it after ``stop()``."""
    (port,) = free_ports(1)
    pg = PrivatePostgres(Path(tempfile.mkdtemp(prefix="bugline-soak-pg-")), port)
    pg.init()
    pg.start()
    return pg


# -- SeaweedFS -------------------------------------------------------------------------------------


@dataclass
class RestartableSeaweed:
    """SeaweedFS (master, volume, filer, S3) on fixed ports: ``stop()`` then ``start()`` brings the
    same endpoint back with the same data and credentials."""

    root: Path
    ports: list[int]
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports[6]}"

    @property
    def log_path(self) -> Path:
        return self.root / "weed.log"

    def _sockets(self) -> list[Path]:
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = self.ports
        del master, volume
        return [
            Path("/tmp") / f"soak-weed-filer-{filer}.sock",
            Path("/tmp") / f"soak-weed-s3-{s3}.sock",
            *grpc_sockets(master_grpc, volume_grpc, filer_grpc, s3_grpc),
        ]

    def client(self) -> object:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=1,
                read_timeout=3,
                retries={"max_attempts": 1},
            ),
        )

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            raise ServiceError("SeaweedFS is already running")
        weed = find_weed()
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        identities = write_identities(
            self.root / "identities.json", "bugline-soak", self.access_key, self.secret_key
        )
        sockets = self._sockets()
        for sock in sockets:
            sock.unlink(missing_ok=True)
        logs = self.root / "logs"
        logs.mkdir(exist_ok=True)
        args = server_args(
            weed,
            logs,
            data,
            self.ports,
            sockets[0],
            sockets[1],
            identities,
            # A restarted single master waits out a whole election timeout (10 s by default)
            # before it leads again; the outage we mean to cause is the S3 stop, not that.
            "-master.electionTimeout=1s",
        )
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.root,
                start_new_session=True,
                env={**os.environ, "TMPDIR": str(self.root)},
            )
        self.starts += 1
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ServiceError(f"weed exited during start; log tail:\n{_tail(self.log_path)}")
            try:
                # A round trip, not just ListBuckets: after a restart the gateway answers before
                # the volume server has checked in, and reads fail until it has.
                s3 = self.client()
                if PROBE_BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:  # type: ignore[attr-defined]
                    s3.create_bucket(Bucket=PROBE_BUCKET)  # type: ignore[attr-defined]
                s3.put_object(Bucket=PROBE_BUCKET, Key="probe", Body=b"ok")  # type: ignore[attr-defined]
                if s3.get_object(Bucket=PROBE_BUCKET, Key="probe")["Body"].read() == b"ok":  # type: ignore[attr-defined]
                    return
            except (BotoCoreError, ClientError):
                pass
            time.sleep(0.2)
        raise ServiceError(
            f"SeaweedFS S3 did not answer within {START_TIMEOUT:.0f}s:\n{_tail(self.log_path)}"
        )

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` (weed's own graceful stop takes ~15 s)."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        _signal_group(process.pid, signal.SIGKILL)
        for sock in self._sockets():
            sock.unlink(missing_ok=True)
        self.process = None


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


_START_ATTEMPTS = 3


def start_seaweed(root: Path) -> RestartableSeaweed:
    """SeaweedFS on fresh ports. If another process took one of the eight between our check
    and weed's bind (a clean-clone run saw it: the S3 gRPC port, taken by a test on the other
    worker), weed exits with "address already in use": start again on new ports, as
    tests/support/seaweed.py does. Later restarts keep their ports: the app knows them."""
    for attempt in range(_START_ATTEMPTS):
        where = root if attempt == 0 else root / f"retry-{attempt}"
        where.mkdir(parents=True, exist_ok=True)
        server = RestartableSeaweed(
            where, free_ports(8), "AK" + secrets.token_hex(9).upper(), secrets.token_urlsafe(30)
        )
        try:
            server.start()
        except ServiceError as error:
            server.stop()
            if "address already in use" not in str(error) or attempt == _START_ATTEMPTS - 1:
                raise
            continue
        return server
    raise AssertionError("unreachable")
