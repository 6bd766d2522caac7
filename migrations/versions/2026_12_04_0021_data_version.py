"""Data versions: a write counter per scope of events

``data_version`` holds, per scope (0: the global events; else a guild id, for its local events),
how many writes its events have had. The lifecycle writer bumps it in each write's transaction;
a cache of answers drawn from events (charts) reads one row to know it is current, where it
counted and summed every visible event. A row is made by the first write of its scope.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("scope", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_data_version")),
    )


def downgrade() -> None:
    op.drop_table("data_version")
