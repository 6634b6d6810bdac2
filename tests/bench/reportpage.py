"""The report page with its suggested duplicates: server time as the project's open reports grow.

The report page (``GET /reports/{id}``) lists up to three open reports of other groups that
may be the same problem (``bugline.grouping.suggest``): it reads the project's newest 300
open, triaged reports of the last 90 days and ranks them. One project holds N open reports
arrived over the last days, each triaged (its own open group, a stored signature from its
words and page), with titles and 400-word descriptions from a small vocabulary (the words
the ranking reads); a signed-in agent requests one report's page in the app's own process
(httpx's ASGI transport), so the time is the server's. Baseline in the same run: the same
page with the suggestions' read replaced by an empty list, so the difference is what the
suggestions cost. 5 warm-up requests, then 40 measured per variant, alternating.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from bugline.app import create_app
from bugline.dashboard import sessions
from bugline.db.engine import make_sync_engine
from bugline.db.models import DuplicateGroup, DuplicateMember, Report
from bugline.grouping import suggest
from bugline.settings import Settings
from bugline.triage.duplicates import signature
from bugline.triage.report import TriageInput
from tests.bench.common import add_project, fresh_database
from tests.bench.inbox import PUBLIC_URL, _pct, _sentence, sign_in

SIZES = (300, 3_000)
DATABASES = ("sqlite", "postgresql")
SAMPLES = 40
WARMUP = 5
BATCH = 1_000
PAGES = ("/checkout/{}", "/orders/{}", "/cart", "/account/invoices", "/boards/{}", "/settings")


def seed(url: str, project_id: str, count: int, rng: random.Random) -> None:
    """``count`` open, triaged reports, the newest a minute ago, one every 5 minutes before."""
    engine = make_sync_engine(url)
    now = datetime.now(UTC)
    try:
        for offset in range(0, count, BATCH):
            reports, groups, members = [], [], []
            for i in range(offset, min(offset + BATCH, count)):
                rid, gid = secrets.token_hex(16), secrets.token_hex(16)
                title, description = _sentence(rng, rng.randint(4, 9)), _sentence(rng, 400)
                page = "https://app.example.com" + rng.choice(PAGES).format(rng.randrange(10_000))
                sig = signature(TriageInput(title=title, description=description, page_url=page))
                reports.append(
                    {
                        "id": rid,
                        "project_id": project_id,
                        "number": i + 1,
                        "status_token_hash": secrets.token_hex(32),
                        "status": rng.choice(["received", "needs_info", "escalated", "in_progress"]),
                        "title": title,
                        "description": description,
                        "actual": _sentence(rng, 12),
                        "page_url": page,
                        "duplicate_group_id": gid,
                        "created_at": now - timedelta(minutes=1 + 5 * (count - i)),
                    }
                )
                groups.append(
                    {"id": gid, "project_id": project_id, "primary_report_id": None, "report_count": 1}
                )
                members.append(
                    {
                        "report_id": rid,
                        "project_id": project_id,
                        "group_id": gid,
                        "reporter_key": rid,
                        "account_key": rid,
                        "signature": sig.to_json(),
                    }
                )
            with engine.begin() as conn:
                conn.execute(insert(DuplicateGroup), groups)
                conn.execute(insert(Report), reports)
                conn.execute(insert(DuplicateMember), members)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()


@dataclass
class Result:
    database: str
    reports: int
    with_p50: float
    with_p95: float
    without_p50: float
    suggested: int

    @property
    def added(self) -> float:
        return self.with_p50 - self.without_p50


async def measure(url: str, tmpdir: Path, project_id: str, database: str, count: int) -> Result:
    settings = Settings(
        database_url=url, data_dir=tmpdir, secret_key=secrets.token_urlsafe(40), public_url=PUBLIC_URL
    )
    settings.validate()
    cookie = sign_in(url, project_id)
    engine = make_sync_engine(url)
    with engine.connect() as conn:  # the newest report: the one an agent opens first
        rid = conn.execute(
            text("SELECT id FROM reports WHERE project_id = :p ORDER BY created_at DESC LIMIT 1"),
            {"p": project_id},
        ).scalar_one()
    engine.dispose()
    app = create_app(settings)
    real = suggest.suggest
    timings: dict[bool, list[float]] = {True: [], False: []}
    suggested = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
        client.cookies.set(sessions.cookie_name(False), cookie)
        for n in range(WARMUP + SAMPLES):
            for on in (True, False):
                suggest.suggest = real if on else (lambda *a, **k: [])  # type: ignore[assignment]
                t = time.perf_counter()
                res = await client.get(f"/reports/{rid}")
                elapsed = (time.perf_counter() - t) * 1000
                if res.status_code != 200:
                    raise RuntimeError(f"report page: {res.status_code} {res.text[:300]}")
                if n >= WARMUP:
                    timings[on].append(elapsed)
                if on:
                    suggested = res.text.count('name="into" value=')
    suggest.suggest = real
    await app.state.bugline.close()
    return Result(
        database,
        count,
        statistics.median(timings[True]),
        _pct(timings[True], 95),
        statistics.median(timings[False]),
        suggested,
    )


def run_reportpage(tmpdir: Path, log: Callable[[str], None] = print) -> tuple[str, list[dict[str, Any]]]:
    tmpdir = tmpdir / "reportpage"
    tmpdir.mkdir(exist_ok=True)
    results: list[Result] = []
    for database in DATABASES:
        for size in SIZES:
            with fresh_database(database, tmpdir) as url:
                project = add_project(url)
                log(f"report page {database}: seeding {size:,} open reports")
                seed(url, project.id, size, random.Random(11))
                r = asyncio.run(measure(url, tmpdir, project.id, database, size))
                log(
                    f"  with suggestions p50 {r.with_p50:.1f} ms (p95 {r.with_p95:.1f}), without "
                    f"{r.without_p50:.1f} ms, {r.suggested} suggested"
                )
                results.append(r)
    return block(results, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")), [r.__dict__ for r in results]


def block(results: list[Result], date: str) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    lines = [
        f"The report page (`GET /reports/{{id}}`) measured {date} ([reportpage.py](tests/bench/reportpage.py)): "
        "one project with N open, triaged reports of the last days (each its own open group with a stored "
        f"signature, titles and 400-word descriptions from the inbox bench's vocabulary); the newest report's "
        f"page requested by a signed-in agent in the app's own process, {WARMUP} warm-up then {SAMPLES} "
        "measured per variant, alternating. Baseline of the same run: the same page with the suggestions' "
        "read replaced by an empty list. The suggestions read at most the newest 300 such reports, so their "
        "cost should not grow past that.",
        "",
        "| database | open reports | page with suggestions p50 (ms) | p95 (ms) | without p50 (ms) "
        "| suggestions add (ms) | suggested |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {names[r.database]} | {r.reports:,} | {r.with_p50:.1f} | {r.with_p95:.1f} | {r.without_p50:.1f} "
            f"| {r.added:.1f} | {r.suggested} |"
        )
    return "\n".join(lines)
