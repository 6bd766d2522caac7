"""The real corpus in data/, seeded once per session into a SQLite template and copied per test."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import db as dbmod
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.seed import seed
from tests.conftest import _run


@pytest.fixture(scope="session")
def seeded_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    shutil.copy(sqlite_template, path)

    async def go() -> None:
        engine = dbmod.create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await seed(dbmod.make_sessionmaker(engine))
        finally:
            await engine.dispose()

    _run(go())
    return path


@pytest.fixture
async def corpus(seeded_template: Path, tmp_path: Path) -> AsyncIterator[Services]:
    """Services over a private copy of the seeded corpus."""
    path = tmp_path / "corpus.db"
    shutil.copy(seeded_template, path)
    engine = dbmod.create_engine(f"sqlite+aiosqlite:///{path}")
    yield Services.build(dbmod.make_sessionmaker(engine), Policy.of())
    await engine.dispose()
