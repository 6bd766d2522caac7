"""Start-up in one place: settings → engine → migrate → seed if empty → services.

Migrating and the first seed run under the ``start-up`` lock (``db.exclusive``: a PostgreSQL
advisory lock, a file lock on SQLite), so any number of processes may start together on one
database: one migrates and seeds, the others wait, then find the schema at head and the corpus
loaded, and go on.

``python -m bot`` (the bot and every operator command), the console and the web server all enter
:func:`runtime`; leaving it disposes the engine, whatever happened inside.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot import db
from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import Settings
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.importing.gate import ImportLimits
from bot.services.seed import is_empty, seed

log = logging.getLogger(__name__)

#: The lock migrations, the first seed and the command-tree sync run under.
STARTUP_LOCK = "start-up"


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    services: Services

    @property
    def sessionmaker(self) -> db.Sessionmaker:
        return self.services.sessionmaker


@asynccontextmanager
async def runtime(
    settings: Settings,
    *,
    migrate: bool = True,
    seed_if_empty: bool = True,
    operator: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> AsyncIterator[Runtime]:
    """The database migrated (unless ``migrate=False``), seeded when empty, and the services on it
    (``clock``: what time it is for their schedules).

    ``operator``: the notice about a first seed goes to standard error, for a person at a terminal,
    rather than to the log.
    """
    engine = db.create_engine(settings.database_url)
    try:
        sessionmaker = db.make_sessionmaker(engine)
        if migrate or seed_if_empty:
            async with db.exclusive(engine, STARTUP_LOCK):
                if migrate:
                    await db.upgrade(engine)
                if seed_if_empty and await is_empty(sessionmaker):
                    if operator:
                        print("empty database: loading the curated corpus first", file=sys.stderr)
                    else:
                        log.info("empty database: loading the curated corpus")
                    await seed(sessionmaker)
        services = Services.build(
            sessionmaker,
            Policy.of(settings.home_guild_ids, settings.curator_role),
            import_limits=ImportLimits(settings.import_cooldown, settings.import_alert_cap),
            watch_interval=settings.watch_interval,
            watch_allow_private=settings.watch_allow_private,
            watch_allow_hosts=settings.watch_allow_hosts,
            clock=clock,
        )
        yield Runtime(settings, engine, services)
    finally:
        await engine.dispose()
