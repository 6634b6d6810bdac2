"""The review's queries: one project, one month, read in a handful of statements.

Counts are aggregated in SQL; lists are capped (the slowest ten, the latest 25 of a kind);
the per-report durations behind the percentiles are read as three timestamps per report,
at most ``MAX_ROWS`` of them (the page says so when a month has more). Every statement
filters on the project.

Which reports a figure is about:
- received in the month (``created_at``): first response, the severity mix, repeated issues;
- resolved in the month (``resolved_at``): resolution times and the slowest reports, so a
  report that took six weeks shows up in the month it was finally resolved;
- breaches, escalation failures and severity changes: those recorded in the month.

Time to first response runs from receipt (``accepted_at``, as the SLA clock) to the first
time a person or the team's tool answered: the report moved to in progress, cannot
reproduce, resolved or closed (by anyone but the customer; the moment the SLA counts its
first-response target met), or an agent wrote a public entry on its timeline. Bugline's own
mails (the receipt, the questions, "forwarded to the team") are not a response.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)

from bugline.db.models import ConnectorConfig, Delivery, DuplicateGroup, Project, Report, ReportEvent
from bugline.review import figures
from bugline.review.figures import Step, Timing
from bugline.review.month import Month
from bugline.sla import review as sla_review
from bugline.sla.policy import RESPONDED
from bugline.sla.targets import DEFAULT_SEVERITY, SEVERITIES, Targets, targets_or_defaults

REPORTS = cast(Table, Report.__table__)
EVENTS = cast(Table, ReportEvent.__table__)
GROUPS = cast(Table, DuplicateGroup.__table__)
DELIVERIES = cast(Table, Delivery.__table__)
CONNECTORS = cast(Table, ConnectorConfig.__table__)
PROJECTS = cast(Table, Project.__table__)

MAX_ROWS = 50_000  # reports read per month for durations and the CSV
SLOWEST = 10
LIST_CAP = 25
GROUPS_CAP = 10
STEPS_CAP = 5_000  # timeline entries read to explain the slowest reports
WHY_KINDS = ("status_changed", "sla_escalated", "delivery_failed", "severity_changed")
DONE = ("resolved", "closed")


@dataclass(frozen=True, slots=True)
class Ref:
    """A report as the page links it: "#42 Checkout fails" -> /reports/{id}."""

    id: str
    number: int
    title: str
    severity: str | None


@dataclass(frozen=True, slots=True)
class Row:
    """One report of the month with the moments its figures come from."""

    id: str
    number: int
    title: str
    severity: str | None
    kind: str | None
    category: str | None
    status: str
    created_at: datetime
    received: datetime  # accepted (the SLA's start), else created
    first_response: datetime | None
    resolved: datetime | None
    group_id: str | None
    group_reports: int | None

    @property
    def rated(self) -> str:
        """The severity the SLA measures it by (unrated reads as medium, like the targets)."""
        return self.severity if self.severity in SEVERITIES else DEFAULT_SEVERITY

    @property
    def response_time(self) -> timedelta | None:
        return None if self.first_response is None else max(timedelta(0), self.first_response - self.received)

    @property
    def resolution_time(self) -> timedelta | None:
        return None if self.resolved is None else max(timedelta(0), self.resolved - self.received)


@dataclass(frozen=True, slots=True)
class Slow:
    report: Ref
    received: datetime
    resolved: datetime
    took: float  # seconds
    target: float  # seconds
    why: str


@dataclass(frozen=True, slots=True)
class Failure:
    report: Ref
    at: datetime
    what: str  # "forwarding", "SLA escalation (escalation:2)", ...
    connector: str
    connector_kind: str
    attempts: int
    error: str


@dataclass(frozen=True, slots=True)
class Change:
    report: Ref
    at: datetime
    before: str
    after: str
    reason: str
    actor: str


@dataclass(frozen=True, slots=True)
class Repeated:
    group_id: str
    primary: Ref | None
    this_month: int  # the group's reports received in the month
    reports: int  # all its reports
    people: int
    accounts: int
    status: str


@dataclass
class Review:
    project_id: str
    month: Month
    now: datetime
    targets: Targets
    received: int = 0
    received_by_severity: dict[str, int] = field(default_factory=dict)
    resolved: int = 0
    still_open: int = 0  # received in the month and not resolved yet
    capped: bool = False  # more than MAX_ROWS reports: durations from the first MAX_ROWS
    slowest: list[Slow] = field(default_factory=list)
    resolution: list[Timing] = field(default_factory=list)
    first_response: list[Timing] = field(default_factory=list)
    responded: int = 0
    breaches: list[sla_review.Breach] = field(default_factory=list)  # all of the month, worst first
    failures: list[Failure] = field(default_factory=list)  # the latest LIST_CAP
    failure_count: int = 0
    failed_escalations: int = 0  # of which SLA escalations
    escalations: int = 0  # SLA escalations fired in the month
    unheard: int = 0  # of which no lead connector heard
    changes: list[Change] = field(default_factory=list)  # the latest LIST_CAP
    change_count: int = 0
    changed_reports: int = 0
    change_pairs: dict[tuple[str, str], int] = field(default_factory=dict)
    rated: int = 0  # reports received in the month with a severity
    repeated: list[Repeated] = field(default_factory=list)
    repeated_groups: int = 0
    repeated_reports: int = 0
    categories: list[tuple[str, int, int]] = field(default_factory=list)  # name, this month, month before

    @property
    def empty(self) -> bool:
        return not (
            self.received or self.resolved or self.breaches or self.failure_count or self.change_count
        )


def collect(conn: Connection, project_id: str, month: Month, now: datetime) -> Review:
    """Everything the page shows for one project and month."""
    review = Review(project_id, month, now, project_targets(conn, project_id))
    _counts(conn, review)
    rows, review.capped = month_rows(conn, project_id, month, text=False)
    _timings(conn, review, rows)
    found = sla_review.breaches(conn, project_id, month=month.label, now=now)
    review.breaches = sorted(found, key=lambda b: b.overdue, reverse=True)
    _failures(conn, review)
    _changes(conn, review)
    _repeated(conn, review)
    review.categories = _categories(conn, project_id, month)
    return review


def project_targets(conn: Connection, project_id: str) -> Targets:
    settings = conn.execute(select(PROJECTS.c.settings).where(PROJECTS.c.id == project_id)).scalar()
    return targets_or_defaults(settings if isinstance(settings, dict) else None)


# ---- which reports ------------------------------------------------------------------------------


def _in(column: Any, month: Month) -> ColumnElement[bool]:
    return and_(column >= month.start, column < month.end)


def _responded() -> ColumnElement[bool]:
    to = EVENTS.c.data["to"].as_string()
    return or_(
        and_(
            EVENTS.c.kind == "status_changed",
            EVENTS.c.actor_type != "reporter",
            to.in_([str(s) for s in RESPONDED]),
        ),
        and_(EVENTS.c.actor_type == "agent", EVENTS.c.public.is_(True)),
    )


def _rows_query(project_id: str, *, text: bool) -> Select[Any]:
    first = (
        select(func.min(EVENTS.c.at))
        .where(EVENTS.c.report_id == REPORTS.c.id, EVENTS.c.project_id == project_id, _responded())
        .scalar_subquery()
    )
    return (
        select(
            REPORTS.c.id,
            REPORTS.c.number,
            (REPORTS.c.title if text else literal("")).label("title"),
            REPORTS.c.severity,
            REPORTS.c.kind,
            REPORTS.c.category,
            REPORTS.c.status,
            REPORTS.c.created_at,
            REPORTS.c.accepted_at,
            first.label("first_response"),
            REPORTS.c.resolved_at,
            REPORTS.c.duplicate_group_id,
            GROUPS.c.report_count,
        )
        .outerjoin(
            GROUPS, and_(GROUPS.c.id == REPORTS.c.duplicate_group_id, GROUPS.c.project_id == project_id)
        )
        .where(REPORTS.c.project_id == project_id, REPORTS.c.status != "awaiting_media")
        .order_by(REPORTS.c.created_at, REPORTS.c.id)
    )


def month_rows(
    conn: Connection, project_id: str, month: Month, *, text: bool = True, limit: int = MAX_ROWS
) -> tuple[list[Row], bool]:
    """The month's reports: received in it, then those resolved in it but received before.
    Returns the rows and whether either part was cut at ``limit``."""
    base = _rows_query(project_id, text=text)
    parts = [
        base.where(_in(REPORTS.c.created_at, month)),
        base.where(_in(REPORTS.c.resolved_at, month), REPORTS.c.created_at < month.start),
    ]
    rows: list[Row] = []
    capped = False
    for q in parts:
        found = conn.execute(q.limit(limit + 1)).all()
        capped = capped or len(found) > limit
        rows.extend(_row(r) for r in found[:limit])
    return rows, capped


def _row(r: Any) -> Row:
    return Row(
        id=r.id,
        number=int(r.number or 0),
        title=str(r.title or ""),
        severity=r.severity,
        kind=r.kind,
        category=r.category,
        status=str(r.status),
        created_at=r.created_at,
        received=r.accepted_at or r.created_at,
        first_response=_aware(r.first_response),
        resolved=r.resolved_at,
        group_id=r.duplicate_group_id,
        group_reports=r.report_count,
    )


def _aware(value: Any) -> datetime | None:
    """A bare MIN() over a timestamp loses the column type (SQLite: text, no zone)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def refs(conn: Connection, project_id: str, ids: Sequence[str]) -> dict[str, Ref]:
    if not ids:
        return {}
    rows = conn.execute(
        select(REPORTS.c.id, REPORTS.c.number, REPORTS.c.title, REPORTS.c.severity).where(
            REPORTS.c.project_id == project_id, REPORTS.c.id.in_(list(ids))
        )
    )
    return {r.id: Ref(r.id, int(r.number or 0), str(r.title or ""), r.severity) for r in rows}


