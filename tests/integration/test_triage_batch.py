"""Triage in batches (intake/backlog.py, intake/triage.py triage_batch), on SQLite and PostgreSQL:
the same verdicts and groups as one report at a time, and the same guarantees."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import DuplicateGroup, DuplicateMember, Notification, Project, Report, ReportEvent
from bugline.grouping import index
from bugline.intake import triage as triage_module
from bugline.intake.triage import triage_batch, triage_report
from bugline.notify import queue as notify_queue
from bugline.triage import severity
from bugline.triage.report import ConsoleLine, GroupStats, TriageInput
from bugline.triage.rules import load_rules
from tests.conftest import ORIGIN, Bugline
from tests.integration.test_intake import report_body

pytestmark = pytest.mark.anyio

CRASH = "TypeError: Cannot read properties of undefined (reading 'total')"


def order_crash(who: str | None, n: int, account: str | None = None) -> dict[str, Any]:
    reporter = {"id": who, "email": f"{who}@example.com", "account": account} if who else None
    return report_body(
        title=f"Order page crashes ({n})",
        actual="The order page goes blank",
        reporter=reporter,
        context={
            "url": f"https://app.example.com/orders/{1000 + n}",
            "console": [
                {
                    "level": "error",
                    "message": f"{CRASH} #{n}",
                    "stack": "TypeError\n    at renderOrder (https://app.example.com/assets/app.3f9a.js:10:5)",
                }
            ],
        },
    )


def password(who: str | None, n: int) -> dict[str, Any]:
    reporter = {"id": who, "email": f"{who}@example.com"} if who else None
    return report_body(
        title=f"Cannot change my password ({n})",
        actual="The security page says something went wrong when I save",
        error_text="",
        reporter=reporter,
        context={
            "url": "https://app.example.com/settings/security",
            "network": [{"method": "POST", "url": "https://app.example.com/api/password", "status": 500}],
        },
    )


# Reports of three problems, vague ones, a feature request, people reporting twice, anonymous ones.
MIXED: list[dict[str, Any]] = [
    order_crash("u-1", 1, "acme"),
    password("u-7", 1),
    order_crash("u-2", 2, "acme"),  # same account, new person
    {"title": "broken", "actual": "it doesn't work", "reporter": {"id": "u-9", "email": "u-9@example.com"}},
    order_crash("u-1", 3, "acme"),  # the same person again: the group does not grow
    password(None, 2),
    report_body(),
    order_crash("u-3", 4, "globex"),  # a new account
    {
        "title": "Feature request: export to Excel",
        "description": "Please add an xlsx option to the export menu.",
    },
    password("u-8", 3),
    report_body(reporter={"id": "u-5", "email": "u-5@example.com", "account": "initech"}),
    order_crash(None, 5),
]


async def post_all(b: Bugline, project: Project, bodies: list[dict[str, Any]]) -> list[str]:
    ids = []
    for body in bodies:
        res = await b.client.post(
            "/api/v1/reports", json=body, headers={"X-Bugline-Key": project.public_key, "Origin": ORIGIN}
        )
        assert res.status_code == 201, res.text
        assert res.json()["status"] == "received"
        ids.append(res.json()["id"])
    return ids


async def reports(b: Bugline, ids: list[str]) -> list[Report]:
    async with make_sessionmaker(b.engine)() as session:
        found = {r.id: r for r in (await session.execute(select(Report).where(Report.id.in_(ids)))).scalars()}
    return [found[i] for i in ids]


async def events(b: Bugline, ids: list[str]) -> list[ReportEvent]:
    async with make_sessionmaker(b.engine)() as session:
        return list(
            (
                await session.execute(
                    select(ReportEvent).where(ReportEvent.report_id.in_(ids)).order_by(ReportEvent.id)
                )
            ).scalars()
        )


def groups_by_position(found: list[Report]) -> list[int]:
    """Each report's group as the position of the group's first report (comparable across projects)."""
    first: dict[str | None, int] = {}
    return [first.setdefault(r.duplicate_group_id, i) for i, r in enumerate(found)]


def verdict(report: Report, ids: list[str]) -> dict[str, Any]:
    """The stored verdict without what names rows (ids) or depends on when siblings were re-scored."""
    data = dict(report.triage or {})
    duplicates = dict(data.get("duplicates") or {})
    duplicates.pop("group_id", None)
    duplicates.pop("reports", None)  # a sibling's count is refreshed after its group grows
    matched = duplicates.pop("matched_report_id", None)
    duplicates["matched"] = ids.index(matched) if matched else None
    data["duplicates"] = duplicates
    return {
        "triage": data,
        "status": report.status,
        "severity": report.severity,
        "completeness": report.completeness,
        "kind": report.kind,
        "category": report.category,
    }


def decisions(found: list[ReportEvent], ids: list[str]) -> list[tuple[int, str, bool, dict[str, Any]]]:
    """The triaged and status_changed events, per report position, with ids made positions."""
    out = []
    for e in found:
        if e.kind not in ("triaged", "status_changed"):
            continue
        data = dict(e.data)
        data.pop("group_id", None)
        if "duplicate_of" in data:
            data["duplicate_of"] = ids.index(data["duplicate_of"])
        out.append((ids.index(e.report_id), e.kind, e.public, data))
    return sorted(out, key=lambda x: (x[0], x[1]))


async def receipts(b: Bugline, ids: list[str]) -> list[tuple[int, str, dict[str, Any]]]:
    async with make_sessionmaker(b.engine)() as session:
        rows = (await session.execute(select(Notification).where(Notification.report_id.in_(ids)))).scalars()
        return sorted((ids.index(n.report_id), n.kind, n.data) for n in rows)


async def group_counts_hold(b: Bugline, project_id: str) -> list[tuple[int, int, int]]:
    """Every group's counts equal what its members say; returns (reports, people, accounts) per group."""
    async with make_sessionmaker(b.engine)() as session:
        groups = (
            await session.execute(select(DuplicateGroup).where(DuplicateGroup.project_id == project_id))
        ).scalars()
        out = []
        for g in groups:
            members = (
                await session.execute(select(DuplicateMember).where(DuplicateMember.group_id == g.id))
            ).scalars()
            members = list(members)
            counted = (
                len(members),
                len({m.reporter_key for m in members}),
                len({m.account_key for m in members}),
            )
            assert (g.report_count, g.reporter_count, g.account_count) == counted, g.id
            assert g.primary_report_id in {m.report_id for m in members}
            out.append(counted)
    return sorted(out)


