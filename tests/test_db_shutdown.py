"""A SQLite connection stopped by SQLAlchemy's terminate path still closes: the event loop's end (the
bot's shutdown, a test's loop) never waits for ever on it."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiosqlite

from bot import db


async def test_a_stopped_connection_closes_instead_of_waiting_for_ever(tmp_path: Path) -> None:
    await db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}").dispose()  # SQLite engines patch it
    connection = await aiosqlite.connect(tmp_path / "x.db")
    stopped = connection.stop()  # SQLAlchemy's force close of a connection it terminates
    # Then the graceful close it shielded: before the patch, this waited for a thread long gone.
    with contextlib.suppress(ValueError):  # "Connection closed": it was, already
        await asyncio.wait_for(connection.close(), 5)
    assert stopped is not None
    await asyncio.wait_for(stopped, 5)  # the thread has ended


async def test_a_connection_closes_as_before(tmp_path: Path) -> None:
    await db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}").dispose()
    connection = await aiosqlite.connect(tmp_path / "x.db")
    assert [tuple(r) for r in await (await connection.execute("SELECT 1")).fetchall()] == [(1,)]
    await asyncio.wait_for(connection.close(), 5)
    assert not connection._running
