"""``bugline worker``: a process that triages accepted reports, forwards triaged ones, mails
the customers and runs the SLA timers, apart from the web processes.

The web processes accept reports and, by default, triage and forward them too (one process
is all the embedded default needs). Under load, run workers and set
``BUGLINE_TRIAGE_IN_WEB=false`` and ``BUGLINE_OUTBOX_IN_WEB=false``: requests then cost only
the insert, and triage and delivery scale with the number of workers. Triage claims are per
report and deliveries are leased per row, so workers and web processes share both safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import prometheus_client

from bugline.app import make_outbox, make_retention, make_store, wake
from bugline.db.engine import Writer, make_async_engine, make_reader_engine, make_readers
from bugline.hooks.poll import Poller
from bugline.intake.backlog import Backlog
from bugline.notify.runner import Notifier
from bugline.observe import logs, metrics
from bugline.settings import Settings
from bugline.sla.scheduler import Scheduler

log = logging.getLogger("bugline.worker")


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Triage and forward until SIGTERM/SIGINT (or ``stop`` is set): finishes what is in hand
    first; a delivery cut off mid-call is resumed by another worker when its lease runs out."""
    logs.configure(settings.log_level, settings.log_format)
    if settings.worker_metrics_port:
        # A worker serves no HTTP otherwise; Prometheus scrapes each worker here (the queue
        # depths come from the app's /metrics, which reads them from the database).
        prometheus_client.start_http_server(
            settings.worker_metrics_port, addr=settings.host, registry=metrics.REGISTRY
        )
    settings = settings.with_secret()
    url = settings.effective_database_url
    engine = make_async_engine(url, pool_size=settings.db_pool_size)
    reader = make_reader_engine(url, engine)
    writer = Writer(url, engine)
    readers = make_readers(reader)
    store = make_store(settings)
    outbox = make_outbox(settings, writer, readers, store)
    retention = make_retention(settings, writer, readers, store)
    notifier = Notifier(writer, readers, settings, lease=settings.outbox_lease)
    after = wake(outbox, notifier)
    backlog = Backlog(writer, readers, interval=1.0, after=after)
    sla = Scheduler(writer, readers, after=after)
    poller = Poller(writer, readers, outbox.http, interval=settings.poll_interval)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    log.info("worker %s started", outbox.owner)
    backlog.start()
    outbox.start()
    notifier.start()
    sla.start()
    poller.start()
    retention.start()
    try:
        await stop.wait()
    finally:
        await backlog.stop()
        await sla.stop()
        await poller.stop()
        await retention.stop()
        await outbox.stop()
        await notifier.stop()
        writer.dispose()
        await engine.dispose()
        if reader is not engine:
            await reader.dispose()
        log.info("worker stopped")
