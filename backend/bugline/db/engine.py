"""Database engines: one URL from settings, the right driver for sync and async use.

People write ``postgresql://`` or ``sqlite:///path``; the app runs async (psycopg 3 or
aiosqlite) and Alembic runs sync (psycopg 3 or sqlite3) on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url as make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession


def driver_url(url: str, *, asynchronous: bool) -> str:
    u = make_url(url)
    backend = u.get_backend_name()
    if backend in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        u = u.set(drivername="sqlite+aiosqlite" if asynchronous else "sqlite+pysqlite")
    else:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return u.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so SAVEPOINTs
    # work: https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    dbapi_conn.isolation_level = None
    # WAL lets readers run while a report is written; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


READ_ONLY = "bugline_read_only"
T = TypeVar("T")


def _sqlite_begin(conn: Any) -> None:
    # Writers take the lock up front (IMMEDIATE): a read-then-write transaction never fails
    # with SQLITE_BUSY halfway when another writer got there first; busy_timeout makes it
    # wait instead. Readers (see read_only) begin DEFERRED and never wait for writers in WAL.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_async_engine(url: str, *, read_only: bool = False, pool_size: int = 10) -> AsyncEngine:
    """The app's engine. On SQLite, writers share one connection: SQLite takes one writer at
    a time anyway, and several connections contending for the lock sleep and retry (a p99
    of over a second under load, see BENCHMARKS.md); a queue in the pool is fair and fast.
    Readers get their own engine (``read_only``), so they never wait behind that queue."""
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if is_sqlite:
        kwargs: dict[str, Any] = {} if read_only else {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30}
    else:
        # Up to pool_size connections kept, as many again in a burst (BUGLINE_DB_POOL_SIZE).
        kwargs = {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}
    engine = create_async_engine(driver_url(url, asynchronous=True), **kwargs)
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def make_sync_engine(url: str) -> Engine:
    engine = create_engine(driver_url(url, asynchronous=False))
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_reader_engine(url: str, engine: AsyncEngine) -> AsyncEngine:
    """The engine reads go through: on SQLite its own read-only pool, so reads never wait
    behind the single writer connection; elsewhere the writers' engine itself."""
    return make_async_engine(url, read_only=True) if make_url(url).get_backend_name() == "sqlite" else engine


def make_readers(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that only read (pass ``make_async_engine(url, read_only=True)`` on SQLite)."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


class Writer:
    """Runs one write transaction, given as a plain function of a Connection.

    On PostgreSQL the function runs on the async engine (psycopg's async driver, through
    SQLAlchemy's greenlet bridge). On SQLite it runs on the writer's own thread on a
    synchronous engine with a single connection: the whole transaction costs one thread hop
    instead of one per statement through aiosqlite, and writers queue fairly for SQLite's one
    write lock (BENCHMARKS.md has the numbers that made this worth it). One thread, not one
    of anyio's pool per waiting writer: under load a dozen threads queued on the pool's one
    connection and their lock hand-offs cost more CPU than short transactions themselves.
    """

    def __init__(self, url: str, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sync: Engine | None = None
        self._thread: ThreadPoolExecutor | None = None
        if make_url(url).get_backend_name() == "sqlite":
            self.sync = create_engine(
                driver_url(url, asynchronous=False), pool_size=1, max_overflow=0, pool_timeout=30
            )
            event.listen(self.sync, "connect", _sqlite_pragmas)
            event.listen(self.sync, "begin", _sqlite_begin)

    async def run(self, work: Callable[[Connection], T]) -> T:
        if self.sync is not None:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bugline-writer")
            # In the caller's context (as anyio does): the work reads context variables, e.g.
            # the request id a report's "created" event records.
            context = contextvars.copy_context()
            loop = asyncio.get_running_loop()
            done = loop.run_in_executor(self._thread, context.run, self._in_thread, work)
            try:
                return await asyncio.shield(done)
            except asyncio.CancelledError:
                # Like a thread of anyio's (not abandoned on cancel): the caller learns of its
                # cancellation once the transaction has ended, committed or not.
                with contextlib.suppress(Exception):
                    await done
                raise
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    def _in_thread(self, work: Callable[[Connection], T]) -> T:
        assert self.sync is not None
        with self.sync.begin() as conn:
            return work(conn)

    def dispose(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        if self.sync is not None:
            self.sync.dispose()
