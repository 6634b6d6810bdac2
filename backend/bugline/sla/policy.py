"""What a report's life does to its SLA timers, in the caller's transaction.

- Accepted by triage (``on_accepted``), or moved to received / escalated / in progress
  (``on_status``): the timers are armed once, by severity, from the project's targets
  (``bugline.sla.targets``): first response, escalation levels 2 and 3, resolution, and the
  first 48-hour follow-up. Measured from receipt; a report that waited for the customer's
  answers is measured from the answers.
- The team acts (in progress, cannot reproduce): the first-response target is met.
- Resolved or closed: every pending timer is cancelled; breached targets are marked met.
- Cannot reproduce: targets and follow-ups stop (the team has answered and waits for the
  customer), and the 14-day closure is set.
- Reopened, or moved back to work from resolved, closed or cannot reproduce: a new round of
  timers from that moment (keys carry the round, ``escalation:2@1``, so each fires once).

One clock per duplicate group: a ticket stands for the whole group, so a report arms no
timers while another report of its group has pending ones (otherwise every duplicate would
escalate the same ticket again). The cannot-reproduce closure is per report: each customer
hears it.

Timer rows (``bugline.sla.timers``): kind ``first_response`` | ``escalation`` | ``resolution``
| ``follow_up`` | ``close``; data holds the round, its anchor (the moment the targets are
measured from), the severity, the level (escalations), the number (follow-ups), and for
breached targets the moment they were met after all (``met_at``, for the monthly review).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, exists, func, insert, select, update

from bugline.db.models import Project, Report, ReportEvent, ReportStatus, Timer
from bugline.sla import timers
from bugline.sla.targets import DEFAULT_SEVERITY, SEVERITIES, Targets, format_duration, targets_or_defaults

REPORTS = cast(Table, Report.__table__)
PROJECTS = cast(Table, Project.__table__)
TIMERS = cast(Table, Timer.__table__)
EVENTS = cast(Table, ReportEvent.__table__)

TARGETS = ("first_response", "escalation", "resolution")  # measured against the targets
SLA_KINDS = (*TARGETS, "follow_up")  # the clock a round arms
BREACHES = ("first_response", "resolution")  # a fired one is a breach
DONE = frozenset({ReportStatus.RESOLVED, ReportStatus.CLOSED})
# The team has answered the report: its first response is given.
RESPONDED = frozenset(
    {ReportStatus.IN_PROGRESS, ReportStatus.CANNOT_REPRODUCE, ReportStatus.RESOLVED, ReportStatus.CLOSED}
)
# Statuses in which the clock runs.
WORKING = frozenset(
    {ReportStatus.RECEIVED, ReportStatus.ESCALATED, ReportStatus.IN_PROGRESS, ReportStatus.REOPENED}
)
# Leaving one of these for a working status starts a new round, like a reopen.
RESTARTS = frozenset({*DONE, ReportStatus.CANNOT_REPRODUCE})


@dataclass(frozen=True, slots=True)
class Subject:
    """What the policy reads of a report."""

    id: str
    project_id: str
    status: str
    severity: str | None
    group_id: str | None
    received: datetime
    settings: dict[str, Any]


# Built once (statements with bound parameters): triage calls these for every report it
# accepts, and building a statement cost more than running it.
_SUBJECT_OF = select(
    REPORTS.c.id,
    REPORTS.c.project_id,
    REPORTS.c.status,
    REPORTS.c.severity,
    REPORTS.c.duplicate_group_id,
    REPORTS.c.accepted_at,
    REPORTS.c.created_at,
    PROJECTS.c.settings,
).join(PROJECTS, PROJECTS.c.id == REPORTS.c.project_id)
_SUBJECT = _SUBJECT_OF.where(REPORTS.c.id == bindparam("report_id"))
_SUBJECTS = _SUBJECT_OF.where(REPORTS.c.id.in_(bindparam("report_ids", expanding=True)))


def subject(conn: Connection, report_id: str) -> Subject | None:
    row = conn.execute(_SUBJECT, {"report_id": report_id}).first()
    if row is None:
        return None
    return _subject_of(row)


def _subject_of(row: Any) -> Subject:
    return Subject(
        id=row.id,
        project_id=row.project_id,
        status=row.status,
        severity=row.severity,
        group_id=row.duplicate_group_id,
        received=row.accepted_at or row.created_at,
        settings=dict(row.settings or {}),
    )


# ---- the entry points ---------------------------------------------------------------------


def on_accepted(
    conn: Connection,
    *,
    project_id: str,
    report_id: str,
    severity: str | None,
    status: str,
    now: datetime,
    since: datetime | None = None,
) -> None:
    """Triage accepted the report with ``status``: arm its timers, unless it waits for the
    customer's answers (needs_info: the clock starts when they come). ``since``: measure from
    this moment instead of the receipt (a re-triage after the customer's answers passes now)."""
    if status not in WORKING:
        return
    report = subject(conn, report_id)
    if report is None or report.project_id != project_id:
        return
    arm(conn, report, targets_or_defaults(report.settings), now, fresh=False, since=since)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One report of a triage batch, as ``on_accepted_many`` takes it."""

    project_id: str
    report_id: str
    status: str


def on_accepted_many(conn: Connection, verdicts: Sequence[Verdict], now: datetime) -> None:
    """Triage's verdicts for a batch, in order, with the outcome of handling them one after
    another: a report waiting for the customer's answers (needs_info) has its clock stopped,
    a working one is armed as ``on_accepted`` arms it.

    The reports and their timers are read in one statement each instead of two per report,
    and whether another report of a duplicate group holds the clock is asked once per group:
    after that this batch is the only thing that changes it (arming, or stopping the clock
    of the report holding it), and that is followed here."""
    if not verdicts:
        return
    ids = list(dict.fromkeys(v.report_id for v in verdicts))
    subjects = {row.id: _subject_of(row) for row in conn.execute(_SUBJECTS, {"report_ids": ids})}
    timer_rows: dict[str, list[TimerRow]] = {}
    for r in conn.execute(_TIMERS_OF, {"report_ids": ids}):
        timer_rows.setdefault(r.report_id, []).append(TimerRow(*r[:7], dict(r.data or {})))
    holders: dict[str, str | None] = {}  # group -> a report of it holding a clock, None: none

    def group_clock(c: Connection, report: Subject) -> bool:
        if report.group_id is None:
            return False
        if report.group_id not in holders or holders[report.group_id] == report.id:
            found = c.execute(_CLOCK_HOLDER, {"group_id": report.group_id, "report_id": report.id}).first()
            holders[report.group_id] = found[0] if found is not None else None
        return holders[report.group_id] is not None

    targets: dict[str, Targets] = {}
    for v in verdicts:
        report = subjects.get(v.report_id)
        if v.status == ReportStatus.NEEDS_INFO:
            # Waiting for the customer: no clock runs (a re-triage may bring it back here).
            timers.cancel(conn, v.report_id, SLA_KINDS)
            group = report.group_id if report is not None else None
            if group is not None and holders.get(group) == v.report_id:
                del holders[group]  # it held the group's clock: ask again
            continue
        if v.status not in WORKING or report is None or report.project_id != v.project_id:
            continue
        if v.project_id not in targets:
            targets[v.project_id] = targets_or_defaults(report.settings)
        rows = timer_rows.get(v.report_id, [])
        added = arm(conn, report, targets[v.project_id], now, fresh=False, rows=rows, group_clock=group_clock)
        if added:
            timer_rows[v.report_id] = _timers(conn, v.report_id)
            if report.group_id is not None:
                holders[report.group_id] = v.report_id


def on_status(
    conn: Connection,
    *,
    project_id: str,
    report_id: str,
    severity: str | None,
    before: str,
    after: str,
    now: datetime,
) -> None:
    """Called by ``lifecycle.change`` for every status change it makes."""
    report = subject(conn, report_id)
    if report is None or report.project_id != project_id:
        return
    targets = targets_or_defaults(report.settings)
    if after in DONE:
        mark_met(conn, report_id, BREACHES, now)
        timers.cancel(conn, report_id)
        return
    if after in RESPONDED:
        mark_met(conn, report_id, ("first_response",), now)
    if after == ReportStatus.CANNOT_REPRODUCE:
        timers.cancel(conn, report_id, SLA_KINDS)
        close_after = targets.cannot_reproduce_close
        timers.schedule(
            conn,
            project_id=project_id,
            report_id=report_id,
            kind="close",
            key=f"close:{now.isoformat()}",
            due_at=now + close_after,
            data={"after": format_duration(close_after)},
            now=now,
        )
        return
    if before == ReportStatus.CANNOT_REPRODUCE:
        timers.cancel(conn, report_id, ["close"])
    if after not in WORKING:
        return
    fresh = after == ReportStatus.REOPENED or before in RESTARTS
    # A report that waited for the customer's answers is measured from the answers.
    since = now if fresh or before == ReportStatus.NEEDS_INFO else None
    arm(conn, report, targets, now, fresh=fresh, since=since, responded=after in RESPONDED)


def on_severity(
    conn: Connection, *, project_id: str, report_id: str, before: str | None, after: str | None, now: datetime
) -> None:
    """The report's severity changed (its duplicate group grew, a re-triage): move the pending
    targets of its current round to the new severity's times, from the same anchor."""
    if before == after:
        return
    report = subject(conn, report_id)
    if report is None or report.project_id != project_id:
        return
    rows = _timers(conn, report_id)
    current = _round(rows)
    live = [r for r in rows if _of_round(r, current) and r.kind in TARGETS]
    if not any(r.state == "pending" for r in live):
        return  # not armed, done, or waiting on the customer: nothing runs to move
    anchor = datetime.fromisoformat(str(live[0].data["anchor"]))
    targets = targets_or_defaults(report.settings).of(after)
    wanted: dict[str, tuple[str, timedelta, dict[str, Any]]] = {}
    suffix = _suffix(current)
    if targets.first_response is not None:
        wanted["first_response" + suffix] = ("first_response", targets.first_response, {})
    for e in targets.escalations:
        wanted[f"escalation:{e.level}{suffix}"] = ("escalation", e.after, {"level": e.level})
    wanted["resolution" + suffix] = ("resolution", targets.resolution, {})
    by_key = {r.key: r for r in rows}
    for r in live:
        if r.state == "pending" and r.key not in wanted:
            _set(conn, r.id, state="cancelled", data={**r.data, "cancelled": "severity", "severity": after})
    base = {
        "round": current,
        "anchor": anchor.isoformat(),
        "from": live[0].data.get("from"),
        "severity": after,
    }
    for key, (kind, after_delta, extra) in wanted.items():
        found = by_key.get(key)
        data = {**base, "target": format_duration(after_delta), **extra}
        if found is None:
            if kind == "first_response" and report.status in RESPONDED:
                continue
            timers.schedule(
                conn,
                project_id=project_id,
                report_id=report_id,
                kind=kind,
                key=key,
                due_at=anchor + after_delta,
                data=data,
                now=now,
            )
        elif found.state == "pending" or (
            found.state == "cancelled" and found.data.get("cancelled") == "severity"
        ):
            _set(conn, found.id, state="pending", due_at=anchor + after_delta, data=data)


def on_response(conn: Connection, *, report_id: str, now: datetime) -> None:
    """The team answered without changing the status (a public reply on the ticket): the
    first-response target is met."""
    mark_met(conn, report_id, ("first_response",), now)


# ---- arming --------------------------------------------------------------------------------


def arm(
    conn: Connection,
    report: Subject,
    targets: Targets,
    now: datetime,
    *,
    fresh: bool,
    since: datetime | None = None,
    responded: bool = False,
    rows: list[TimerRow] | None = None,
    group_clock: Callable[[Connection, Subject], bool] | None = None,
) -> int:
    """Schedule a round of timers for the report's severity; returns how many were added.

    ``fresh``: a new round (reopened); otherwise only if the report has no round yet, so
    arming again on the way from received to escalated changes nothing. ``rows`` (the
    report's timers) and ``group_clock`` (does another report of its group hold a clock?)
    let a batch pass what it already read (``on_accepted_many``)."""
    rows = _timers(conn, report.id) if rows is None else rows
    current = _round(rows)
    if current >= 0 and not fresh:
        return 0
    if (group_clock or _group_clock_runs)(conn, report):
        return 0
    n = current + 1
    anchor = since or report.received
    suffix = _suffix(n)
    severity = report.severity
    t = targets.of(severity)
    # What the anchor is, for the notes: "received", "answered" (the customer's answers), "reopened".
    start = "reopened" if fresh else "answered" if since is not None else "received"
    base: dict[str, Any] = {"round": n, "anchor": anchor.isoformat(), "from": start, "severity": severity}
    plan: list[tuple[str, str, timedelta, dict[str, Any]]] = []
    if t.first_response is not None and not responded:
        plan.append(("first_response", "first_response" + suffix, t.first_response, {}))
    for e in t.escalations:
        plan.append(("escalation", f"escalation:{e.level}{suffix}", e.after, {"level": e.level}))
    plan.append(("resolution", "resolution" + suffix, t.resolution, {}))
    added = 0
    for kind, key, after, extra in plan:
        added += timers.schedule(
            conn,
            project_id=report.project_id,
            report_id=report.id,
            kind=kind,
            key=key,
            due_at=anchor + after,
            data={**base, "target": format_duration(after), **extra},
            now=now,
        )
    number = 1 + max((int(r.data.get("n", 0)) for r in rows if r.kind == "follow_up"), default=0)
    added += follow_up(conn, report.project_id, report.id, number, anchor + targets.follow_up, base, now)
    return added


def follow_up(
    conn: Connection,
    project_id: str,
    report_id: str,
    number: int,
    due_at: datetime,
    base: dict[str, Any],
    now: datetime,
) -> bool:
    """Schedule follow-up ``number`` (key ``follow_up:<n>``, counted across rounds)."""
    return timers.schedule(
        conn,
        project_id=project_id,
        report_id=report_id,
        kind="follow_up",
        key=f"follow_up:{number}",
        due_at=due_at,
        data={**base, "n": number},
        now=now,
    )


def mark_met(conn: Connection, report_id: str, kinds: Iterable[str], now: datetime) -> None:
    """The report got what these targets measure. Pending ones not yet due are met in time
    (cancelled); pending ones already due (the scheduler had not come round yet) are breaches
    met at once; fired ones (breaches) are met late: ``met_at`` records when, for the review."""
    kinds = list(kinds)
    for r in _timers(conn, report_id):
        if r.kind not in kinds:
            continue
        if r.state == "pending" and r.kind in BREACHES and r.due_at <= now:
            if claim(conn, r.id, now, data={**r.data, "met_at": now.isoformat()}):
                record_breach(conn, r, now)
        elif r.state == "fired" and "met_at" not in r.data:
            _set(conn, r.id, data={**r.data, "met_at": now.isoformat()})
    timers.cancel(conn, report_id, kinds)


def claim(conn: Connection, timer_id: str, now: datetime, **values: Any) -> bool:
    """Fire one pending timer here and now (conditional: exactly once, like claim_due)."""
    done = conn.execute(
        update(TIMERS)
        .where(TIMERS.c.id == timer_id, TIMERS.c.state == "pending")
        .values(state="fired", fired_at=now, **values)
    )
    return bool(done.rowcount)


def record_breach(conn: Connection, timer: TimerRow, now: datetime) -> None:
    """The internal ``sla_breached`` event the monthly review reads (``bugline.sla.review``):
    which target, its due time, the severity it was measured for, and how late it was seen."""
    overdue = max(timedelta(0), now - timer.due_at)
    severity = timer.data.get("severity")
    conn.execute(
        insert(EVENTS).values(
            project_id=timer.project_id,
            report_id=timer.report_id,
            at=now,
            kind="sla_breached",
            actor_type="system",
            actor="SLA",
            public=False,
            data={
                "timer": timer.id,
                "key": timer.key,
                "target": timer.kind,
                "due_at": timer.due_at.isoformat(),
                "severity": severity if severity in SEVERITIES else DEFAULT_SEVERITY,
                "target_time": str(timer.data.get("target") or ""),
                "overdue": int(overdue.total_seconds()),
                "round": int(timer.data.get("round", 0)),
            },
        )
    )


# ---- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimerRow:
    id: str
    project_id: str
    report_id: str
    kind: str
    key: str
    state: str
    due_at: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, timer: Timer) -> TimerRow:
        return cls(
            timer.id,
            timer.project_id,
            timer.report_id,
            timer.kind,
            timer.key,
            timer.state,
            timer.due_at,
            dict(timer.data or {}),
        )


