"""Alembic's history builds exactly the models' schema, and can go down and up again, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bugline.db.engine import make_sync_engine
from bugline.db.migrate import downgrade, upgrade
from bugline.db.models import Base
from bugline.inbox.searchddl import include_name
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
