"""Several subscriptions per channel; a post's mentions; when a subscription's state changed

``subscription`` loses its unique (guild, channel): a channel may hold several subscriptions, each
with its own filters and mention role. One alert still goes to a channel per event (the first
matching subscription's delivery); ``delivery.mention_role_ids`` lists the roles of every matching
subscription of that channel when there are several. ``subscription.state_since`` says when a
subscription was last paused, disabled or resumed.

On SQLite the constraint goes through a rebuild of ``subscription``. Foreign keys are on and
cannot be turned off inside the migration's transaction, and dropping the old table would delete
every ``delivery`` row through ``ON DELETE CASCADE``: the deliveries are copied aside first and
put back after the rebuild, ids and all. Going down merges nothing: it refuses while a channel
holds more than one subscription.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 07:40:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNIQUE = "uq_subscription_guild_id_channel_id"


def _rebuild_subscription(change: Callable[[BatchOperations], None]) -> None:
    """Run ``change(batch)`` on ``subscription``, keeping every delivery on SQLite."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMPORARY TABLE _delivery_kept AS SELECT * FROM delivery")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        change(batch_op)
    if sqlite:
        op.execute("DELETE FROM delivery")  # none is left, unless SQLite kept them after all
        op.execute("INSERT INTO delivery SELECT * FROM _delivery_kept")
        op.execute("DROP TABLE _delivery_kept")


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mention_role_ids", sa.JSON(), nullable=True))

    def change(batch_op: BatchOperations) -> None:
        batch_op.drop_constraint(op.f(_UNIQUE), type_="unique")
        batch_op.add_column(sa.Column("state_since", sa.DateTime(timezone=True), nullable=True))

    _rebuild_subscription(change)


def downgrade() -> None:
    shared = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT count(*) FROM (SELECT 1 FROM subscription GROUP BY guild_id, channel_id HAVING count(*) > 1) s"
            )
        )
        .scalar()
    )
    if shared:
        raise RuntimeError(
            f"{shared} channels hold several subscriptions: remove the extra ones (/alerts unsubscribe) first"
        )

    def change(batch_op: BatchOperations) -> None:
        batch_op.drop_column("state_since")
        batch_op.create_unique_constraint(op.f(_UNIQUE), ["guild_id", "channel_id"])

    _rebuild_subscription(change)
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("mention_role_ids")