def _ref(r: Any) -> Ref:
    return Ref(r.report_id, int(r.number or 0), str(r.title or ""), r.severity)


# ---- question 1: how long, and why -----------------------------------------------------------


def _counts(conn: Connection, review: Review) -> None:
    pid, month = review.project_id, review.month
    received = conn.execute(
        select(
            REPORTS.c.severity,
            func.count(),
            func.sum(case((REPORTS.c.resolved_at.is_(None), 1), else_=0)),
        )
        .where(
            REPORTS.c.project_id == pid,
            _in(REPORTS.c.created_at, month),
            REPORTS.c.status != "awaiting_media",
        )
        .group_by(REPORTS.c.severity)
    ).all()
    by: Counter[str] = Counter()
    for severity, count, unresolved in received:
        by[severity if severity in SEVERITIES else "unrated"] += int(count)
        review.still_open += int(unresolved or 0)
    review.received = sum(by.values())
    review.rated = sum(n for s, n in by.items() if s in SEVERITIES)
    review.received_by_severity = {s: by[s] for s in (*SEVERITIES, "unrated") if s in by or s in SEVERITIES}
    review.resolved = int(
        conn.execute(
            select(func.count()).where(REPORTS.c.project_id == pid, _in(REPORTS.c.resolved_at, month))
        ).scalar()
        or 0
    )


