"""Taking a report in: one transaction that stores the report, its reporter, its upload slots
and the first event of its timeline, or nothing at all.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, inspect, null, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bugline.db.engine import Writer
from bugline.db.models import (
    Attachment,
    Project,
    Report,
    Reporter,
    ReportEvent,
    ReportStatus,
    new_id,
    utcnow,
)
from bugline.errors import ApiError
from bugline.intake.schema import ReporterIn, ReportIn
from bugline.intake.uploads import check_declared, new_attachment
from bugline.intake.useragent import parse_environment
from bugline.observe import logs, metrics
from bugline.settings import Settings
from bugline.tokens import status_token, status_token_for, token_hash

log = logging.getLogger("bugline.intake")

REPORTS = cast(Table, Report.__table__)
REPORTERS = cast(Table, Reporter.__table__)
PROJECTS = cast(Table, Project.__table__)
ATTACHMENTS = cast(Table, Attachment.__table__)
EVENTS = cast(Table, ReportEvent.__table__)


@dataclass(slots=True)
class Created:
    report: Report
    attachments: list[Attachment]
    token: str
    replayed: bool


def clip(value: str | None, column: Any) -> str | None:
    """Cut a parsed value to its column's length: a hostile User-Agent must not fail the insert.

    ``column`` is the table's Column (``REPORTS.c.x``): the ORM attribute (``Report.x``)
    resolves ``.type`` through SQLAlchemy's proxies, which cost a tenth of a request."""
    length = column.type.length
    return value[:length] if value and length else value


EMPTY_REPORT = (
    "describe the problem: fill at least one of title, description, actual, expected, trying_to_do, "
    "error_text, steps"
)


def empty_report() -> ApiError:
    return ApiError(
        422, "empty_report", EMPTY_REPORT, fields=[{"field": "actual", "message": "tell us what happened"}]
    )


def has_description(report: Report) -> bool:
    return any(
        (
            report.title,
            report.description,
            report.trying_to_do,
            report.expected,
            report.actual,
            report.error_text,
            report.steps,
        )
    )


def check_report(settings: Settings, data: ReportIn) -> None:
    # A report that still awaits its media may start empty: the widget opens it when a
    # recording starts, so parts upload while the customer is still recording and typing.
    # The words are then required at finalize.
    if not data.has_description() and not data.attachments:
        raise empty_report()
    if len(data.attachments) > settings.max_attachments:
        raise ApiError(
            422,
            "too_many_attachments",
            f"a report may carry at most {settings.max_attachments} attachments",
            fields=[{"field": "attachments", "message": f"at most {settings.max_attachments}"}],
        )
    for i, spec in enumerate(data.attachments):
        check_declared(settings, spec, i)


async def find_by_idempotency(session: AsyncSession, project_id: str, key: str) -> Report | None:
    return (
        await session.execute(
            select(Report).where(Report.project_id == project_id, Report.idempotency_key == key)
        )
    ).scalar_one_or_none()


async def attachments_of(session: AsyncSession, report: Report) -> list[Attachment]:
    rows = await session.execute(
        select(Attachment)
        .where(Attachment.report_id == report.id, Attachment.project_id == report.project_id)
        .order_by(Attachment.created_at, Attachment.id)
    )
    return list(rows.scalars())


async def replay(session: AsyncSession, settings: Settings, report: Report, request_hash: str) -> Created:
    if report.request_hash != request_hash:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was already used for a different report; use a new key for a new report",
        )
    return Created(
        report,
        await attachments_of(session, report),
        status_token_for(settings.secret_keys, report.id, report.status_token_hash),
        True,
    )


REPORTER_FIELDS = ("email", "name", "account", "plan", "locale")


