"""The intake load generator, run as its own process so it never shares an event loop with a server.

    python -m tests.bench.load --url http://127.0.0.1:PORT --key pk_... [--concurrency 8]
        [--warmup 200] [--requests 2000]

HTTP/1.1 keep-alive connections (one per worker), a fixed number of workers each sending
its next request as soon as the previous one is answered, a warm-up that is not
measured, then a fixed number of measured requests. Every request carries the same
realistic widget report, the project's key, an allowlisted Origin and its own
Idempotency-Key. Prints one JSON object with the results on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from tests.bench.common import ORIGIN

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


def report_body() -> dict[str, Any]:
    """What the widget sends for a typical report: the checklist, the page's context, no files."""
    return {
        "title": "Invoice export fails",
        "trying_to_do": "Export the March invoices as CSV for our accountant",
        "expected": "A CSV file downloads with one line per invoice",
        "actual": "The spinner turns for half a minute, then a red banner says 'Export failed'",
        "error_text": "Error 500: export_timeout",
        "steps": ["Open Billing", "Pick March in the month list", "Click Export", "Choose CSV"],
        "frequency": "always",
        "people_affected": "some",
        "reporter": {
            "id": "u-42",
            "email": "ana@example.com",
            "name": "Ana",
            "account": "Acme",
            "plan": "pro",
        },
        "context": {
            "url": "https://app.example.com/billing?month=3",
            "route": "/billing",
            "referrer": "https://app.example.com/dashboard",
            "user_agent": CHROME_WIN,
            "client_hints": {
                "brands": [
                    {"brand": "Chromium", "version": "124"},
                    {"brand": "Google Chrome", "version": "124"},
                ],
                "fullVersionList": [
                    {"brand": "Chromium", "version": "124.0.6367.91"},
                    {"brand": "Google Chrome", "version": "124.0.6367.91"},
                    {"brand": "Not-A.Brand", "version": "99.0.0.0"},
                ],
                "mobile": False,
                "platform": "Windows",
                "platformVersion": "15.0.0",
            },
            "viewport": {"width": 1280, "height": 800},
            "screen": {"width": 1920, "height": 1080, "pixel_ratio": 1.5},
            "locale": "en-GB",
            "languages": ["en-GB", "en"],
            "timezone": "Europe/London",
            "connection": "4g",
            "console": [
                {"level": "info", "message": "Billing page loaded in 412 ms", "at": 1763900000000},
                {"level": "warn", "message": "Slow network request: /api/export", "at": 1763900012000},
                {
                    "level": "error",
                    "message": "TypeError: Cannot read properties of undefined (reading 'rows')",
                    "stack": "TypeError: Cannot read properties of undefined\n    at exportCsv (export.js:10:15)\n"
                    "    at onClick (billing.js:88:3)",
                    "source": "https://app.example.com/static/export.js",
                    "at": 1763900030012,
                },
            ],
            "network": [
                {
                    "method": "GET",
                    "url": "https://api.example.com/invoices?month=3",
                    "status": 200,
                    "duration_ms": 143.5,
                    "at": 1763900000100,
                },
                {
                    "method": "POST",
                    "url": "https://api.example.com/export",
                    "status": 500,
                    "duration_ms": 30012,
                    "at": 1763900000200,
                },
                {
                    "method": "GET",
                    "url": "https://api.example.com/me",
                    "status": 200,
                    "duration_ms": 38.2,
                    "at": 1763900000050,
                },
            ],
        },
        "metadata": {"build": "2026.11.3", "beta": True, "tenant": "acme", "seats": 42},
    }


async def run(url: str, key: str, concurrency: int, warmup: int, requests: int) -> dict[str, Any]:
    body = json.dumps(report_body()).encode()
    base_headers = {"X-Bugline-Key": key, "Origin": ORIGIN, "Content-Type": "application/json"}
    endpoint = f"{url}/api/v1/reports"
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        limits=limits, timeout=60, trust_env=False, http1=True, http2=False
    ) as client:

        async def phase(count: int, record: bool) -> float:
            remaining = count

            async def worker() -> None:
                nonlocal remaining
                while remaining > 0:
                    remaining -= 1
                    headers = {**base_headers, "Idempotency-Key": uuid.uuid4().hex}
                    start = time.perf_counter()
                    try:
                        res = await client.post(endpoint, content=body, headers=headers)
                        status = str(res.status_code)
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    if record:
                        latencies.append(time.perf_counter() - start)
                        statuses[status] += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started

        await phase(warmup, record=False)
        seconds = await phase(requests, record=True)
    latencies.sort()
    ok = statuses.get("201", 0)
    return {
        "requests": len(latencies),
        "ok": ok,
        "statuses": dict(statuses),
        "seconds": seconds,
        "rps": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "body_bytes": len(body),
    }


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(pct / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    if not args.url.startswith("http://127.0.0.1:"):
        parser.error("the load generator only talks to servers on 127.0.0.1")
    result = asyncio.run(run(args.url, args.key, args.concurrency, args.warmup, args.requests))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
