"""The inbox's reads: a Filter over the projects an agent may see -> one Page of rows.

Every statement starts from the caller's project ids (tenant isolation is not a filter the
caller can drop). Pages are keyset-paged: each sort is a list of segments (severity: the
critical reports, then high, ...), each ordered by index columns, and a page continues
strictly after the cursor's row, so page 500 reads about as much as page 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    column,
    exists,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from bugline.db.models import Delivery, DuplicateGroup, Report, Reporter
from bugline.inbox.cursor import Cursor, Value
from bugline.inbox.filters import Filter, FilterError
from bugline.inbox.searchddl import FTS_TABLE, PG_COLUMN

TIERS = ("critical", "high", "medium", "low")


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    project_id: str
    number: int
    title: str
    status: str
    severity: str | None
    kind: str | None
    category: str | None
    completeness: int | None
    created_at: datetime
    reporter_email: str | None
    reporter_name: str | None
    account: str | None
    group_id: str | None
    group_size: int | None
    connector: str  # not_forwarded | pending | delivered | failed


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    next: Cursor | None  # None: this is the last page


@dataclass(frozen=True, slots=True)
class Key:
    label: str
    expr: Any  # a column of the statement
    kind: type  # what a cursor value for it must be


@dataclass(frozen=True, slots=True)
class Segment:
    where: ColumnElement[bool] | None
    keys: tuple[Key, ...]
    descending: bool


CREATED = Key("created_at", Report.created_at, datetime)
ID = Key("id", Report.id, str)
COMPLETE = Key("completeness", Report.completeness, int)
GROUP_SIZE = Key("group_size", DuplicateGroup.report_count, int)


def segments(sort: str) -> list[Segment]:
    newest = (CREATED, ID)
    if sort == "oldest":
        return [Segment(None, newest, False)]
    if sort == "severity":  # the SOP's tiers in order, untriaged last; newest first in each
        tiers = [Segment(Report.severity == t, newest, True) for t in TIERS]
        return [*tiers, Segment(or_(Report.severity.is_(None), Report.severity.not_in(TIERS)), newest, True)]
    if sort == "completeness":  # the least complete first (they need questions asked), oldest first
        return [
            Segment(Report.completeness.is_not(None), (COMPLETE, CREATED, ID), False),
            Segment(Report.completeness.is_(None), newest, False),
        ]
    if sort == "group":  # the biggest duplicate groups first, reports outside a group last
        return [
            Segment(DuplicateGroup.id.is_not(None), (GROUP_SIZE, CREATED, ID), True),
            Segment(DuplicateGroup.id.is_(None), newest, True),
        ]
    return [Segment(None, newest, True)]


def after(keys: Sequence[Key], values: Sequence[Value], descending: bool) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys``. The leading ``>=`` (or ``<=``)
    on the first key is redundant logically but lets both databases seek the index to it."""
    exprs = [k.expr for k in keys]
    ors = []
    for i, (expr, value) in enumerate(zip(exprs, values, strict=True)):
        equal = [exprs[j] == values[j] for j in range(i)]
        ors.append(and_(*equal, expr < value if descending else expr > value))
    first = exprs[0] <= values[0] if descending else exprs[0] >= values[0]
    return and_(first, or_(*ors))


def connector_state(states: set[str]) -> str:
    """One word per report from its deliveries: a failure needs a person, so it wins."""
    if not states:
        return "not_forwarded"
    if "failed" in states:
        return "failed"
    if "pending" in states:
        return "pending"
    return "delivered"


def _has(state: str | None) -> ColumnElement[bool]:
    q: Select[Any] = select(literal_column("1")).select_from(Delivery).where(Delivery.report_id == Report.id)
    if state is not None:
        q = q.where(Delivery.state == state)
    return exists(q)


def _connector(states: Sequence[str]) -> ColumnElement[bool]:
    failed, pending, done = _has("failed"), _has("pending"), _has("done")
    conds = {
        "not_forwarded": ~_has(None),
        "failed": failed,
        "pending": and_(pending, ~failed),
        "delivered": and_(done, ~pending, ~failed),
    }
    return or_(*(conds[s] for s in states))


def _maybe_none(col: Any, values: Sequence[str]) -> ColumnElement[bool]:
    real = [v for v in values if v != "none"]
    parts: list[ColumnElement[bool]] = [col.in_(real)] if real else []
    if "none" in values:
        parts.append(col.is_(None))
    return or_(*parts)


def _in_scope(col: Any, scope: Sequence[str]) -> ColumnElement[bool]:
    cond: ColumnElement[bool] = col == scope[0] if len(scope) == 1 else col.in_(scope)
    return cond


