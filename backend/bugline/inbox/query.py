"""The inbox's reads: a Filter over the projects an agent may see -> one Page of rows.

Every statement starts from the caller's project ids (tenant isolation is not a filter the
caller can drop). Pages are keyset-paged: each sort is a list of segments (severity: the
critical reports, then high, ...), each ordered by index columns, and a page continues
strictly after the cursor's row, so page 500 reads about as much as page 1.

Two shapes keep that true where one statement would not:

- An agent of several projects: each project's rows are read by its own index walk (its
  first rows of the segment, in order), and only those are merged and cut to the page, instead
  of sorting every matching row of every project.
- A search: on PostgreSQL the planner cannot tell a word in most reports from one in none (a
  prefix query's statistics say little) and walked the date index checking every row's
  vector, which reads the whole project for a word in no report; SQLite read every match of
  the word from FTS5 first, which is most of the table for a common word. A page is now first
  looked for in a bounded window of the next rows in order (a common word fills it at once);
  a window with a few matches goes on with the plain statement, and only one with almost none
  reads the matches from the full-text index (rare and absent words are cheap there). All are
  exact, so the rows and cursors are those of the plain statement.
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
    union_all,
)
from sqlalchemy.orm import Session

from bugline.db.models import Delivery, DuplicateGroup, Report, Reporter
from bugline.inbox.cursor import Cursor, Value
from bugline.inbox.filters import Filter, FilterError
from bugline.inbox.searchddl import FTS_TABLE, PG_COLUMN, PG_CONFIG

TIERS = ("critical", "high", "medium", "low")
MAX_MERGE = 50  # projects read one index walk each; an agent of more is served by one statement
WINDOW = 1000  # rows in order a search page is first looked for in
DENSE = 5  # matches in a window that make the plain walk the cheaper way to the rest


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
    unread_language: str | None  # written in a language triage does not read ("es"): not checked
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
    """Every WHERE of the filter, the project scope first, the search last."""
    where = _filters(f, scope)
    found = _search(f, scope, dialect)
    if found is not None:
        where.append(found)
    return where


def _filters(f: Filter, scope: Sequence[str]) -> list[ColumnElement[bool]]:
    """Every WHERE of the filter but the search, the project scope first."""
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
    return where


def base(where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    return _joined(select(*_columns())).where(*where)


def _joined(stmt: Select[Any]) -> Select[Any]:
    return (
        stmt.select_from(Report)
        .outerjoin(Reporter, Reporter.id == Report.reporter_id)
        .outerjoin(DuplicateGroup, DuplicateGroup.id == Report.duplicate_group_id)
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
        # Read from the verdict of the page's rows only (at most limit + 1), never filtered on.
        Report.triage["completeness"]["unread_language"].as_string().label("unread_language"),
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
    segs = segments(f.sort)
    first, values = _start(f, segs)
    found: list[tuple[int, Any]] = []
    for index in range(first, len(segs)):
        at = values if index == first else None
        rows = _segment(s, f, scope, dialect, segs[index], at, f.limit + 1 - len(found))
        found.extend((index, r) for r in rows)
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


def _order(seg: Segment, exprs: Sequence[Any] | None = None) -> list[Any]:
    exprs = [k.expr for k in seg.keys] if exprs is None else exprs
    return [e.desc() if seg.descending else e.asc() for e in exprs]


def _bounded(stmt: Select[Any], seg: Segment, values: tuple[Value, ...] | None, limit: int) -> Select[Any]:
    """``stmt`` cut to the segment, after the cursor, in order, at most ``limit`` rows."""
    if seg.where is not None:
        stmt = stmt.where(seg.where)
    if values is not None:
        stmt = stmt.where(after(seg.keys, values, seg.descending))
    return stmt.order_by(*_order(seg)).limit(limit)


def _segment(
    s: Session,
    f: Filter,
    scope: Sequence[str],
    dialect: str,
    seg: Segment,
    values: tuple[Value, ...] | None,
    n: int,
) -> Sequence[Any]:
    """The segment's first ``n`` rows after ``values`` (the cursor's, in its segment)."""
    if f.search is not None and f.search.number is None:
        return _searched(s, f, scope, dialect, seg, values, n)
    walks = _walks(conditions(f, scope, dialect), scope)
    if len(walks) == 1:
        return s.execute(_bounded(base(walks[0]), seg, values, n)).all()
    # Each project's first n rows, merged: an agent of several projects does not sort every
    # matching row of all of them.
    arms = [_bounded(base(cond), seg, values, n).subquery().select() for cond in walks]
    merged = union_all(*arms).subquery("merged")
    order = _order(seg, [merged.c[k.label] for k in seg.keys])
    return s.execute(select(merged).order_by(*order).limit(n)).all()


def _one(project: str) -> ColumnElement[bool]:
    return _in_scope(Report.project_id, [project])


def _walks(where: list[Any], scope: Sequence[str]) -> list[list[Any]]:
    """The conditions of each index walk: one per project for an agent of several (up to
    MAX_MERGE), else one for the whole scope. ``where[0]`` is the scope's condition; the
    others (the reporter filters among them) keep the whole scope."""
    if len(scope) == 1 or len(scope) > MAX_MERGE:
        return [where]
    return [[_one(p), *where[1:]] for p in scope]


def _searched(
    s: Session,
    f: Filter,
    scope: Sequence[str],
    dialect: str,
    seg: Segment,
    values: tuple[Value, ...] | None,
    n: int,
) -> Sequence[Any]:
    """A search's rows: per project, the matches among the next WINDOW rows in order when they
    fill the page, else (for all such projects at once) the full-text index's."""
    assert f.search is not None
    where = _filters(f, scope)
    pg = dialect == "postgresql"
    near_of = _near if pg else _near_sqlite
    tsq = f.search.tsquery() if pg else f.search.fts5()
    walks = _walks(where, scope)
    rows: list[Any] = []
    short: list[str] = []
    for part, cond in zip([scope] if len(walks) == 1 else [[p] for p in scope], walks, strict=True):
        near = s.execute(near_of(cond, seg, values, n, tsq)).all()
        if len(near) >= n:
            rows += near
        elif len(near) >= DENSE:
            # Common enough that the walk finds the page within about n / DENSE windows, which
            # is cheaper than reading every match from a large index: the plain statement.
            fts = _search(f, scope, dialect)
            assert fts is not None
            rows += s.execute(_bounded(base([*cond, fts]), seg, values, n)).all()
        else:
            short += part
    if short:
        cut = [_in_scope(Report.project_id, short), *where[1:]]
        if pg:
            stmt = _matching(cut, seg, values, n, tsq)
        else:  # FTS5's matching rowids, then the walk: what the plain page does
            fts = _search(f, scope, dialect)
            assert fts is not None
            stmt = _bounded(base([*cut, fts]), seg, values, n)
        rows += s.execute(stmt).all()
    if len(walks) == 1 or not rows:
        return rows
    return s.execute(_bounded(base([Report.id.in_([r.id for r in rows])]), seg, None, n)).all()


