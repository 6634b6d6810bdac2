"""``bugline erase`` and ``bugline retention``: the same steps as the worker and the agent API,
from the shell (an operator acting on an emailed request, or a cron job)."""

from __future__ import annotations

import json
from typing import Any

from bugline.db.engine import Writer, make_async_engine, make_reader_engine, make_readers
from bugline.retention import runner
from bugline.settings import Settings


async def _with_parts(settings: Settings, work: Any) -> Any:
    from bugline.app import make_retention, make_store

    url = settings.effective_database_url
    engine = make_async_engine(url, pool_size=settings.db_pool_size)
    reader = make_reader_engine(url, engine)
    writer = Writer(url, engine)
    try:
        return await work(make_retention(settings, writer, make_readers(reader), make_store(settings)))
    finally:
        writer.dispose()
        await engine.dispose()
        if reader is not engine:
            await reader.dispose()


async def erase(settings: Settings, project_id: str, subject: str, requested_by: str) -> int:
    async def work(retention: runner.Retention) -> int:
        erased = await runner.erase(
            retention.writer, retention.store, project_id, subject, requested_by=requested_by
        )
        print(
            json.dumps(
                {"erasure": erased.erasure_id, "reports": len(erased.reports), "files": len(erased.files)}
            )
        )
        return 0

    return int(await _with_parts(settings, work))


async def sweep(settings: Settings) -> int:
    async def work(retention: runner.Retention) -> int:
        print(json.dumps(await retention.sweep()))
        return 0

    return int(await _with_parts(settings, work))
