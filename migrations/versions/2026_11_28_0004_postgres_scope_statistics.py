"""PostgreSQL: statistics on an event's scope expression, so the planner knows most events are shared

Visibility is written as ``coalesce(guild_id, 0) IN (0, :guild)``. Without statistics on that
expression PostgreSQL guesses it keeps 1 % of rows and sorts instead of walking the date index
(95 ms → 5 ms for a filtered timeline page at 100,000 events). Needs PostgreSQL 14 or newer;
older servers skip it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _postgres_14() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    return int(bind.exec_driver_sql("SHOW server_version_num").scalar() or 0) >= 140000


def upgrade() -> None:
    if _postgres_14():
        op.execute("CREATE STATISTICS IF NOT EXISTS event_scope ON (coalesce(guild_id, 0)) FROM event")
        op.execute("ANALYZE event")


def downgrade() -> None:
    if _postgres_14():
        op.execute("DROP STATISTICS IF EXISTS event_scope")