def _timings(conn: Connection, review: Review, rows: Sequence[Row]) -> None:
    month, targets = review.month, review.targets
    response: dict[str, list[float]] = defaultdict(list)
    resolution: dict[str, list[float]] = defaultdict(list)
    done: list[Row] = []
    for r in rows:
        took = r.response_time
        if month.start <= r.created_at < month.end and took is not None:
            response[r.rated].append(took.total_seconds())
        took = r.resolution_time
        if r.resolved is not None and month.start <= r.resolved < month.end and took is not None:
            resolution[r.rated].append(took.total_seconds())
            done.append(r)
    review.responded = sum(len(v) for v in response.values())
    review.first_response = [figures.timing(s, response[s], targets.first_response(s)) for s in SEVERITIES]
    review.resolution = [figures.timing(s, resolution[s], targets.resolution(s)) for s in SEVERITIES]
    slowest = sorted(done, key=lambda r: r.resolution_time or timedelta(0), reverse=True)[:SLOWEST]
    named = refs(conn, review.project_id, [r.id for r in slowest])
    steps = _steps(conn, review.project_id, [r.id for r in slowest])
    for r in slowest:
        assert r.resolved is not None
        review.slowest.append(
            Slow(
                report=named.get(r.id, Ref(r.id, r.number, "", r.severity)),
                received=r.received,
                resolved=r.resolved,
                took=(r.resolved - r.received).total_seconds(),
                target=targets.resolution(r.severity).total_seconds(),
                why=figures.why(r.received, r.resolved, steps.get(r.id, [])),
            )
        )


