"""Duplicate groups in the database, on SQLite and PostgreSQL: who ends up together, and the counts."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, insert, select, update

from bugline.db.engine import make_sync_engine
from bugline.db.models import DuplicateGroup, DuplicateKey, Project, Report, Reporter, ReportStatus, new_id
from bugline.grouping import Grouping, assign, detach, group_stats, refresh_status
from bugline.tokens import public_key
from bugline.triage.duplicates import DuplicateRules, signature
from bugline.triage.report import ConsoleLine, FailedRequest, GroupStats, TriageInput

REPORTS = cast(Table, Report.__table__)
REPORTERS = cast(Table, Reporter.__table__)
PROJECTS = cast(Table, Project.__table__)
GROUPS = cast(Table, DuplicateGroup.__table__)
KEYS = cast(Table, DuplicateKey.__table__)
RULES = DuplicateRules.default()
CRASH = "Uncaught TypeError: Cannot read properties of undefined (reading 'total')"


@pytest.fixture(scope="module")
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_sync_engine(db_url)
    yield engine
    engine.dispose()


@dataclass
class Shop:
    """One project with its customers, filing reports the way intake stores them."""

    engine: Engine
    project_id: str
    number: int = 0
    customers: dict[str, str] = field(default_factory=dict)

    def customer(self, name: str, account: str | None) -> str:
        if name not in self.customers:
            reporter_id = new_id()
            with self.engine.begin() as conn:
                conn.execute(
                    insert(REPORTERS).values(
                        id=reporter_id,
                        project_id=self.project_id,
                        email=f"{name}@example.com",
                        account=account,
                    )
                )
            self.customers[name] = reporter_id
        return self.customers[name]

    def report(
        self, who: str | None, report: TriageInput, account: str | None = None
    ) -> tuple[str, Grouping]:
        reporter_id = self.customer(who, account) if who else None
        self.number += 1
        report_id = new_id()
        with self.engine.begin() as conn:
            conn.execute(
                insert(REPORTS).values(
                    id=report_id,
                    project_id=self.project_id,
                    reporter_id=reporter_id,
                    number=self.number,
                    status_token_hash=secrets.token_hex(32),
                    status=ReportStatus.RECEIVED,
                    title=report.title,
                    actual=report.actual,
                    page_url=report.page_url,
                )
            )
            grouping = assign(
                conn,
                project_id=self.project_id,
                report_id=report_id,
                reporter_id=reporter_id,
                sig=signature(report),
                rules=RULES,
            )
        return report_id, grouping

    def set_status(self, report_id: str, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(REPORTS).where(REPORTS.c.id == report_id).values(status=status))

    def group_of(self, report_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(REPORTS.c.duplicate_group_id).where(REPORTS.c.id == report_id)
            ).scalar()

    def stats(self, group_id: str) -> GroupStats | None:
        with self.engine.connect() as conn:
            return group_stats(conn, self.project_id, group_id)

    def group_row(self, group_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(GROUPS).where(GROUPS.c.id == group_id)).first()


@pytest.fixture
def shop(engine: Engine) -> Shop:
    project_id = new_id()
    with engine.begin() as conn:
        conn.execute(insert(PROJECTS).values(id=project_id, name="Shop", public_key=public_key()))
    return Shop(engine, project_id)


def order_crash(order: int, title: str, actual: str) -> TriageInput:
    return TriageInput(
        title=title,
        actual=actual,
        page_url=f"https://shop.example.com/orders/{order}",
        console=(ConsoleLine("error", CRASH),),
    )


def password_problem() -> TriageInput:
    return TriageInput(
        title="Cannot change my password",
        actual="The security settings page says something went wrong when I save",
        page_url="https://shop.example.com/settings/security",
        network=(FailedRequest("POST", "https://shop.example.com/api/password", 500),),
    )


def test_three_customers_with_the_same_crash_end_up_in_one_group(shop: Shop) -> None:
    first, g1 = shop.report("ana", order_crash(123, "Order page blank", "The page is white"), account="acme")
    second, g2 = shop.report("bo", order_crash(456, "Can't see my order", "Nothing loads"), account="acme")
    third, g3 = shop.report("cy", order_crash(789, "Order details broken", "Blank screen"), account="globex")

    assert not g1.joined
    assert g2.joined and g3.joined
    assert g1.group_id == g2.group_id == g3.group_id
    assert g3.matched_report_id in (first, second)
    # The reason names the error in its family's wording (Firefox and Safari word it otherwise).
    assert "same error: TypeError: Cannot read property 'total' of undefined or null" in g3.reasons
    assert "same page /orders/:id" in g3.reasons
    assert g3.stats == GroupStats(reports=3, reporters=3, accounts=2)
    assert shop.stats(g1.group_id) == GroupStats(3, 3, 2)
    # The others' severity depends on the group's size, so they are handed back for a recount.
    assert set(g3.retriage) == {first, second}
    assert {shop.group_of(r) for r in (first, second, third)} == {g1.group_id}
    # The same customer reporting it again adds a report, not a person: no recount of the others.
    _again, g4 = shop.report("cy", order_crash(790, "Still broken", "Blank screen again"), account="globex")
    assert g4.joined and g4.stats == GroupStats(reports=4, reporters=3, accounts=2)
    assert g4.retriage == ()
    assert shop.group_row(g1.group_id).primary_report_id == first


def test_the_same_customer_again_is_not_another_person(shop: Shop) -> None:
    _, g1 = shop.report("ana", order_crash(1, "Order page blank", "White page"), account="acme")
    _, g2 = shop.report("ana", order_crash(2, "Still blank", "White page again"), account="acme")
    assert g2.group_id == g1.group_id
    assert g2.stats == GroupStats(reports=2, reporters=1, accounts=1)


def test_anonymous_reports_count_as_separate_people(shop: Shop) -> None:
    _, g1 = shop.report(None, order_crash(1, "Order page blank", "White page"))
    _, g2 = shop.report(None, order_crash(2, "Order page blank", "White page"))
    assert g2.group_id == g1.group_id
    assert g2.stats == GroupStats(reports=2, reporters=2, accounts=2)


def test_an_unrelated_report_starts_its_own_group(shop: Shop) -> None:
    _, crash = shop.report("ana", order_crash(1, "Order page blank", "White page"))
    _, other = shop.report("bo", password_problem())
    assert not other.joined
    assert other.group_id != crash.group_id
    assert other.stats == GroupStats(1, 1, 1)
    assert other.matched_report_id is None and other.retriage == ()


def test_a_report_like_a_resolved_one_starts_a_new_group(shop: Shop) -> None:
    first, g1 = shop.report("ana", order_crash(1, "Order page blank", "White page"))
    second, g2 = shop.report("bo", order_crash(2, "Order page blank", "White page"))
    assert g2.group_id == g1.group_id
    for report_id in (first, second):
        shop.set_status(report_id, ReportStatus.RESOLVED)
    with shop.engine.begin() as conn:
        assert refresh_status(conn, shop.project_id, g1.group_id) == "closed"

    _, g3 = shop.report("cy", order_crash(3, "Order page blank again", "White page"))
    assert not g3.joined
    assert g3.group_id != g1.group_id
    assert shop.stats(g1.group_id) == GroupStats(2, 2, 2)

    shop.set_status(second, ReportStatus.REOPENED)
    with shop.engine.begin() as conn:
        assert refresh_status(conn, shop.project_id, g1.group_id) == "open"


def test_a_closed_report_in_an_open_group_is_no_match_but_its_open_siblings_are(shop: Shop) -> None:
    first, g1 = shop.report("ana", order_crash(1, "Order page blank", "White page"))
    second, _ = shop.report("bo", order_crash(2, "Order page blank", "White page"))
    shop.set_status(second, ReportStatus.CLOSED)
    _, g3 = shop.report("cy", order_crash(3, "Order page blank", "White page"))
    assert g3.group_id == g1.group_id
    assert g3.matched_report_id == first
    assert g3.retriage == (first,)


def test_another_projects_reports_are_never_candidates(shop: Shop, engine: Engine) -> None:
    _, mine = shop.report("ana", order_crash(1, "Order page blank", "White page"))
    other_project = new_id()
    with engine.begin() as conn:
        conn.execute(insert(PROJECTS).values(id=other_project, name="Other", public_key=public_key()))
    theirs = Shop(engine, other_project)
    _, g = theirs.report("ana", order_crash(1, "Order page blank", "White page"))
    assert not g.joined and g.group_id != mine.group_id


def test_assigning_twice_does_not_count_twice(shop: Shop) -> None:
    _, g1 = shop.report("ana", order_crash(1, "Order page blank", "White page"))
    second, g2 = shop.report("bo", order_crash(2, "Order page blank", "White page"))
    assert g2.group_id == g1.group_id
    with shop.engine.begin() as conn:
        again = assign(
            conn,
            project_id=shop.project_id,
            report_id=second,
            reporter_id=shop.customers["bo"],
            sig=signature(order_crash(2, "Order page blank", "White page")),
            rules=RULES,
        )
        keys = conn.execute(select(KEYS.c.key).where(KEYS.c.report_id == second)).scalars().all()
    assert again.group_id == g1.group_id
    assert again.stats == GroupStats(2, 2, 2)
    assert len(keys) == len(set(keys)) > 0


def test_detaching_corrects_the_counts_and_hands_over_the_first_report(shop: Shop) -> None:
    first, g1 = shop.report("ana", order_crash(1, "Order page blank", "White page"), account="acme")
    second, _ = shop.report("bo", order_crash(2, "Order page blank", "White page"), account="acme")
    third, _ = shop.report("bo", order_crash(3, "Order page blank", "White page"), account="acme")
    with shop.engine.begin() as conn:
        assert detach(conn, first) == g1.group_id
    assert shop.stats(g1.group_id) == GroupStats(reports=2, reporters=1, accounts=1)
    assert shop.group_row(g1.group_id).primary_report_id == second
    assert shop.group_of(first) is None
    with shop.engine.begin() as conn:
        detach(conn, second)
        detach(conn, third)
        assert detach(conn, third) is None
    assert shop.stats(g1.group_id) is None  # empty groups go away


def test_a_detached_report_is_no_longer_a_candidate(shop: Shop) -> None:
    first, _ = shop.report("ana", order_crash(1, "Order page blank", "White page"))
    with shop.engine.begin() as conn:
        detach(conn, first)
    _, g = shop.report("bo", order_crash(2, "Order page blank", "White page"))
    assert not g.joined
