"""The data version of the events a reader sees: a write counter per scope (``data_version``).

Each write of events bumps its scope's counter in the write's own transaction (the lifecycle
writer calls :func:`bump`): a committed write always shows as a new version, and two writes
never share one (the counter's row serializes them). What a reader in a guild sees is the global
events and that guild's own: its version reads those two rows (:func:`version`). Another guild's
writes never change it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.services.filters import GLOBAL_SCOPE, scopes


async def bump(session: AsyncSession, guild_ids: Iterable[int | None]) -> None:
    """Count one more write of the events of each scope (None: global), in ``session``'s transaction."""
    V = models.DataVersion
    dialect = (await session.connection()).dialect.name
    insert: Any = sqlite.insert if dialect == "sqlite" else postgresql.insert
    for scope in sorted({GLOBAL_SCOPE if g is None else g for g in guild_ids}):  # one order: no deadlock
        stmt = insert(V).values(scope=scope, value=1)
        await session.execute(
            stmt.on_conflict_do_update(index_elements=[V.scope], set_={"value": V.value + 1})
        )


async def version(session: AsyncSession, guild_id: int | None) -> str:
    """The version of what a reader in ``guild_id`` (None: outside any guild) sees."""
    V = models.DataVersion
    wanted = scopes(guild_id)
    rows = dict((await session.execute(select(V.scope, V.value).where(V.scope.in_(wanted)))).all())
    return ".".join(str(rows.get(scope, 0)) for scope in wanted)
