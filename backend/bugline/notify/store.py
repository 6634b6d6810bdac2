"""The notifications table as the sender uses it: lease, read what a mail needs, record.

Leases are ``bugline.leases`` (the outbox's pattern). One more rule for claims: a
notification waits while an older one of the same report is still pending, so a customer
reads "we have your report" before "it is fixed", even with several workers sending and a
retry in between. Outcomes are written only under the lease, with their timeline event in
the same transaction: ``notified`` (kind, to, message id), ``notify_skipped`` (kind, reason)
or ``notify_failed`` (kind, error), all internal: agents see them, the customer does not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, exists, func, insert, select, update

from bugline.db.models import Notification, Project, Report, Reporter, ReportEvent
from bugline.leases import Leases
from bugline.notify.context import Facts
from bugline.notify.locales import of_report
from bugline.triage import language
from bugline.triage.report import OWN_WORDS_FIELDS

NOTIFICATIONS = cast(Table, Notification.__table__)
REPORTS = cast(Table, Report.__table__)
REPORTERS = cast(Table, Reporter.__table__)
PROJECTS = cast(Table, Project.__table__)
EVENTS = cast(Table, ReportEvent.__table__)
LEASES = Leases(NOTIFICATIONS)
ACTOR = "notifications"


def _no_older_pending() -> Any:
    older = NOTIFICATIONS.alias("older")
    return ~exists(
        select(older.c.id).where(
            older.c.report_id == NOTIFICATIONS.c.report_id,
            older.c.state == "pending",
            older.c.created_at < NOTIFICATIONS.c.created_at,
        )
    ).correlate(NOTIFICATIONS)


# Built once: a fresh alias on every claim cost more Python than the claim's SQL.
_NO_OLDER_PENDING = _no_older_pending()


def claim(conn: Connection, *, owner: str, now: datetime, limit: int, lease: timedelta) -> list[str]:
    return LEASES.claim(conn, owner=owner, now=now, limit=limit, lease=lease, where=_NO_OLDER_PENDING)


def next_due(conn: Connection) -> datetime | None:
    return LEASES.next_due(conn)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A leased notification and everything its mail is made of."""

    id: str
    project_id: str
    report_id: str
    kind: str
    attempts: int
    facts: Facts
    email: str
    unsubscribed: bool
    locales: tuple[Any, ...]  # the reporter's, the one the report is written in, the browser's
    status_token_hash: str | None = None  # which key made the reporter's link (a rotation)

    @property
    def settings(self) -> Mapping[str, Any]:
        value = self.facts.project_settings.get("notifications")
        return value if isinstance(value, Mapping) else {}


# What a mail says about a report and its project (``_facts``), read by both queries below.
_FACT_COLUMNS = (
    REPORTS.c.number,
    REPORTS.c.title,
    REPORTS.c.actual,
    REPORTS.c.status,
    REPORTS.c.severity,
    REPORTS.c.category,
    REPORTS.c.created_at,
    PROJECTS.c.name.label("project_name"),
    PROJECTS.c.settings.label("project_settings"),
    REPORTERS.c.name.label("reporter_name"),
)

# What the reporter wrote in their own words (title first), read for the language it is in,
# exactly as triage reads it (``TriageInput.texts``).
_WRITTEN = tuple(REPORTS.c[name] for name in OWN_WORDS_FIELDS)

# Built once, with bound parameters: it runs for every notification.
_LOAD_ANY = (
    select(
        NOTIFICATIONS.c.id,
        NOTIFICATIONS.c.project_id,
        NOTIFICATIONS.c.report_id,
        NOTIFICATIONS.c.kind,
        NOTIFICATIONS.c.attempts,
        NOTIFICATIONS.c.data,
        *_FACT_COLUMNS,
        REPORTS.c.environment,
        # The opening of each of the report's texts: the language it is written in (locales.of_report).
        *(
            func.substr(column, 1, language.FIELD_CHARS).label(f"opening_{column.name}")
            for column in _WRITTEN
        ),
        REPORTS.c.status_token_hash,
        REPORTERS.c.id.label("reporter_id"),
        REPORTERS.c.email,
        REPORTERS.c.locale,
        REPORTERS.c.unsubscribed,
    )
    .join(REPORTS, REPORTS.c.id == NOTIFICATIONS.c.report_id)
    .join(PROJECTS, PROJECTS.c.id == NOTIFICATIONS.c.project_id)
    .outerjoin(REPORTERS, REPORTERS.c.id == NOTIFICATIONS.c.reporter_id)
)
_LOAD = _LOAD_ANY.where(LEASES.mine(bindparam("notification_id"), bindparam("owner")))


# The same for a claim's whole batch at once (``load_rows``).
_LOAD_MANY = _LOAD_ANY.where(
    NOTIFICATIONS.c.id.in_(bindparam("ids", expanding=True)),
    NOTIFICATIONS.c.lease_owner == bindparam("owner"),
    NOTIFICATIONS.c.state == LEASES.pending,
)


def load(conn: Connection, notification_id: str, owner: str) -> Loaded | None:
    """The notification if ``owner`` still holds its lease, with its report, reporter and project."""
    row = conn.execute(_LOAD, {"notification_id": notification_id, "owner": owner}).first()
    return None if row is None else loaded(row)


