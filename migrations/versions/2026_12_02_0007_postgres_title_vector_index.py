"""PostgreSQL: a text index over event titles alone, for title autocomplete

Autocomplete matches word prefixes of the title (``launch:* & soha:*``). The stored search vector
holds the title and the summary, so its index returns every event with those words anywhere and
each candidate is rechecked for the title weight: at 100,000 events ``launch sohae`` read 5,000
rows to keep 2,000. An expression index over the title's own vector returns exactly the title
matches. Core PostgreSQL, no extension. SQLite answers from its FTS5 ``title`` column.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The expression bot.services.fts matches titles with (the title part of the search vector).
TITLE_VECTOR = "to_tsvector('english'::regconfig, coalesce(title, ''))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_event_title_vector ON event USING gin (({TITLE_VECTOR}))")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_event_title_vector")
