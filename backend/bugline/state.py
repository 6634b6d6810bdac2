"""What the running app holds for its whole life: settings, database, media store, limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.hooks.poll import Poller
from bugline.intake.backlog import Backlog
from bugline.notify.runner import Notifier
from bugline.outbox.runner import Outbox
from bugline.projectcache import ProjectCache
from bugline.ratelimit import RateLimiter
from bugline.retention.runner import Retention
from bugline.settings import Settings
from bugline.sharedlimits import SharedLimits
from bugline.sla.scheduler import Scheduler
from bugline.storage.base import MediaStore


@dataclass(slots=True)
class AppState:
    settings: Settings
    engine: AsyncEngine  # writes
    reader_engine: AsyncEngine  # reads: the same engine on PostgreSQL, its own pool on SQLite
    sessions: async_sessionmaker[AsyncSession]  # transactions that write
    readers: async_sessionmaker[AsyncSession]  # sessions that only read
    writer: Writer  # the intake's hot write path
    store: MediaStore
    per_key: RateLimiter
    per_ip: RateLimiter
    backlog: Backlog  # accepted reports waiting for triage, and the loop that drains them
    outbox: Outbox  # triaged reports waiting to be forwarded, and the loop that sends them
    notifier: Notifier  # customer notifications waiting to be mailed, and the loop that sends them
    sla: Scheduler  # SLA timers: escalations, follow-ups, the 14-day closure
    poller: Poller  # ticket status read back from helpdesks that push unreliably
    retention: Retention  # media and personal data expired by each project's policy
    failed_auth: RateLimiter  # wrong API tokens per client IP
    login_ip: RateLimiter  # dashboard sign-in attempts per client IP
    login_email: RateLimiter  # failed sign-ins per email address
    connector_tries: RateLimiter  # "Check connection" and "Send a test report" per connector
    limits: SharedLimits  # every limiter above, shared with the other server processes
    projects: ProjectCache = field(default_factory=ProjectCache)

    async def close(self) -> None:
        self.writer.dispose()
        await self.engine.dispose()
        if self.reader_engine is not self.engine:
            await self.reader_engine.dispose()
