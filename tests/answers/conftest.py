"""The answer-quality suite's world: the real corpus in data/, seeded once per database, and one bot."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import db as dbmod
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.seed import seed
from tests.conftest import _admin_url, _migrate, _run


async def _seed(url: str) -> None:
    engine = dbmod.create_engine(url)
    try:
        await seed(dbmod.make_sessionmaker(engine))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def answers_sqlite(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("answers") / "answers.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    _run(_seed(url))
    return url


@pytest.fixture(scope="session")
def answers_postgres(postgres_url: str) -> Iterator[str]:
    """A database of its own (the shared test database is truncated by other tests)."""
    name = f"pb_answers_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        engine = dbmod.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    _run(admin(f'CREATE DATABASE "{name}"'))
    url = _admin_url(postgres_url, name)
    try:
        _run(_migrate(url))
        _run(_seed(url))
        yield url
    finally:
        _run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
async def answers_services(request: pytest.FixtureRequest) -> AsyncIterator[Services]:
    url: str = request.getfixturevalue(f"answers_{request.param}")
    engine = dbmod.create_engine(url)
    yield Services.build(dbmod.make_sessionmaker(engine), Policy.of())
    await engine.dispose()
