"""Reporters as the widget is: create (Idempotency-Key) -> upload the screenshot to its presigned
slot -> finalize, retried the way widget/src/transport.ts retries.

The widget's policy, mirrored here:
- a step fails *retryably* on no answer at all, 408, 409, 429 or any 5xx (``retryable``), and a
  ``Retry-After`` is waited out when it is longer than the widget's own pause;
- one upload request is tried up to 3 times, pausing max(Retry-After, 2 s, then 4 s); an upload
  answered 403 (expired URL) fails the attempt retryably at once, since a new create signs fresh URLs;
- finalize waits out 409 (uploads not visible yet, another finalize in progress) up to 4 times,
  max(Retry-After, 2 s) each;
- a whole submission that failed retryably is tried again, same Idempotency-Key, after the
  backoff schedule 5 s, 30 s, 120 s, 600 s (then 30 min), each +-20%, or Retry-After if longer.
``scale`` shrinks that schedule for the short form, and a pause that would end after the run's
deadline is cut short to one last try at it; nothing else changes.

Beyond the widget, each failure is judged more strictly for the soak figures: a 500 from
Bugline is a bug even though the widget would retry it, and so is any other 4xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import struct
import time
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from tests.bench.load import report_body

ORIGIN = "https://app.example.com"
SCHEDULE = (5.0, 30.0, 120.0, 600.0)
LATER = 1800.0
# What Bugline itself may answer while something it depends on is down: the widget retries
# these and the soak counts them as expected. A 500 is retried by the widget too, but it means
# Bugline did not know what happened: the soak counts it as an error.
EXPECTED_API_STATUSES = frozenset({408, 409, 429, 502, 503, 504})


def retryable(status: int) -> bool:
    """widget/src/transport.ts ``retryable``: 0 (no response), 408, 409, 429 and 5xx may pass."""
    return status == 0 or status in (408, 409, 429) or status >= 500


def retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0


def backoff(attempts: int, rng: random.Random, scale: float) -> float:
    base = SCHEDULE[attempts - 1] if attempts <= len(SCHEDULE) else LATER
    return base * (0.8 + 0.4 * rng.random()) * scale


class Fail(Exception):
    def __init__(
        self, message: str, retry: bool, after: float = 0.0, status: int = 0, code: str = ""
    ) -> None:
        super().__init__(message)
        self.retry = retry
        self.after = after
        self.status = status
        self.code = code


@dataclass
class Failure:
    """One failed request the reporter saw: when, which step, what came back."""

    at: float  # monotonic
    step: str  # create | upload | finalize
    what: str  # HTTP status or exception name
    expected: bool  # retryable and a legitimate answer while a dependency is down
    app: int


@dataclass
class Submission:
    key: str
    reporter: int
    started: float = 0.0
    finished: float = 0.0
    attempts: int = 0
    report_id: str = ""
    accepted: bool = False
    status: str = ""
    sha256: str = ""
    size: int = 0
    created_seen: bool = False  # a create answered 201/200 at least once
    gave_up: str = ""
    failures: list[Failure] = field(default_factory=list)

    @property
    def latency(self) -> float:
        return self.finished - self.started


def screenshot(rng: random.Random) -> bytes:
    """A real PNG (decodable, RGB) of noisy pixels, so it weighs what a screenshot does (20-180 KB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    width, height = rng.randrange(80, 240), rng.randrange(80, 250)
    rows = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )


