"""Deliveries: ``first_attempt_at``, the first attempt since the delivery was queued or resumed

Retries of a delivery are bounded by the time elapsed since then (24 hours by default) rather than
by a number of attempts; ``/alerts resume`` clears it, so a resumed delivery gets the full time
again. A plain nullable column: SQLite adds it in place.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("delivery", sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE delivery DROP COLUMN first_attempt_at")
