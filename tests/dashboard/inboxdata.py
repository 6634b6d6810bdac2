"""Reports written straight into the database for the inbox tests: exact severities, times,
groups and deliveries, without waiting for triage to decide them. (A few tests also send
reports through the real API, so the search index is fed by real intake too.)"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bugline.db.engine import make_sessionmaker
from bugline.db.models import (
    ConnectorConfig,
    Delivery,
    DuplicateGroup,
    Project,
    Report,
    Reporter,
    utcnow,
)

T0 = (utcnow() - timedelta(days=30)).replace(hour=1, minute=0, second=0, microsecond=0)


async def add_reports(engine: AsyncEngine, project: Project, specs: list[dict[str, Any]]) -> list[Report]:
    """One report per spec. Spec keys: Report columns, plus ``email`` / ``account`` (a reporter),
    ``group`` (a name: reports with the same name share a duplicate group), ``deliveries``
    (a list of states), ``minutes`` (created T0 + minutes)."""
    out: list[Report] = []
    async with make_sessionmaker(engine)() as s, s.begin():
        top = (
            await s.execute(select(func.max(Report.number)).where(Report.project_id == project.id))
        ).scalar()
        number = int(top or 0)
        groups: dict[str, DuplicateGroup] = {}
        reporters: dict[tuple[str | None, str | None], Reporter] = {}
        connector = None
        for i, spec in enumerate(specs):
            spec = dict(spec)
            email, account = spec.pop("email", None), spec.pop("account", None)
            group, states = spec.pop("group", None), spec.pop("deliveries", [])
            minutes = spec.pop("minutes", i)
            number += 1
            report = Report(
                project_id=project.id,
                number=number,
                status_token_hash=secrets.token_hex(32),
                status=spec.pop("status", "received"),
                created_at=spec.pop("created_at", T0 + timedelta(minutes=minutes)),
                **spec,
            )
            if email or account:
                key = (email, account)
                if key not in reporters:
                    reporters[key] = Reporter(project_id=project.id, email=email, account=account)
                    s.add(reporters[key])
                    await s.flush()
                report.reporter_id = reporters[key].id
            if group:
                if group not in groups:
                    groups[group] = DuplicateGroup(project_id=project.id, report_count=0)
                    s.add(groups[group])
                    await s.flush()
                groups[group].report_count += 1
                report.duplicate_group_id = groups[group].id
            s.add(report)
            await s.flush()
            for j, state in enumerate(states):
                if connector is None:
                    connector = ConnectorConfig(
                        project_id=project.id, name=f"c-{secrets.token_hex(3)}", kind="webhook"
                    )
                    s.add(connector)
                    await s.flush()
                s.add(
                    Delivery(
                        project_id=project.id,
                        report_id=report.id,
                        connector_id=connector.id,
                        action=f"create{j or ''}",
                        state=state,
                    )
                )
            out.append(report)
    return out


def when(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)
