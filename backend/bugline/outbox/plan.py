"""From a verdict to deliveries: routing's decision, written into the outbox inside the
transaction that stores the verdict (so a report is never triaged without its deliveries,
or forwarded twice for one verdict)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from bugline.db.models import ConnectorConfig
from bugline.outbox.queue import Planned, enqueue
from bugline.routing import Connection as Destination
from bugline.routing import Facts, Plan, RoutingError, default_rules, load_rules, route
from bugline.triage.report import TriageInput
from bugline.triage.result import TriageResult

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


def facts_of(
    result: TriageResult,
    status: str,
    report_input: TriageInput,
    connectors: list[tuple[str, str, str, tuple[str, ...], bool]],
) -> Facts:
    return Facts(
        severity=result.severity.level,
        kind=result.classification.kind,
        categories=frozenset(result.classification.categories),
        completeness=result.completeness.score,
        status=status,
        plan=report_input.plan,
        account=report_input.account,
        page_url=report_input.page_url,
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
    result: TriageResult,
    status: str,
    report_input: TriageInput,
    now: datetime,
) -> int:
    """Route the report and write its deliveries; returns how many are new."""
    connectors = connectors_of(conn, project_id)
    if not connectors:
        return 0  # nothing configured yet: nothing to decide
    plan = plan_for(project_settings, facts_of(result, status, report_input, connectors))
    ids = {name: cid for cid, name, *_ in connectors}
    planned = [
        Planned(connector_id=ids[d.connector], options=d.options, tags=d.tags, rules=d.rules)
        for d in plan.targets
        if d.connector in ids
    ]
    return enqueue(conn, project_id=project_id, report_id=report_id, planned=planned, now=now)
