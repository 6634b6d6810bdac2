"""The inbox page: server time at 10k and 100k reports, on SQLite and PostgreSQL.

One project holds N generated reports (bulk inserted through the same tables, triggers and
indexes intake writes: severities, statuses, completeness, kinds, categories, reporters with
accounts, duplicate groups and deliveries in realistic shares, text from a small vocabulary
so a search word matches about 1 % of them). A signed-in agent then requests the page in the
app's own process (httpx's ASGI transport: no network, no other process), so the time is the
server's: session lookup, filters, the query, connector states, the template.

Views: the default (newest first), a filtered view (severity high, status received), a search
(one word, about 1 % of reports), a search for a word in no report and one for a word in most
reports, the severity sort, a deep page (the cursor of the row 80 % down the newest-first list),
and the default view of an agent of three projects (the bench project and two more, each with
a fifth of its reports, at the same times, so the pages interleave the three). Each is compared with a bare baseline in the same run: the same
50 rows by one hand-written SELECT ... LIMIT 50 (no joins, no connector states, no page).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from bugline.app import create_app
from bugline.dashboard import sessions
from bugline.db.engine import make_sync_engine
from bugline.db.models import (
    ConnectorConfig,
    Delivery,
    DuplicateGroup,
    Membership,
    Report,
    Reporter,
    User,
)
from bugline.inbox.cursor import Cursor, encode
from bugline.settings import Settings
from bugline.tokens import hash_password
from tests.bench.common import add_project, fresh_database

SIZES = (10_000, 100_000)
DATABASES = ("sqlite", "postgresql")
SAMPLES = 40
WARMUP = 5
BATCH = 5_000
PUBLIC_URL = "http://bench.local"
WORDS = [
    "checkout",
    "payment",
    "invoice",
    "export",
    "login",
    "dashboard",
    "report",
    "upload",
    "button",
    "page",
    "error",
    "timeout",
    "crash",
    "slow",
    "blank",
    "screen",
    "sync",
    "account",
    "settings",
    "email",
    "search",
    "filter",
    "chart",
    "table",
    "modal",
    "save",
    "delete",
    "load",
    "image",
    "profile",
    "password",
    "card",
    "order",
    "cart",
    "shipping",
    "refund",
    "plan",
    "billing",
    "team",
    "user",
    "admin",
    "mobile",
    "browser",
    "chrome",
    "firefox",
    "safari",
    "network",
    "server",
    "request",
    "response",
    "api",
    "token",
    "session",
    "spinner",
    "freezes",
    "broken",
    "missing",
    "wrong",
    "shows",
    "fails",
    "after",
    "clicking",
    "when",
    "opening",
    "trying",
    "expected",
]
RARE = "kerberos"  # put in about 1 % of reports: the search's word
MISS = "zeppelin"  # in no report: the search must look at every report to say so
COMMON = "error"  # one of the vocabulary's words: in most reports
OTHERS = 2  # the multi-project agent's other projects
OTHER_SHARE = 5  # each holds 1/OTHER_SHARE as many reports as the bench project
SEVERITY = (("critical", 3), ("high", 12), ("medium", 35), ("low", 40), (None, 10))
STATUS = (("received", 45), ("needs_info", 20), ("escalated", 20), ("resolved", 10), ("closed", 5))


@dataclass
class Timing:
    view: str
    page_p50: float
    page_p95: float
    bare_p50: float
    bare_p95: float
    rows: int

    @property
    def ratio(self) -> float:
        return self.page_p50 / self.bare_p50 if self.bare_p50 else 0.0


@dataclass
class SizeResult:
    database: str
    reports: int
    seed_s: float
    timings: list[Timing] = field(default_factory=list)


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def seed(url: str, project_id: str, start: int, count: int, rng: random.Random, every: int = 37) -> None:
    """Reports ``start`` .. ``start + count`` (numbers), one per ``every`` seconds, bulk inserted
    in batches."""
    engine = make_sync_engine(url)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    try:
        with Session(engine) as s, s.begin():
            connector = s.execute(
                select(ConnectorConfig.id).where(ConnectorConfig.project_id == project_id)
            ).scalar_one_or_none()
            if connector is None:
                connector = secrets.token_hex(16)
                s.execute(
                    insert(ConnectorConfig).values(
                        id=connector, project_id=project_id, name="helpdesk", kind="webhook"
                    )
                )
        for offset in range(0, count, BATCH):
            reporters, groups, reports, deliveries = [], [], [], []
            for i in range(start + offset, start + min(offset + BATCH, count)):
                rid = secrets.token_hex(16)
                reporter = None
                if rng.random() < 0.7:
                    reporter = secrets.token_hex(16)
                    reporters.append(
                        {
                            "id": reporter,
                            "project_id": project_id,
                            "email": f"user{rng.randrange(20_000)}@example.com",
                            "account": f"Account {rng.randrange(2_000)}",
                        }
                    )
                group = None
                if rng.random() < 0.3:
                    group = secrets.token_hex(16)
                    groups.append(
                        {
                            "id": group,
                            "project_id": project_id,
                            "report_count": rng.choice([1, 1, 2, 3, 5, 12]),
                        }
                    )
                title = _sentence(rng, rng.randint(3, 8))
                description = _sentence(rng, rng.randint(20, 80))
                if rng.random() < 0.01:
                    description += " " + RARE
                reports.append(
                    {
                        "id": rid,
                        "project_id": project_id,
                        "reporter_id": reporter,
                        "number": i + 1,
                        "status_token_hash": secrets.token_hex(32),
                        "status": _pick(rng, STATUS),
                        "title": title[:300],
                        "actual": _sentence(rng, 10),
                        "description": description,
                        "severity": _pick(rng, SEVERITY),
                        "kind": rng.choice(["bug", "bug", "bug", "feature_request", "question"]),
                        "category": rng.choice(["billing", "ui", "data", "performance", None]),
                        "completeness": rng.randrange(0, 101),
                        "duplicate_group_id": group,
                        "created_at": t0 + timedelta(seconds=i * every),
                    }
                )
                if rng.random() < 0.6:
                    deliveries.append(
                        {
                            "id": secrets.token_hex(16),
                            "project_id": project_id,
                            "report_id": rid,
                            "connector_id": connector,
                            "state": rng.choice(["done", "done", "done", "pending", "failed"]),
                        }
                    )
            with engine.begin() as conn:
                if reporters:
                    conn.execute(insert(Reporter), reporters)
                if groups:
                    conn.execute(insert(DuplicateGroup), groups)
                conn.execute(insert(Report), reports)
                if deliveries:
                    conn.execute(insert(Delivery), deliveries)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def sign_in(url: str, *project_ids: str) -> str:
    engine = make_sync_engine(url)
    try:
        with Session(engine) as s, s.begin():
            user = User(
                email=f"agent-{secrets.token_hex(4)}@example.com", password_hash=hash_password("x" * 12)
            )
            s.add(user)
            s.flush()
            for project_id in project_ids:
                s.add(Membership(project_id=project_id, user_id=user.id, role="agent"))
            return sessions.start(s, user, ip=None, user_agent=None)
    finally:
        engine.dispose()


def deep_cursor(url: str, project_id: str, count: int) -> str:
    engine = make_sync_engine(url)
    try:
        with Session(engine) as s:
            row = s.execute(
                select(Report.created_at, Report.id)
                .where(Report.project_id == project_id)
                .order_by(Report.created_at.desc(), Report.id.desc())
                .offset(int(count * 0.8))
                .limit(1)
            ).one()
        return encode(Cursor("newest", 0, (row.created_at, row.id)))
    finally:
        engine.dispose()


def bare_sql(dialect: str, view: str) -> str:
    """The baseline: the same 50 rows, one SELECT, nothing else."""
    cols = "id, number, title, status, severity, completeness, created_at"
    where = "project_id IN (:p, :p1, :p2)" if view == "multi" else "project_id = :p"
    order = "created_at DESC, id DESC"
    if view == "filtered":
        where += " AND severity = 'high' AND status = 'received'"
    if view == "deep":
        where += " AND created_at <= :c AND (created_at < :c OR id < :i)"
    if view == "severity":
        where += " AND severity = 'critical'"
    if view in ("search", "miss", "common"):
        if dialect == "postgresql":
            where += " AND search_vector @@ to_tsquery('simple', :q)"
        else:
            where += " AND rowid IN (SELECT rowid FROM reports_fts WHERE reports_fts MATCH :q)"
    return f"SELECT {cols} FROM reports WHERE {where} ORDER BY {order} LIMIT 50"


def _pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]
    )


async def measure(
    url: str, tmpdir: Path, project_id: str, others: list[str], count: int, log: Callable[[str], None]
) -> list[Timing]:
    settings = Settings(
        database_url=url, data_dir=tmpdir, secret_key=secrets.token_urlsafe(40), public_url=PUBLIC_URL
    )
    settings.validate()
    cookie = sign_in(url, project_id)
    multi_cookie = sign_in(url, project_id, *others)
    deep = deep_cursor(url, project_id, count)
    engine = make_sync_engine(url)
    created_at, rid = (
        Session(engine)
        .execute(
            select(Report.created_at, Report.id)
            .where(Report.project_id == project_id)
            .order_by(Report.created_at.desc(), Report.id.desc())
            .offset(int(count * 0.8))
            .limit(1)
        )
        .one()
    )
    views = {
        "default": "/reports",
        "filtered": "/reports?severity=high&status=received",
        "search": f"/reports?q={RARE}",
        "miss": f"/reports?q={MISS}",
        "common": f"/reports?q={COMMON}",
        "severity": "/reports?sort=severity",
        "deep": f"/reports?cursor={deep}",
        "multi": "/reports",
    }
    app = create_app(settings)
    state = app.state.bugline
    out: list[Timing] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        for view, path in views.items():
            client.cookies.set(sessions.cookie_name(False), multi_cookie if view == "multi" else cookie)
            page_ms: list[float] = []
            rows = 0
            for n in range(WARMUP + SAMPLES):
                t = time.perf_counter()
                res = await client.get(path)
                elapsed = (time.perf_counter() - t) * 1000
                if res.status_code != 200:
                    raise RuntimeError(f"{path}: {res.status_code} {res.text[:300]}")
                if n >= WARMUP:
                    page_ms.append(elapsed)
                rows = res.text.count('<td class="title">')
            sql = text(bare_sql(engine.dialect.name, view))
            params: dict[str, Any] = {"p": project_id, "c": created_at, "i": rid}
            params.update({f"p{n + 1}": other for n, other in enumerate(others)})
            word = {"miss": MISS, "common": COMMON}.get(view, RARE)
            params["q"] = f"{word}:*" if engine.dialect.name == "postgresql" else f'"{word}"*'
            bare_ms: list[float] = []
            async with state.readers() as session:
                for n in range(WARMUP + SAMPLES):
                    t = time.perf_counter()
                    got = (await session.execute(sql, params)).all()
                    elapsed = (time.perf_counter() - t) * 1000
                    if n >= WARMUP:
                        bare_ms.append(elapsed)
            timing = Timing(
                view,
                statistics.median(page_ms),
                _pct(page_ms, 95),
                statistics.median(bare_ms),
                _pct(bare_ms, 95),
                rows,
            )
            log(
                f"  {view}: page p50 {timing.page_p50:.1f} ms p95 {timing.page_p95:.1f} ms; "
                f"bare p50 {timing.bare_p50:.2f} ms ({len(got)} rows); {timing.ratio:.1f}x"
            )
            out.append(timing)
    await state.close()
    engine.dispose()
    return out


def run_inbox(tmpdir: Path, log: Callable[[str], None] = print) -> tuple[str, list[dict[str, Any]]]:
    tmpdir = tmpdir / "inbox"
    tmpdir.mkdir(exist_ok=True)
    results: list[SizeResult] = []
    for database in DATABASES:
        with fresh_database(database, tmpdir) as url:
            project = add_project(url)
            others = [add_project(url).id for _ in range(OTHERS)]
            rng = random.Random(7)
            done = 0
            for size in SIZES:
                log(f"inbox {database}: seeding {size - done:,} reports (to {size:,})")
                t = time.perf_counter()
                seed(url, project.id, done, size - done, rng)
                seed_s = time.perf_counter() - t
                for other in others:  # not in seed_s: that stays the bench project's alone
                    seed(url, other, done // OTHER_SHARE, (size - done) // OTHER_SHARE, rng, 37 * OTHER_SHARE)
                done = size
                log(f"  seeded in {seed_s:.1f} s")
                result = SizeResult(database, size, seed_s)
                result.timings = asyncio.run(measure(url, tmpdir, project.id, others, size, log))
                results.append(result)
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return block(results, date), [
        {
            "database": r.database,
            "reports": r.reports,
            "seed_s": r.seed_s,
            "timings": [t.__dict__ for t in r.timings],
        }
        for r in results
    ]


LABELS = {
    "default": "default (newest first)",
    "filtered": "filtered: severity high, status received",
    "search": f"search: one word (`{RARE}`, ~1 % of reports)",
    "miss": f"search: a word in no report (`{MISS}`)",
    "common": f"search: a word in most reports (`{COMMON}`)",
    "severity": "sorted by severity",
    "deep": "deep page (cursor 80 % down)",
    "multi": f"default, agent of {OTHERS + 1} projects (+{OTHERS} with 1/{OTHER_SHARE} as many reports each)",
}


def block(results: list[SizeResult], date: str) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    lines = [
        f"The inbox page (`GET /reports`, 50 rows) measured {date} ([inbox.py](tests/bench/inbox.py)): one "
        "project with N generated reports (reporters, accounts, duplicate groups, deliveries, text from a "
        "small vocabulary), bulk inserted through the real tables, triggers and indexes; a signed-in agent "
        "requests each view in the app's own process (httpx ASGI transport), so the time is the server's: "
        "session, filters, query, connector states, template. "
        f"{WARMUP} warm-up requests, then {SAMPLES} measured, one at a time. *Bare SELECT* is the baseline "
        "of the same run: the same 50 rows by one hand-written `SELECT … LIMIT 50` on the same engine "
        "(no joins, no connector states, no page). Pages are keyset-paged, so the deep page should cost "
        "what the first does.",
        "",
        "| database | reports | view | page p50 (ms) | page p95 (ms) | bare SELECT p50 (ms) | page / bare |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        for t in r.timings:
            lines.append(
                f"| {names[r.database]} | {r.reports:,} | {LABELS[t.view]} | {t.page_p50:.1f} | {t.page_p95:.1f} "
                f"| {t.bare_p50:.2f} | {t.ratio:.1f}x |"
            )
    return "\n".join(lines)
