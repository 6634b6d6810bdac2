"""inbox: indexes for each sort and filter, full-text search over the customer's words

Revision ID: 0009
Revises: 0008

The (project, created_at, id) and (project, status, ...) indexes replace the two-column
ones they extend. The search index is outside the models (see bugline.inbox.searchddl):
an FTS5 table with triggers on SQLite, a GIN expression index on PostgreSQL.
"""

from __future__ import annotations

from alembic import op

from bugline.inbox import searchddl

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_reports_project_created_id": ["project_id", "created_at", "id"],
    "ix_reports_project_status_created": ["project_id", "status", "created_at", "id"],
    "ix_reports_project_severity_created": ["project_id", "severity", "created_at", "id"],
    "ix_reports_project_complete_created": ["project_id", "completeness", "created_at", "id"],
}


def _search_ddl(create: bool) -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        return searchddl.pg_create() if create else searchddl.pg_drop()
    return searchddl.sqlite_create() if create else searchddl.sqlite_drop()


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "reports", columns)
    op.drop_index("ix_reports_project_created", table_name="reports")
    op.drop_index("ix_reports_project_status", table_name="reports")
    op.create_index("ix_reporters_project_account", "reporters", ["project_id", "account"])
    for statement in _search_ddl(create=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _search_ddl(create=False):
        op.execute(statement)
    op.drop_index("ix_reporters_project_account", table_name="reporters")
    op.create_index("ix_reports_project_status", "reports", ["project_id", "status"])
    op.create_index("ix_reports_project_created", "reports", ["project_id", "created_at"])
    for name in INDEXES:
        op.drop_index(name, table_name="reports")