async def test_a_batch_decides_what_one_report_at_a_time_decides(bugline: Bugline) -> None:
    """The same reports, in the same order, in two projects: one triaged in one batch, the other
    one report at a time. Verdicts, groups, timelines and receipts must be the same."""
    batched_project = await bugline.new_project(name="Batched")
    single_project = await bugline.new_project(name="One by one")
    batched = await post_all(bugline, batched_project, MIXED)
    single = await post_all(bugline, single_project, MIXED)
    backlog = bugline.app.state.bugline.backlog

    applied = await triage_batch(backlog.writer, backlog.readers, batched)
    assert len(applied) == len(MIXED)
    for report_id in single:
        assert await triage_report(backlog.writer, backlog.readers, report_id) is not None

    a, b = await reports(bugline, batched), await reports(bugline, single)
    assert all(r.triaged_at is not None for r in a)
    assert groups_by_position(a) == groups_by_position(b)
    assert groups_by_position(a)[:5] == [0, 1, 0, 3, 0]  # the crash reports are one group
    for x, y in zip(a, b, strict=True):
        assert verdict(x, batched) == verdict(y, single)
    assert decisions(await events(bugline, batched), batched) == decisions(
        await events(bugline, single), single
    )
    assert await receipts(bugline, batched) == await receipts(bugline, single)
    assert await group_counts_hold(bugline, batched_project.id) == await group_counts_hold(
        bugline, single_project.id
    )
    # The first crash report was re-scored as its group grew: three named people and an
    # anonymous one, in two accounts and the anonymous person's own.
    assert a[0].triage is not None
    assert (a[0].triage["duplicates"]["reporters"], a[0].triage["duplicates"]["accounts"]) == (4, 3)
    assert any("4 customers" in reason for reason in a[0].triage["severity"]["reasons"])


@pytest.mark.parametrize("reports_in_group", [1, 2, 500])
def test_one_customers_reports_of_a_problem_score_what_the_first_scored(reports_in_group: int) -> None:
    """Triage skips the severity recount while a group has one person and one account: only
    those counts feed severity (a recount would give the same verdict)."""
    report = TriageInput(
        title="Checkout crashes",
        actual="Payment page goes blank",
        page_url="https://shop.example.com/checkout",
        console=(ConsoleLine("error", CRASH),),
    )
    rules = load_rules(None).severity
    alone = severity.assess(report, rules, None)
    assert severity.assess(report, rules, GroupStats(reports_in_group, 1, 1)) == alone
    assert severity.assess(report, rules, GroupStats(reports_in_group + 1, 2, 1)) != alone


