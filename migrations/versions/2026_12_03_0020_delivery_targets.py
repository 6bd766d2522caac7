"""Delivery targets: forum posts, threads, discussion threads and webhook identity

``subscription`` says where its alerts go (``target``: channel, forum or thread, with a thread's
``parent_id``), whether a channel's alerts open a discussion thread (``thread``, from significance
``thread_min``), which forum tags a post carries (``forum_tags``: kind or program) and who posts
(``identity``: the bot, or a channel webhook with ``webhook_name`` and ``webhook_avatar_url``; the
webhook the bot made is kept as ``webhook_id`` and ``webhook_token``, and ``webhook_recreated``
says it was made again once). ``delivery`` records the thread a post opened and the webhook it
went through, so an edit reaches it. Plain columns with constant defaults: SQLite adds them in
place.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SUBSCRIPTION = (
    sa.Column("target", sa.String(8), nullable=False, server_default="channel"),
    sa.Column("parent_id", sa.BigInteger(), nullable=True),
    sa.Column("thread", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("thread_min", sa.Integer(), nullable=False, server_default=sa.text("4")),
    sa.Column("forum_tags", sa.String(8), nullable=True),
    sa.Column("identity", sa.String(8), nullable=False, server_default="bot"),
    sa.Column("webhook_name", sa.String(80), nullable=True),
    sa.Column("webhook_avatar_url", sa.Text(), nullable=True),
    sa.Column("webhook_id", sa.BigInteger(), nullable=True),
    sa.Column("webhook_token", sa.Text(), nullable=True),
    sa.Column("webhook_recreated", sa.Boolean(), nullable=False, server_default=sa.false()),
)
_DELIVERY = (
    sa.Column("thread_id", sa.BigInteger(), nullable=True),
    sa.Column("webhook_id", sa.BigInteger(), nullable=True),
)


def upgrade() -> None:
    for column in _SUBSCRIPTION:
        op.add_column("subscription", column)
    for column in _DELIVERY:
        op.add_column("delivery", column)


def downgrade() -> None:
    for column in reversed(_DELIVERY):
        op.execute(f"ALTER TABLE delivery DROP COLUMN {column.name}")
    for column in reversed(_SUBSCRIPTION):
        op.execute(f"ALTER TABLE subscription DROP COLUMN {column.name}")
