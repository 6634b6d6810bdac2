"""From a verdict to deliveries: routing's decision, written into the outbox inside the
transaction that stores the verdict (so a report is never triaged without its deliveries,
or forwarded twice for one verdict)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast, get_args

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from bugline.connectors.configs import DEFAULT_ROLES
from bugline.db.models import ConnectorConfig, Report, Reporter, Ticket
from bugline.outbox.queue import Planned, enqueue
from bugline.routing import Connection as Destination
from bugline.routing import Facts, Plan, RoutingError, default_rules, load_rules, route
from bugline.triage.report import TriageInput
from bugline.triage.result import LEVELS, Kind, TriageResult

KINDS: tuple[str, ...] = get_args(Kind)

log = logging.getLogger("bugline.outbox")


def connectors_of(conn: Connection, project_id: str) -> list[tuple[str, str, str, tuple[str, ...], bool]]:
    """(id, name, kind, roles, enabled) of the project's connectors."""
    rows = conn.execute(
        select(
            ConnectorConfig.id,
            ConnectorConfig.name,
            ConnectorConfig.kind,
            ConnectorConfig.roles,
            ConnectorConfig.enabled,
        ).where(ConnectorConfig.project_id == project_id)
    )
    return [(r[0], r[1], r[2], tuple(str(x) for x in r[3] or ()), bool(r[4])) for r in rows]


@dataclass(frozen=True, slots=True)
class Subject:
    """What routing reads of a report: its verdict and who reported it from where."""

    severity: str
    kind: str
    categories: tuple[str, ...]
    completeness: int
    plan: str | None = None
    account: str | None = None
    page_url: str | None = None

    @classmethod
    def of_verdict(cls, result: TriageResult, report_input: TriageInput) -> Subject:
        return cls(
            severity=result.severity.level,
            kind=result.classification.kind,
            categories=result.classification.categories,
            completeness=result.completeness.score,
            plan=report_input.plan,
            account=report_input.account,
            page_url=report_input.page_url,
        )

    @classmethod
    def of_report(cls, s: Session, report: Report) -> Subject:
        """From a stored, triaged report (dry-run and "forward now")."""
        verdict = report.triage or {}
        categories = (verdict.get("classification") or {}).get("categories") or ()
        reporter = s.get(Reporter, report.reporter_id) if report.reporter_id else None
        return cls(
            severity=report.severity or "medium",
            kind=report.kind or "bug",
            categories=tuple(str(c) for c in categories),
            completeness=report.completeness or 0,
            plan=reporter.plan if reporter else None,
            account=reporter.account if reporter else None,
            page_url=report.page_url,
        )


def facts_of(
    subject: Subject, status: str, connectors: list[tuple[str, str, str, tuple[str, ...], bool]]
) -> Facts:
    return Facts(
        severity=subject.severity if subject.severity in LEVELS else "medium",
        kind=cast(Kind, subject.kind if subject.kind in KINDS else "bug"),
        categories=frozenset(subject.categories),
        completeness=subject.completeness,
        status=status,
        plan=subject.plan,
        account=subject.account,
        page_url=subject.page_url,
        connectors=tuple(
            Destination(name, kind, roles, enabled) for _, name, kind, roles, enabled in connectors
        ),
    )


def plan_for(project_settings: Mapping[str, Any], facts: Facts) -> Plan:
    """Routing with the project's rules; rules that no longer load fall back to the
    defaults (logged) rather than leaving reports unforwarded."""
    try:
        rules = load_rules(project_settings.get("routing"))
    except RoutingError as exc:
        log.error("routing rules of a project do not load (%s); using the defaults", exc)
        rules = default_rules()
    return route(facts, rules)


def forward(
    conn: Connection,
    *,
    project_id: str,
    project_settings: Mapping[str, Any],
    report_id: str,
    subject: Subject,
    status: str,
    now: datetime,
) -> int:
    """Route the report and write its deliveries; returns how many are new."""
    connectors = connectors_of(conn, project_id)
    if not connectors:
        return 0  # nothing configured yet: nothing to decide
    plan = plan_for(project_settings, facts_of(subject, status, connectors))
    ids = {name: cid for cid, name, *_ in connectors}
    planned = [
        Planned(connector_id=ids[d.connector], options=d.options, tags=d.tags, rules=d.rules)
        for d in plan.targets
        if d.connector in ids
    ]
    return enqueue(conn, project_id=project_id, report_id=report_id, planned=planned, now=now)


def tell_tickets(
    conn: Connection,
    *,
    project_id: str,
    report_id: str,
    action: str,
    note: str,
    now: datetime,
    level: str = "",
    roles: tuple[str, ...] | None = None,
) -> int:
    """A word for every ticket the report's group already has (the customer says it is still
    broken; an SLA escalation), one delivery per connector holding one; ``roles`` limits it
    to connectors with one of those roles. ``action`` carries the key that makes it once
    ("reopen:<event id>"). Returns how many deliveries were written."""
    report = conn.execute(
        select(Report.duplicate_group_id).where(Report.id == report_id, Report.project_id == project_id)
    ).first()
    if report is None:
        return 0
    group_key = report[0] or report_id
    rows = conn.execute(
        select(Ticket.connector_id, ConnectorConfig.roles)
        .join(ConnectorConfig, ConnectorConfig.id == Ticket.connector_id)
        .where(
            Ticket.project_id == project_id,
            Ticket.group_key == group_key,
            Ticket.state == "created",
            ConnectorConfig.enabled.is_(True),  # a disabled connector would only fail
        )
    ).all()
    planned = [
        Planned(connector_id=connector_id, action=action, note=note, level=level)
        for connector_id, connector_roles in rows
        # No roles means "helpdesk", as routing reads it (routing.facts.Connection).
        if roles is None or set(roles) & set(connector_roles or DEFAULT_ROLES)
    ]
    return enqueue(conn, project_id=project_id, report_id=report_id, planned=planned, now=now)
