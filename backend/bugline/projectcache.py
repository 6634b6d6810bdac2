"""Projects by public key, cached briefly: every widget request needs one, few ever change."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.models import Project

# How long a project's key and origins are cached in memory; a changed allowlist applies after this.
PROJECT_CACHE_SECONDS = 5.0


@dataclass(slots=True)
class ProjectCache:
    entries: dict[str, tuple[float, Project | None]] = field(default_factory=dict)

    async def get(self, sessions: async_sessionmaker[AsyncSession], key: str) -> Project | None:
        now = time.monotonic()
        hit = self.entries.get(key)
        if hit and now - hit[0] < PROJECT_CACHE_SECONDS:
            return hit[1]
        async with sessions() as session:
            project = (
                await session.execute(select(Project).where(Project.public_key == key))
            ).scalar_one_or_none()
        if len(self.entries) > 10_000:
            self.entries.clear()
        self.entries[key] = (now, project)
        return project
