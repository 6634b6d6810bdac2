"""create_app(settings) -> the Starlette application: routes, middleware, and what lives for its lifetime."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from bugline.dashboard.auth import DashError, LoginRequired
from bugline.dashboard.view import handle_dash_error, handle_login_required
from bugline.db.engine import (
    AsyncSession,
    Writer,
    make_async_engine,
    make_reader_engine,
    make_readers,
    make_sessionmaker,
)
from bugline.errors import (
    ApiError,
    handle_api_error,
    handle_database_unavailable,
    handle_http_exception,
    handle_store_error,
)
from bugline.hooks.poll import Poller
from bugline.intake import formdata
from bugline.intake.abandoned import Abandoned
from bugline.intake.backlog import Backlog
from bugline.notify.runner import Notifier
from bugline.outbox.runner import Outbox
from bugline.ratelimit import RateLimiter
from bugline.retention.policy import Policy
from bugline.retention.runner import Retention
from bugline.routes import (
    agent,
    dashboard,
    demo,
    erasures,
    health,
    hooks,
    media,
    metrics,
    notifyapi,
    openapi,
    pages,
    reportapi,
    reports,
    reportsapi,
    status,
    statusbatch,
    uploadform,
    widget,
)
from bugline.settings import Settings
from bugline.sharedlimits import SharedLimits
from bugline.sla.scheduler import Scheduler
from bugline.state import AppState
from bugline.storage.base import MediaStore, StoreError
from bugline.web.cors import CorsMiddleware
from bugline.web.headers import SecurityHeadersMiddleware
from bugline.web.requests import RequestMiddleware, route_templates

log = logging.getLogger("bugline")


def make_store(settings: Settings) -> MediaStore:
    if settings.s3_bucket:
        from bugline.storage.s3 import S3Store

        return S3Store(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            public_endpoint_url=settings.s3_public_endpoint_url or None,
            region=settings.s3_region,
        )
    from bugline.storage.local import LocalStore

    return LocalStore(
        settings.media_dir, public_url=settings.effective_public_url, secret_key=settings.secret_key
    )


def make_outbox(
    settings: Settings, writer: Writer, readers: async_sessionmaker[AsyncSession], store: MediaStore
) -> Outbox:
    return Outbox(
        writer,
        readers,
        store,
        database_url=settings.effective_database_url,
        public_url=settings.effective_public_url,
        link_ttl=settings.media_link_ttl,
        concurrency=settings.outbox_concurrency,
        lease=settings.outbox_lease,
    )


def make_retention(
    settings: Settings, writer: Writer, readers: async_sessionmaker[AsyncSession], store: MediaStore
) -> Retention:
    defaults = Policy(settings.retention_media_days, settings.retention_personal_days)
    abandoned = Abandoned(writer, make_sessionmaker(writer.engine), readers, store, settings)
    return Retention(writer, readers, store, defaults, abandoned=abandoned)


def wake(outbox: Outbox, notifier: Notifier) -> Callable[[], None]:
    """What runs after triage or a timer wrote rows for the outbox and the notifications."""

    def poke() -> None:
        outbox.poke()
        notifier.poke()

    return poke


def create_app(settings: Settings, *, store: MediaStore | None = None) -> Starlette:
    settings = settings.with_secret()
    media_store = store or make_store(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Form uploads stream to temporary files; a killed process leaves its own behind.
        formdata.sweep_leftovers(settings.data_dir / "tmp", time.time())
        state.limits.start()  # what this process's rate limits let through, shared with the others
        if settings.triage_in_web:
            state.backlog.start()  # triage of accepted reports, right after intake pokes it
        if settings.outbox_in_web:
            state.outbox.start()  # forwarding of triaged reports, right after triage decides
        if settings.notify_in_web:
            state.notifier.start()  # the customer's mails
            state.sla.start()  # escalations, follow-ups, closures when their time comes
            state.poller.start()  # ticket status from helpdesks whose webhooks may not come
            state.retention.start()  # media and personal data past the projects' policies
        yield
        await state.limits.stop()
        await state.backlog.stop()
        await state.sla.stop()
        await state.poller.stop()
        await state.retention.stop()
        await state.outbox.stop()
        await state.notifier.stop()
        await state.close()

    url = settings.effective_database_url
    engine = make_async_engine(url, pool_size=settings.db_pool_size)
    reader = make_reader_engine(url, engine)
    writer = Writer(url, engine)
    readers = make_readers(reader)
    outbox = make_outbox(settings, writer, readers, media_store)
    notifier = Notifier(writer, readers, settings, lease=settings.outbox_lease)
    limiters = (
        RateLimiter(settings.rate_limit_per_key, scope="key"),
        RateLimiter(settings.rate_limit_per_ip, scope="ip"),
        # Wrong API tokens per minute per client IP before 429: enough for a typo, useless
        # for guessing.
        RateLimiter(20, scope="failed_auth"),
        # Dashboard sign-ins: every attempt per client IP, and failures per email address, so
        # a password cannot be guessed from one address nor one account from many addresses.
        RateLimiter(10, scope="login_ip"),
        RateLimiter(5, scope="login_email"),
        # Each try of a connector reaches its vendor (a test report is a real ticket or mail):
        # a few a minute per connector, whoever asks.
        RateLimiter(4, scope="connector_try"),
    )
    state = AppState(
        settings=settings,
        engine=engine,
        reader_engine=reader,
        sessions=make_sessionmaker(engine),
        readers=readers,
        writer=writer,
        store=media_store,
        per_key=limiters[0],
        per_ip=limiters[1],
        failed_auth=limiters[2],
        login_ip=limiters[3],
        login_email=limiters[4],
        connector_tries=limiters[5],
        limits=SharedLimits(
            writer, limiters, settings.secret_key, interval=settings.rate_limit_share_seconds
        ),
        backlog=Backlog(writer, readers, after=wake(outbox, notifier)),
        outbox=outbox,
        notifier=notifier,
        sla=Scheduler(writer, readers, after=wake(outbox, notifier)),
        poller=Poller(writer, readers, outbox.http, interval=settings.poll_interval),
        retention=make_retention(settings, writer, readers, media_store),
    )
    route_list: list[Any] = [
        *reports.routes,
        *uploadform.routes,
        *statusbatch.routes,  # before status: /api/v1/status/batch is not a token
        *status.routes,
        *agent.routes,
        *reportsapi.routes,  # the agent API's report list, then read / update / forward
        *reportapi.routes,
        *erasures.routes,  # erasure requests (admins)
        *notifyapi.routes,  # notification templates, previews and settings (agent API)
        *hooks.routes,  # /hooks/{connector_id}: helpdesks' status webhooks
        *pages.routes,  # the customer's pages: status, answers, still broken, unsubscribe
        *dashboard.routes,  # the agents' pages: sign-in, inbox, report, projects, review
        *health.routes,
        *metrics.routes,
        *openapi.routes,
        *demo.routes,
        *widget.routes,
        *media.routes,  # answer 404 unless the store is the local folder
    ]
    exception_handlers: dict[Any, Any] = {
        ApiError: handle_api_error,
        HTTPException: handle_http_exception,
        StoreError: handle_store_error,
        # A restart or failover of the database: 503 with Retry-After, not 500 (found by tests/soak).
        OperationalError: handle_database_unavailable,
        InterfaceError: handle_database_unavailable,
        DashError: handle_dash_error,
        LoginRequired: handle_login_required,
    }
    app = Starlette(
        routes=route_list,
        middleware=[
            Middleware(RequestMiddleware, templates=route_templates(route_list)),  # id, metrics
            Middleware(SecurityHeadersMiddleware),
            Middleware(CorsMiddleware),
        ],
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    app.state.bugline = state
    app.state.store = media_store  # the local media routes look for it here
    return app