@functools.cache
def reporter_upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (project, external id) DO UPDATE, built once per dialect.

    Values go in as parameters so SQLAlchemy compiles the statement once; a field the host
    app did not send this time keeps its stored value.
    """
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(REPORTERS)
    fresh = {k: func.coalesce(stmt.excluded[k], REPORTERS.c[k]) for k in REPORTER_FIELDS}
    return stmt.on_conflict_do_update(
        index_elements=["project_id", "external_id"], set_={**fresh, "updated_at": stmt.excluded.updated_at}
    ).returning(REPORTERS.c.id)


NEXT_NUMBER = (
    update(PROJECTS)
    .where(PROJECTS.c.id == bindparam("project"))
    .values(report_seq=PROJECTS.c.report_seq + 1)
    .returning(PROJECTS.c.report_seq)
)


def upsert_reporter(conn: Connection, project_id: str, who: ReporterIn | None) -> str | None:
    """The customer's id: found by the host app's id, else by email; created or refreshed.

    One statement when the host app identified the user; by email, a lookup first, since
    emails are not unique keys.
    """
    if who is None or not (who.id or who.email):
        return None
    now = utcnow()
    fields = {k: getattr(who, k) or None for k in REPORTER_FIELDS}
    row = {"project_id": project_id, "unsubscribed": False, "created_at": now, "updated_at": now, **fields}
    if who.id:
        stmt = reporter_upsert(conn.dialect.name)
        return str((conn.execute(stmt, {"id": new_id(), "external_id": who.id, **row})).scalar_one())
    found = (
        conn.execute(
            select(REPORTERS.c.id)
            .where(
                REPORTERS.c.project_id == project_id,
                REPORTERS.c.email == who.email,
                REPORTERS.c.external_id.is_(None),
            )
            .limit(1)
        )
    ).scalar_one_or_none()
    if found is not None:
        fresh = {k: v for k, v in fields.items() if v}
        conn.execute(update(REPORTERS).where(REPORTERS.c.id == found).values(**fresh, updated_at=now))
        return str(found)
    reporter_id = new_id()
    conn.execute(insert(REPORTERS), {"id": reporter_id, "external_id": None, **row})
    return reporter_id


def columns_of(obj: Any) -> dict[str, Any]:
    """An ORM object's set attributes as a row for a Core insert (column names, not keys)."""
    mapper = inspect(type(obj))
    return {
        attr.columns[0].name: obj.__dict__[attr.key]
        for attr in mapper.column_attrs
        if attr.key in obj.__dict__
    }


@dataclass(slots=True)
class Prepared:
    """A report ready to write: every row built, nothing touched yet."""

    report: Report
    attachments: list[Attachment]
    token: str
    reporter: ReporterIn | None


def prepare_report(
    settings: Settings,
    project: Project,
    data: ReportIn,
    *,
    idempotency_key: str | None,
    request_hash: str,
    client_ip: str | None,
    headers: Mapping[str, str],
    hints_from_headers: dict[str, Any],
    source: str,
    status: ReportStatus | None = None,
    extra_attachments: list[Attachment] | None = None,
    report_id: str | None = None,
) -> Prepared:
    """Validate, parse the environment and build the rows (pure; the CPU part of intake)."""
    check_report(settings, data)
    ctx = data.context
    hints = ctx.client_hints.model_dump(exclude_none=True) if ctx.client_hints else hints_from_headers or None
    ua = ctx.user_agent or headers.get("user-agent")
    env = parse_environment(ua, hints)
    report_id = report_id or new_id()
    token = status_token(settings.secret_key, report_id)
    attachments = [new_attachment(project.id, report_id, spec) for spec in data.attachments]
    attachments += extra_attachments or []
    if status is None:
        status = ReportStatus.AWAITING_MEDIA if attachments else ReportStatus.RECEIVED
    environment = ctx.model_dump(
        mode="json", exclude={"url", "referrer", "user_agent", "console", "network"}, exclude_none=True
    )
    environment["parsed_from"] = env.source
    now = utcnow()
    for a in attachments:
        a.created_at = now
    report = Report(
        id=report_id,
        project_id=project.id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        status_token_hash=token_hash(token),
        status=status,
        source=source,
        title=data.title,
        description=data.description,
        trying_to_do=data.trying_to_do,
        expected=data.expected,
        actual=data.actual,
        error_text=data.error_text,
        steps=str(data.steps),
        frequency=data.frequency,
        people_affected=data.people_affected,
        page_url=ctx.url,
        referrer=ctx.referrer,
        user_agent=ua[:2000] if ua else None,
        browser_name=clip(env.browser_name, REPORTS.c.browser_name),
        browser_version=clip(env.browser_version, REPORTS.c.browser_version),
        os_name=clip(env.os_name, REPORTS.c.os_name),
        os_version=clip(env.os_version, REPORTS.c.os_version),
        device_type=clip(env.device_type, REPORTS.c.device_type),
        device_vendor=clip(env.device_vendor, REPORTS.c.device_vendor),
        device_model=clip(env.device_model, REPORTS.c.device_model),
        environment=environment,
        console=[e.model_dump(mode="json", exclude_none=True) for e in ctx.console],
        network=[e.model_dump(mode="json", exclude_none=True) for e in ctx.network],
        metadata_=data.metadata,
        client_ip=client_ip,
        created_at=now,
        updated_at=now,
        accepted_at=now if status == ReportStatus.RECEIVED else None,
    )
    return Prepared(report, attachments, token, data.reporter)


