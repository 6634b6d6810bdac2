"""Duplicate groups in the database: find a new report's group through the key index.

A lookup never reads a project's reports one by one. The new report's signature gives at
most about 15 keys (:func:`bugline.triage.duplicates.index_keys`); each key is one equality
lookup on ``duplicate_keys (project_id, key, created_at)``, newest first and capped at
``candidates_per_key`` rows, joined by primary key to the report and its group to keep only
open ones. The few candidates found are scored on their stored signatures in Python. So a
lookup reads a bounded number of index entries whatever the size of the store; only the
index's depth grows, logarithmically (BENCHMARKS.md measures it at 10k and 100k reports).

Everything here is a plain function of a Connection, run inside the caller's write
transaction (``db.engine.Writer``) on SQLite and PostgreSQL alike, except the lookups
(:func:`find_match`, :func:`gather`), which only read and run on a reader beforehand.

Triage places reports in batches (:class:`Batch`; :func:`assign` is a batch of one) with the
outcome of placing them one after another: each report sees those placed before it as the
newest candidates, a group's row is locked and read once per transaction, and the rows are
written together, one statement per table. :func:`gather` reads what a whole batch may
match in one index lookup and one signature read per project, so the write transaction
only ranks and scores what is already in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import chain, islice
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


# Each key's newest open reports, newest first: key -> [(report_id, group_id), ...].
KeyRows = dict[str, list[tuple[str, str]]]
# A similarity and its reasons.
Scored = tuple[float, tuple[str, ...]]

# SQLite refuses a compound SELECT of more than 500 parts (SQLITE_MAX_COMPOUND_SELECT,
# https://www.sqlite.org/limits.html); a batch's keys are looked up this many at a time.
SQLITE_KEYS_PER_STATEMENT = 100


def _open_key_rows(key: Any, limit: int) -> Select[Any]:
    """The newest ``limit`` open reports indexed under ``key``: an index range scan read
    backwards, each row joined by primary key to its report and group."""
    return (
        select(KEYS.c.key, KEYS.c.report_id, KEYS.c.group_id, KEYS.c.created_at)
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
        return (
            select(found.c.key, found.c.report_id, found.c.group_id, found.c.created_at)
            .select_from(wanted)
            .join(found, true())
        )
    parts = []
    for i in range(keys):
        sub = _open_key_rows(bindparam(f"k{i}"), limit).subquery(f"k{i}")
        parts.append(select(sub.c.key, sub.c.report_id, sub.c.group_id, sub.c.created_at))
    return parts[0] if keys == 1 else union_all(*parts)


def key_rows(conn: Connection, project_id: str, keys: Sequence[str], limit: int) -> KeyRows:
    """The newest ``limit`` open reports under each of ``keys`` (one round trip on PostgreSQL;
    on SQLite one per SQLITE_KEYS_PER_STATEMENT keys)."""
    found: KeyRows = {key: [] for key in keys}
    keys = list(found)
    if not keys:
        return found
    dated: dict[str, list[tuple[Any, str, str]]] = {key: [] for key in keys}
    if conn.dialect.name == "postgresql":
        chunks = [keys]
    else:
        chunks = [
            keys[i : i + SQLITE_KEYS_PER_STATEMENT] for i in range(0, len(keys), SQLITE_KEYS_PER_STATEMENT)
        ]
    for chunk in chunks:
        params: dict[str, Any] = {"project_id": project_id}
        if conn.dialect.name == "postgresql":
            params["keys"] = chunk
            statement = _lookup_statement("postgresql", 0, limit)
        else:
            params |= {f"k{i}": key for i, key in enumerate(chunk)}
            statement = _lookup_statement(conn.dialect.name, len(chunk), limit)
        for key, report_id, group_id, created_at in conn.execute(statement, params):
            dated[key].append((created_at, report_id, group_id))
    for key, rows in dated.items():
        # Newest first whatever order the database returned the parts in (the sort is stable).
        rows.sort(key=lambda row: row[0], reverse=True)
        found[key] = [(report_id, group_id) for _, report_id, group_id in rows]
    return found


def rank(
    keys: Sequence[str], rows: KeyRows, rules: DuplicateRules, *, exclude: str | None = None
) -> list[Candidate]:
    """The candidates among ``rows`` (pure): each key's newest ``candidates_per_key``, most
    shared keys first; ties keep first-seen order, i.e. the newest of the first key."""
    shared: Counter[str] = Counter()
    groups: dict[str, str] = {}
    for key in keys:
        for report_id, group_id in rows.get(key, [])[: rules.candidates_per_key]:
            if report_id == exclude:
                continue
            shared[report_id] += 1
            groups.setdefault(report_id, group_id)
    return [Candidate(r, groups[r], n) for r, n in shared.most_common(rules.max_candidates)]


def candidates(
    conn: Connection, project_id: str, keys: list[str], rules: DuplicateRules, *, exclude: str | None = None
) -> list[Candidate]:
    """Open reports sharing at least one key with ``keys``, most shared keys first (one round trip)."""
    return rank(keys, key_rows(conn, project_id, keys, rules.candidates_per_key), rules, exclude=exclude)


_SIGNATURES = select(MEMBERS.c.report_id, MEMBERS.c.signature).where(
    MEMBERS.c.project_id == bindparam("project_id"), MEMBERS.c.report_id.in_(bindparam("ids", expanding=True))
)
_MEMBERS_AMONG = select(MEMBERS.c.report_id).where(MEMBERS.c.report_id.in_(bindparam("ids", expanding=True)))
_ACCOUNTS = select(REPORTERS.c.id, REPORTERS.c.project_id, REPORTERS.c.account).where(
    REPORTERS.c.id.in_(bindparam("ids", expanding=True))
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


def signatures(conn: Connection, project_id: str, report_ids: Sequence[str]) -> dict[str, Signature]:
    """The stored signatures of these members of the project's groups, by report id."""
    if not report_ids:
        return {}
    rows = conn.execute(_SIGNATURES, {"project_id": project_id, "ids": list(report_ids)})
    return {report_id: Signature.from_json(stored) for report_id, stored in rows}


