"""Digest subscriptions: a period's events in one message

``subscription`` gains its mode (``alert``, one message per event, or ``digest``) and a digest's
schedule: ``digest_frequency`` (daily|weekly), ``digest_at`` ("HH:MM" in the server's time zone),
``digest_weekday`` (0 = Monday, weekly only), ``digest_timezone`` (its own zone, else the server's), ``digest_empty`` (post a digest of an empty period)
and ``digest_next_at`` (the next period boundary, UTC). ``digest_item`` records each event
collected for a digest subscription; the scheduler assigns the unassigned ones to a period
(``period_start``) when it closes it. A period is a ``delivery`` of action ``digest`` with no
event, one per (subscription, period start, part): ``delivery.event_id`` becomes nullable and
``period_start``/``period_end`` say which period it is.

On SQLite the delivery table is rebuilt (nothing refers to it, so nothing cascades). Going down
removes the digest deliveries, items and columns.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PERIOD = "uq_delivery_subscription_id_period_start_revision"


def upgrade() -> None:
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mode", sa.String(8), nullable=False, server_default="alert"))
        batch_op.add_column(sa.Column("digest_frequency", sa.String(8), nullable=True))
        batch_op.add_column(sa.Column("digest_at", sa.String(5), nullable=True))
        batch_op.add_column(sa.Column("digest_weekday", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("digest_timezone", sa.String(64), nullable=True))
        batch_op.add_column(
            sa.Column("digest_empty", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("digest_next_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_subscription_digest_next_at", ["digest_next_at"], unique=False)
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("event_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("period_start", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("period_end", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(op.f(_PERIOD), ["subscription_id", "period_start", "revision"])
        batch_op.drop_constraint(op.f("ck_delivery_action"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_delivery_action"), "action IN ('post', 'edit', 'summary', 'digest')"
        )
    op.create_table(
        "digest_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_digest_item_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_digest_item_subscription_id_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_item")),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name=op.f("uq_digest_item_subscription_id_event_id")
        ),
    )
    with op.batch_alter_table("digest_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_digest_item_subscription_id_period_start", ["subscription_id", "period_start"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_item", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_item_subscription_id_period_start")
    op.drop_table("digest_item")
    op.execute("DELETE FROM delivery WHERE action = 'digest' OR event_id IS NULL")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_delivery_action"), type_="check")
        batch_op.create_check_constraint(op.f("ck_delivery_action"), "action IN ('post', 'edit', 'summary')")
        batch_op.drop_constraint(op.f(_PERIOD), type_="unique")
        batch_op.drop_column("period_end")
        batch_op.drop_column("period_start")
        batch_op.alter_column("event_id", existing_type=sa.Integer(), nullable=False)
    op.execute("DELETE FROM subscription WHERE mode = 'digest'")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index("ix_subscription_digest_next_at")
        batch_op.drop_column("digest_next_at")
        batch_op.drop_column("digest_empty")
        batch_op.drop_column("digest_timezone")
        batch_op.drop_column("digest_weekday")
        batch_op.drop_column("digest_at")
        batch_op.drop_column("digest_frequency")
        batch_op.drop_column("mode")