def store_report(conn: Connection, prepared: Prepared) -> None:
    """Write a prepared report: reporter, number, report, slots, first events (one transaction).

    Plain Core statements with parameters, each compiled once: this is the hottest write
    path and the ORM's unit of work cost more than the SQL itself (see BENCHMARKS.md).
    A reused Idempotency-Key fails the report insert (unique constraint); submit_report
    turns that into a replay of the first report.
    """
    report = prepared.report
    who = prepared.reporter
    if (
        conn.dialect.name == "postgresql"
        and not prepared.attachments
        and (who is None or who.id or not who.email)
    ):
        _store_in_one_statement(conn, prepared)
        return
    report.reporter_id = upsert_reporter(conn, report.project_id, who)
    # Numbering last before the insert: the project row stays locked only for that moment.
    report.number = conn.execute(NEXT_NUMBER, {"project": report.project_id}).scalar_one()
    # One row as one parameter set, not a list of one: a list is an executemany, which
    # psycopg runs through its pipeline mode, several times the cost for a single row.
    conn.execute(insert(REPORTS), full_row(REPORTS, columns_of(report)))
    if prepared.attachments:
        conn.execute(
            insert(ATTACHMENTS), [full_row(ATTACHMENTS, columns_of(a)) for a in prepared.attachments]
        )
    # One execute per event (at most two): a multi-row VALUES is compiled anew every time
    # (SQLAlchemy does not cache it), and an executemany is psycopg's pipeline (see above).
    for e in first_events(prepared):
        conn.execute(insert(EVENTS), full_row(EVENTS, e, skip=("id",)))


def first_events(prepared: Prepared) -> list[dict[str, Any]]:
    """The timeline's first rows: created (by the reporter), and accepted when nothing is to upload."""
    report = prepared.report
    events = [
        {
            "project_id": report.project_id,
            "report_id": report.id,
            "at": report.created_at,
            "kind": "created",
            "actor_type": "reporter",
            "actor": report.reporter_id,
            "public": True,
            "data": {
                "status": str(report.status),
                "source": report.source,
                "attachments": len(prepared.attachments),
                # The HTTP request that brought it: logs.py follows a report by this and its id.
                "request_id": logs.request_id.get(),
            },
        }
    ]
    if report.status == ReportStatus.RECEIVED:
        events.append(event_row(accepted_event(report, report.created_at)))
    return events


_EVENT_COLUMNS = tuple(c.name for c in EVENTS.columns if c.name != "id")


@functools.cache
def _one_statement(with_reporter: bool, events: int) -> Any:
    """PostgreSQL: the reporter upsert, the number, the report and its first events as one
    statement of data-modifying CTEs, built once per shape. The same rows as the statements
    of store_report, in one round trip instead of five; all of it or nothing, like the
    transaction around it (a reused Idempotency-Key fails it whole). Parameters have short
    names so the SQL stays under psycopg's 4 KB limit for caching its conversion."""
    num = NEXT_NUMBER.cte("num")
    reporter_id: Any = null()
    if with_reporter:
        upsert = pg_insert(REPORTERS).values(
            {c.name: bindparam(f"w{i}", type_=c.type) for i, c in enumerate(REPORTERS.columns)}
        )
        fresh = {k: func.coalesce(upsert.excluded[k], REPORTERS.c[k]) for k in REPORTER_FIELDS}
        who = (
            upsert.on_conflict_do_update(
                index_elements=["project_id", "external_id"],
                set_={**fresh, "updated_at": upsert.excluded.updated_at},
            )
            .returning(REPORTERS.c.id)
            .cte("who")
        )
        reporter_id = select(who.c.id).scalar_subquery()
    names = [c.name for c in REPORTS.columns]
    special = {"number": num.c.report_seq, "reporter_id": reporter_id}
    row = select(
        *[special.get(c.name, bindparam(f"r{i}", type_=c.type)) for i, c in enumerate(REPORTS.columns)]
    ).select_from(num)
    rep = (
        insert(REPORTS)
        .from_select(names, row)
        .returning(REPORTS.c.id, REPORTS.c.number, REPORTS.c.reporter_id)
        .cte("rep")
    )
    rows = [
        select(
            *[
                rep.c.reporter_id
                if (i == 0 and name == "actor")  # created: the reporter, found or made above
                else bindparam(f"e{i}_{j}", type_=EVENTS.c[name].type)
                for j, name in enumerate(_EVENT_COLUMNS)
            ]
        ).select_from(rep)
        for i in range(events)
    ]
    ev = insert(EVENTS).from_select(list(_EVENT_COLUMNS), union_all(*rows) if events > 1 else rows[0])
    return select(rep.c.number, rep.c.reporter_id).add_cte(ev.cte("ev"))