def best_of(
    found: Sequence[Candidate], score: Callable[[Candidate], Scored | None], rules: DuplicateRules
) -> Match | None:
    """The best-scoring candidate at or above the threshold (pure; ``score`` is None for a
    candidate without a stored signature). Equal scores: more shared keys, then first found."""
    best: Match | None = None
    for c in found:
        scored = score(c)
        if scored is None or scored[0] < rules.threshold:
            continue
        if best is None or (scored[0], c.shared_keys) > (best.score, best.candidate.shared_keys):
            best = Match(c, scored[0], scored[1])
    return best


def best_match(
    conn: Connection, project_id: str, sig: Signature, found: list[Candidate], rules: DuplicateRules
) -> Match | None:
    """The best-scoring candidate at or above the threshold, scored on stored signatures."""
    if not found:
        return None
    stored = signatures(conn, project_id, [c.report_id for c in found])

    def score(c: Candidate) -> Scored | None:
        other = stored.get(c.report_id)
        if other is None:
            return None
        value, reasons = similarity(sig, other, rules)
        return value, tuple(reasons)

    return best_of(found, score, rules)


def _has_member(conn: Connection, group_id: str, statement: Executable, value: str) -> bool:
    return bool(conn.execute(statement, {"group_id": group_id, "value": value}).scalar())


def _lock_group(conn: Connection, group_id: str) -> Any:
    return conn.execute(_LOCK_GROUP, {"group_id": group_id}).first()


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


@dataclass(slots=True)
class Newcomer:
    """A stored report to put into a group."""

    project_id: str
    report_id: str
    reporter_id: str | None
    sig: Signature
    rules: DuplicateRules
    keys: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = index_keys(self.sig)


