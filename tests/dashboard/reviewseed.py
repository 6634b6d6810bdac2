"""A month of reports for the monthly-review tests, written straight into the database with
known times: March 2024, so nothing the app does "now" reaches it.

What it holds (the tests count on these):
- received in March (6, besides one still awaiting its media): #1 critical (resolved after
  1 d 5 h, first response after 20 min), #2 high (2 days in needs info, answered by an agent
  after 2 d 1 h, resolved after 3 d), #3 high (response 30 min, resolved after 6 h), #4 low
  (nothing yet), #7 and #8 medium (open; #7 answered by an agent's public reply after 3 h, #8 only
  forwarded, which is no response);
- received in February, resolved in March: #5 medium, after 14 d;
- missed targets: #1 resolution (met late), #4 first response (still unmet);
- failed deliveries in March: #1 forwarding, #2 an SLA escalation; one more in April;
- SLA escalations in March: two, one of which reached no lead;
- hand severity changes in March: #3 medium -> high, #2 low -> high (plus one by the system
  and one in April, which do not count);
- duplicate groups: G1 (#3, #7, #8: 3 reports, 3 people, 2 accounts), G2 (#4 and February's
  #9), G3 (#1 alone).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bugline.db.engine import make_sessionmaker
from bugline.db.models import (
    ConnectorConfig,
    Delivery,
    DuplicateGroup,
    Project,
    Report,
    ReportEvent,
    Timer,
    new_id,
)

MARCH = datetime(2024, 3, 1, tzinfo=UTC)
FEB = datetime(2024, 2, 1, tzinfo=UTC)
APRIL = datetime(2024, 4, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
XSS = '<script>alert("x")</script> Checkout <b>fails</b>'
FORMULA = '=HYPERLINK("http://evil.example","click")'


@dataclass
class Seeded:
    project: Project
    ids: dict[int, str] = field(default_factory=dict)  # report number -> id
    groups: dict[str, str] = field(default_factory=dict)


async def seed_month(engine: AsyncEngine, project: Project, offset: int = 0) -> Seeded:
    """``offset`` moves the report numbers past those a project already has."""
    out = Seeded(project)
    pid = project.id
    async with make_sessionmaker(engine)() as s, s.begin():

        def report(number: int, at: datetime, severity: str | None, title: str, **kw: Any) -> Report:
            r = Report(
                id=new_id(),
                project_id=pid,
                number=number + offset,
                status_token_hash=secrets.token_hex(32),
                title=title,
                severity=severity,
                kind="bug",
                created_at=at,
                accepted_at=at,
                triaged_at=at,
                status=kw.pop("status", "received"),
                **kw,
            )
            s.add(r)
            out.ids[number] = r.id
            return r

        def event(
            r: Report, at: datetime, kind: str, actor_type: str, public: bool = True, **data: Any
        ) -> None:
            s.add(
                ReportEvent(
                    project_id=pid,
                    report_id=r.id,
                    at=at,
                    kind=kind,
                    actor_type=actor_type,
                    actor="desk"
                    if actor_type == "connector"
                    else ("ann@example.com" if actor_type == "agent" else None),
                    public=public,
                    data=data,
                )
            )

        def moved(r: Report, at: datetime, to: str, actor_type: str = "connector") -> None:
            event(r, at, "status_changed", actor_type, to=to)

        g1, g2, g3 = (DuplicateGroup(project_id=pid) for _ in range(3))
        for g in (g1, g2, g3):
            g.id = secrets.token_hex(16)
            s.add(g)
        out.groups = {"G1": g1.id, "G2": g2.id, "G3": g3.id}

        t1 = MARCH + DAY
        r1 = report(
            1,
            t1,
            "critical",
            XSS,
            status="resolved",
            resolved_at=t1 + DAY + 5 * HOUR,
            category="billing",
            duplicate_group_id=g3.id,
        )
        moved(r1, t1 + 5 * MIN, "escalated")
        moved(r1, t1 + 20 * MIN, "in_progress")
        moved(r1, t1 + DAY + 5 * HOUR, "resolved")

        t2 = MARCH + 2 * DAY
        r2 = report(
            2, t2, "high", "Export hangs", status="resolved", resolved_at=t2 + 3 * DAY, category="billing"
        )
        moved(r2, t2, "needs_info", "system")
        event(r2, t2 + 2 * DAY, "answered", "reporter")
        moved(r2, t2 + 2 * DAY, "received", "reporter")
        moved(r2, t2 + 2 * DAY + HOUR, "in_progress", "agent")
        moved(r2, t2 + 3 * DAY, "resolved")

        t3 = MARCH + 3 * DAY
        r3 = report(
            3,
            t3,
            "high",
            "Menu overlaps",
            status="resolved",
            resolved_at=t3 + 6 * HOUR,
            category="ui",
            duplicate_group_id=g1.id,
        )
        moved(r3, t3 + 30 * MIN, "in_progress")
        moved(r3, t3 + 6 * HOUR, "resolved")

        t4 = MARCH + 4 * DAY
        r4 = report(4, t4, "low", FORMULA, category="ui", duplicate_group_id=g2.id)
        r7 = report(7, MARCH + 6 * DAY, "medium", "@SUM(A1)", category="ui", duplicate_group_id=g1.id)
        r8 = report(
            8,
            MARCH + 7 * DAY,
            "medium",
            "Menu overlaps again",
            status="escalated",
            category="ui",
            duplicate_group_id=g1.id,
        )
        moved(r8, MARCH + 7 * DAY + MIN, "escalated")  # forwarded: not a response
        event(r7, MARCH + 6 * DAY + HOUR, "note", "agent", public=False, note="internal")  # not public
        event(r7, MARCH + 6 * DAY + 3 * HOUR, "reply", "agent", note="We are on it")  # the first response
        report(6, MARCH + 8 * DAY, None, "Still uploading", status="awaiting_media")

        t5 = FEB + 19 * DAY
        r5 = report(5, t5, "medium", "Slow search", status="closed", resolved_at=t5 + 14 * DAY, category="ui")
        moved(r5, t5 + HOUR, "in_progress")
        moved(r5, t5 + 14 * DAY, "closed")
        report(
            9, FEB + 3 * DAY, "low", "Menu overlaps in February", category="billing", duplicate_group_id=g2.id
        )
        await s.flush()

        g1.primary_report_id, g1.report_count, g1.reporter_count, g1.account_count = r3.id, 3, 3, 2
        g2.primary_report_id, g2.report_count, g2.reporter_count, g2.account_count = out.ids[9], 2, 2, 2
        g3.primary_report_id, g3.report_count, g3.reporter_count, g3.account_count = r1.id, 1, 1, 1

        # Missed targets: #1's resolution (due 4 h after receipt, met when resolved), #4's first response.
        due1 = t1 + 4 * HOUR
        timer1 = Timer(
            project_id=pid,
            report_id=r1.id,
            kind="resolution",
            key="resolution",
            due_at=due1,
            state="fired",
            fired_at=due1,
            data={"met_at": (t1 + DAY + 5 * HOUR).isoformat()},
        )
        due4 = t4 + DAY
        timer4 = Timer(
            project_id=pid,
            report_id=r4.id,
            kind="first_response",
            key="first_response",
            due_at=due4,
            state="fired",
            fired_at=due4,
            data={},
        )
        s.add_all([timer1, timer4])
        await s.flush()
        event(
            r1,
            due1,
            "sla_breached",
            "system",
            public=False,
            timer=timer1.id,
            target="resolution",
            due_at=due1.isoformat(),
            severity="critical",
        )
        event(
            r4,
            due4,
            "sla_breached",
            "system",
            public=False,
            timer=timer4.id,
            target="first_response",
            due_at=due4.isoformat(),
            severity="low",
        )

        # SLA escalations: one heard by a lead, one by nobody.
        event(
            r2,
            t2 + 2 * DAY + 4 * HOUR,
            "sla_escalated",
            "system",
            public=False,
            level=2,
            lead=["lead"],
            deliveries=2,
        )
        event(r1, t1 + 2 * HOUR, "sla_escalated", "system", public=False, level=2, lead=[], deliveries=1)

        # Failed deliveries.
        desk = ConnectorConfig(project_id=pid, name="desk", kind="webhook", config={}, roles=["helpdesk"])
        s.add(desk)
        await s.flush()
        for r, action, state, done in (
            (r1, "create", "failed", t1 + HOUR),
            (r2, "escalate:escalation:2", "failed", t2 + 2 * DAY + 5 * HOUR),
            (r3, "create", "done", t3 + MIN),
            (r4, "create", "failed", APRIL + DAY),
        ):
            if state == "failed" and done < APRIL:
                event(r, done, "delivery_failed", "connector", public=False, action=action, error="HTTP 503")
            s.add(
                Delivery(
                    project_id=pid,
                    report_id=r.id,
                    connector_id=desk.id,
                    action=action,
                    state=state,
                    attempts=8,
                    done_at=done,
                    last_error="HTTP 503 <b>down</b>",
                )
            )

        # Severity changed by hand.
        event(
            r3,
            t3 + HOUR,
            "severity_changed",
            "agent",
            public=False,
            **{"from": "medium", "to": "high", "reason": "Blocks checkout for <everyone>"},
        )
        event(
            r2,
            t2 + 2 * DAY + 2 * HOUR,
            "severity_changed",
            "agent",
            public=False,
            **{"from": "low", "to": "high", "reason": "Data loss"},
        )
        event(r4, t4 + HOUR, "severity_changed", "system", public=False, **{"from": "medium", "to": "low"})
        event(r3, APRIL + HOUR, "severity_changed", "agent", public=False, **{"from": "high", "to": "low"})
    return out