def _store_in_one_statement(conn: Connection, prepared: Prepared) -> None:
    report, who = prepared.report, prepared.reporter
    events = first_events(prepared)
    params: dict[str, Any] = {"project": report.project_id}
    row = full_row(REPORTS, columns_of(report))
    params |= {f"r{i}": row[c.name] for i, c in enumerate(REPORTS.columns)}
    for i, e in enumerate(events):
        params |= {f"e{i}_{j}": e.get(k) for j, k in enumerate(_EVENT_COLUMNS)}
    with_reporter = who is not None and bool(who.id)
    if who is not None and who.id:
        now = utcnow()
        fields = {k: getattr(who, k) or None for k in REPORTER_FIELDS}
        reporter = {
            "id": new_id(),
            "project_id": report.project_id,
            "external_id": who.id,
            "unsubscribed": False,
            "created_at": now,
            "updated_at": now,
            **fields,
        }
        params |= {f"w{i}": reporter[c.name] for i, c in enumerate(REPORTERS.columns)}
    number, reporter_id = conn.execute(_one_statement(with_reporter, len(events)), params).one()
    report.number, report.reporter_id = number, reporter_id


def full_row(table: Table, row: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column named, absent ones NULL: each insert then has one shape, compiled once."""
    return {c.name: row.get(c.name) for c in table.columns if c.name not in skip}


def event_row(event: ReportEvent) -> dict[str, Any]:
    return {k: v for k, v in columns_of(event).items() if k != "id"}


async def submit_report(
    writer: Writer,
    readers: async_sessionmaker[AsyncSession],
    settings: Settings,
    project: Project,
    data: ReportIn,
    *,
    idempotency_key: str | None,
    request_hash: str,
    **kwargs: Any,
) -> Created:
    """Take a report in, safely against retries: a reused Idempotency-Key gets the first report."""
    prepared = prepare_report(
        settings, project, data, idempotency_key=idempotency_key, request_hash=request_hash, **kwargs
    )
    try:
        await writer.run(functools.partial(store_report, prepared=prepared))
    except IntegrityError:
        if idempotency_key is None:
            raise
        async with readers() as session:
            existing = await find_by_idempotency(session, project.id, idempotency_key)
            if existing is None:
                raise
            return await replay(session, settings, existing, request_hash)
    report = prepared.report
    log.info(
        "report %s stored (%s, %d files declared)",
        report.id,
        report.status,
        len(prepared.attachments),
        extra={"report_id": report.id, "project_id": report.project_id, "source": report.source},
    )
    if report.status == ReportStatus.RECEIVED:  # nothing to upload: accepted right away
        metrics.REPORTS.labels(report.source).inc()
    return Created(report, prepared.attachments, prepared.token, False)


def accepted_event(report: Report, at: Any) -> ReportEvent:
    return ReportEvent(
        project_id=report.project_id,
        report_id=report.id,
        at=at,
        kind="status_changed",
        actor_type="system",
        public=True,
        data={"to": str(ReportStatus.RECEIVED)},
    )


async def report_for_token(session: AsyncSession, project: Project, report_id: str, token: str) -> Report:
    """The report a client may still change: its id and its token must match, in this project."""
    report = (
        await session.execute(
            select(Report).where(
                Report.id == report_id,
                Report.project_id == project.id,
                Report.status_token_hash == token_hash(token),
            )
        )
    ).scalar_one_or_none()
    if report is None:
        # Same answer for "no such report" and "wrong token": nothing to learn by probing.
        raise ApiError(404, "report_not_found", "no report with this id and token in this project")
    return report
