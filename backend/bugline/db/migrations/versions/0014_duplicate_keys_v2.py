"""duplicates: rebuild the lookup keys of stored reports for signature version 2

Revision ID: 0014
Revises: 0013

Signature version 2 compares an error by its family across browsers ("Cannot read
properties of undefined (reading 'rate')" in Chrome is "can't access property "rate", ... is
undefined" in Firefox) and leaves library frames out of stacks. A new report's keys are
made that way; stored reports' keys were not, so without this a new report of a problem
reported before the upgrade would find the old reports only by page or words. Stored
signatures are kept as they are (version 1 still reads, its errors mapped to their family);
only the keys are made again from them, with the code that makes them now (a later version
that changes keys again rebuilds them in its own migration, so running this one with newer
code first does no harm).

Downgrading marks version 2 signatures as version 1, which version 1 code reads (it ignores
the outage part, and reads an error family's wording as a message); it leaves the keys, so
until those reports are closed the older code finds some of them by page, request and words
only, not by error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from bugline.triage.duplicates import Signature, index_keys

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BATCH = 500

members = sa.table(
    "duplicate_members",
    sa.column("report_id", sa.String),
    sa.column("project_id", sa.String),
    sa.column("group_id", sa.String),
    sa.column("signature", sa.JSON),
    sa.column("created_at", sa.DateTime),
)
keys = sa.table(
    "duplicate_keys",
    sa.column("report_id", sa.String),
    sa.column("key", sa.String),
    sa.column("project_id", sa.String),
    sa.column("group_id", sa.String),
    sa.column("created_at", sa.DateTime),
)


def _batches(*columns: Any) -> Iterator[Sequence[Any]]:
    """Every member row, ``BATCH`` at a time in report id order (keyset paging)."""
    conn = op.get_bind()
    after = ""
    while True:
        rows = conn.execute(
            sa.select(members.c.report_id, *columns)
            .where(members.c.report_id > after)
            .order_by(members.c.report_id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        after = rows[-1].report_id
        yield rows


def upgrade() -> None:
    conn = op.get_bind()
    for rows in _batches(members.c.project_id, members.c.group_id, members.c.signature, members.c.created_at):
        new: list[dict[str, Any]] = []
        for row in rows:
            new.extend(
                {
                    "report_id": row.report_id,
                    "key": key,
                    "project_id": row.project_id,
                    "group_id": row.group_id,
                    "created_at": row.created_at,
                }
                for key in index_keys(Signature.from_json(row.signature))
            )
        conn.execute(sa.delete(keys).where(keys.c.report_id.in_([r.report_id for r in rows])))
        if new:
            conn.execute(sa.insert(keys), new)


def downgrade() -> None:
    conn = op.get_bind()
    for rows in _batches(members.c.signature):
        for row in rows:
            stored = row.signature
            if isinstance(stored, dict) and stored.get("v") == 2:
                older = {k: v for k, v in stored.items() if k != "outage"} | {"v": 1}
                conn.execute(
                    sa.update(members).where(members.c.report_id == row.report_id).values(signature=older)
                )
