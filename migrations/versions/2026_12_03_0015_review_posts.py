"""Review posts: each new draft offered in a guild's review channel

A ``review_post`` is one draft to be posted in one guild's review channel (``/settings
review-channel``) with its Publish/Edit/Merge/Reject buttons, written with the draft (so exactly
once), sent by the review poster with a lease and a stable nonce like the alert outbox; once the
draft is decided, ``edit_due`` asks for the posted message to be edited (who decided what).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("edit_due", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')",
            name=op.f("ck_review_post_state"),
        ),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["draft.id"], name=op.f("fk_review_post_draft_id_draft"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_post")),
        sa.UniqueConstraint("draft_id", "guild_id", name=op.f("uq_review_post_draft_id_guild_id")),
    )
    with op.batch_alter_table("review_post", schema=None) as batch_op:
        batch_op.create_index("ix_review_post_state", ["state", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_post", schema=None) as batch_op:
        batch_op.drop_index("ix_review_post_state")
    op.drop_table("review_post")
