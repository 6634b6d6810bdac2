"""Writing a notification into its queue: one insert, inside the transaction of the change
that causes it; (report, kind, key) unique, so deciding twice sends once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from bugline.db.models import Notification, new_id

NOTIFICATIONS = cast(Table, Notification.__table__)

# What a reporter hears about, by notification kind (templates in notify/templates/).
KINDS = (
    "received",
    "needs_info",
    "escalated",
    "resolved",
    "cannot_reproduce",
    "closed",
    "reopened",
    "reply",  # an agent's public reply (report page, agent API)
)


def enqueue(
    conn: Connection,
    *,
    project_id: str,
    report_id: str,
    reporter_id: str | None,
    kind: str,
    key: str = "",
    data: dict[str, Any] | None = None,
    now: datetime,
) -> bool:
    """True when the notification is new. A report without a reporter is skipped here: there
    is nobody to tell (a reporter without an email, or unsubscribed, is skipped at send time,
    so the decision is still on record)."""
    return enqueue_many(conn, [Wanted(project_id, report_id, reporter_id, kind, key, data or {})], now) == 1


@dataclass(frozen=True, slots=True)
class Wanted:
    project_id: str
    report_id: str
    reporter_id: str | None
    kind: str
    key: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def enqueue_many(conn: Connection, wanted: Sequence[Wanted], now: datetime) -> int:
    """Several notifications in one INSERT (triage's batches); returns how many are new."""
    rows = []
    for i, w in enumerate(wanted):
        if w.kind not in KINDS:
            raise ValueError(f"unknown notification kind {w.kind!r}")
        if w.reporter_id is None:
            continue
        rows.append(
            {
                "id": new_id(),
                "project_id": w.project_id,
                "report_id": w.report_id,
                "reporter_id": w.reporter_id,
                "kind": w.kind,
                "key": w.key[:64],
                "state": "pending",
                "data": w.data,
                "attempts": 0,
                "available_at": now,
                # A microsecond apart, in the order asked: the claim's one-at-a-time rule per
                # report compares created_at, and a tie would let two of a report's mails go at once.
                "created_at": now + timedelta(microseconds=i),
            }
        )
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(NOTIFICATIONS)
        .on_conflict_do_nothing(index_elements=["report_id", "kind", "key"])
        .returning(NOTIFICATIONS.c.id)
    )
    return len(conn.execute(stmt, rows).all())