def _near(
    where: Sequence[ColumnElement[bool]], seg: Segment, values: tuple[Value, ...] | None, n: int, tsq: str
) -> Select[Any]:
    """The matches among the next WINDOW rows in order (by the index the plain page walks). If
    they fill the page they are its rows, since the window is a prefix of the order; a common
    word fills it after a few rows, and no word costs more than WINDOW rows."""
    vector: Any = literal_column(f"reports.{PG_COLUMN}").label("w_vector")
    keys = [k.expr.label(f"k_{k.label}") for k in seg.keys]
    window = _bounded(
        _joined(select(Report.id.label("w_id"), vector, *keys)).where(*where), seg, values, WINDOW
    )
    w = window.subquery("w")
    match = text(f"w.w_vector @@ to_tsquery('{PG_CONFIG}', :tsq)").bindparams(tsq=tsq)
    # Ordered by the window's own columns: its order is kept, so no sort and an early stop.
    order = _order(seg, [w.c[f"k_{k.label}"] for k in seg.keys])
    return base([]).join(w, w.c.w_id == Report.id).where(match).order_by(*order).limit(n)


def _near_sqlite(
    where: Sequence[ColumnElement[bool]], seg: Segment, values: tuple[Value, ...] | None, n: int, fts: str
) -> Select[Any]:
    """SQLite's window: FTS5 reads the word's matches only between the window's lowest and
    highest rowid (reports arrive in time order, so that is a short stretch of its index), not
    every match of a common word in the table."""
    rowid: Any = literal_column("reports.rowid").label("w_rowid")
    keys = [k.expr.label(f"k_{k.label}") for k in seg.keys]
    w = _bounded(
        _joined(select(rowid, Report.id.label("w_id"), *keys)).where(*where), seg, values, WINDOW
    ).cte("w")
    inside = text(
        f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts "  # noqa: S608 (constants)
        "AND rowid BETWEEN (SELECT min(w_rowid) FROM w) AND (SELECT max(w_rowid) FROM w)"
    ).bindparams(fts=fts)
    order = _order(seg, [w.c[f"k_{k.label}"] for k in seg.keys])
    found = w.c.w_rowid.in_(inside.columns(column("rowid")))
    return base([]).join(w, w.c.w_id == Report.id).where(found).order_by(*order).limit(n)


def _matching(
    where: Sequence[ColumnElement[bool]], seg: Segment, values: tuple[Value, ...] | None, n: int, tsq: str
) -> Select[Any]:
    """Every match from the GIN index alone (materialized, so the planner can neither fold it
    back into the date walk nor AND it with a bitmap of the whole project), filtered, ordered,
    cut to n, and only then joined to reporters and groups. Its cost is the word's matches in
    all projects, which is small for the rare and absent words that get here; other projects'
    ids never leave the statement, whose ``where`` starts with the caller's projects."""
    found = text(f"reports.{PG_COLUMN} @@ to_tsquery('{PG_CONFIG}', :tsq)").bindparams(tsq=tsq)
    ids = select(Report.id.label("m_id")).where(found).cte("matching").prefix_with("MATERIALIZED")
    first = _bounded(
        _joined(select(Report.id)).join(ids, ids.c.m_id == Report.id).where(*where), seg, values, n
    )
    return _bounded(base([Report.id.in_(first)]), seg, None, n)


def _states(s: Session, ids: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if ids:
        for report_id, state in s.execute(
            select(Delivery.report_id, Delivery.state).where(Delivery.report_id.in_(ids)).distinct()
        ):
            out.setdefault(report_id, set()).add(state)
    return out
