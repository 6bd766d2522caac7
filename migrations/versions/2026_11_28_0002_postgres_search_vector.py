"""PostgreSQL: store the search vector (title weighted above summary) instead of an expression index

Ranking needs the vector of every matching row; an expression index cannot give it back, so each
search recomputed to_tsvector for every match. A stored, generated column can. SQLite keeps FTS5.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VECTOR = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_event_search")
    op.execute(f"ALTER TABLE event ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED")
    op.execute("CREATE INDEX ix_event_search_vector ON event USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_event_search_vector")
    op.execute("ALTER TABLE event DROP COLUMN IF EXISTS search_vector")
    op.execute(
        "CREATE INDEX ix_event_search ON event USING gin (to_tsvector('english', title || ' ' || summary))"
    )
