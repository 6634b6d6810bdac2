"""triage backlog index: accepted reports without a verdict

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reports_status_triaged", "reports", ["status", "triaged_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_status_triaged", table_name="reports")
