"""Timer rows: schedule (idempotent by key), cancel, and claim due ones exactly once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bugline.db.models import Timer, new_id

TIMERS = cast(Table, Timer.__table__)


def schedule(
    conn: Connection,
    *,
    project_id: str,
    report_id: str,
    kind: str,
    due_at: datetime,
    key: str | None = None,
    data: dict[str, Any] | None = None,
    now: datetime,
) -> bool:
    """Add a pending timer unless one with the same key exists (fired, pending or cancelled:
    a key fires at most once). True when added."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(TIMERS)
        .on_conflict_do_nothing(index_elements=["report_id", "key"])
        .returning(TIMERS.c.id)
    )
    row = {
        "id": new_id(),
        "project_id": project_id,
        "report_id": report_id,
        "kind": kind,
        "key": (key or kind)[:64],
        "due_at": due_at,
        "state": "pending",
        "data": data or {},
        "created_at": now,
    }
    return conn.execute(stmt, [row]).first() is not None


def cancel(conn: Connection, report_id: str, kinds: Iterable[str] | None = None) -> int:
    """Cancel the report's pending timers (of these kinds); returns how many."""
    q = update(TIMERS).where(TIMERS.c.report_id == report_id, TIMERS.c.state == "pending")
    if kinds is not None:
        q = q.where(TIMERS.c.kind.in_(list(kinds)))
    return int(conn.execute(q.values(state="cancelled")).rowcount or 0)


def claim_due(conn: Connection, *, now: datetime, limit: int) -> list[Timer]:
    """Mark up to ``limit`` due timers fired and return them: the UPDATE's condition on
    ``state`` is the claim, so a timer is fired by one worker once, across restarts."""
    due = (
        select(TIMERS.c.id)
        .where(TIMERS.c.state == "pending", TIMERS.c.due_at <= now)
        .order_by(TIMERS.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = [
        r[0]
        for r in conn.execute(
            update(TIMERS)
            .where(and_(TIMERS.c.id.in_(due.scalar_subquery()), TIMERS.c.state == "pending"))
            .values(state="fired", fired_at=now)
            .returning(TIMERS.c.id)
        )
    ]
    if not ids:
        return []
    # Through an ORM session on the caller's connection: Connection.execute(select(Timer))
    # would give rows of columns, not Timer objects. The objects outlive the session detached,
    # with every column loaded.
    with Session(bind=conn) as s:
        return list(s.execute(select(Timer).where(Timer.id.in_(ids)).order_by(Timer.due_at)).scalars())