def load_rows(conn: Connection, ids: Sequence[str], owner: str) -> list[Any]:
    """The rows ``load`` reads, for several notifications in one query (those ``owner`` still
    holds); ``loaded`` makes each a Loaded."""
    if not ids:
        return []
    return list(conn.execute(_LOAD_MANY, {"ids": list(ids), "owner": owner}))


def loaded(row: Any) -> Loaded:
    return Loaded(
        id=row.id,
        project_id=row.project_id,
        report_id=row.report_id,
        kind=row.kind,
        attempts=row.attempts,
        facts=_facts(row, row.kind, row.report_id, row.reporter_id, row.email or "", dict(row.data or {})),
        email=(row.email or "").strip(),
        unsubscribed=bool(row.unsubscribed) if row.reporter_id else False,
        locales=of_report(row.locale, row.environment, [getattr(row, f"opening_{c.name}") for c in _WRITTEN]),
        status_token_hash=row.status_token_hash,
    )


def report_facts(conn: Connection, project_id: str, report_id: str, kind: str) -> Facts | None:
    """A stored report as a notification of ``kind`` would see it (for previews): the data of
    the report's latest notification of that kind, when it has one."""
    row = conn.execute(
        select(REPORTS.c.id, REPORTS.c.triage, *_FACT_COLUMNS)
        .join(PROJECTS, PROJECTS.c.id == REPORTS.c.project_id)
        .outerjoin(REPORTERS, REPORTERS.c.id == REPORTS.c.reporter_id)
        .where(REPORTS.c.id == report_id, REPORTS.c.project_id == project_id)
    ).first()
    if row is None:
        return None
    data = conn.execute(
        select(NOTIFICATIONS.c.data)
        .where(NOTIFICATIONS.c.report_id == report_id, NOTIFICATIONS.c.kind == kind)
        .order_by(NOTIFICATIONS.c.created_at.desc())
        .limit(1)
    ).scalar()
    if data is None:
        questions = ((row.triage or {}).get("completeness") or {}).get("questions") or {}
        data = {"questions": questions} if kind in ("received", "needs_info") else {}
    return _facts(row, kind, row.id, None, "", dict(data))


def _facts(
    row: Any, kind: str, report_id: str, reporter_id: str | None, email: str, data: dict[str, Any]
) -> Facts:
    """The Facts of a row read with ``_FACT_COLUMNS``."""
    return Facts(
        kind=kind,
        project_name=row.project_name,
        project_settings=dict(row.project_settings or {}),
        report_id=report_id,
        number=row.number,
        title=row.title or (row.actual or "")[:120],
        status=row.status,
        severity=row.severity,
        category=row.category,
        created_at=row.created_at,
        reporter_id=reporter_id,
        reporter_name=row.reporter_name or "",
        reporter_email=email,
        data=data,
    )


# ---- outcomes (under the lease, with their timeline event) ----------------------------------


def sent(conn: Connection, loaded: Loaded, owner: str, *, now: datetime, message_id: str, to: str) -> bool:
    if not LEASES.settle(
        conn, loaded.id, owner, state="sent", sent_at=now, message_id=message_id, last_error=None
    ):
        return False
    _event(conn, loaded, now, "notified", {"kind": loaded.kind, "to": to, "message_id": message_id})
    return True


def skipped(conn: Connection, loaded: Loaded, owner: str, *, now: datetime, reason: str) -> bool:
    if not LEASES.settle(conn, loaded.id, owner, state="skipped", last_error=reason[:2000]):
        return False
    _event(conn, loaded, now, "notify_skipped", {"kind": loaded.kind, "reason": reason})
    return True


# Built once: one executemany for a batch's skipped rows (``skipped_many``).
_SKIP = (
    update(NOTIFICATIONS)
    .where(LEASES.mine(bindparam("b_id"), bindparam("b_owner")))
    .values(state="skipped", leased_until=None, last_error=bindparam("b_error"))
)


def skipped_many(conn: Connection, skips: Sequence[tuple[Loaded, str]], owner: str, *, now: datetime) -> None:
    """``skipped`` for rows this transaction has just leased (``owner`` holds every lease, so
    nothing can be lost): the rows and their events each in one statement."""
    if not skips:
        return
    conn.execute(
        _SKIP, [{"b_id": loaded.id, "b_owner": owner, "b_error": reason[:2000]} for loaded, reason in skips]
    )
    conn.execute(
        insert(EVENTS),
        [
            _event_row(loaded, now, "notify_skipped", {"kind": loaded.kind, "reason": reason})
            for loaded, reason in skips
        ],
    )


def failed(conn: Connection, loaded: Loaded, owner: str, *, now: datetime, error: str) -> bool:
    if not LEASES.settle(conn, loaded.id, owner, state="failed", last_error=error[:2000]):
        return False
    _event(conn, loaded, now, "notify_failed", {"kind": loaded.kind, "error": error[:500]})
    return True


def again(conn: Connection, loaded: Loaded, owner: str, *, at: datetime, error: str) -> bool:
    return LEASES.again(conn, loaded.id, owner, at=at, error=error)


def _event(conn: Connection, loaded: Loaded, now: datetime, kind: str, data: dict[str, Any]) -> None:
    conn.execute(insert(EVENTS).values(**_event_row(loaded, now, kind, data)))


def _event_row(loaded: Loaded, now: datetime, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": loaded.project_id,
        "report_id": loaded.report_id,
        "at": now,
        "kind": kind,
        "actor_type": "system",
        "actor": ACTOR,
        "public": False,
        "data": data,
    }
