"""The full-text index behind the inbox's search box, created by migration 0009.

These objects live outside the SQLAlchemy models because the models describe one schema for
both databases and neither object exists on the other: SQLite has an FTS5 table kept in step
with ``reports`` by triggers, PostgreSQL a GIN index over a generated, stored
``search_vector`` column (PostgreSQL keeps it in step; adding it rewrites ``reports`` once,
during the migration). ``include_name`` tells Alembic's comparison (env.py,
tests/migrations) to leave them alone.

Both cut text into words the same way (letters and digits; no stemming, no stop words, no
accent folding: reports come in every language and quote error messages verbatim), which is
what ``bugline.inbox.search`` assumes when it turns the search box into a query.

On SQLite, a later migration that makes Alembic *rebuild* ``reports`` (batch mode's copy and
rename, for an altered or dropped column) drops these triggers with the old table and may
renumber rowids: it must call ``sqlite_rebuild()`` statements afterwards.
"""

from __future__ import annotations

COLUMNS = ("title", "trying_to_do", "expected", "actual", "error_text", "steps", "description")
FTS_TABLE = "reports_fts"
PG_INDEX = "ix_reports_search"
PG_COLUMN = "search_vector"
PG_CONFIG = "simple"
PG_CHARS = 100_000  # keeps a tsvector far below PostgreSQL's 1 MB limit, so no report fails to index
_TRIGGERS = ("reports_fts_insert", "reports_fts_delete", "reports_fts_update")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's include_name hook: False for the search objects (and FTS5's shadow tables)."""
    if type_ == "table" and name is not None and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
        return False
    if type_ == "column" and name == PG_COLUMN:
        return False
    return not (type_ == "index" and name == PG_INDEX)


def pg_document() -> str:
    """The indexed text as a tsvector, stored in ``reports.search_vector``."""
    joined = " || ' ' || ".join(COLUMNS)
    return f"to_tsvector('{PG_CONFIG}'::regconfig, left({joined}, {PG_CHARS}))"


def pg_create() -> list[str]:
    # A stored column, not only an expression index: the newest-first walk then checks each
    # row's stored vector instead of re-parsing its text (PostgreSQL prices that far too low and
    # would pick the walk anyway), and ANALYZE keeps word statistics for the planner.
    return [
        f"ALTER TABLE reports ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS ({pg_document()}) STORED",
        f"CREATE INDEX {PG_INDEX} ON reports USING gin ({PG_COLUMN})",
    ]


def pg_drop() -> list[str]:
    return [f"DROP INDEX IF EXISTS {PG_INDEX}", f"ALTER TABLE reports DROP COLUMN IF EXISTS {PG_COLUMN}"]


def _values(prefix: str) -> str:
    return ", ".join(f"{prefix}.{c}" for c in COLUMNS)


def sqlite_create() -> list[str]:
    cols = ", ".join(COLUMNS)
    # External content (the text stays in reports only), no per-row sizes (no ranking needed).
    return [
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({cols}, content='reports', content_rowid='rowid', "
        "columnsize=0, tokenize='unicode61 remove_diacritics 0')",
        *_sqlite_triggers(),
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",  # noqa: S608
    ]


def _sqlite_triggers() -> list[str]:
    cols = ", ".join(COLUMNS)
    # Constants only (table and column names), never input: hence the noqa S608s.
    add = f"INSERT INTO {FTS_TABLE}(rowid, {cols}) VALUES (new.rowid, {_values('new')});"  # noqa: S608
    remove = (
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {cols}) VALUES ('delete', old.rowid, {_values('old')});"  # noqa: S608
    )
    return [
        f"CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports BEGIN {add} END",
        f"CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports BEGIN {remove} END",
        # Only the customer's words re-index: status and triage updates leave the index alone.
        f"CREATE TRIGGER reports_fts_update AFTER UPDATE OF {cols} ON reports BEGIN {remove} {add} END",
    ]


def sqlite_drop() -> list[str]:
    return [*(f"DROP TRIGGER IF EXISTS {t}" for t in _TRIGGERS), f"DROP TABLE IF EXISTS {FTS_TABLE}"]


def sqlite_rebuild() -> list[str]:
    """After ``reports`` was rebuilt: the triggers again, and the index from the table."""
    return [
        *(f"DROP TRIGGER IF EXISTS {t}" for t in _TRIGGERS),
        *_sqlite_triggers(),
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",  # noqa: S608
    ]
