"""Running the triage engine on accepted reports: the I/O around the pure engine.

Intake only accepts: it stores the report (``received``, ``triaged_at`` empty) and pokes
the backlog (``intake/backlog.py``), which triages accepted reports right after, in batches,
in the same process or any other that runs the loop. That keeps the intake request as cheap
as an insert even during an outage, when hundreds of customers report the same problem at
once and every one of them would otherwise queue on the same duplicate group's lock. The
claim is the report row itself (``triaged_at`` set in the transaction that writes the
verdict, only if still empty), so two processes never triage one report twice and a crash
leaves it in the backlog.

A batch (``triage_batch``, up to 50 reports, oldest first): one read loads the reports,
the engine runs on each, one read finds every report's duplicate candidates and their
signatures (``grouping.index.gather``) and the similarity is scored, all outside the write
transaction; inside it only the claim (one UPDATE ... RETURNING), the group joins in order
(a report joins the group of one placed before it in the same batch), a severity recount
when a group has more than one person or account, and the writes, one statement per table.
Per project, the connectors are read once. On ``make bench``'s intake workload (one
duplicate group of 2,200), one report at a time took ~11 ms on SQLite and ~24 ms on
PostgreSQL, mostly round trips; in batches of 50, ~2-3 ms a report. If a batch fails,
the backlog retries its reports one by one (``triage_report``: the same steps for one
report), so one bad report holds up nobody.

What is stored: the whole verdict in ``reports.triage`` (scores with their reasons and the
questions for the customer), ``severity``/``category``/``kind``/``completeness`` copied into
columns for the inbox, the duplicate group, and one ``triaged`` event on the timeline. A bug
report scoring under the project's completeness threshold moves to ``needs_info`` instead of
going on to the team; the notifications issue mails the questions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bugline.agentops import severity as agent_severity
from bugline.db.engine import Writer
from bugline.db.models import (
    Attachment,
    AttachmentState,
    Project,
    Report,
    Reporter,
    ReportStatus,
    utcnow,
)
from bugline.grouping import Grouping, Match, find_match, group_stats
from bugline.grouping.index import Batch, Newcomer, Pool, gather
from bugline.grouping.pins import pins
from bugline.intake.service import EVENTS, REPORTS
from bugline.notify import queue as notify_queue
from bugline.outbox.plan import Subject, connectors_of, forward
from bugline.sla import policy as sla_policy
from bugline.triage import severity as severity_part
from bugline.triage.duplicates import Signature, signature
from bugline.triage.engine import bounded, triage
from bugline.triage.errors import RulesError
from bugline.triage.report import ConsoleLine, FailedRequest, GroupStats, TriageInput
from bugline.triage.result import Completeness, Severity, TriageResult
from bugline.triage.rules import TriageRules, load_rules

log = logging.getLogger("bugline.triage")


def rules_for(project: Project) -> TriageRules:
    """The project's rules; a project whose saved rules no longer load falls back to defaults.

    Saving rules validates them (CLI, dashboard), so this only happens after an upgrade
    renamed a setting: triage must go on, and the operator sees why in the log.
    """
    overrides = (project.settings or {}).get("triage")
    try:
        return load_rules(overrides if isinstance(overrides, Mapping) else None)
    except RulesError as exc:
        log.warning("project %s: triage rules ignored, using defaults: %s", project.id, exc)
        return load_rules(None)


def _text(value: str | None) -> str:
    return value or ""


def input_of(
    report: Report, *, account: str | None, plan: str | None, attachment_kinds: Iterable[str]
) -> TriageInput:
    """The engine's view of a stored report (pure)."""
    browser = " ".join(x for x in (report.browser_name, report.browser_version) if x) or None
    os_ = " ".join(x for x in (report.os_name, report.os_version) if x) or None
    console = tuple(
        ConsoleLine(str(c.get("level") or "log"), str(c.get("message") or ""), str(c.get("stack") or ""))
        for c in (report.console or [])
        if isinstance(c, Mapping)
    )
    network = tuple(
        FailedRequest(str(n.get("method") or "GET"), str(n.get("url") or ""), _status(n.get("status")))
        for n in (report.network or [])
        if isinstance(n, Mapping)
    )
    return bounded(
        TriageInput(
            title=_text(report.title),
            description=_text(report.description),
            trying_to_do=_text(report.trying_to_do),
            expected=_text(report.expected),
            actual=_text(report.actual),
            error_text=_text(report.error_text),
            steps=_text(report.steps),
            frequency=report.frequency,
            people_affected=report.people_affected,
            page_url=report.page_url,
            browser=browser,
            os=os_,
            device=report.device_type,
            console=console,
            network=network,
            attachments=tuple(attachment_kinds),
            account=account,
            plan=plan,
            metadata=report.metadata_ or {},
            locale=(report.environment or {}).get("locale"),
            received_at=report.created_at,
        )
    )


