"""Alembic's history builds exactly the models' schema, and can go down and up again, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from bugline.db.engine import make_sync_engine
from bugline.db.migrate import downgrade, upgrade
from bugline.db.models import (
    Base,
    DuplicateGroup,
    DuplicateKey,
    DuplicateMember,
    Project,
    Report,
    ReportStatus,
    new_id,
)
from bugline.grouping import assign
from bugline.inbox.searchddl import include_name
from bugline.triage.duplicates import DuplicateRules, _hash, signature
from bugline.triage.report import ConsoleLine, TriageInput
from tests.conftest import PG_ADMIN_DSN


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    name = f"bugline_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def diff(url: str) -> list[object]:
    engine = make_sync_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        result = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    return list(result)


def tables(url: str) -> set[str]:
    engine = make_sync_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return {n for n in names if include_name(n, "table", {})} - {"alembic_version"}


def test_upgrade_head_matches_the_models(empty_db: str) -> None:
    upgrade(empty_db)
    assert diff(empty_db) == []
    assert tables(empty_db) == set(Base.metadata.tables)


def test_downgrade_and_upgrade_round_trip(empty_db: str) -> None:
    upgrade(empty_db)
    downgrade(empty_db, "base")
    assert tables(empty_db) == set()
    upgrade(empty_db)
    assert diff(empty_db) == []


CHROME = "TypeError: Cannot read properties of undefined (reading 'rate')"
FIREFOX = 'TypeError: can\'t access property "rate", n is undefined'


@pytest.mark.parametrize(
    ("stored_error", "new_error"),
    [
        (CHROME, FIREFOX),
        # Version 1 stored Firefox's wording mangled: the apostrophe of "can't" read as a quote.
        ('TypeError: can\'<value>"rate", n is undefined', CHROME),
    ],
    ids=["chrome-then-firefox", "firefox-then-chrome"],
)
def test_reports_stored_before_signature_v2_are_found_by_another_browsers_report_of_the_crash(
    empty_db: str, stored_error: str, new_error: str
) -> None:
    """0014 makes stored reports' duplicate keys again: a crash reported from one browser before
    the upgrade is found by the same crash reported from another after it, on another page; and
    a downgrade leaves signatures the older code reads."""
    upgrade(empty_db, "0013")
    engine = make_sync_engine(empty_db)
    old_error = stored_error
    stored_v1 = {
        "v": 1,
        "errors": [old_error],
        "stack": ["computeTax@main.js", "renderWithHooks@vendor.js"],
        "route": "shop.example.com/checkout/:id",
        "requests": [],
        "text": [],
    }
    v1_keys = [
        f"e:{_hash(old_error.casefold())}",
        "s:" + _hash(" > ".join(stored_v1["stack"])),
        "r:" + _hash(stored_v1["route"]),
    ]
    project_id, report_id, group_id = new_id(), new_id(), new_id()
    with engine.begin() as conn:
        conn.execute(insert(Project.__table__).values(id=project_id, name="Shop", public_key=new_id()))
        conn.execute(
            insert(Report.__table__).values(
                id=report_id,
                project_id=project_id,
                number=1,
                status_token_hash=new_id() * 2,
                status=ReportStatus.RECEIVED,
                title="Checkout broken",
            )
        )
        conn.execute(
            insert(DuplicateGroup.__table__).values(
                id=group_id,
                project_id=project_id,
                primary_report_id=report_id,
                report_count=1,
                reporter_count=1,
                account_count=1,
            )
        )
        conn.execute(
            insert(DuplicateMember.__table__).values(
                report_id=report_id,
                project_id=project_id,
                group_id=group_id,
                reporter_key=report_id,
                account_key=report_id,
                signature=stored_v1,
            )
        )
        for key in v1_keys:
            conn.execute(
                insert(DuplicateKey.__table__).values(
                    report_id=report_id, key=key, project_id=project_id, group_id=group_id
                )
            )
    upgrade(empty_db)
    later = TriageInput(
        title="Can't continue to payment",
        page_url="https://shop.example.com/cart",
        console=(
            ConsoleLine(
                "error",
                f"Uncaught {new_error}",
                "computeTax@https://shop.example.com/static/js/main.9b1e77.js:1:48213",
            ),
        ),
    )
    with engine.begin() as conn:
        conn.execute(
            insert(Report.__table__).values(
                id=(new := new_id()),
                project_id=project_id,
                number=2,
                status_token_hash=new_id() * 2,
                status=ReportStatus.RECEIVED,
                title=later.title,
            )
        )
        placed = assign(
            conn,
            project_id=project_id,
            report_id=new,
            reporter_id=None,
            sig=signature(later),
            rules=DuplicateRules.default(),
        )
        stored = set(
            conn.execute(select(DuplicateKey.key).where(DuplicateKey.report_id == report_id)).scalars()
        )
    assert placed.joined and placed.group_id == group_id
    assert "same error: TypeError: Cannot read property 'rate' of undefined or null" in placed.reasons
    assert stored.isdisjoint(v1_keys[:2]) and v1_keys[2] in stored  # error and stack keys made again
    downgrade(empty_db, "0013")
    with engine.connect() as conn:
        older = conn.execute(
            select(DuplicateMember.signature).where(DuplicateMember.report_id == new)
        ).scalar()
    engine.dispose()
    assert older["v"] == 1 and "outage" not in older and older["errors"]
