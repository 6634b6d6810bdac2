"""duplicate groups: groups, their members (signature, reporter, account) and the key index

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bugline.db.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duplicate_groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("primary_report_id", sa.String(length=32), nullable=True),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("reporter_count", sa.Integer(), nullable=False),
        sa.Column("account_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", bugline.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bugline.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["primary_report_id"],
            ["reports.id"],
            name=op.f("fk_duplicate_groups_primary_report_id_reports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_duplicate_groups_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_groups")),
    )
    with op.batch_alter_table("duplicate_groups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_duplicate_groups_project_status", ["project_id", "status", "updated_at"], unique=False
        )

    op.create_table(
        "duplicate_keys",
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", bugline.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["duplicate_groups.id"],
            name=op.f("fk_duplicate_keys_group_id_duplicate_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_duplicate_keys_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_duplicate_keys_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "key", name=op.f("pk_duplicate_keys")),
    )
    with op.batch_alter_table("duplicate_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_duplicate_keys_project_key", ["project_id", "key", "created_at"], unique=False
        )

    op.create_table(
        "duplicate_members",
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("reporter_key", sa.String(length=64), nullable=False),
        sa.Column("account_key", sa.String(length=250), nullable=False),
        sa.Column("matched_report_id", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("signature", sa.JSON(), nullable=False),
        sa.Column("created_at", bugline.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["duplicate_groups.id"],
            name=op.f("fk_duplicate_members_group_id_duplicate_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_duplicate_members_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_duplicate_members_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_duplicate_members")),
    )
    with op.batch_alter_table("duplicate_members", schema=None) as batch_op:
        batch_op.create_index("ix_duplicate_members_group_account", ["group_id", "account_key"], unique=False)
        batch_op.create_index("ix_duplicate_members_group_created", ["group_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_duplicate_members_group_reporter", ["group_id", "reporter_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("duplicate_members", schema=None) as batch_op:
        batch_op.drop_index("ix_duplicate_members_group_created")
        batch_op.drop_index("ix_duplicate_members_group_reporter")
        batch_op.drop_index("ix_duplicate_members_group_account")

    op.drop_table("duplicate_members")
    with op.batch_alter_table("duplicate_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_duplicate_keys_project_key")

    op.drop_table("duplicate_keys")
    with op.batch_alter_table("duplicate_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_duplicate_groups_project_status")

    op.drop_table("duplicate_groups")