class _Placed:
    """A batch's reports placed so far: to everything after them, the newest candidates."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], list[tuple[str, str]]] = {}  # oldest first
        self.ids: set[str] = set()

    def add(self, n: Newcomer, group_id: str) -> None:
        for key in n.keys:
            self.by_key.setdefault((n.project_id, key), []).append((n.report_id, group_id))
        self.ids.add(n.report_id)

    def ranked(self, n: Newcomer, rows: KeyRows) -> list[Candidate]:
        """``n``'s candidates as if every report placed before it were already stored: they
        are newer than anything in ``rows`` (read before the batch), so they come first."""
        limit = n.rules.candidates_per_key
        merged: KeyRows = {}
        for key in n.keys:
            mine = self.by_key.get((n.project_id, key), [])
            stored = (row for row in rows.get(key, []) if row[0] not in self.ids)
            merged[key] = list(islice(chain(reversed(mine), stored), limit))
        return rank(n.keys, merged, n.rules, exclude=n.report_id)


@dataclass(slots=True)
class Pool:
    """What a batch of newcomers may match, read on a reader before the write transaction:
    each key's newest open reports, the stored signatures of the likely candidates, and the
    similarity scores (newcomer, candidate) computed so far."""

    rows: dict[str, KeyRows] = field(default_factory=dict)  # by project
    signatures: dict[str, Signature] = field(default_factory=dict)  # by report
    expected: dict[str, list[Candidate]] = field(default_factory=dict)  # by newcomer
    scores: dict[tuple[str, str], Scored] = field(default_factory=dict)

    def score(self, n: Newcomer, candidate_id: str) -> Scored | None:
        scored = self.scores.get((n.report_id, candidate_id))
        if scored is None:
            other = self.signatures.get(candidate_id)
            if other is None:
                return None
            value, reasons = similarity(n.sig, other, n.rules)
            scored = self.scores[n.report_id, candidate_id] = (value, tuple(reasons))
        return scored

    def prescore(self, n: Newcomer) -> None:
        """Scores ``n``'s expected candidates now, outside the write transaction (the CPU part
        of grouping: on SQLite the write lock is the whole database's)."""
        for c in self.expected.get(n.report_id, ()):
            self.score(n, c.report_id)

    def remember(self, n: Newcomer) -> None:
        """``n``'s signature as a later newcomer reads it back from the store."""
        self.signatures[n.report_id] = Signature.from_json(n.sig.to_json())


def gather(conn: Connection, newcomers: Sequence[Newcomer]) -> Pool:
    """Reads what ``newcomers`` (in the order they will be placed) may match: per project, one
    index lookup for all their keys and one read of their likely candidates' signatures,
    assuming each is placed after the ones before it. Read-only: run it on a reader."""
    pool = Pool()
    projects: dict[str, list[Newcomer]] = {}
    for n in newcomers:
        projects.setdefault(n.project_id, []).append(n)
    for project_id, group in projects.items():
        keys = list(dict.fromkeys(key for n in group for key in n.keys))
        limit = max(n.rules.candidates_per_key for n in group)
        rows = pool.rows[project_id] = key_rows(conn, project_id, keys, limit)
        placed = _Placed()
        wanted: dict[str, None] = {}
        for n in group:
            found = pool.expected[n.report_id] = placed.ranked(n, rows)
            wanted.update(dict.fromkeys(c.report_id for c in found if c.report_id not in placed.ids))
            placed.add(n, "")
        pool.signatures.update(signatures(conn, project_id, list(wanted)))
    for n in newcomers:
        pool.remember(n)
    return pool


@dataclass(slots=True)
class _Group:
    """A group as this transaction holds it: locked and read once, or created here."""

    id: str
    project_id: str
    status: str
    primary_report_id: str | None
    reports: int
    reporters: int
    accounts: int
    new: bool
    changed_at: datetime | None = None
    people: dict[str, bool] = field(default_factory=dict)  # reporter key -> a member?
    companies: dict[str, bool] = field(default_factory=dict)  # account key -> a member?
    placed: list[str] = field(default_factory=list)  # this batch's members, oldest first
    stored_open: tuple[str, ...] | None = None  # open members stored before, newest first


