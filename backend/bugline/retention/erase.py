"""Erasing what Bugline keeps about people: a reporter's erasure request, and the retention
sweep's expiry of personal data and media.

Two steps, so no crash leaves bytes behind unrecorded: in one transaction the rows are
blanked and the files marked ``deleting``; then the objects are deleted from the store and
marked ``deleted``. A later sweep finishes any ``deleting`` file a crash or a store outage
left (:func:`unfinished`).

What counts as personal data: the reporter's identity (email, name, host-app id, account,
plan), the client IP, the custom metadata the host app sent, and the media. An erasure
request also blanks the customer's own words and the captured page context (console,
network, URL), since they may name the person; the triage verdict and the dates stay, so
the monthly review's figures do not change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, exists, insert, or_, select, update

from bugline.db.models import (
    Attachment,
    AttachmentState,
    Erasure,
    Notification,
    Report,
    Reporter,
    ReportEvent,
    new_id,
)

ERASED = "[erased at the reporter's request]"
BATCH = 500
# The reporter's identity, blanked by an erasure request and by the retention policy alike.
_IDENTITY: dict[str, None] = dict.fromkeys(("email", "name", "external_id", "account", "plan"))
_PERSONAL_DONE = ("personal_data_expired", "personal_data_erased")
_TEXT = ("title", "trying_to_do", "expected", "actual", "error_text", "steps", "description")
_KEPT_STATES = (
    AttachmentState.PENDING,
    AttachmentState.UPLOADED,
    AttachmentState.STORED,
    AttachmentState.REJECTED,
)

ATTACHMENTS = cast(Table, Attachment.__table__)
REPORTS = cast(Table, Report.__table__)
REPORTERS = cast(Table, Reporter.__table__)
EVENTS = cast(Table, ReportEvent.__table__)
ERASURES = cast(Table, Erasure.__table__)
NOTIFICATIONS = cast(Table, Notification.__table__)


@dataclass
class Erased:
    erasure_id: str | None = None
    reports: list[str] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (attachment id, storage key)


def subject_hash(subject: str) -> str:
    return hashlib.sha256(subject.strip().lower().encode()).hexdigest()


def _files_of(conn: Connection, report_ids: Sequence[str]) -> list[tuple[str, str]]:
    if not report_ids:
        return []
    rows = conn.execute(
        select(ATTACHMENTS.c.id, ATTACHMENTS.c.storage_key).where(
            ATTACHMENTS.c.report_id.in_(report_ids), ATTACHMENTS.c.state.in_(_KEPT_STATES)
        )
    ).all()
    ids = [r[0] for r in rows]
    if ids:
        conn.execute(
            update(ATTACHMENTS).where(ATTACHMENTS.c.id.in_(ids)).values(state=AttachmentState.DELETING)
        )
    return [(str(a), str(k)) for a, k in rows]


def _event(
    conn: Connection,
    project_id: str,
    report_ids: Sequence[str],
    now: datetime,
    kind: str,
    data: dict[str, object],
) -> None:
    if report_ids:
        conn.execute(
            insert(EVENTS),
            [
                {
                    "project_id": project_id,
                    "report_id": r,
                    "at": now,
                    "kind": kind,
                    "actor_type": "system",
                    "actor": "retention",
                    "public": False,
                    "data": data,
                }
                for r in report_ids
            ],
        )


def erase_reporter(
    conn: Connection, project_id: str, subject: str, *, now: datetime, requested_by: str
) -> Erased:
    """A reporter's erasure request, by email address or the host app's user id: their
    identity, their reports' words, context and files. Recorded even when nothing matched
    (the request was honoured: there was nothing to erase)."""
    key = subject.strip().lower()
    reporters = [
        str(r)
        for r in conn.execute(
            select(REPORTERS.c.id).where(
                REPORTERS.c.project_id == project_id,
                or_(REPORTERS.c.email == key, REPORTERS.c.external_id == subject.strip()),
            )
        ).scalars()
    ]
    out = Erased()
    if reporters:
        out.reports = [
            str(r)
            for r in conn.execute(
                select(REPORTS.c.id).where(
                    REPORTS.c.project_id == project_id, REPORTS.c.reporter_id.in_(reporters)
                )
            ).scalars()
        ]
        out.files = _files_of(conn, out.reports)
        if out.reports:
            conn.execute(
                update(REPORTS)
                .where(REPORTS.c.id.in_(out.reports))
                .values(
                    **dict.fromkeys(_TEXT, ERASED),
                    console=[],
                    network=[],
                    metadata={},
                    page_url=None,
                    referrer=None,
                    client_ip=None,
                    updated_at=now,
                )
            )
        conn.execute(
            update(REPORTERS)
            .where(REPORTERS.c.id.in_(reporters))
            .values(**_IDENTITY, unsubscribed=True, updated_at=now)
        )
        # Mail not yet sent would go to an address we no longer hold.
        conn.execute(
            update(NOTIFICATIONS)
            .where(
                NOTIFICATIONS.c.reporter_id.in_(reporters),
                NOTIFICATIONS.c.state == "pending",
            )
            .values(state="skipped", last_error="the reporter's data was erased")
        )
        _event(
            conn,
            project_id,
            out.reports,
            now,
            "personal_data_erased",
            {"reason": "request", "files": len(out.files)},
        )
    out.erasure_id = _record(
        conn,
        project_id,
        "request",
        reports=len(out.reports),
        files=len(out.files),
        now=now,
        subject=subject_hash(subject),
        requested_by=requested_by[:320],
    )
    return out


def expire_media(conn: Connection, project_id: str, before: datetime, *, now: datetime) -> Erased:
    """Files of reports received before ``before``, marked for deletion (a batch at a time)."""
    reports = [
        str(r)
        for r in conn.execute(
            select(REPORTS.c.id)
            .where(
                REPORTS.c.project_id == project_id,
                REPORTS.c.created_at < before,
                REPORTS.c.id.in_(
                    select(ATTACHMENTS.c.report_id).where(ATTACHMENTS.c.state.in_(_KEPT_STATES))
                ),
            )
            .limit(BATCH)
        ).scalars()
    ]
    out = Erased(reports=reports, files=_files_of(conn, reports))
    _event(conn, project_id, reports, now, "media_expired", {"reason": "retention"})
    return out


def expire_personal(conn: Connection, project_id: str, before: datetime, *, now: datetime) -> Erased:
    """Client IPs and custom metadata of reports received before ``before``, and the identity of
    reporters with no report since, blanked (a batch at a time)."""
    reports = [
        str(r)
        for r in conn.execute(
            select(REPORTS.c.id)
            .where(
                REPORTS.c.project_id == project_id,
                REPORTS.c.created_at < before,
                # Not done before (JSON has no equality on PostgreSQL, so the timeline tells).
                ~exists().where(EVENTS.c.report_id == REPORTS.c.id, EVENTS.c.kind.in_(_PERSONAL_DONE)),
            )
            .limit(BATCH)
        ).scalars()
    ]
    if reports:
        conn.execute(
            update(REPORTS)
            .where(REPORTS.c.id.in_(reports))
            .values(client_ip=None, metadata={}, updated_at=now)
        )
    recent = select(REPORTS.c.reporter_id).where(
        REPORTS.c.project_id == project_id, REPORTS.c.created_at >= before, REPORTS.c.reporter_id.is_not(None)
    )
    stale = [
        str(r)
        for r in conn.execute(
            select(REPORTERS.c.id)
            .where(
                REPORTERS.c.project_id == project_id,
                REPORTERS.c.updated_at < before,
                or_(
                    REPORTERS.c.email.is_not(None),
                    REPORTERS.c.name.is_not(None),
                    REPORTERS.c.external_id.is_not(None),
                ),
                REPORTERS.c.id.not_in(recent),
            )
            .limit(BATCH)
        ).scalars()
    ]
    if stale:
        conn.execute(update(REPORTERS).where(REPORTERS.c.id.in_(stale)).values(**_IDENTITY, updated_at=now))
    _event(conn, project_id, reports, now, "personal_data_expired", {"reason": "retention"})
    out = Erased(reports=reports)
    if reports or stale:
        out.erasure_id = _record(conn, project_id, "retention", reports=len(reports), files=0, now=now)
    return out


def _record(
    conn: Connection,
    project_id: str,
    reason: str,
    *,
    reports: int,
    files: int,
    now: datetime,
    subject: str | None = None,
    requested_by: str | None = None,
) -> str:
    """The erasures row: what was erased, why, and (for a request) only the subject's hash."""
    erasure_id = new_id()
    conn.execute(
        insert(ERASURES).values(
            id=erasure_id,
            project_id=project_id,
            reason=reason,
            subject_hash=subject,
            requested_by=requested_by,
            reports=reports,
            files=files,
            at=now,
        )
    )
    return erasure_id


def unfinished(conn: Connection, limit: int = BATCH) -> list[tuple[str, str]]:
    """Files marked for deletion whose objects may still exist (a crash or a store outage)."""
    rows = conn.execute(
        select(ATTACHMENTS.c.id, ATTACHMENTS.c.storage_key)
        .where(ATTACHMENTS.c.state == AttachmentState.DELETING)
        .limit(limit)
    ).all()
    return [(str(a), str(k)) for a, k in rows]


def mark_deleted(conn: Connection, attachment_ids: Sequence[str]) -> None:
    if attachment_ids:
        conn.execute(
            update(ATTACHMENTS)
            .where(ATTACHMENTS.c.id.in_(attachment_ids), ATTACHMENTS.c.state == AttachmentState.DELETING)
            .values(state=AttachmentState.DELETED)
        )