def _steps(conn: Connection, project_id: str, ids: Sequence[str]) -> dict[str, list[Step]]:
    if not ids:
        return {}
    rows = conn.execute(
        select(EVENTS.c.report_id, EVENTS.c.at, EVENTS.c.kind, EVENTS.c.data)
        .where(
            EVENTS.c.project_id == project_id,
            EVENTS.c.report_id.in_(list(ids)),
            EVENTS.c.kind.in_(WHY_KINDS),
        )
        .order_by(EVENTS.c.id)
        .limit(STEPS_CAP)
    )
    out: dict[str, list[Step]] = defaultdict(list)
    for r in rows:
        data = r.data if isinstance(r.data, dict) else {}
        level = data.get("level")
        out[r.report_id].append(
            Step(
                at=r.at,
                kind=r.kind,
                to=str(data.get("to") or ""),
                level=level if isinstance(level, int) else 0,
            )
        )
    return out


# ---- question 2: escalation failures -----------------------------------------------------------


def action_name(action: str) -> str:
    """What a failed delivery was meant to do, in the team's words."""
    if action == "create":
        return "forwarding the report to the team"
    if action.startswith("escalate:"):
        return "SLA escalation to the team lead"
    if action.startswith("reopen:"):
        return "telling the ticket the customer reopened it"
    if action.startswith("follow_up"):
        return "48-hour follow-up reminder"
    return action


def _failures(conn: Connection, review: Review) -> None:
    pid, month = review.project_id, review.month
    where = (
        DELIVERIES.c.project_id == pid,
        DELIVERIES.c.state == "failed",
        _in(DELIVERIES.c.done_at, month),
    )
    total, escalations = conn.execute(
        select(
            func.count(),
            func.sum(case((DELIVERIES.c.action.like("escalate:%"), 1), else_=0)),
        ).where(*where)
    ).one()
    review.failure_count = int(total or 0)
    review.failed_escalations = int(escalations or 0)
    rows = conn.execute(
        select(
            DELIVERIES.c.report_id,
            DELIVERIES.c.action,
            DELIVERIES.c.done_at,
            DELIVERIES.c.attempts,
            DELIVERIES.c.last_error,
            CONNECTORS.c.name.label("connector"),
            CONNECTORS.c.kind.label("connector_kind"),
            REPORTS.c.number,
            REPORTS.c.title,
            REPORTS.c.severity,
        )
        .join(CONNECTORS, CONNECTORS.c.id == DELIVERIES.c.connector_id)
        .join(REPORTS, REPORTS.c.id == DELIVERIES.c.report_id)
        .where(*where, CONNECTORS.c.project_id == pid, REPORTS.c.project_id == pid)
        .order_by(DELIVERIES.c.done_at.desc(), DELIVERIES.c.id)
        .limit(LIST_CAP)
    )
    review.failures = [
        Failure(
            report=_ref(r),
            at=r.done_at,
            what=action_name(str(r.action)),
            connector=str(r.connector),
            connector_kind=str(r.connector_kind),
            attempts=int(r.attempts or 0),
            error=str(r.last_error or "")[:300],
        )
        for r in rows
    ]
    # SLA escalations that reached no lead: the project has no connector with the lead role.
    fired, unheard = conn.execute(
        select(
            func.count(),
            func.sum(case((EVENTS.c.data["lead"].as_string() == "[]", 1), else_=0)),
        ).where(
            EVENTS.c.project_id == pid,
            EVENTS.c.kind == "sla_escalated",
            _in(EVENTS.c.at, month),
        )
    ).one()
    review.escalations = int(fired or 0)
    review.unheard = int(unheard or 0)


# ---- question 3: are the severity definitions still right? --------------------------------------


def _manual(project_id: str, month: Month) -> tuple[ColumnElement[bool], ...]:
    """Severity changed by hand: the report page records it as ``severity_changed`` by an agent."""
    return (
        EVENTS.c.project_id == project_id,
        EVENTS.c.kind == "severity_changed",
        EVENTS.c.actor_type == "agent",
        _in(EVENTS.c.at, month),
    )


