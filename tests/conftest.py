"""Shared fixtures: real SQLite and real PostgreSQL databases migrated with Alembic.

SQLite: the schema is migrated once per session into a template file, copied per test.
PostgreSQL (``TEST_DATABASE_URL``): one database per test session, created next to the given one and
migrated once; every test starts from empty tables (truncated after use). Tests that need
PostgreSQL are skipped cleanly when ``TEST_DATABASE_URL`` is unset.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import db as dbmod
from bot.models import Base
from testing.fake_discord import FakeDiscord

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
T = TypeVar("T")


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessionmaker: dbmod.Sessionmaker

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def _run(coro: Coroutine[Any, Any, T]) -> T:
    # Session fixtures may be set up while a test's loop is running: use a loop of their own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _migrate(url: str) -> None:
    engine = dbmod.create_engine(url)
    try:
        await dbmod.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


def _admin_url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@contextlib.contextmanager
def _private_postgres(prefix: str) -> Iterator[str]:
    """A new, empty database beside ``TEST_DATABASE_URL`` (skip without it), dropped after."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL tests skipped)")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        engine = dbmod.create_engine(base, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    _run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _admin_url(base, name)
    finally:
        _run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with _private_postgres("pb_test") as url:
        _run(_migrate(url))
        yield url


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """The URL of a private PostgreSQL database with nothing in it (not even the schema)."""
    with _private_postgres("pb_empty") as url:
        yield url


TABLES = [t.name for t in reversed(Base.metadata.sorted_tables)]


async def _truncate(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "test.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    engine = dbmod.create_engine(url)
    yield Database(url, engine, dbmod.make_sessionmaker(engine))
    await engine.dispose()


@pytest.fixture
async def postgres_db(postgres_url: str) -> AsyncIterator[Database]:
    engine = dbmod.create_engine(postgres_url)
    await _truncate(engine)
    try:
        yield Database(postgres_url, engine, dbmod.make_sessionmaker(engine))
    finally:
        await _truncate(engine)
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Database:
    """The same test on both databases."""
    db: Database = request.getfixturevalue(f"{request.param}_db")
    return db


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A fake Discord on a free local port; any recorded violation fails the test at teardown."""
    async with FakeDiscord() as fake:
        yield fake
        fake.assert_no_violations()