def _status(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(slots=True)
class Pending:
    """A verdict computed outside any transaction, waiting for its duplicate group."""

    report_id: str
    project_id: str
    input: TriageInput
    result: TriageResult
    signature: Signature
    rules: TriageRules
    project_settings: Mapping[str, Any]  # routing reads its rules from here
    # The duplicate it matches, looked up on a reader before the write transaction (see
    # look_up); None with looked_up False means the transaction searches itself.
    match: Match | None = None
    looked_up: bool = False


@dataclass(slots=True)
class Applied:
    result: TriageResult
    grouping: Grouping
    status: str
    retriage: list[str]  # other open members of a grown group whose verdict is now stale
    enqueued: int = 0  # deliveries the verdict's routing wrote to the outbox


def evaluate(project: Project, report: Report, report_input: TriageInput) -> Pending:
    """The CPU part (pure): the engine's verdict without a group, and the duplicate signature."""
    rules = rules_for(project)
    return Pending(
        report_id=report.id,
        project_id=project.id,
        input=report_input,
        result=triage(report_input, rules, None),
        signature=signature(report_input, rules.duplicates),
        rules=rules,
        project_settings=project.settings or {},
    )


async def look_up(readers: async_sessionmaker[AsyncSession], pending: Pending) -> None:
    """Finds the duplicate match outside the write lock (SQLite has one for the whole file):
    the candidate search and scoring are most of the grouping cost and only read."""

    def find(s: Session) -> Match | None:
        return find_match(
            s.connection(),
            project_id=pending.project_id,
            report_id=pending.report_id,
            sig=pending.signature,
            rules=pending.rules.duplicates,
        )

    async with readers() as session:
        pending.match = await session.run_sync(find)
    pending.looked_up = True


def needs_info(result: TriageResult, rules: TriageRules) -> bool:
    """Only bug reports go back for facts: a feature request has no steps to reproduce. Nor does
    a report the rules cannot read (its facts are unchecked, not missing)."""
    c = result.completeness
    bug = result.classification.kind == "bug"
    return bug and c.score < rules.completeness.threshold and not c.unread_language


def verdict_json(result: TriageResult, grouping: Grouping | None) -> dict[str, Any]:
    data = result.to_json()
    if grouping is not None:
        data["duplicates"] = {
            "group_id": grouping.group_id,
            "joined": grouping.joined,
            "matched_report_id": grouping.matched_report_id,
            "reasons": list(grouping.reasons),
            "reports": grouping.stats.reports,
            "reporters": grouping.stats.reporters,
            "accounts": grouping.stats.accounts,
        }
    return data


def claim(conn: Connection, report_id: str, now: datetime) -> bool:
    """Takes the report for this triage, if nobody has (one conditional UPDATE, in the
    transaction that writes the verdict: a crash before the commit leaves it untriaged)."""
    taken = conn.execute(
        update(REPORTS)
        .where(
            REPORTS.c.id == report_id,
            REPORTS.c.triaged_at.is_(None),
            REPORTS.c.status == ReportStatus.RECEIVED,
        )
        .values(triaged_at=now)
    )
    return bool(taken.rowcount)


def claim_many(conn: Connection, report_ids: Sequence[str], now: datetime) -> set[str]:
    """Takes those of the reports nobody has, in one UPDATE ... RETURNING (in the verdicts'
    transaction, like :func:`claim`). On PostgreSQL, reports another process is claiming at
    this moment are skipped rather than waited for: its batch holds them until it commits,
    and waiting would only find them triaged (or, after its rollback, leave them for the
    next pass)."""
    if not report_ids:
        return set()
    waiting = (
        REPORTS.c.id.in_(list(report_ids)),
        REPORTS.c.triaged_at.is_(None),
        REPORTS.c.status == ReportStatus.RECEIVED,
    )
    statement = update(REPORTS).where(*waiting)
    if conn.dialect.name == "postgresql":
        free = select(REPORTS.c.id).where(*waiting).with_for_update(skip_locked=True)
        statement = update(REPORTS).where(REPORTS.c.id.in_(free.scalar_subquery()), *waiting)
    return set(conn.execute(statement.values(triaged_at=now).returning(REPORTS.c.id)).scalars())


def apply(
    conn: Connection, pending: Pending, *, reporter_id: str | None, status: str, now: datetime | None = None
) -> Applied | None:
    """In one transaction: claim the report, join a duplicate group, finish and store the
    verdict. None when another process triaged it first."""
    now = now or utcnow()
    if not claim(conn, pending.report_id, now):
        return None
    return _decide(conn, [pending], {pending.report_id: reporter_id}, status=status, now=now, pool=None)[0]


def apply_many(
    conn: Connection,
    pendings: Sequence[Pending],
    reporter_ids: Mapping[str, str | None],
    *,
    status: str,
    pool: Pool | None = None,
    now: datetime | None = None,
) -> list[Applied | None]:
    """:func:`apply` for several reports in one transaction, in order, with the outcome of
    applying them one after another: a report joins the group of one placed before it. The
    claim is one statement, the writes one statement per table (None: not claimed here).
    Duplicates are found in ``pool`` (:func:`look_up_many`, read before the transaction)
    plus the reports placed before, else looked up in the transaction."""
    now = now or utcnow()
    claimed = claim_many(conn, [p.report_id for p in pendings], now)
    taken = [p for p in pendings if p.report_id in claimed]
    decided = iter(_decide(conn, taken, reporter_ids, status=status, now=now, pool=pool))
    return [next(decided) if p.report_id in claimed else None for p in pendings]


def newcomer(pending: Pending, reporter_id: str | None) -> Newcomer:
    return Newcomer(
        pending.project_id, pending.report_id, reporter_id, pending.signature, pending.rules.duplicates
    )


def _decide(
    conn: Connection,
    pendings: Sequence[Pending],
    reporter_ids: Mapping[str, str | None],
    *,
    status: str,
    now: datetime,
    pool: Pool | None,
) -> list[Applied]:
    """The claimed reports' groups, verdicts, timeline events, receipts and deliveries."""
    if not pendings:
        return []
    newcomers = [newcomer(p, reporter_ids.get(p.report_id)) for p in pendings]
    # Read before Batch takes each report out of its group: an agent's merge or split stays.
    pinned = pins(conn, [p.report_id for p in pendings])
    batch = Batch(conn, newcomers, pool)
    decided: list[tuple[Pending, Newcomer, TriageResult, Grouping, str]] = []
    for pending, n in zip(pendings, newcomers, strict=True):
        if pending.report_id in pinned:
            grouping = batch.place(n, match=pinned[pending.report_id], looked_up=True)
        elif pool is None and pending.looked_up:
            grouping = batch.place(n, match=pending.match, looked_up=True)
        else:
            grouping = batch.place(n)
        result = pending.result
        if grouping.stats.reporters > 1 or grouping.stats.accounts > 1:
            # The group's size is a severity signal ("+ 14 customers reported the same problem").
            # Only its people and accounts count (docs/decisions.md, Triage): one customer's
            # reports of one problem, however many, score what the first one scored, so the
            # recount (the text model again, inside the write transaction) is skipped.
            result = dataclasses.replace(
                result, severity=severity_part.assess(pending.input, pending.rules.severity, grouping.stats)
            )
        new_status = status
        if status == ReportStatus.RECEIVED and needs_info(result, pending.rules):
            new_status = ReportStatus.NEEDS_INFO
        decided.append((pending, n, result, grouping, new_status))
    batch.flush(report_column=False)  # the verdict's row update below sets duplicate_group_id
    conn.execute(_STORE, [_verdict_row(p.report_id, r, g, s, now) for p, _, r, g, s in decided])
    # An agent's severity outlives a re-triage (the column keeps it, see _STORE): the clock
    # and routing follow it too. The engine's own level stays in the verdict.
    kept = agent_severity.overrides(conn, [p.report_id for p, *_ in decided])
    events: list[dict[str, Any]] = []
    for pending, _, result, grouping, new_status in decided:
        events.append(
            event(
                pending.project_id,
                pending.report_id,
                now,
                "triaged",
                public=False,
                data=event_data(result, grouping),
            )
        )
        if new_status != status:
            events.append(
                event(
                    pending.project_id,
                    pending.report_id,
                    now,
                    "status_changed",
                    public=True,
                    data={
                        "from": str(status),
                        "to": str(new_status),
                        "reason": "missing: " + ", ".join(result.completeness.missing),
                    },
                )
            )
    if events:
        conn.execute(insert(EVENTS), events)
    # The receipt (SOP: acknowledge, confirm we have what we need or ask for what is
    # missing, promise no fix time); the notifications worker sends it.
    # Keyed by this triage round, so a re-triage after the customer's answers writes a new
    # mail (the remaining questions, or "we have what we need").
    notify_queue.enqueue_many(
        conn,
        [
            notify_queue.Wanted(
                p.project_id,
                p.report_id,
                n.reporter_id,
                "needs_info" if s == ReportStatus.NEEDS_INFO else "received",
                now.isoformat(),
                {"questions": dict(r.completeness.questions)} if s == ReportStatus.NEEDS_INFO else {},
            )
            for p, n, r, _, s in decided
        ],
        now,
    )
    # Clocks: stopped for needs_info (no clock runs while waiting for the customer; a
    # re-triage may bring it back), armed for the rest by the stored severity (an agent's
    # override included), one duplicate group clock at a time; one pass for the batch.
    sla_policy.on_accepted_many(
        conn, [sla_policy.Verdict(p.project_id, p.report_id, str(s)) for p, *_, s in decided], now
    )
    configured: dict[str, bool] = {}  # project -> has connectors (read once per batch)
    applied = []
    for pending, _, result, grouping, new_status in decided:
        enqueued = 0
        if new_status == ReportStatus.RECEIVED:
            if pending.project_id not in configured:
                configured[pending.project_id] = bool(connectors_of(conn, pending.project_id))
            if configured[pending.project_id]:
                # Complete enough to act on: route it now, in this transaction (needs_info
                # reports wait for the customer's answers and are routed when they come).
                enqueued = forward(
                    conn,
                    project_id=pending.project_id,
                    project_settings=pending.project_settings,
                    report_id=pending.report_id,
                    subject=dataclasses.replace(
                        Subject.of_verdict(result, pending.input),
                        severity=kept.get(pending.report_id, result.severity.level),
                    ),
                    status=str(new_status),
                    now=now,
                )
        applied.append(Applied(result, grouping, str(new_status), list(grouping.retriage), enqueued))
    return applied


def verdict_values(
    result: TriageResult, grouping: Grouping | None, status: str, now: datetime
) -> dict[str, Any]:
    """The report row's columns a verdict sets."""
    values: dict[str, Any] = {
        "triage": verdict_json(result, grouping),
        "severity": result.severity.level,
        "category": result.classification.categories[0] if result.classification.categories else None,
        "kind": result.classification.kind,
        "completeness": result.completeness.score,
        "triaged_at": now,
        "status": status,
        "updated_at": now,
    }
    if grouping is not None:
        values["duplicate_group_id"] = grouping.group_id
    return values


def store_verdict(
    conn: Connection,
    report_id: str,
    result: TriageResult,
    grouping: Grouping | None,
    status: str,
    now: datetime,
) -> None:
    values = verdict_values(result, grouping, status, now)
    values["severity"] = func.coalesce(REPORTS.c.severity_override, values["severity"])
    conn.execute(update(REPORTS).where(REPORTS.c.id == report_id).values(**values))


# store_verdict for many grouped reports, one executemany of rows from _verdict_row. The
# parameters are prefixed: a bound parameter may not share a column's name in an UPDATE.
_VERDICT_COLUMNS = (
    "triage",
    "severity",
    "category",
    "kind",
    "completeness",
    "triaged_at",
    "status",
    "updated_at",
    "duplicate_group_id",
)
_STORE = (
    update(REPORTS)
    .where(REPORTS.c.id == bindparam("v_id"))
    .values({c: bindparam(f"v_{c}", type_=REPORTS.c[c].type) for c in _VERDICT_COLUMNS})
    # An agent's severity (report page, agent API) is kept over the engine's.
    .values(severity=func.coalesce(REPORTS.c.severity_override, bindparam("v_severity")))
)


def _verdict_row(
    report_id: str, result: TriageResult, grouping: Grouping, status: str, now: datetime
) -> dict[str, Any]:
    values = verdict_values(result, grouping, status, now)
    return {"v_id": report_id} | {f"v_{c}": values[c] for c in _VERDICT_COLUMNS}


def event_data(result: TriageResult, grouping: Grouping) -> dict[str, Any]:
    c, s, k = result.completeness, result.severity, result.classification
    data: dict[str, Any] = {
        "completeness": c.score,
        "missing": list(c.missing),
        "severity": s.level,
        "severity_score": round(s.score, 1),
        "reasons": list(s.reasons),
        "kind": k.kind,
        "categories": list(k.categories),
        "group_id": grouping.group_id,
    }
    data.update(unread_data(c))
    if grouping.joined:
        data["duplicate_of"] = grouping.matched_report_id
        data["duplicate_reasons"] = list(grouping.reasons)
        data["group_reporters"] = grouping.stats.reporters
    return data


def unread_data(c: Completeness) -> dict[str, Any]:
    """What a timeline event says of a report in a language the rules do not read (nothing of
    any other): its language and the facts left unchecked."""
    return {"unread_language": c.unread_language, "unchecked": list(c.unchecked)} if c.unread_language else {}


def event(
    project_id: str, report_id: str, now: datetime, kind: str, *, public: bool, data: dict[str, Any]
) -> dict[str, Any]:
    """A timeline row written by triage itself (actor: the system)."""
    return {
        "project_id": project_id,
        "report_id": report_id,
        "at": now,
        "kind": kind,
        "actor_type": "system",
        "actor": None,
        "public": public,
        "data": data,
    }


def public_view(report: Report) -> dict[str, Any] | None:
    """What the customer's own client may see of the verdict: how complete the report is and
    the questions to answer. Severity, its reasons and the duplicate group stay internal."""
    verdict = report.triage
    if not isinstance(verdict, Mapping):
        return None
    completeness = verdict.get("completeness") or {}
    missing = [m for m in completeness.get("missing") or [] if isinstance(m, str)]
    questions = completeness.get("questions") or {}
    return {
        "completeness": completeness.get("score"),
        "missing": missing,
        "questions": [
            {"fact": m, "question": questions[m]} for m in missing if isinstance(questions.get(m), str)
        ],
        "kind": (verdict.get("classification") or {}).get("kind"),
    }


async def refresh_severity(
    writer: Writer, readers: async_sessionmaker[AsyncSession], project_id: str, report_ids: Sequence[str]
) -> int:
    """Re-scores the severity of open reports whose duplicate group just grew.

    Runs after the response (a background task): the new report's own verdict is already
    stored, and the siblings' severity is derived data, recomputed again on the group's next
    change, so a crash here loses nothing that cannot be rebuilt. Returns how many changed.
    """
    if not report_ids:
        return 0
    try:
        return await _refresh(writer, readers, project_id, report_ids)
    except Exception:  # a background task has nobody to answer; the log is where it shows
        log.exception("project %s: re-scoring the severity of %d reports failed", project_id, len(report_ids))
        return 0


async def _refresh(
    writer: Writer, readers: async_sessionmaker[AsyncSession], project_id: str, report_ids: Sequence[str]
) -> int:
    async with readers() as session:
        project = await session.get(Project, project_id)
        if project is None:
            return 0
        rows = (
            await session.execute(
                select(Report, Reporter.account, Reporter.plan)
                .outerjoin(Reporter, Reporter.id == Report.reporter_id)
                .where(Report.project_id == project_id, Report.id.in_(list(report_ids)))
            )
        ).all()
        group_ids = {r.duplicate_group_id for r, _, _ in rows if r.duplicate_group_id}

        def read_stats(s: Session) -> dict[str, GroupStats]:
            found = {g: group_stats(s.connection(), project_id, g) for g in group_ids}
            return {g: v for g, v in found.items() if v is not None}

        stats = await session.run_sync(read_stats)
    rules = rules_for(project)
    now = utcnow()
    changes: list[tuple[Report, Severity]] = []
    for report, account, plan in rows:
        group = stats.get(report.duplicate_group_id or "")
        if group is None or not isinstance(report.triage, Mapping) or report.severity_override:
            continue  # (an agent's severity is not re-scored behind their back)
        report_input = input_of(report, account=account, plan=plan, attachment_kinds=())
        new = severity_part.assess(report_input, rules.severity, group)
        old = report.triage.get("severity") or {}
        counted = report.triage.get("duplicates") or {}
        if (
            new.level != old.get("level")
            or round(new.score, 1) != round(float(old.get("score") or 0), 1)
            or (counted.get("reports"), counted.get("reporters"), counted.get("accounts"))
            != (group.reports, group.reporters, group.accounts)
        ):
            changes.append((report, new))

    def write(conn: Connection) -> None:
        for report, new in changes:
            verdict = dict(report.triage or {})
            verdict["severity"] = dataclasses.asdict(new)
            group = stats[report.duplicate_group_id or ""]
            duplicates = dict(verdict.get("duplicates") or {})
            duplicates.update(reports=group.reports, reporters=group.reporters, accounts=group.accounts)
            verdict["duplicates"] = duplicates
            conn.execute(
                update(REPORTS)
                .where(REPORTS.c.id == report.id)
                .values(triage=verdict, severity=new.level, updated_at=now)
            )
            if new.level != report.severity:
                conn.execute(
                    insert(EVENTS),
                    [
                        event(
                            project_id,
                            report.id,
                            now,
                            "severity_changed",
                            public=False,
                            data={
                                "from": report.severity,
                                "to": new.level,
                                "reason": "duplicate group grew",
                                "reasons": list(new.reasons),
                            },
                        )
                    ],
                )
                # Pending SLA targets move to the new severity's times.
                sla_policy.on_severity(
                    conn,
                    project_id=project_id,
                    report_id=report.id,
                    before=report.severity,
                    after=new.level,
                    now=now,
                )

    if changes:
        await writer.run(write)
    return len(changes)


_LOAD = (
    select(Report, Project, Reporter.account, Reporter.plan)
    .join(Project, Project.id == Report.project_id)
    .outerjoin(Reporter, Reporter.id == Report.reporter_id)
)


def _load(session: Session, report_id: str) -> tuple[Report, Project, TriageInput] | None:
    """The report, its project and the engine's input, if it still waits for triage."""
    row = session.execute(_LOAD.where(Report.id == report_id)).one_or_none()
    if row is None:
        return None
    report, project, account, plan = row
    if report.triaged_at is not None or report.status != ReportStatus.RECEIVED:
        return None
    kinds = session.execute(
        select(Attachment.kind).where(
            Attachment.report_id == report.id, Attachment.state == AttachmentState.STORED
        )
    ).scalars()
    return report, project, input_of(report, account=account, plan=plan, attachment_kinds=list(kinds))


async def triage_report(
    writer: Writer, readers: async_sessionmaker[AsyncSession], report_id: str
) -> Applied | None:
    """Triage one accepted report (None: not accepted yet, gone, or already triaged)."""
    if writer.sync is not None:
        # SQLite: reads through aiosqlite cost a thread hop per statement, which was most
        # of a triage; on the writer's own synchronous connection the load is one hop.
        def load(conn: Connection) -> tuple[Report, Project, TriageInput] | None:
            with Session(bind=conn) as session:
                return _load(session, report_id)

        loaded = await writer.run(load)
    else:
        async with readers() as session:
            loaded = await session.run_sync(lambda s: _load(s, report_id))
    if loaded is None:
        return None
    report, project, report_input = loaded
    pending = evaluate(project, report, report_input)
    # Outside the write transaction on both databases: on SQLite that lock is the whole file's,
    # and scoring candidates under it held up intake in other processes (make bench, worker).
    await look_up(readers, pending)
    reporter_id = report.reporter_id
    applied = await writer.run(
        lambda conn: apply(conn, pending, reporter_id=reporter_id, status=ReportStatus.RECEIVED)
    )
    if applied is not None and applied.retriage:
        await refresh_severity(writer, readers, project.id, applied.retriage)
    return applied


async def untriaged(readers: async_sessionmaker[AsyncSession], limit: int) -> list[str]:
    """Accepted reports waiting for a verdict, oldest first."""
    async with readers() as session:
        return list(
            (
                await session.execute(
                    select(Report.id)
                    .where(Report.status == ReportStatus.RECEIVED, Report.triaged_at.is_(None))
                    .order_by(Report.accepted_at)
                    .limit(limit)
                )
            ).scalars()
        )


def _load_many(session: Session, report_ids: Sequence[str]) -> list[tuple[Report, Project, TriageInput]]:
    """:func:`_load` for several reports in two queries, in the order of ``report_ids``."""
    rows = {
        report.id: (report, project, account, plan)
        for report, project, account, plan in session.execute(_LOAD.where(Report.id.in_(list(report_ids))))
        if report.triaged_at is None and report.status == ReportStatus.RECEIVED
    }
    kinds: dict[str, list[str]] = {report_id: [] for report_id in rows}
    if rows:
        for report_id, kind in session.execute(
            select(Attachment.report_id, Attachment.kind).where(
                Attachment.report_id.in_(list(rows)), Attachment.state == AttachmentState.STORED
            )
        ):
            kinds[report_id].append(kind)
    loaded = []
    for report_id in dict.fromkeys(report_ids):
        if report_id in rows:
            report, project, account, plan = rows[report_id]
            loaded.append(
                (
                    report,
                    project,
                    input_of(report, account=account, plan=plan, attachment_kinds=kinds[report_id]),
                )
            )
    return loaded


async def look_up_many(readers: async_sessionmaker[AsyncSession], newcomers: Sequence[Newcomer]) -> Pool:
    """:func:`look_up` for a batch: the candidates of every report, read on a reader before
    the write transaction, then scored here (the scoring is CPU; between reports the event
    loop serves requests)."""
    async with readers() as session:
        pool = await session.run_sync(lambda s: gather(s.connection(), newcomers))
    for n in newcomers:
        pool.prescore(n)
        await asyncio.sleep(0)
    return pool


async def triage_batch(
    writer: Writer, readers: async_sessionmaker[AsyncSession], report_ids: Sequence[str]
) -> list[Applied]:
    """Triage several accepted reports, oldest first, with one read, one duplicate lookup and
    one write transaction for all of them; returns the verdicts this process stored.

    Same guarantees as :func:`triage_report` on each report (claimed only if still waiting,
    nothing stored unless all of it is); a failure anywhere raises and leaves the whole
    batch in the backlog, for the caller to triage one by one.
    """
    async with readers() as session:
        loaded = await session.run_sync(lambda s: _load_many(s, report_ids))
    pendings: list[Pending] = []
    reporter_ids: dict[str, str | None] = {}
    for report, project, report_input in loaded:
        pendings.append(evaluate(project, report, report_input))
        reporter_ids[report.id] = report.reporter_id
        await asyncio.sleep(0)  # the engine is CPU: let the event loop serve requests in between
    if not pendings:
        return []
    pool = await look_up_many(readers, [newcomer(p, reporter_ids[p.report_id]) for p in pendings])
    decided = await writer.run(
        lambda conn: apply_many(conn, pendings, reporter_ids, status=ReportStatus.RECEIVED, pool=pool)
    )
    applied = [a for a in decided if a is not None]
    # Siblings whose group grew, re-scored once for the whole batch with the counts it left.
    stale: dict[str, dict[str, None]] = {}
    for pending, a in zip(pendings, decided, strict=True):
        if a is not None and a.retriage:
            stale.setdefault(pending.project_id, {}).update(dict.fromkeys(a.retriage))
    for project_id, ids in stale.items():
        await refresh_severity(writer, readers, project_id, list(ids))
    return applied
