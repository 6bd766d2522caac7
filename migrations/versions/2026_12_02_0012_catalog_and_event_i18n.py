"""Translations on every catalog record and on events

Systems and facilities already carried their names in Korean, Japanese and Simplified Chinese
(``i18n``); programs, parties, talks tracks and topics gain the same column, and every ``i18n``
may now hold a ``summary`` beside the name and aliases. Events gain ``i18n`` for a translated
title and summary per language. Existing rows get ``{}`` (nothing translated): the seed fills them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("actor", "program", "talks_track", "topic", "event")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("i18n", sa.JSON(), server_default=sa.text("'{}'"), nullable=False))


def downgrade() -> None:
    # Plain columns: SQLite drops them in place (no rebuild of ``event``, whose search triggers stay).
    for table in reversed(TABLES):
        op.execute(f"ALTER TABLE {table} DROP COLUMN i18n")
