"""Deliveries: ``crosspost`` and ``crosspost_at``, an alert's crosspost in an announcement channel

An alert posted in an announcement channel is crossposted to the channels following it. Discord
allows about 10 crossposts per hour per channel; beyond that the alert stays posted and its
crosspost waits: ``crosspost`` is ``pending`` until ``crosspost_at``, then ``done`` (or
``failed``, the reason in ``last_error``); ``NULL`` for a channel that is not an announcement
channel. Plain nullable columns and an index on them: SQLite adds them in place.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("delivery", sa.Column("crosspost", sa.String(8), nullable=True))
    op.add_column("delivery", sa.Column("crosspost_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_delivery_crosspost", "delivery", ["crosspost", "crosspost_at"])


def downgrade() -> None:
    op.drop_index("ix_delivery_crosspost", table_name="delivery")
    op.execute("ALTER TABLE delivery DROP COLUMN crosspost_at")
    op.execute("ALTER TABLE delivery DROP COLUMN crosspost")
