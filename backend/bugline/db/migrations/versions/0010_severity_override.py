"""report page actions: an agent's severity, kept over later automatic re-triage

Revision ID: 0010
Revises: 0009

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bugline.db.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("severity_override", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("severity_override_by", sa.String(length=320), nullable=True))
        batch_op.add_column(
            sa.Column("severity_override_at", bugline.db.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("severity_override_at")
        batch_op.drop_column("severity_override_by")
        batch_op.drop_column("severity_override")
