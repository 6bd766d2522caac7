"""Sources: a dataset row merged into an event is a source carrying the row's id and details

A CNS or CSIS row that records a curated event is attached to it as a further source instead of
becoming a second event. The source keeps the row's external id (``cns:118``; unique, so importing
the same file again finds it) and the row's dataset details (apogee, distance, outcome, ...). Both
are plain nullable columns: SQLite adds them in place.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("source", sa.Column("external_id", sa.String(length=120), nullable=True))
    op.add_column("source", sa.Column("details", sa.JSON(), nullable=True))
    op.create_index("ix_source_external_id", "source", ["external_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_source_external_id", table_name="source")
    op.execute("ALTER TABLE source DROP COLUMN details")
    op.execute("ALTER TABLE source DROP COLUMN external_id")
