"""Deliveries: a ``summary`` action with its ``summary_count``

An import queues at most a set number of alerts per channel (IMPORT_ALERT_CAP); the events past
it are summed up in one delivery per channel, action ``summary``, whose message says how many
more events were imported. ``summary_count`` is that number (NULL on every other delivery). On
SQLite the CHECK constraint changes through a rebuild of ``delivery`` (nothing references it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("summary_count", sa.Integer(), nullable=True))
        batch.drop_constraint(op.f("ck_delivery_action"), type_="check")
        batch.create_check_constraint(op.f("ck_delivery_action"), "action IN ('post', 'edit', 'summary')")


def downgrade() -> None:
    op.execute("DELETE FROM delivery WHERE action = 'summary'")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint(op.f("ck_delivery_action"), type_="check")
        batch.create_check_constraint(op.f("ck_delivery_action"), "action IN ('post', 'edit')")
        batch.drop_column("summary_count")
