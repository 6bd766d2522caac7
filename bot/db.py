"""Engine, sessions and migrations. Nothing here is built at import time."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.resources import migrations_dir

log = logging.getLogger(__name__)

Sessionmaker = async_sessionmaker[AsyncSession]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for ``url``; a SQLite file's folder is created, and SQLite gets WAL and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> Sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_of(sessionmaker: Sessionmaker) -> str:
    """The database dialect behind ``sessionmaker`` ("sqlite" or "postgresql")."""
    bind = sessionmaker.kw.get("bind")
    return bind.dialect.name if bind is not None else "sqlite"


# Search structures are managed by hand in the migrations (FTS5 / tsvector index), not by the models.
MANUAL_OBJECTS = frozenset(
    {"event_fts", "ix_event_search", "ix_event_search_vector", "ix_event_title_vector", "search_vector"}
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic filter: leave the hand-made search structures out of comparisons."""
    if name is None:
        return True
    return not (name in MANUAL_OBJECTS or name.startswith("event_fts"))


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def _run(engine: AsyncEngine, fn: Any, *args: Any) -> Any:
    async with engine.begin() as conn:
        return await conn.run_sync(lambda sync_conn: fn(alembic_config(sync_conn), *args))


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    await _run(engine, command.downgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
