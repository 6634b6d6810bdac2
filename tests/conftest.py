"""Shared fixtures: real PostgreSQL and SQLite, a real SeaweedFS S3, and the app wired to them.

Every test that touches the database runs on both SQLite and PostgreSQL (the
``db_url`` fixture is parametrised). A service that cannot start fails the run:
nothing here skips.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bugline.app import create_app
from bugline.db.engine import make_sessionmaker
from bugline.db.migrate import upgrade
from bugline.db.models import Delivery, Notification, Project, Report, ReportStatus, Timer, utcnow
from bugline.settings import Settings
from bugline.storage.s3 import S3Store
from bugline.tokens import public_key
from tests.support.seaweed import SeaweedServer, start_seaweed

# The machine's PostgreSQL (infra/scripts/ensure-postgres.sh makes sure it runs).
PG_ADMIN_DSN = os.environ.get("BUGLINE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PUBLIC_URL = "http://bugline.test"
T = TypeVar("T")
ORIGIN = "https://app.example.com"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_bucket(seaweed: SeaweedServer) -> str:
    name = f"bugline-test-{uuid.uuid4().hex[:8]}"
    store = s3_store(seaweed, name)
    run_async(store.ensure_bucket([ORIGIN]))
    return name


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even where an event loop already runs
    (a sync Playwright session keeps one running): in a thread of its own."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def s3_store(seaweed: SeaweedServer, bucket: str) -> S3Store:
    return S3Store(
        bucket,
        endpoint_url=seaweed.endpoint_url,
        public_endpoint_url=None,
        region="us-east-1",
        access_key=seaweed.access_key,
        secret_key=seaweed.secret_key,
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the real server for this session, dropped at the end."""
    name = f"bugline_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'bugline.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(url)
    return url


def make_settings(db_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "data_dir": data_dir,
        "secret_key": secrets.token_urlsafe(40),
        "public_url": PUBLIC_URL,
        "rate_limit_per_key": 100_000,
        "rate_limit_per_ip": 100_000,
    }
    values.update(overrides)
    settings = Settings(**values)
    settings.validate()
    return settings


class Router(httpx.AsyncBaseTransport):
    """Requests to Bugline's public URL go into the app; everything else (S3) over real HTTP."""

    def __init__(self, app: Any) -> None:
        self.app = httpx.ASGITransport(app=app)
        self.net = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(PUBLIC_URL):
            return await self.app.handle_async_request(request)
        return await self.net.handle_async_request(request)

    async def aclose(self) -> None:
        await self.net.aclose()


@dataclass
class Bugline:
    """A running app, a client for it, and a project to report to."""

    app: Any
    client: httpx.AsyncClient
    settings: Settings
    project: Project
    engine: AsyncEngine

    @property
    def key(self) -> str:
        return self.project.public_key

    async def triaged(self) -> int:
        """Runs the triage backlog to the end, as the app's loop does right after intake."""
        return int(await self.app.state.bugline.backlog.drain())

    async def delivered(self) -> dict[str, int]:
        """Triages what waits, then sends everything due from the outbox, as the app's loops do."""
        await self.triaged()
        return dict(await self.app.state.bugline.outbox.drain())

    async def notified(self) -> dict[str, int]:
        """Triages, forwards, then sends every due customer notification, as the app's loops do."""
        await self.delivered()
        return dict(await self.app.state.bugline.notifier.drain())

    async def new_project(self, origins: list[str] | None = None, name: str = "Other") -> Project:
        return await add_project(self.engine, origins if origins is not None else [ORIGIN], name)


async def add_project(engine: AsyncEngine, origins: list[str], name: str) -> Project:
    async with make_sessionmaker(engine)() as session, session.begin():
        project = Project(name=name, public_key=public_key(), allowed_origins=origins)
        session.add(project)
    return project


async def settle_leftovers(engine: AsyncEngine) -> None:
    """Work earlier tests left waiting in the session's shared database (a delivery backing
    off, a mail, a timer) is not this test's: set it aside, so each test's drains count only
    its own work."""
    async with make_sessionmaker(engine)() as session, session.begin():
        left = "left by an earlier test"
        await session.execute(
            update(Delivery).where(Delivery.state == "pending").values(state="failed", last_error=left)
        )
        await session.execute(
            update(Notification)
            .where(Notification.state == "pending")
            .values(state="skipped", last_error=left)
        )
        await session.execute(update(Timer).where(Timer.state == "pending").values(state="cancelled"))
        # Reports an earlier test accepted but never triaged would be triaged by this test's
        # drain, and mail their reporters (which test runs before which depends on the order).
        await session.execute(
            update(Report)
            .where(Report.status == ReportStatus.RECEIVED, Report.triaged_at.is_(None))
            .values(triaged_at=utcnow())
        )


async def start_bugline(settings: Settings, store: Any = None) -> AsyncIterator[Bugline]:
    app = create_app(settings, store=store)
    state = app.state.bugline
    await settle_leftovers(state.engine)
    project = await add_project(state.engine, [ORIGIN], "Acme")
    async with httpx.AsyncClient(transport=Router(app), base_url=PUBLIC_URL, timeout=60) as client:
        yield Bugline(app, client, state.settings, project, state.engine)
    await state.close()


@pytest.fixture
async def bugline(
    db_url: str, seaweed: SeaweedServer, s3_bucket: str, tmp_path: Path
) -> AsyncIterator[Bugline]:
    """The app on SQLite or PostgreSQL, with media in the real S3."""
    settings = make_settings(db_url, tmp_path, s3_bucket=s3_bucket, s3_endpoint_url=seaweed.endpoint_url)
    async for b in start_bugline(settings, s3_store(seaweed, s3_bucket)):
        yield b


@pytest.fixture
async def bugline_local(tmp_path: Path) -> AsyncIterator[Bugline]:
    """The embedded default: SQLite and the local media folder, as `make run` starts it."""
    url = f"sqlite:///{tmp_path / 'bugline.db'}"
    upgrade(url)
    async for b in start_bugline(make_settings(url, tmp_path)):
        yield b


# `make test` runs on two xdist workers, one test file per group (`--dist loadgroup`). The
# load-and-faults suite loads both cores for a minute and a half, and the real-Chromium tab
# capture waits for repaints that such a load can starve; they share one group, so they run
# one after another on one worker instead of side by side.
HEAVY = {"tests/soak/test_soak.py", "tests/e2e/test_media.py", "tests/e2e/test_dialog_media.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group("heavy" if path in HEAVY else path))
