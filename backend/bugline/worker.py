"""``bugline worker``: a process that drains the triage backlog, apart from the web processes.

The web processes accept reports and, by default, triage them too (one process is all the
embedded default needs). Under load, run workers and set ``BUGLINE_TRIAGE_IN_WEB=false``:
requests then cost only the insert, and triage scales with the number of workers. Claims
are per report, so workers and web processes can share a backlog safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bugline.db.engine import Writer, make_async_engine, make_reader_engine, make_readers
from bugline.intake.backlog import Backlog
from bugline.settings import Settings

log = logging.getLogger("bugline.worker")


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Triage until SIGTERM/SIGINT (or ``stop`` is set): finishes the report in hand first."""
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    url = settings.effective_database_url
    engine = make_async_engine(url)
    reader = make_reader_engine(url, engine)
    writer = Writer(url, engine)
    backlog = Backlog(writer, make_readers(reader), interval=1.0)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    log.info("triage worker started")
    backlog.start()
    try:
        await stop.wait()
    finally:
        await backlog.stop()
        writer.dispose()
        await engine.dispose()
        if reader is not engine:
            await reader.dispose()
        log.info("triage worker stopped")