def unique_report(rng: random.Random, serial: int) -> dict[str, Any]:
    """A complete bug report (so routing sends it to the helpdesk), each about its own problem."""
    body = report_body()
    area = rng.choice(["billing", "export", "login", "search", "upload", "profile", "calendar", "inbox"])
    code = f"{area}_{serial}_{rng.randrange(10**6)}"
    body["title"] = f"{area.title()} page fails with {code}"
    body["actual"] = f"The {area} page shows a red banner: 'Error {code}' and nothing is saved"
    body["error_text"] = f"Error 500: {code}"
    body["trying_to_do"] = f"Use the {area} page to finish task {serial}"
    body["context"]["route"] = f"/{area}/{serial}"
    body["context"]["url"] = f"https://app.example.com/{area}/{serial}"
    body["context"]["console"][2]["message"] = f"TypeError: {code} is undefined"
    body["context"]["console"][2]["stack"] = (
        f"TypeError: {code}\n    at handler_{serial} ({area}.js:{serial % 900 + 1}:7)"
    )
    body["reporter"] = {
        "id": f"u-{serial}",
        "email": f"reporter{serial}@example.com",
        "name": f"Reporter {serial}",
        "account": f"Account {serial % 17}",
        "plan": "pro",
    }
    return body


class Reporter:
    """Sends submissions like the widget; ``ports`` are the app processes (a load balancer's view)."""

    def __init__(
        self, client: httpx.AsyncClient, ports: list[int], key: str, *, scale: float, deadline: float
    ) -> None:
        self.client = client
        self.ports = ports
        self.key = key
        self.scale = scale
        self.deadline = deadline  # monotonic: a submission still failing then is given up

    def _url(self, port: int, url: str) -> str:
        # The app hands out URLs on its public address; a load balancer would spread them over
        # the processes, so the port of the process this attempt goes to is put in.
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))

    async def _api(
        self, sub: Submission, step: str, app: int, url: str, body: Any, headers: dict[str, str]
    ) -> Any:
        try:
            res = await self.client.post(
                url,
                json=body,
                headers={"Origin": ORIGIN, **headers},
                params={"key": self.key},
            )
        except httpx.HTTPError as exc:
            sub.failures.append(Failure(time.monotonic(), step, type(exc).__name__, True, app))
            raise Fail(f"{step}: {type(exc).__name__}", True) from None
        if res.is_success:
            return res.json()
        try:
            error = res.json().get("error") or {}
        except ValueError:
            error = {}
        what = f"{res.status_code} {error.get('code', '')}".strip()
        sub.failures.append(
            Failure(time.monotonic(), step, what, res.status_code in EXPECTED_API_STATUSES, app)
        )
        raise Fail(
            f"{step}: HTTP {res.status_code} {error.get('code', '')}",
            retryable(res.status_code),
            retry_after(res.headers.get("retry-after")),
            res.status_code,
            str(error.get("code", "")),
        )

    async def _upload_once(self, sub: Submission, app: int, slot: dict[str, Any], data: bytes) -> None:
        up = slot["upload"]
        try:
            if up["method"] == "POST":
                res = await self.client.post(
                    up["url"], data=up["fields"], files={"file": ("shot.png", data, "image/png")}
                )
            else:
                res = await self.client.put(up["url"], content=data, headers=up.get("headers") or {})
        except httpx.HTTPError as exc:
            sub.failures.append(Failure(time.monotonic(), "upload", type(exc).__name__, True, app))
            raise Fail(f"upload: {type(exc).__name__}", True) from None
        if res.is_success:
            return
        # The store is not Bugline: any 5xx while it restarts is the store's and passes.
        sub.failures.append(
            Failure(time.monotonic(), "upload", f"s3 {res.status_code}", res.status_code >= 500, app)
        )
        status = res.status_code
        raise Fail(
            f"upload: HTTP {status}",
            status == 403 or retryable(status),
            retry_after(res.headers.get("retry-after")),
            status,
        )

    async def _upload(self, sub: Submission, app: int, slot: dict[str, Any], data: bytes) -> None:
        for i in range(1, 4):
            try:
                await self._upload_once(sub, app, slot, data)
                return
            except Fail as f:
                if not f.retry or f.status == 403 or i >= 3:
                    raise
                await asyncio.sleep(max(f.after, 2.0**i))

    async def _finalize(
        self, sub: Submission, app: int, created: dict[str, Any], token: str
    ) -> dict[str, Any]:
        body: dict[str, Any] | None = None
        for i in range(100):
            try:
                url = self._url(self.ports[app], created["finalize_url"])
                result: dict[str, Any] = await self._api(
                    sub, "finalize", app, url, body, {"X-Bugline-Report-Token": token}
                )
                return result
            except Fail as f:
                if f.code == "attachments_rejected" and body is None:
                    body = {"skip_rejected": True}  # the widget sends the report without the file
                elif f.status == 409 and i < 4:
                    await asyncio.sleep(max(f.after, 2.0))
                else:
                    raise
        raise Fail("finalize: too many tries", False)

    async def _attempt(self, sub: Submission, report: dict[str, Any], image: bytes) -> dict[str, Any]:
        app = (sub.reporter + sub.attempts) % len(self.ports)  # the balancer picks a process per try
        base = f"http://127.0.0.1:{self.ports[app]}"
        declared = [{"name": "shot.png", "type": "image/png", "size": len(image), "kind": "screenshot"}]
        created = await self._api(
            sub,
            "create",
            app,
            f"{base}/api/v1/reports",
            {**report, "attachments": declared},
            {"Idempotency-Key": sub.key},
        )
        sub.created_seen = True
        sub.report_id = created["id"]
        token = created["status_token"]
        for slot in created.get("attachments") or []:
            if slot.get("upload"):  # none: stored by an earlier try
                await self._upload(sub, app, slot, image)
        return await self._finalize(sub, app, created, token)

    async def submit(self, sub: Submission, report: dict[str, Any], image: bytes, rng: random.Random) -> None:
        sub.started = time.monotonic()
        sub.sha256 = hashlib.sha256(image).hexdigest()
        sub.size = len(image)
        while True:
            sub.attempts += 1
            try:
                result = await self._attempt(sub, report, image)
            except Fail as f:
                if not f.retry:
                    sub.gave_up = str(f)
                    sub.finished = time.monotonic()
                    return
                left = self.deadline - time.monotonic()
                if left <= 0:
                    sub.gave_up = f"still failing at the deadline: {f}"
                    sub.finished = time.monotonic()
                    return
                # The widget keeps trying for a day; the run cannot, so a pause that would end
                # after the deadline is cut short to one last try at it.
                await asyncio.sleep(min(left, max(backoff(sub.attempts, rng, self.scale), f.after)))
                continue
            sub.finished = time.monotonic()
            sub.status = str(result.get("status", ""))
            sub.accepted = bool(result.get("id")) and sub.status != "awaiting_media"
            if not sub.accepted:
                sub.gave_up = f"finalize answered status {sub.status!r}"
            return