async def test_two_reports_of_a_new_problem_in_one_batch_are_one_group(bugline: Bugline) -> None:
    project = await bugline.new_project(name="New problem")
    ids = await post_all(bugline, project, [order_crash("u-1", 1), order_crash("u-2", 2), password("u-3", 1)])
    backlog = bugline.app.state.bugline.backlog
    applied = await triage_batch(backlog.writer, backlog.readers, ids)
    assert [a.grouping.joined for a in applied] == [False, True, False]
    assert applied[1].grouping.group_id == applied[0].grouping.group_id
    assert applied[1].grouping.matched_report_id == ids[0]
    assert applied[1].grouping.stats.reporters == 2
    assert applied[2].grouping.group_id != applied[0].grouping.group_id
    first, second, other = await reports(bugline, ids)
    assert first.duplicate_group_id == second.duplicate_group_id != other.duplicate_group_id
    assert first.triage is not None and first.triage["duplicates"]["reporters"] == 2  # re-scored
    assert await group_counts_hold(bugline, project.id) == [(1, 1, 1), (2, 2, 2)]


async def test_a_backlog_longer_than_a_batch_ends_in_one_group(bugline: Bugline) -> None:
    project = await bugline.new_project(name="Outage")
    count = 130  # three batches
    people = [f"u-{n % 40}" if n % 7 else None for n in range(count)]
    bodies = [
        order_crash(who, n, f"acct-{int(who[2:]) % 9}" if who else None) for n, who in enumerate(people)
    ]
    ids = await post_all(bugline, project, bodies)
    assert await bugline.triaged() >= count
    found = await reports(bugline, ids)
    assert len({r.duplicate_group_id for r in found}) == 1
    anonymous = people.count(None)
    named = {who for who in people if who}
    accounts = {int(who[2:]) % 9 for who in named}
    assert await group_counts_hold(bugline, project.id) == [
        (count, len(named) + anonymous, len(accounts) + anonymous)
    ]
    triaged = Counter(e.report_id for e in await events(bugline, ids) if e.kind == "triaged")
    assert set(triaged.values()) == {1} and len(triaged) == count


