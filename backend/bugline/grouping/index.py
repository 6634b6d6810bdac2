"""Duplicate groups in the database: find a new report's group through the key index.

A lookup never reads a project's reports one by one. The new report's signature gives at
most about 15 keys (:func:`bugline.triage.duplicates.index_keys`); each key is one equality
lookup on ``duplicate_keys (project_id, key, created_at)``, newest first and capped at
``candidates_per_key`` rows, joined by primary key to the report and its group to keep only
open ones. The few candidates found are scored on their stored signatures in Python. So a
lookup reads a bounded number of index entries whatever the size of the store; only the
index's depth grows, logarithmically (BENCHMARKS.md measures it at 10k and 100k reports).

Everything here is a plain function of a Connection, run inside the caller's write
transaction (``db.engine.Writer``) on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Executable,
    Select,
    String,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from bugline.db.models import (
    DuplicateGroup,
    DuplicateKey,
    DuplicateMember,
    Report,
    Reporter,
    ReportStatus,
    new_id,
    utcnow,
)
from bugline.triage.duplicates import DuplicateRules, Signature, index_keys, similarity
from bugline.triage.report import GroupStats

GROUPS = cast(Table, DuplicateGroup.__table__)
MEMBERS = cast(Table, DuplicateMember.__table__)
KEYS = cast(Table, DuplicateKey.__table__)
REPORTS = cast(Table, Report.__table__)
REPORTERS = cast(Table, Reporter.__table__)

# Reports in these states are done with: a new report like them is a new occurrence (maybe
# a regression) and starts its own group.
CLOSED = (ReportStatus.RESOLVED.value, ReportStatus.CLOSED.value)
OPEN_GROUP = "open"
CLOSED_GROUP = "closed"


@dataclass(frozen=True, slots=True)
class Grouping:
    """Where :func:`assign` put a report."""

    group_id: str
    joined: bool  # True: an existing group; False: a new group with this report as its first
    matched_report_id: str | None  # the open report it was found to duplicate
    score: float  # the match's similarity, 0..1 (0 for a new group)
    reasons: tuple[str, ...]  # "same error: TypeError: ...", "same page /orders/:id", ...
    stats: GroupStats  # the group after this report joined
    retriage: tuple[str, ...]  # other open members whose severity may change now the group grew


@dataclass(frozen=True, slots=True)
class Candidate:
    report_id: str
    group_id: str
    shared_keys: int


def _open_key_rows(key: Any, limit: int) -> Select[Any]:
    """The newest ``limit`` open reports indexed under ``key``: an index range scan read
    backwards, each row joined by primary key to its report and group."""
    return (
        select(KEYS.c.report_id, KEYS.c.group_id)
        .join(REPORTS, REPORTS.c.id == KEYS.c.report_id)
        .join(GROUPS, GROUPS.c.id == KEYS.c.group_id)
        .where(
            KEYS.c.project_id == bindparam("project_id"),
            KEYS.c.key == key,
            REPORTS.c.status.not_in(CLOSED),
            GROUPS.c.status == OPEN_GROUP,
        )
        .order_by(KEYS.c.created_at.desc())
        .limit(limit)
    )


@lru_cache(maxsize=256)
def _lookup_statement(dialect: str, keys: int, limit: int) -> Executable:
    """All keys' lookups in one statement, built once (building it cost more than running it).

    PostgreSQL: one LATERAL subquery over the array of keys, so the statement is the same
    for any number of keys and is planned once (a UNION of a dozen joins took ~3 ms to plan,
    longer than it took to run). SQLite has no LATERAL but plans in microseconds: a UNION
    ALL of one subquery per key (SQLite needs the subqueries for a LIMIT inside a UNION).
    """
    if dialect == "postgresql":
        wanted = (
            func.unnest(bindparam("keys", type_=ARRAY(String(40))))
            .table_valued("key")
            .render_derived(name="wanted")
        )
        found = _open_key_rows(wanted.c.key, limit).lateral("found")
        return select(found.c.report_id, found.c.group_id).select_from(wanted).join(found, true())
    parts = []
    for i in range(keys):
        sub = _open_key_rows(bindparam(f"k{i}"), limit).subquery(f"k{i}")
        parts.append(select(sub.c.report_id, sub.c.group_id))
    return parts[0] if keys == 1 else union_all(*parts)


def candidates(
    conn: Connection, project_id: str, keys: list[str], rules: DuplicateRules, *, exclude: str | None = None
) -> list[Candidate]:
    """Open reports sharing at least one key with ``keys``, most shared keys first (one round trip)."""
    if not keys:
        return []
    params: dict[str, Any] = {"project_id": project_id}
    if conn.dialect.name == "postgresql":
        params["keys"] = keys
        statement = _lookup_statement("postgresql", 0, rules.candidates_per_key)
    else:
        params |= {f"k{i}": key for i, key in enumerate(keys)}
        statement = _lookup_statement(conn.dialect.name, len(keys), rules.candidates_per_key)
    rows = conn.execute(statement, params).all()
    shared: Counter[str] = Counter()
    groups: dict[str, str] = {}
    for report_id, group_id in rows:
        if report_id == exclude:
            continue
        shared[report_id] += 1
        groups.setdefault(report_id, group_id)
    # Counter.most_common keeps first-seen order among ties: the newest of the first key.
    return [Candidate(r, groups[r], n) for r, n in shared.most_common(rules.max_candidates)]


_SIGNATURES = select(MEMBERS.c.report_id, MEMBERS.c.signature).where(
    MEMBERS.c.project_id == bindparam("project_id"), MEMBERS.c.report_id.in_(bindparam("ids", expanding=True))
)
_IS_MEMBER = select(exists().where(MEMBERS.c.report_id == bindparam("report_id")))
_ACCOUNT = select(REPORTERS.c.account).where(
    REPORTERS.c.id == bindparam("reporter_id"), REPORTERS.c.project_id == bindparam("project_id")
)
# FOR UPDATE on PostgreSQL: two reports joining at once must not both count one new
# person. SQLite ignores it; its writers are serialised by BEGIN IMMEDIATE already.
_LOCK_GROUP = (
    select(
        GROUPS.c.status,
        GROUPS.c.report_count,
        GROUPS.c.reporter_count,
        GROUPS.c.account_count,
        GROUPS.c.primary_report_id,
    )
    .where(GROUPS.c.id == bindparam("group_id"))
    .with_for_update()
)
_HAS_PERSON = select(
    exists().where(MEMBERS.c.group_id == bindparam("group_id"), MEMBERS.c.reporter_key == bindparam("value"))
)
_HAS_ACCOUNT = select(
    exists().where(MEMBERS.c.group_id == bindparam("group_id"), MEMBERS.c.account_key == bindparam("value"))
)
_COUNTS = (
    update(GROUPS)
    .where(GROUPS.c.id == bindparam("group_id"))
    .values(
        report_count=bindparam("reports"),
        reporter_count=bindparam("reporters"),
        account_count=bindparam("accounts"),
        updated_at=bindparam("now"),
    )
)
_SET_GROUP = (
    update(REPORTS)
    .where(REPORTS.c.id == bindparam("report_id"))
    .values(duplicate_group_id=bindparam("group_id"))
)
_INSERT_GROUP = insert(GROUPS)
_INSERT_MEMBER = insert(MEMBERS)
_INSERT_KEYS = insert(KEYS)


@dataclass(frozen=True, slots=True)
class Match:
    candidate: Candidate
    score: float
    reasons: tuple[str, ...]


def best_match(
    conn: Connection, project_id: str, sig: Signature, found: list[Candidate], rules: DuplicateRules
) -> Match | None:
    """The best-scoring candidate at or above the threshold, scored on stored signatures."""
    if not found:
        return None
    by_id = {c.report_id: c for c in found}
    rows = conn.execute(_SIGNATURES, {"project_id": project_id, "ids": list(by_id)}).all()
    best: Match | None = None
    for report_id, stored in rows:
        score, reasons = similarity(sig, Signature.from_json(stored), rules)
        c = by_id[report_id]
        if score < rules.threshold:
            continue
        if best is None or (score, c.shared_keys) > (best.score, best.candidate.shared_keys):
            best = Match(c, score, tuple(reasons))
    return best


def _reporter_keys(
    conn: Connection, project_id: str, report_id: str, reporter_id: str | None
) -> tuple[str, str]:
    """Who counts as one person and one account.

    A report without a known reporter counts as its own person: anonymous widget reports are
    common and each is most likely someone else. A reporter without an account is their
    own account (a customer of a consumer app is an account of one).
    """
    if reporter_id is None:
        person = f"anon:{report_id}"
        return person, f"person:{person}"
    account = conn.execute(
        _ACCOUNT, {"reporter_id": reporter_id, "project_id": project_id}
    ).scalar_one_or_none()
    return reporter_id, f"account:{account}" if account else f"person:{reporter_id}"


def _lock_group(conn: Connection, group_id: str) -> Any:
    return conn.execute(_LOCK_GROUP, {"group_id": group_id}).first()


def _has_member(conn: Connection, group_id: str, statement: Executable, value: str) -> bool:
    return bool(conn.execute(statement, {"group_id": group_id, "value": value}).scalar())


def find_match(
    conn: Connection, *, project_id: str, report_id: str, sig: Signature, rules: DuplicateRules
) -> Match | None:
    """The open report this one duplicates, if any: read-only, so it can run before the write.

    Intake looks the match up on a reader before taking the write lock (on SQLite there is
    one for the whole database): the candidate search and the similarity scoring are most of
    the cost, and nothing in them needs to be serialised. ``assign`` re-checks that the
    matched group is still open under the lock.
    """
    keys = index_keys(sig)
    found = candidates(conn, project_id, keys, rules, exclude=report_id)
    return best_match(conn, project_id, sig, found, rules)


_LOOK_UP = object()  # assign's default: search for the match inside the transaction


def assign(
    conn: Connection,
    *,
    project_id: str,
    report_id: str,
    reporter_id: str | None,
    sig: Signature,
    rules: DuplicateRules,
    match: Match | object | None = _LOOK_UP,
) -> Grouping:
    """Put a stored report into the group of its best open match, or into a new group.

    Runs inside the caller's transaction, after the report row is written. Idempotent: a
    report that already has a group is taken out of it first, so a retry or a re-triage
    after an edit lands it where its current words say.
    """
    if conn.execute(_IS_MEMBER, {"report_id": report_id}).scalar():
        detach(conn, report_id)
    now = utcnow()
    keys = index_keys(sig)
    if match is _LOOK_UP:
        match = find_match(conn, project_id=project_id, report_id=report_id, sig=sig, rules=rules)
    assert match is None or isinstance(match, Match)
    reporter_key, account_key = _reporter_keys(conn, project_id, report_id, reporter_id)

    joined = False
    grew = False  # a new person or account: the siblings' severity signal changed
    group_id = new_id()
    stats = GroupStats(1, 1, 1)
    if match is not None:
        row = _lock_group(conn, match.candidate.group_id)
        if row is not None and row.status == OPEN_GROUP:
            joined = True
            group_id = match.candidate.group_id
            new_person = not _has_member(conn, group_id, _HAS_PERSON, reporter_key)
            new_account = not _has_member(conn, group_id, _HAS_ACCOUNT, account_key)
            grew = new_person or new_account
            stats = GroupStats(
                row.report_count + 1, row.reporter_count + new_person, row.account_count + new_account
            )
            conn.execute(
                _COUNTS,
                {
                    "group_id": group_id,
                    "reports": stats.reports,
                    "reporters": stats.reporters,
                    "accounts": stats.accounts,
                    "now": now,
                },
            )
    if not joined:
        conn.execute(
            _INSERT_GROUP,
            {
                "id": group_id,
                "project_id": project_id,
                "primary_report_id": report_id,
                "report_count": 1,
                "reporter_count": 1,
                "account_count": 1,
                "status": OPEN_GROUP,
                "created_at": now,
                "updated_at": now,
            },
        )
    conn.execute(
        _INSERT_MEMBER,
        {
            "report_id": report_id,
            "project_id": project_id,
            "group_id": group_id,
            "reporter_key": reporter_key,
            "account_key": account_key,
            "matched_report_id": match.candidate.report_id if joined and match else None,
            "score": match.score if joined and match else None,
            "reasons": list(match.reasons) if joined and match else [],
            "signature": sig.to_json(),
            "created_at": now,
        },
    )
    if keys:
        conn.execute(
            _INSERT_KEYS,
            [
                {
                    "report_id": report_id,
                    "key": k,
                    "project_id": project_id,
                    "group_id": group_id,
                    "created_at": now,
                }
                for k in keys
            ],
        )
    conn.execute(_SET_GROUP, {"report_id": report_id, "group_id": group_id})
    # Only a new person or account changes what the siblings' severity reads; the same
    # customer reporting again (or a retry) must not re-score a hundred reports.
    retriage = _open_members(conn, group_id, report_id, rules.recompute_limit) if grew else ()
    return Grouping(
        group_id=group_id,
        joined=joined,
        matched_report_id=match.candidate.report_id if joined and match else None,
        score=match.score if joined and match else 0.0,
        reasons=match.reasons if joined and match else (),
        stats=stats,
        retriage=retriage,
    )


def _open_members(conn: Connection, group_id: str, exclude: str, limit: int) -> tuple[str, ...]:
    if limit <= 0:
        return ()
    rows = conn.execute(
        select(MEMBERS.c.report_id)
        .join(REPORTS, REPORTS.c.id == MEMBERS.c.report_id)
        .where(
            MEMBERS.c.group_id == group_id, MEMBERS.c.report_id != exclude, REPORTS.c.status.not_in(CLOSED)
        )
        .order_by(MEMBERS.c.created_at.desc())
        .limit(limit)
    ).scalars()
    return tuple(rows)


def detach(conn: Connection, report_id: str) -> str | None:
    """Take a report out of its group (for a split, a merge, or before re-grouping it).

    The group's counts are corrected, a new first report is chosen if it was the first, and
    a group left empty is deleted. Returns the group it left, or None if it had none.
    """
    member = conn.execute(
        select(MEMBERS.c.group_id, MEMBERS.c.reporter_key, MEMBERS.c.account_key).where(
            MEMBERS.c.report_id == report_id
        )
    ).first()
    if member is None:
        return None
    group_id: str = member.group_id
    row = _lock_group(conn, group_id)
    conn.execute(delete(KEYS).where(KEYS.c.report_id == report_id))
    conn.execute(delete(MEMBERS).where(MEMBERS.c.report_id == report_id))
    conn.execute(update(REPORTS).where(REPORTS.c.id == report_id).values(duplicate_group_id=None))
    if row is None:
        return group_id
    if row.report_count <= 1:
        conn.execute(delete(GROUPS).where(GROUPS.c.id == group_id))
        return group_id
    values: dict[str, Any] = {
        "report_count": row.report_count - 1,
        "reporter_count": row.reporter_count
        - (not _has_member(conn, group_id, _HAS_PERSON, member.reporter_key)),
        "account_count": row.account_count
        - (not _has_member(conn, group_id, _HAS_ACCOUNT, member.account_key)),
        "updated_at": utcnow(),
    }
    if row.primary_report_id in (report_id, None):
        values["primary_report_id"] = conn.execute(
            select(MEMBERS.c.report_id)
            .where(MEMBERS.c.group_id == group_id)
            .order_by(MEMBERS.c.created_at, MEMBERS.c.report_id)
            .limit(1)
        ).scalar_one_or_none()
    conn.execute(update(GROUPS).where(GROUPS.c.id == group_id).values(**values))
    return group_id


def group_stats(conn: Connection, project_id: str, group_id: str) -> GroupStats | None:
    """A group's counts as severity reads them (None: no such group in this project)."""
    row = conn.execute(
        select(GROUPS.c.report_count, GROUPS.c.reporter_count, GROUPS.c.account_count).where(
            GROUPS.c.id == group_id, GROUPS.c.project_id == project_id
        )
    ).first()
    return GroupStats(row[0], row[1], row[2]) if row else None


def refresh_status(conn: Connection, project_id: str, group_id: str) -> str | None:
    """Close a group once none of its reports is open, reopen it when one is again.

    Call after a report's status changes. New reports never join a closed group: the same
    symptom after a fix is a new occurrence and gets a new group.
    """
    any_open = conn.execute(
        select(
            exists()
            .where(MEMBERS.c.group_id == group_id, MEMBERS.c.project_id == project_id)
            .where(REPORTS.c.id == MEMBERS.c.report_id, REPORTS.c.status.not_in(CLOSED))
        )
    ).scalar()
    status = OPEN_GROUP if any_open else CLOSED_GROUP
    result = conn.execute(
        update(GROUPS)
        .where(GROUPS.c.id == group_id, GROUPS.c.project_id == project_id, GROUPS.c.status != status)
        .values(status=status, updated_at=utcnow())
    )
    if result.rowcount:
        return status
    exists_row = conn.execute(
        select(GROUPS.c.status).where(GROUPS.c.id == group_id, GROUPS.c.project_id == project_id)
    ).scalar_one_or_none()
    return str(exists_row) if exists_row is not None else None
