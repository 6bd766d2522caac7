"""Events: a ``milestone`` flag (a curated turning point) and one primary talks track

The primary track is a row of its own table keyed by the event, so "one per event" is the primary
key rather than a partial unique index over ``event_track``, and writing it is an ordinary
relationship. It is not a column of ``event``: on SQLite a foreign-key column can only be added
inline (its name and ON DELETE are then invisible to reflection, so the schema check cannot see
it), and rebuilding ``event`` instead would drop its full-text triggers and, with foreign keys
enforced, cascade-delete every row that references an event. The primary track is also among the
event's ``tracks`` (the service keeps it so); the other tracks the event only relates to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event", sa.Column("milestone", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "event_primary_track",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_event_primary_track_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["talks_track.id"],
            name=op.f("fk_event_primary_track_track_id_talks_track"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_primary_track")),
    )
    op.create_index(
        "ix_event_primary_track_track_id", "event_primary_track", ["track_id", "event_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_event_primary_track_track_id", table_name="event_primary_track")
    op.drop_table("event_primary_track")
    # A plain column: SQLite drops it in place (no rebuild of ``event``).
    op.execute("ALTER TABLE event DROP COLUMN milestone")