def _changes(conn: Connection, review: Review) -> None:
    where = _manual(review.project_id, review.month)
    count, reports = conn.execute(
        select(func.count(), func.count(func.distinct(EVENTS.c.report_id))).where(*where)
    ).one()
    review.change_count, review.changed_reports = int(count or 0), int(reports or 0)
    before, after = EVENTS.c.data["from"].as_string(), EVENTS.c.data["to"].as_string()
    pairs = conn.execute(select(before, after, func.count()).where(*where).group_by(before, after))
    review.change_pairs = {
        (str(b or "unrated"), str(a or "unrated")): int(n)
        for b, a, n in sorted(pairs, key=lambda p: (-int(p[2]), str(p[0]), str(p[1])))
    }
    rows = conn.execute(
        select(
            EVENTS.c.report_id,
            EVENTS.c.at,
            EVENTS.c.actor,
            EVENTS.c.data,
            REPORTS.c.number,
            REPORTS.c.title,
            REPORTS.c.severity,
        )
        .join(REPORTS, and_(REPORTS.c.id == EVENTS.c.report_id, REPORTS.c.project_id == review.project_id))
        .where(*where)
        .order_by(EVENTS.c.at.desc(), EVENTS.c.id.desc())
        .limit(LIST_CAP)
    )
    review.changes = [
        Change(
            report=_ref(r),
            at=r.at,
            before=str((r.data or {}).get("from") or "unrated"),
            after=str((r.data or {}).get("to") or ""),
            reason=str((r.data or {}).get("reason") or "")[:500],
            actor=str(r.actor or ""),
        )
        for r in rows
    ]


def changes_by_report(conn: Connection, project_id: str, month: Month) -> dict[str, list[str]]:
    """For the CSV: each report's hand changes of the month, "medium -> high" (capped)."""
    rows = conn.execute(
        select(EVENTS.c.report_id, EVENTS.c.data)
        .where(*_manual(project_id, month))
        .order_by(EVENTS.c.at, EVENTS.c.id)
        .limit(MAX_ROWS)
    )
    out: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        data = r.data if isinstance(r.data, dict) else {}
        out[r.report_id].append(f"{data.get('from') or 'unrated'} -> {data.get('to') or ''}")
    return out


# ---- question 4: repeated issues and what changed -----------------------------------------------


def _repeated(conn: Connection, review: Review) -> None:
    pid, month = review.project_id, review.month
    joined = and_(GROUPS.c.id == REPORTS.c.duplicate_group_id, GROUPS.c.project_id == pid)
    where = (
        REPORTS.c.project_id == pid,
        _in(REPORTS.c.created_at, month),
        REPORTS.c.duplicate_group_id.is_not(None),
        GROUPS.c.report_count >= 2,
    )
    groups, reports = conn.execute(
        select(func.count(func.distinct(REPORTS.c.duplicate_group_id)), func.count())
        .select_from(REPORTS.join(GROUPS, joined))
        .where(*where)
    ).one()
    review.repeated_groups, review.repeated_reports = int(groups or 0), int(reports or 0)
    n = func.count().label("n")
    rows = conn.execute(
        select(
            GROUPS.c.id,
            n,
            GROUPS.c.report_count,
            GROUPS.c.reporter_count,
            GROUPS.c.account_count,
            GROUPS.c.primary_report_id,
            GROUPS.c.status,
        )
        .select_from(REPORTS.join(GROUPS, joined))
        .where(*where)
        .group_by(
            GROUPS.c.id,
            GROUPS.c.report_count,
            GROUPS.c.reporter_count,
            GROUPS.c.account_count,
            GROUPS.c.primary_report_id,
            GROUPS.c.status,
        )
        .order_by(n.desc(), GROUPS.c.report_count.desc(), GROUPS.c.id)
        .limit(GROUPS_CAP)
    ).all()
    named = refs(conn, pid, [r.primary_report_id for r in rows if r.primary_report_id])
    review.repeated = [
        Repeated(
            group_id=r.id,
            primary=named.get(r.primary_report_id or ""),
            this_month=int(r.n),
            reports=int(r.report_count or 0),
            people=int(r.reporter_count or 0),
            accounts=int(r.account_count or 0),
            status=str(r.status or ""),
        )
        for r in rows
    ]


def _categories(conn: Connection, project_id: str, month: Month) -> list[tuple[str, int, int]]:
    """Reports per category this month and the month before: a category that jumps points at
    a product change the SOP may not account for (question 4)."""

    def per(m: Month) -> dict[str, int]:
        rows = conn.execute(
            select(REPORTS.c.category, func.count())
            .where(
                REPORTS.c.project_id == project_id,
                _in(REPORTS.c.created_at, m),
                REPORTS.c.status != "awaiting_media",
            )
            .group_by(REPORTS.c.category)
        )
        out: Counter[str] = Counter()
        for name, count in rows:
            out[str(name or "uncategorised")] += int(count)
        return dict(out)

    now, before = per(month), per(month.previous())
    names = sorted(set(now) | set(before), key=lambda k: (-now.get(k, 0), -before.get(k, 0), k))
    return [(k, now.get(k, 0), before.get(k, 0)) for k in names]
