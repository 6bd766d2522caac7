"""Search the events' translations: ``event.search_local`` in the full-text index

``search_local`` holds an event's translated titles and summaries (every language of its
``i18n``) with Korean, Japanese and Chinese runs cut into bigrams (``bot/services/cjk.py``; the
application writes it with ``i18n``). SQLite's ``event_fts`` gains it as a third column (the FTS5
table is made again and rebuilt; its triggers follow the column too); PostgreSQL's stored
``search_vector`` gains it at weight C, below the summary (the generated column is made again:
PostgreSQL 15 cannot change a generation expression). Existing rows are filled here.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 08:20:00
"""

import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The bigram form as of this revision (bot/services/cjk.py may change; a migration may not).
_RUN = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f]+"
)


def _pairs(run: str) -> list[str]:
    return [run] if len(run) < 2 else [run[i : i + 2] for i in range(len(run) - 1)]


def _local_text(i18n: Any) -> str:
    if isinstance(i18n, str):
        i18n = json.loads(i18n or "{}")
    parts = [
        str(entry.get(k) or "")
        for entry in (i18n or {}).values()
        if isinstance(entry, dict)
        for k in ("title", "summary")
    ]
    text = "\n".join(p for p in parts if p)
    return _RUN.sub(lambda m: " " + " ".join(_pairs(m.group())) + " ", text)


#: The search of revision 0001 (title and summary), and this revision's (their translations too).
SQLITE_OLD = (
    "CREATE VIRTUAL TABLE event_fts USING fts5(title, summary, content='event', content_rowid='id',"
    " tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER event_fts_ai AFTER INSERT ON event BEGIN"
    " INSERT INTO event_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
    "CREATE TRIGGER event_fts_ad AFTER DELETE ON event BEGIN"
    " INSERT INTO event_fts(event_fts, rowid, title, summary) VALUES ('delete', old.id, old.title, old.summary); END",
    "CREATE TRIGGER event_fts_au AFTER UPDATE OF title, summary ON event BEGIN"
    " INSERT INTO event_fts(event_fts, rowid, title, summary) VALUES ('delete', old.id, old.title, old.summary);"
    " INSERT INTO event_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
    "INSERT INTO event_fts(event_fts) VALUES ('rebuild')",
)
SQLITE_NEW = (
    "CREATE VIRTUAL TABLE event_fts USING fts5(title, summary, search_local, content='event',"
    " content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER event_fts_ai AFTER INSERT ON event BEGIN"
    " INSERT INTO event_fts(rowid, title, summary, search_local)"
    " VALUES (new.id, new.title, new.summary, new.search_local); END",
    "CREATE TRIGGER event_fts_ad AFTER DELETE ON event BEGIN"
    " INSERT INTO event_fts(event_fts, rowid, title, summary, search_local)"
    " VALUES ('delete', old.id, old.title, old.summary, old.search_local); END",
    "CREATE TRIGGER event_fts_au AFTER UPDATE OF title, summary, search_local ON event BEGIN"
    " INSERT INTO event_fts(event_fts, rowid, title, summary, search_local)"
    " VALUES ('delete', old.id, old.title, old.summary, old.search_local);"
    " INSERT INTO event_fts(rowid, title, summary, search_local)"
    " VALUES (new.id, new.title, new.summary, new.search_local); END",
    "INSERT INTO event_fts(event_fts) VALUES ('rebuild')",
)


def _drop_sqlite_search() -> None:
    for name in ("event_fts_ai", "event_fts_ad", "event_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS event_fts")


VECTOR_OLD = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B')"
)
VECTOR_NEW = VECTOR_OLD + " || setweight(to_tsvector('english'::regconfig, coalesce(search_local, '')), 'C')"


def _postgres_vector(expression: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_event_search_vector")
    op.execute("ALTER TABLE event DROP COLUMN IF EXISTS search_vector")
    op.execute(
        f"ALTER TABLE event ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({expression}) STORED"
    )
    op.execute("CREATE INDEX ix_event_search_vector ON event USING gin (search_vector)")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        _drop_sqlite_search()
    op.add_column("event", sa.Column("search_local", sa.Text(), server_default="", nullable=False))
    rows = bind.execute(sa.text("SELECT id, i18n FROM event WHERE i18n IS NOT NULL")).all()
    filled = [{"id": i, "local": text} for i, value in rows if (text := _local_text(value))]
    if filled:
        bind.execute(sa.text("UPDATE event SET search_local = :local WHERE id = :id"), filled)
    if sqlite:
        for statement in SQLITE_NEW:
            op.execute(statement)
    else:
        _postgres_vector(VECTOR_NEW)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _drop_sqlite_search()
        # A plain column: SQLite drops it in place (no rebuild of ``event``).
        op.execute("ALTER TABLE event DROP COLUMN search_local")
        for statement in SQLITE_OLD:
            op.execute(statement)
    else:
        _postgres_vector(VECTOR_OLD)
        op.execute("ALTER TABLE event DROP COLUMN search_local")