async def run_reporters(
    ports: list[int],
    key: str,
    *,
    reporters: int,
    until: float,
    deadline: float,
    scale: float,
    seed: int = 8,
    think: tuple[float, float] = (0.2, 1.0),
) -> list[Submission]:
    """``reporters`` people each sending report after report (a pause between) until ``until``;
    the last ones finish (with retries) by ``deadline``. Every submission is returned."""
    done: list[Submission] = []
    serial = 0
    limits = httpx.Limits(max_connections=reporters * 2, max_keepalive_connections=reporters * 2)
    timeout = httpx.Timeout(20.0, connect=5.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False) as client:
        sender = Reporter(client, ports, key, scale=scale, deadline=deadline)

        async def person(index: int) -> None:
            nonlocal serial
            rng = random.Random(seed * 100_003 + index)
            await asyncio.sleep(rng.uniform(0, think[1]))  # no thundering start
            while time.monotonic() < until:
                serial += 1
                number = serial
                sub = Submission(key=uuid.uuid4().hex, reporter=index)
                done.append(sub)
                image = screenshot(rng)
                await sender.submit(sub, unique_report(rng, number), image, rng)
                await asyncio.sleep(rng.uniform(*think))

        await asyncio.gather(*(person(i) for i in range(reporters)))
    return done