_TIMER_COLUMNS = select(
    TIMERS.c.id,
    TIMERS.c.project_id,
    TIMERS.c.report_id,
    TIMERS.c.kind,
    TIMERS.c.key,
    TIMERS.c.state,
    TIMERS.c.due_at,
    TIMERS.c.data,
).order_by(TIMERS.c.created_at, TIMERS.c.key)
_TIMERS = _TIMER_COLUMNS.where(TIMERS.c.report_id == bindparam("report_id"))
_TIMERS_OF = _TIMER_COLUMNS.where(TIMERS.c.report_id.in_(bindparam("report_ids", expanding=True)))


def _timers(conn: Connection, report_id: str) -> list[TimerRow]:
    rows = conn.execute(_TIMERS, {"report_id": report_id})
    return [TimerRow(*r[:7], dict(r.data or {})) for r in rows]


def _round(rows: Iterable[TimerRow]) -> int:
    """The report's current round of SLA timers; -1 when it never had one."""
    return max((int(r.data.get("round", 0)) for r in rows if r.kind in SLA_KINDS), default=-1)


def _of_round(row: TimerRow, n: int) -> bool:
    return int(row.data.get("round", 0)) == n


def _suffix(n: int) -> str:
    return "" if n == 0 else f"@{n}"


def _set(conn: Connection, timer_id: str, **values: Any) -> None:
    conn.execute(update(TIMERS).where(TIMERS.c.id == timer_id).values(**values))


# Another report of a duplicate group holding a clock: the group's reports are walked and
# the walk stops at the first one with a pending SLA timer (each probe one index lookup on
# that report's timers). That is usually the group's first report, so an outage's thousandth
# duplicate costs what the second did; gathering every member's id and reading every pending
# timer of the database, as before, grew with both on each report triaged.
_CLOCK_HOLDER = (
    select(REPORTS.c.id)
    .where(
        REPORTS.c.duplicate_group_id == bindparam("group_id"),
        REPORTS.c.id != bindparam("report_id"),
        exists().where(
            TIMERS.c.report_id == REPORTS.c.id,
            # coalesce() on a NOT NULL column changes nothing but keeps SQLite's planner off the
            # (state, due_at) index, which would read every pending timer per probe.
            func.coalesce(TIMERS.c.state, "") == "pending",
            TIMERS.c.kind.in_(SLA_KINDS),
        ),
    )
    .limit(1)
)


def _group_clock_runs(conn: Connection, report: Subject) -> bool:
    """Another report of the same duplicate group has a pending SLA timer."""
    if report.group_id is None:
        return False
    found = conn.execute(_CLOCK_HOLDER, {"group_id": report.group_id, "report_id": report.id}).first()
    return found is not None