def _search(f: Filter, scope: Sequence[str], dialect: str) -> ColumnElement[bool] | None:
    if f.search is None:
        return None
    if f.search.number is not None:
        return Report.number == f.search.number
    if dialect == "postgresql":
        match = text(f"reports.{PG_COLUMN} @@ to_tsquery('simple', :tsq)")
        return match.bindparams(tsq=f.search.tsquery())  # type: ignore[return-value]
    fts = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts"  # noqa: S608 (constants)
    matching = text(fts).bindparams(fts=f.search.fts5())
    return literal_column("reports.rowid").in_(matching.columns(column("rowid")))


def conditions(f: Filter, scope: Sequence[str], dialect: str) -> list[ColumnElement[bool]]:
    """Every WHERE of the filter, the project scope first."""
    where = [_in_scope(Report.project_id, scope)]
    if f.status:
        where.append(Report.status.in_(f.status))
    if f.severity:
        where.append(_maybe_none(Report.severity, f.severity))
    if f.kind:
        where.append(_maybe_none(Report.kind, f.kind))
    if f.category:
        where.append(Report.category.in_(f.category))
    if f.min_complete is not None:
        where.append(Report.completeness >= f.min_complete)
    if f.max_complete is not None:
        where.append(Report.completeness <= f.max_complete)
    if f.group:
        where.append(Report.duplicate_group_id == f.group)
    people = _in_scope(Reporter.project_id, scope)
    if f.reporter:
        who = or_(Reporter.email == f.reporter.lower(), Reporter.external_id == f.reporter)
        where.append(Report.reporter_id.in_(select(Reporter.id).where(people, who)))
    if f.account:
        where.append(Report.reporter_id.in_(select(Reporter.id).where(people, Reporter.account == f.account)))
    if f.since:
        where.append(Report.created_at >= datetime.combine(f.since, time(), UTC))
    if f.until:
        where.append(Report.created_at < datetime.combine(f.until + timedelta(days=1), time(), UTC))
    if f.connector:
        where.append(_connector(f.connector))
    found = _search(f, scope, dialect)
    if found is not None:
        where.append(found)
    return where


def base(where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    return (
        select(*_columns())
        .select_from(Report)
        .outerjoin(Reporter, Reporter.id == Report.reporter_id)
        .outerjoin(DuplicateGroup, DuplicateGroup.id == Report.duplicate_group_id)
        .where(*where)
    )


def _columns() -> list[Any]:
    return [
        Report.id,
        Report.project_id,
        Report.number,
        Report.title,
        Report.status,
        Report.severity,
        Report.kind,
        Report.category,
        Report.completeness,
        Report.created_at,
        Reporter.email.label("reporter_email"),
        Reporter.name.label("reporter_name"),
        Reporter.account,
        Report.duplicate_group_id.label("group_id"),
        DuplicateGroup.report_count.label("group_size"),
    ]


def _start(f: Filter, segs: list[Segment]) -> tuple[int, tuple[Value, ...] | None]:
    if f.cursor is None:
        return 0, None
    c = f.cursor
    bad = FilterError("cursor", "is not one this server handed out; start from the first page")
    if not 0 <= c.segment < len(segs):
        raise bad
    keys = segs[c.segment].keys
    if len(c.values) != len(keys) or any(
        not isinstance(v, k.kind) or isinstance(v, bool) for k, v in zip(keys, c.values, strict=True)
    ):
        raise bad
    return c.segment, c.values


def page(s: Session, scope: Sequence[str], f: Filter) -> Page:
    """One page of the inbox for the projects in ``scope`` (none: an empty page)."""
    if not scope:
        return Page([], None)
    dialect = s.get_bind().dialect.name
    where = conditions(f, scope, dialect)
    segs = segments(f.sort)
    first, values = _start(f, segs)
    found: list[tuple[int, Any]] = []
    for index in range(first, len(segs)):
        seg = segs[index]
        stmt = base(where)
        if seg.where is not None:
            stmt = stmt.where(seg.where)
        if index == first and values is not None:
            stmt = stmt.where(after(seg.keys, values, seg.descending))
        order = [k.expr.desc() if seg.descending else k.expr.asc() for k in seg.keys]
        stmt = stmt.order_by(*order).limit(f.limit + 1 - len(found))
        found.extend((index, r) for r in s.execute(stmt).all())
        if len(found) > f.limit:
            break
    more = len(found) > f.limit
    found = found[: f.limit]
    states = _states(s, [r.id for _, r in found])
    rows = [Row(**r._mapping, connector=connector_state(states.get(r.id, set()))) for _, r in found]
    nxt = None
    if more and found:
        index, last = found[-1]
        nxt = Cursor(f.sort, index, tuple(getattr(last, k.label) for k in segs[index].keys))
    return Page(rows, nxt)


def _states(s: Session, ids: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if ids:
        for report_id, state in s.execute(
            select(Delivery.report_id, Delivery.state).where(Delivery.report_id.in_(ids)).distinct()
        ):
            out.setdefault(report_id, set()).add(state)
    return out
