"""Watched sources and the drafts their new items become

A ``watch_source`` is a feed the watcher polls (conditional GET state, its last check, last new
item, last error and failures in a row, paused, its own interval); each new item becomes a ``draft``
(one per source and GUID) that a curator publishes as an event or rejects.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 00:56:27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watch_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("etag", sa.String(length=300), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_new_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("format IN ('atom', 'rss')", name=op.f("ck_watch_source_format")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_source")),
    )
    with op.batch_alter_table("watch_source", schema=None) as batch_op:
        batch_op.create_index("ix_watch_source_guild_id", ["guild_id", "id"], unique=False)

    op.create_table(
        "draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("guid", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("precision", sa.String(length=5), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("significance", sa.Integer(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("publisher", sa.String(length=200), nullable=False),
        sa.Column("item_title", sa.String(length=500), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("precision IN ('day', 'month', 'year')", name=op.f("ck_draft_precision")),
        sa.CheckConstraint("state IN ('pending', 'published', 'rejected')", name=op.f("ck_draft_state")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_draft_event_id_event"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["watch_source.id"],
            name=op.f("fk_draft_source_id_watch_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft")),
        sa.UniqueConstraint("source_id", "guid", name=op.f("uq_draft_source_id_guid")),
    )
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.create_index("ix_draft_guild_id", ["guild_id", "state", "id"], unique=False)
        batch_op.create_index("ix_draft_source_id_url", ["source_id", "url"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("draft", schema=None) as batch_op:
        batch_op.drop_index("ix_draft_source_id_url")
        batch_op.drop_index("ix_draft_guild_id")

    op.drop_table("draft")
    with op.batch_alter_table("watch_source", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_source_guild_id")

    op.drop_table("watch_source")
