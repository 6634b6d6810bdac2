"""A 200 MB screen recording into a real SeaweedFS: plain boto3 against Bugline's two upload paths.

a. baseline: boto3 ``upload_file`` of the file, default TransferConfig.
b. presigned: the browser's flow through Bugline: create the report with one recording slot,
   PUT the parts to the presigned part URLs (streamed from the file, PARTS_IN_FLIGHT at once),
   ``complete_url``, then ``finalize_url`` (Bugline reads the object back to hash and sniff it).
c. form: ``POST /api/v1/reports/form`` with the file as the ``recording`` field, streamed from
   disk by the client; Bugline spools it to a temporary file, then uploads it to S3.

For b and c the Bugline server's peak resident memory growth is read from /proc: VmRSS
just before, the high-water mark reset (``clear_refs``), VmHWM after.
First a small warm-up recording goes through all three paths (SeaweedFS allocates its
volumes on the first write, boto3 and the server load what they need on first use); then
rounds run a, b, c in turn with the 200 MB file. Each figure is the median over the rounds,
the memory growth the largest seen.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bugline.db.migrate import upgrade
from bugline.storage.s3 import S3Store
from tests.bench.common import (
    ORIGIN,
    BenchError,
    add_project,
    median,
    proc_status_kib,
    reset_peak_rss,
    uvicorn_server,
)
from tests.support.media import webm
from tests.support.seaweed import SeaweedServer, start_seaweed

MB = 1_000_000
FILE_SIZE = 200 * MB
WARMUP_SIZE = 12 * MB
ROUNDS = 2
PARTS_IN_FLIGHT = 4
READ_CHUNK = 1024 * 1024
HTTP_TIMEOUT = 300.0
TARGET_RSS_MB = 30.0
BUCKET = "bugline-bench"


@dataclass(frozen=True)
class PathResult:
    name: str
    seconds: float  # median over rounds
    rss_growth_mb: float | None  # largest over rounds; None for the baseline (no Bugline process)
    upload_seconds: float | None = None  # presigned path: the part PUTs alone

    @property
    def mb_per_s(self) -> float:
        return FILE_SIZE / MB / self.seconds

    @property
    def upload_mb_per_s(self) -> float | None:
        return FILE_SIZE / MB / self.upload_seconds if self.upload_seconds else None


@dataclass(frozen=True)
class UploadResult:
    baseline: PathResult
    presigned: PathResult
    form: PathResult
    rounds: int
    warmup_growth_mb: dict[str, float]  # the first, small recording through each Bugline path

    @property
    def rss_met(self) -> bool:
        return all(
            p.rss_growth_mb is not None and p.rss_growth_mb < TARGET_RSS_MB
            for p in (self.presigned, self.form)
        )


def make_recording(path: Path, size: int = FILE_SIZE) -> None:
    """A file that starts like a WebM recording and goes on with incompressible bytes, written in chunks."""
    header = webm(12)  # the EBML header with DocType "webm", nothing after it
    block = os.urandom(READ_CHUNK)
    with path.open("wb") as out:
        out.write(header)
        written, n = len(header), 0
        while written < size:
            chunk = n.to_bytes(8, "big") + block[8:]  # no two chunks alike: nothing to deduplicate
            chunk = chunk[: size - written]
            out.write(chunk)
            written += len(chunk)
            n += 1


async def file_range(path: Path, offset: int, length: int) -> AsyncIterator[bytes]:
    """Stream ``length`` bytes of ``path`` from ``offset``, a chunk at a time."""
    fd = os.open(path, os.O_RDONLY)
    try:
        end = offset + length
        while offset < end:
            chunk = os.pread(fd, min(READ_CHUNK, end - offset), offset)
            if not chunk:
                raise BenchError(f"{path} ended early at byte {offset}")
            offset += len(chunk)
            yield chunk
    finally:
        os.close(fd)


def checked(res: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if res.status_code != status:
        raise BenchError(f"{what}: expected {status}, got {res.status_code}: {res.text[:2000]}")
    body: dict[str, Any] = res.json() if res.content else {}
    return body


async def presigned_flow(base: str, key: str, path: Path, size: int) -> tuple[float, float]:
    """The widget's flow for one recording; returns (seconds for the part PUTs, seconds end to end)."""
    api = {"X-Bugline-Key": key, "Origin": ORIGIN}
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, trust_env=False) as client:
        started = time.perf_counter()
        report = checked(
            await client.post(
                f"{base}/api/v1/reports",
                json={
                    "title": "Checkout freezes",
                    "actual": "The page stops responding after I click Pay; the recording shows it",
                    "attachments": [
                        {"name": "rec.webm", "type": "video/webm", "size": size, "kind": "recording"}
                    ],
                },
                headers={**api, "Idempotency-Key": uuid.uuid4().hex},
            ),
            201,
            "create report",
        )
        auth = {**api, "X-Bugline-Report-Token": report["status_token"]}
        up = report["attachments"][0]["upload"]
        part_size: int = up["part_size"]
        count = math.ceil(size / part_size)

        def length(n: int) -> int:
            return min(part_size, size - (n - 1) * part_size)

        parts = {p["part_number"]: p for p in up["parts"]}
        wanted = [n for n in range(1, count + 1) if n not in parts or parts[n]["size"] != length(n)]
        if wanted:
            more = checked(
                await client.post(
                    up["parts_url"],
                    json={"parts": [{"part_number": n, "size": length(n)} for n in wanted]},
                    headers=auth,
                ),
                200,
                "sign parts",
            )
            parts.update({p["part_number"]: p for p in more["parts"]})

        etags: dict[int, str] = {}
        queue = list(range(count, 0, -1))

        async def uploader() -> None:
            while queue:
                n = queue.pop()
                headers = {**(parts[n].get("headers") or {}), "Content-Length": str(length(n))}
                res = await client.put(
                    parts[n]["url"], content=file_range(path, (n - 1) * part_size, length(n)), headers=headers
                )
                if res.status_code != 200:
                    raise BenchError(f"part {n}: S3 answered {res.status_code}: {res.text[:500]}")
                etags[n] = res.headers["etag"]

        upload_started = time.perf_counter()
        await asyncio.gather(*(uploader() for _ in range(PARTS_IN_FLIGHT)))
        upload_seconds = time.perf_counter() - upload_started

        checked(
            await client.post(
                up["complete_url"],
                json={"parts": [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]},
                headers=auth,
            ),
            200,
            "complete upload",
        )
        final = checked(await client.post(report["finalize_url"], headers=auth), 200, "finalize")
        total = time.perf_counter() - started
    if final["status"] != "received" or final["attachments"][0]["state"] != "stored":
        raise BenchError(f"finalize did not accept the recording: {final}")
    return upload_seconds, total


