"""Watched sources may be datasets: the formats ``cns`` and ``csis``

``ck_watch_source_format`` admits the CNS missile-test and CSIS provocations CSVs beside Atom and
RSS. PostgreSQL changes the constraint in place. SQLite changes a CHECK constraint only by rebuilding
``watch_source``, and dropping the old table with foreign keys on deletes its drafts (``ON DELETE
CASCADE``) and their review posts: those rows are set aside in temporary tables for the rebuild and
put back, ids and all. Going down removes the dataset sources (their drafts go with them).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FORMATS = "format IN ('atom', 'rss', 'cns', 'csis')"
_OLD_FORMATS = "format IN ('atom', 'rss')"
#: The tables whose rows hang on ``watch_source`` by a cascading key, children after parents.
_CHILDREN = ("draft", "review_post")


@contextmanager
def _children_kept() -> Iterator[None]:
    """On SQLite: the drafts and review posts as they were before a rebuild of ``watch_source``."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for table in _CHILDREN:
            op.execute(f"CREATE TEMP TABLE kept_{table} AS SELECT * FROM {table}")  # noqa: S608 - our tables
    yield
    if sqlite:
        for table in reversed(_CHILDREN):
            op.execute(f"DELETE FROM {table}")  # noqa: S608 - whatever the cascade left, once
        for table in _CHILDREN:
            op.execute(f"INSERT INTO {table} SELECT * FROM kept_{table}")  # noqa: S608
            op.execute(f"DROP TABLE kept_{table}")


def _formats(check: str) -> None:
    with _children_kept(), op.batch_alter_table("watch_source", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_watch_source_format"), type_="check")
        batch_op.create_check_constraint("format", check)


def upgrade() -> None:
    _formats(_FORMATS)


def downgrade() -> None:
    op.execute("DELETE FROM watch_source WHERE format IN ('cns', 'csis')")
    _formats(_OLD_FORMATS)