class Batch:
    """Puts several stored reports into groups inside one transaction, in order, with the
    outcome of :func:`assign` on each in turn.

    Each report sees the ones placed before it as the newest candidates; a group's row is
    locked and read once (PostgreSQL: FOR UPDATE until the commit, so its members cannot
    change under us and what was read about them stays true); the rows are written together
    by :meth:`flush`. Candidates come from ``pool`` (:func:`gather`, read before the
    transaction) or are looked up here.
    """

    def __init__(self, conn: Connection, newcomers: Sequence[Newcomer], pool: Pool | None = None) -> None:
        self.conn = conn
        self.pool = pool if pool is not None else Pool()
        self.placed = _Placed()
        self.groups: dict[str, _Group | None] = {}
        self._members: list[dict[str, Any]] = []
        self._keys: list[dict[str, Any]] = []
        self._reports: list[dict[str, Any]] = []
        ids = [n.report_id for n in newcomers]
        # Idempotent: a report that already has a group is taken out of it first, so a retry
        # or a re-triage after an edit lands it where its current words say.
        if ids:
            for report_id in conn.execute(_MEMBERS_AMONG, {"ids": ids}).scalars().all():
                detach(conn, report_id)
        reporter_ids = sorted({n.reporter_id for n in newcomers if n.reporter_id is not None})
        self.accounts: dict[str, tuple[str, str | None]] = (
            {r.id: (r.project_id, r.account) for r in conn.execute(_ACCOUNTS, {"ids": reporter_ids})}
            if reporter_ids
            else {}
        )

    def _reporter_keys(self, n: Newcomer) -> tuple[str, str]:
        """Who counts as one person and one account.

        A report without a known reporter counts as its own person: anonymous widget reports
        are common and each is most likely someone else. A reporter without an account is
        their own account (a customer of a consumer app is an account of one).
        """
        if n.reporter_id is None:
            person = f"anon:{n.report_id}"
            return person, f"person:{person}"
        project_id, account = self.accounts.get(n.reporter_id, (n.project_id, None))
        if project_id != n.project_id:
            account = None
        return n.reporter_id, f"account:{account}" if account else f"person:{n.reporter_id}"

    def _group(self, group_id: str, project_id: str) -> _Group | None:
        if group_id not in self.groups:
            row = _lock_group(self.conn, group_id)
            self.groups[group_id] = (
                None
                if row is None
                else _Group(
                    group_id,
                    project_id,
                    row.status,
                    row.primary_report_id,
                    row.report_count,
                    row.reporter_count,
                    row.account_count,
                    new=False,
                )
            )
        return self.groups[group_id]

    def _has(self, group: _Group, known: dict[str, bool], statement: Executable, value: str) -> bool:
        if value not in known:
            known[value] = not group.new and _has_member(self.conn, group.id, statement, value)
        return known[value]

    def _open_members(self, group: _Group, limit: int) -> tuple[str, ...]:
        """The group's open members before this report, newest first (its siblings to re-score)."""
        if limit <= 0:
            return ()
        if group.stored_open is None:
            group.stored_open = () if group.new else _stored_open_members(self.conn, group.id, limit)
        stored = (r for r in group.stored_open if r not in self.placed.ids)
        return tuple(islice(chain(reversed(group.placed), stored), limit))

    def find(self, n: Newcomer) -> Match | None:
        """``n``'s best open match, with the reports placed before it as candidates too."""
        rows = self.pool.rows.setdefault(n.project_id, {})
        missing = [key for key in n.keys if key not in rows]
        if missing:  # not gathered beforehand: look up in this transaction
            rows.update(key_rows(self.conn, n.project_id, missing, n.rules.candidates_per_key))
        found = self.placed.ranked(n, rows)
        unread = [c.report_id for c in found if c.report_id not in self.pool.signatures]
        if unread:
            self.pool.signatures.update(signatures(self.conn, n.project_id, unread))
        return best_of(found, lambda c: self.pool.score(n, c.report_id), n.rules)

    def place(self, n: Newcomer, *, match: Match | None = None, looked_up: bool = False) -> Grouping:
        """Put ``n`` into the group of its best open match (``match`` when ``looked_up``, else
        found now), or into a new group."""
        now = utcnow()
        if not looked_up:
            match = self.find(n)
        reporter_key, account_key = self._reporter_keys(n)
        grew = False  # a new person or account: the siblings' severity signal changed
        group = self._group(match.candidate.group_id, n.project_id) if match is not None else None
        joined = group is not None and group.status == OPEN_GROUP
        if group is not None and joined:
            new_person = not self._has(group, group.people, _HAS_PERSON, reporter_key)
            new_account = not self._has(group, group.companies, _HAS_ACCOUNT, account_key)
            grew = new_person or new_account
            group.reports += 1
            group.reporters += new_person
            group.accounts += new_account
            group.changed_at = now
        else:
            group = _Group(new_id(), n.project_id, OPEN_GROUP, n.report_id, 1, 1, 1, new=True, changed_at=now)
            self.groups[group.id] = group
        group.people[reporter_key] = True
        group.companies[account_key] = True
        # Only a new person or account changes what the siblings' severity reads; the same
        # customer reporting again (or a retry) must not re-score a hundred reports.
        retriage = self._open_members(group, n.rules.recompute_limit) if grew else ()
        group.placed.append(n.report_id)
        self.placed.add(n, group.id)
        self.pool.remember(n)
        matched = match if joined else None
        self._members.append(
            {
                "report_id": n.report_id,
                "project_id": n.project_id,
                "group_id": group.id,
                "reporter_key": reporter_key,
                "account_key": account_key,
                "matched_report_id": matched.candidate.report_id if matched else None,
                "score": matched.score if matched else None,
                "reasons": list(matched.reasons) if matched else [],
                "signature": n.sig.to_json(),
                "created_at": now,
            }
        )
        self._keys.extend(
            {
                "report_id": n.report_id,
                "key": k,
                "project_id": n.project_id,
                "group_id": group.id,
                "created_at": now,
            }
            for k in n.keys
        )
        self._reports.append({"report_id": n.report_id, "group_id": group.id})
        return Grouping(
            group_id=group.id,
            joined=joined,
            matched_report_id=matched.candidate.report_id if matched else None,
            score=matched.score if matched else 0.0,
            reasons=matched.reasons if matched else (),
            stats=GroupStats(group.reports, group.reporters, group.accounts),
            retriage=retriage,
        )

    def flush(self, *, report_column: bool = True) -> None:
        """Writes what :meth:`place` decided: new groups, members, keys, counts and (unless the
        caller writes the report row itself) ``reports.duplicate_group_id``."""
        groups = [g for g in self.groups.values() if g is not None and g.changed_at is not None]
        created = [g for g in groups if g.new]
        if created:
            self.conn.execute(
                _INSERT_GROUP,
                [
                    {
                        "id": g.id,
                        "project_id": g.project_id,
                        "primary_report_id": g.primary_report_id,
                        "report_count": g.reports,
                        "reporter_count": g.reporters,
                        "account_count": g.accounts,
                        "status": OPEN_GROUP,
                        "created_at": g.changed_at,
                        "updated_at": g.changed_at,
                    }
                    for g in created
                ],
            )
        if self._members:
            self.conn.execute(_INSERT_MEMBER, self._members)
        if self._keys:
            self.conn.execute(_INSERT_KEYS, self._keys)
        grown = [g for g in groups if not g.new]
        if grown:
            self.conn.execute(
                _COUNTS,
                [
                    {
                        "group_id": g.id,
                        "reports": g.reports,
                        "reporters": g.reporters,
                        "accounts": g.accounts,
                        "now": g.changed_at,
                    }
                    for g in grown
                ],
            )
        if report_column and self._reports:
            self.conn.execute(_SET_GROUP, self._reports)
        for g in groups:
            g.new, g.changed_at = False, None  # written: a second flush writes only what changes next
        self._members, self._keys, self._reports = [], [], []


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
    after an edit lands it where its current words say. A :class:`Batch` of one.
    """
    n = Newcomer(project_id, report_id, reporter_id, sig, rules)
    batch = Batch(conn, [n])
    if match is _LOOK_UP:
        grouping = batch.place(n)
    else:
        assert match is None or isinstance(match, Match)
        grouping = batch.place(n, match=match, looked_up=True)
    batch.flush()
    return grouping


def _stored_open_members(conn: Connection, group_id: str, limit: int) -> tuple[str, ...]:
    rows = conn.execute(
        select(MEMBERS.c.report_id)
        .join(REPORTS, REPORTS.c.id == MEMBERS.c.report_id)
        .where(MEMBERS.c.group_id == group_id, REPORTS.c.status.not_in(CLOSED))
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