async def form_flow(base: str, key: str, path: Path) -> float:
    """One curl-style multipart request with the recording; returns the seconds it took."""
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, trust_env=False) as client:
        started = time.perf_counter()
        with path.open("rb") as recording:
            res = await client.post(
                f"{base}/api/v1/reports/form",
                data={
                    "title": "Checkout freezes",
                    "actual": "The page stops responding",
                    "email": "ana@example.com",
                },
                files={"recording": ("rec.webm", recording, "video/webm")},
                headers={"X-Bugline-Key": key},
            )
        seconds = time.perf_counter() - started
    body = checked(res, 201, "form upload")
    if body["attachments"][0]["state"] != "stored":
        raise BenchError(f"the form upload did not store the recording: {body}")
    return seconds


def with_rss(pid: int, run: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``run()`` and return its result with the peak RSS growth of process ``pid``, in MB."""
    before = proc_status_kib(pid, "VmRSS")
    reset_peak_rss(pid)
    result = run()
    peak = proc_status_kib(pid, "VmHWM")
    return result, (peak - before) * 1024 / MB


def s3_store(seaweed: SeaweedServer) -> S3Store:
    return S3Store(
        BUCKET,
        endpoint_url=seaweed.endpoint_url,
        public_endpoint_url=None,
        region="us-east-1",
        access_key=seaweed.access_key,
        secret_key=seaweed.secret_key,
    )


def run_upload(tmpdir: Path, log: Any = print) -> UploadResult:
    recording = tmpdir / "recording.webm"
    log(f"upload: writing a {FILE_SIZE // MB} MB recording")
    make_recording(recording)
    size = recording.stat().st_size
    small = tmpdir / "warmup.webm"
    make_recording(small, WARMUP_SIZE)
    seaweed = start_seaweed(tmpdir / "seaweed")
    try:
        asyncio.run(s3_store(seaweed).ensure_bucket([ORIGIN]))
        s3 = seaweed.client()
        url = f"sqlite:///{tmpdir / 'upload.db'}"
        upgrade(url)
        project = add_project(url)
        data_dir = tmpdir / "bugline-upload"
        data_dir.mkdir()
        env = {
            "BENCH_DATABASE_URL": url,
            "BENCH_DATA_DIR": str(data_dir),
            "BENCH_SECRET_KEY": secrets.token_urlsafe(40),
            "BENCH_S3_BUCKET": BUCKET,
            "BENCH_S3_ENDPOINT_URL": seaweed.endpoint_url,
            # The server's S3Store takes its credentials from boto3's standard chain.
            "AWS_ACCESS_KEY_ID": seaweed.access_key,
            "AWS_SECRET_ACCESS_KEY": seaweed.secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        times: dict[str, list[float]] = {"baseline": [], "presigned": [], "form": []}
        put_times: list[float] = []
        growth: dict[str, list[float]] = {"presigned": [], "form": []}
        with uvicorn_server("tests.bench.servers:bugline_app", env, tmpdir / "bugline-upload.log") as server:
            log(f"upload warm-up: a {WARMUP_SIZE // MB} MB recording through each path")
            s3.upload_file(str(small), BUCKET, "warmup/recording.webm")
            warmup_growth: dict[str, float] = {}
            _, warmup_growth["presigned"] = with_rss(
                server.pid,
                lambda: asyncio.run(
                    presigned_flow(server.url, project.public_key, small, small.stat().st_size)
                ),
            )
            _, warmup_growth["form"] = with_rss(
                server.pid, lambda: asyncio.run(form_flow(server.url, project.public_key, small))
            )
            for round_no in range(1, ROUNDS + 1):
                log(f"upload round {round_no}/{ROUNDS}: boto3 upload_file")
                key = f"baseline/{uuid.uuid4().hex}"
                started = time.perf_counter()
                s3.upload_file(str(recording), BUCKET, key)
                times["baseline"].append(time.perf_counter() - started)
                s3.delete_object(Bucket=BUCKET, Key=key)

                log(f"upload round {round_no}/{ROUNDS}: presigned parts + complete + finalize")
                (put_s, total_s), grew = with_rss(
                    server.pid,
                    lambda: asyncio.run(presigned_flow(server.url, project.public_key, recording, size)),
                )
                put_times.append(put_s)
                times["presigned"].append(total_s)
                growth["presigned"].append(grew)

                log(f"upload round {round_no}/{ROUNDS}: multipart/form-data endpoint")
                form_s, grew = with_rss(
                    server.pid, lambda: asyncio.run(form_flow(server.url, project.public_key, recording))
                )
                times["form"].append(form_s)
                growth["form"].append(grew)
                log(
                    "  "
                    + ", ".join(f"{k} {FILE_SIZE / MB / v[-1]:.1f} MB/s" for k, v in times.items())
                    + f"; RSS growth presigned {growth['presigned'][-1]:.1f} MB, form {growth['form'][-1]:.1f} MB"
                )
        spool = list((data_dir / "tmp").glob("*")) if (data_dir / "tmp").exists() else []
        if spool:
            raise BenchError(f"the form endpoint left temporary files behind: {spool}")
    finally:
        seaweed.stop()
    return UploadResult(
        baseline=PathResult("boto3 upload_file", median(times["baseline"]), None),
        presigned=PathResult(
            "presigned parts", median(times["presigned"]), max(growth["presigned"]), median(put_times)
        ),
        form=PathResult("multipart/form-data", median(times["form"]), max(growth["form"])),
        rounds=ROUNDS,
        warmup_growth_mb=warmup_growth,
    )
