"""Engine, sessions and migrations. Nothing here is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.resources import migrations_dir

log = logging.getLogger(__name__)

Sessionmaker = async_sessionmaker[AsyncSession]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")  # first: another process may hold the file
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _stop_once() -> None:
    """Make aiosqlite's ``Connection.stop`` do nothing on a connection already stopping.

    Each ``stop()`` queues a stop for the connection's thread and returns a future the thread
    resolves; after the first, the thread has gone and a second future is never resolved. SQLAlchemy
    calls both when a task is cancelled while it holds a connection: its terminate path stops the
    connection, and the graceful close it shielded then runs ``close()``, which stops again and waits
    for ever. ``asyncio.run`` (the bot's shutdown, a test's event loop) waits for every task at its end,
    so it hung with it. The patch is applied once, when the first SQLite engine is made."""
    import aiosqlite

    original = aiosqlite.Connection.stop
    if getattr(original, "stops_once", False):
        return

    def stop(self: aiosqlite.Connection) -> asyncio.Future[Any] | None:
        if not getattr(self, "_running", True):
            return None  # stopping already: the thread is gone, or will be
        return original(self)

    stop.stops_once = True  # type: ignore[attr-defined]
    aiosqlite.Connection.stop = stop  # type: ignore[method-assign]


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for ``url``; a SQLite file's folder is created, and SQLite gets WAL and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _stop_once()
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # Plan every statement for its actual values: how many rows a text query matches swings from a
    # handful to half the table, and a prepared statement's generic plan cannot know which (it would
    # scan every match where walking the primary key finds the newest at once, or the other way
    # round). No parallel workers: the bot's statements are short, and starting workers cost more
    # than they saved (a search over a dense party link: 28–37 ms serial, 53–237 ms with two
    # workers on a busy two-core machine). Set per connection, so no statement pays a round trip.
    connect_args = kwargs.setdefault("connect_args", {})
    server_settings = connect_args.setdefault("server_settings", {})
    server_settings.setdefault("plan_cache_mode", "force_custom_plan")
    server_settings.setdefault("max_parallel_workers_per_gather", "0")
    return create_async_engine(url, **kwargs)


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key (a signed 64-bit integer) of lock ``name``."""
    return int.from_bytes(hashlib.sha256(f"peninsula-brief:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str, *, wait: bool = True) -> AsyncIterator[bool]:
    """Hold lock ``name`` across every process on this database: a PostgreSQL advisory lock on a
    dedicated connection, or on SQLite an ``flock`` on a file beside the database file (nothing
    for an in-memory database). A process that has to wait says so in the log. With ``wait``
    false it does not wait: it yields False when another process holds the lock, else True."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        async with engine.connect() as conn:
            key = lock_key(name)
            if not await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}):
                if not wait:
                    await conn.commit()
                    yield False
                    return
                log.info("waiting for another process holding the %s lock", name)
                await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                log.info("%s lock acquired", name)
            await conn.commit()
            try:
                yield True
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
        return
    if not url.database or url.database == ":memory:":
        yield True
        return
    path = Path(f"{url.database}.{name}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            log.info("waiting for another process holding the %s lock (%s)", name, path)
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            log.info("%s lock acquired", name)
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


async def hold(session: AsyncSession, name: str) -> None:
    """Serialize the rest of ``session``'s transaction with every other transaction that holds
    ``name``, in any process, until it ends: a transaction-level PostgreSQL advisory lock; on SQLite
    the database's one write lock, taken now (a write that changes nothing): whoever holds it reads
    what every earlier writer committed. Call it first in the transaction, before any read."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(name)})
    else:
        await session.execute(text("UPDATE key_value SET key = key WHERE 0 = 1"))


def make_sessionmaker(engine: AsyncEngine) -> Sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_of(sessionmaker: Sessionmaker) -> AsyncEngine:
    """The engine ``sessionmaker`` is bound to."""
    bind = sessionmaker.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the sessionmaker is not bound to an engine")
    return bind


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