def failing_for(title: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def engine(report_input: Any, *args: Any, **kwargs: Any) -> Any:
        if title in report_input.title:
            raise RuntimeError("the engine broke on this report")
        return real(report_input, *args, **kwargs)

    return engine


async def test_a_report_the_engine_fails_on_does_not_hold_up_its_batch(
    bugline: Bugline, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    project = await bugline.new_project(name="Poison")
    bodies = [order_crash("u-1", 1), order_crash("u-2", 2), report_body(title="POISON"), password("u-3", 1)]
    ids = await post_all(bugline, project, bodies)
    monkeypatch.setattr(triage_module, "triage", failing_for("POISON", triage_module.triage))
    with caplog.at_level(logging.ERROR, logger="bugline.backlog"):
        assert await bugline.triaged() >= 3
    assert "trying them one by one" in caplog.text
    assert f"triage of report {ids[2]} failed" in caplog.text
    found = await reports(bugline, ids)
    assert [r.triaged_at is not None for r in found] == [True, True, False, True]
    assert found[2].status == "received" and found[2].triage is None  # still in the backlog
    assert found[0].duplicate_group_id == found[1].duplicate_group_id
    monkeypatch.undo()
    assert await bugline.triaged() >= 1  # fixed: the next pass triages it
    assert (await reports(bugline, ids[2:3]))[0].triaged_at is not None


async def test_a_failure_inside_the_write_leaves_no_report_claimed(
    bugline: Bugline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch's transaction fails after claiming every report: nothing of it stays, and the
    reports are triaged one by one except the one that fails."""
    project = await bugline.new_project(name="Write failure")
    ids = await post_all(bugline, project, [order_crash("u-1", 1), password("u-2", 1), order_crash("u-3", 2)])
    place = index.Batch.place

    def failing_place(self: index.Batch, n: index.Newcomer, **kwargs: Any) -> index.Grouping:
        if n.report_id == ids[1]:
            raise RuntimeError("the database refused this one")
        return place(self, n, **kwargs)

    monkeypatch.setattr(index.Batch, "place", failing_place)
    backlog = bugline.app.state.bugline.backlog
    with pytest.raises(RuntimeError):
        await triage_batch(backlog.writer, backlog.readers, ids)
    assert [r.triaged_at for r in await reports(bugline, ids)] == [None, None, None]  # rolled back
    assert await bugline.triaged() >= 2
    found = await reports(bugline, ids)
    assert [r.triaged_at is not None for r in found] == [True, False, True]
    assert found[0].duplicate_group_id == found[2].duplicate_group_id
    assert await group_counts_hold(bugline, project.id) == [(2, 2, 2)]


async def test_receipts_are_the_rows_the_notification_queue_writes(bugline: Bugline) -> None:
    project = await bugline.new_project(name="Receipts")
    ids = await post_all(
        bugline,
        project,
        [
            order_crash("u-1", 1),
            {"title": "broken", "actual": "it doesn't work", "reporter": {"id": "u-2", "email": "b@x.org"}},
        ],
    )
    backlog = bugline.app.state.bugline.backlog
    await triage_batch(backlog.writer, backlog.readers, ids)
    columns = [
        c.key for c in Notification.__table__.columns if c.key not in ("id", "created_at", "available_at")
    ]
    async with make_sessionmaker(bugline.engine)() as session, session.begin():
        written = list(
            (await session.execute(select(Notification).where(Notification.report_id.in_(ids)))).scalars()
        )
        assert sorted(n.kind for n in written) == ["needs_info", "received"]
        expected = []
        for n in written:
            await session.delete(n)
            expected.append({c: getattr(n, c) for c in columns})
        await session.flush()

        def again(conn: Any) -> None:
            for row in expected:
                notify_queue.enqueue(
                    conn,
                    project_id=row["project_id"],
                    report_id=row["report_id"],
                    reporter_id=row["reporter_id"],
                    kind=row["kind"],
                    key=row["key"],
                    data=row["data"],
                    now=written[0].created_at,
                )

        await session.run_sync(lambda s: again(s.connection()))
        rewritten = (
            await session.execute(select(Notification).where(Notification.report_id.in_(ids)))
        ).scalars()
        assert sorted(({c: getattr(n, c) for c in columns} for n in rewritten), key=str) == sorted(
            expected, key=str
        )


async def test_two_worker_processes_share_the_backlog(bugline: Bugline, tmp_path: Path) -> None:
    """Two `bugline worker` processes drain one backlog at once: every report gets one verdict,
    each joins its problem's group, and the groups' counts match their members."""
    project = await bugline.new_project(name="Two workers")
    seeds = await post_all(bugline, project, [order_crash("u-0", 0, "acme"), password("u-0", 0)])
    assert await bugline.triaged() >= 2
    bodies = []
    for n in range(1, 91):
        who = f"u-{n % 12}" if n % 5 else None
        bodies.append(order_crash(who, n, f"acct-{n % 4}") if n % 3 else password(who, n))
    ids = await post_all(bugline, project, bodies)

    env = {k: v for k, v in os.environ.items() if not k.startswith("BUGLINE_")}
    env |= {
        "BUGLINE_DATABASE_URL": bugline.settings.effective_database_url,
        "BUGLINE_DATA_DIR": str(tmp_path),
        "BUGLINE_SECRET_KEY": "w" * 40,
        "BUGLINE_TRIAGE_IN_WEB": "false",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "bugline", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    try:
        for _ in range(600):
            async with make_sessionmaker(bugline.engine)() as session:
                waiting = (
                    await session.execute(
                        select(func.count())
                        .select_from(Report)
                        .where(Report.project_id == project.id, Report.triaged_at.is_(None))
                    )
                ).scalar_one()
            if not waiting:
                break
            await asyncio.sleep(0.1)
        assert not waiting, "the workers never drained the backlog"
    finally:
        outputs = []
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            out, _ = worker.communicate(timeout=30)
            outputs.append(out.decode())
    for worker, out in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, out
        assert "Traceback" not in out and "one by one" not in out, out  # no deadlock, no fallback
    triaged = Counter(e.report_id for e in await events(bugline, ids) if e.kind == "triaged")
    assert len(triaged) == len(ids) and set(triaged.values()) == {1}
    crash_group, password_group = (r.duplicate_group_id for r in await reports(bugline, seeds))
    for n, r in enumerate(await reports(bugline, ids), start=1):
        assert r.duplicate_group_id == (crash_group if n % 3 else password_group), n
    assert [c[0] for c in await group_counts_hold(bugline, project.id)] == [31, 61]
