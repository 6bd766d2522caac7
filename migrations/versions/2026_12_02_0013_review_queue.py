"""The review side of the queue: merged drafts, members' suggestions, review channels

A draft may be ``merged`` into an existing event (as a further source); a member's suggestion is a
draft without a watched source (``source_id`` null) that names its ``suggested_by``; ``announced``
says a draft was offered to its scope's review channels (drafts already there count as offered);
``guild_settings.review_channel_id`` is where a guild's curators want new drafts posted.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATES = "state IN ('pending', 'published', 'merged', 'rejected')"
_OLD_STATES = "state IN ('pending', 'published', 'rejected')"


def upgrade() -> None:
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggested_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("announced", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column("source_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(op.f("ck_draft_state"), type_="check")
        batch_op.create_check_constraint("state", _STATES)
        batch_op.create_index("ix_draft_suggested_by", ["suggested_by", "created_at"], unique=False)
    op.execute("UPDATE draft SET announced = true")
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_channel_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.drop_column("review_channel_id")
    op.execute("DELETE FROM draft WHERE source_id IS NULL")
    op.execute("UPDATE draft SET state = 'published' WHERE state = 'merged'")
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.drop_index("ix_draft_suggested_by")
        batch_op.drop_constraint(op.f("ck_draft_state"), type_="check")
        batch_op.create_check_constraint("state", _OLD_STATES)
        batch_op.alter_column("source_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("announced")
        batch_op.drop_column("suggested_by")
