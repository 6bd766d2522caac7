"""The process that runs the bot freezes its start-up heap once ready; a test's bot does not."""

from __future__ import annotations

import asyncio
import gc

from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.services.access import Policy
from bot.services.container import Services
from testing.fake_discord import FakeDiscord, connect_bot
from tests.conftest import Database


async def _frozen_after_ready(fake: FakeDiscord, db: Database, *, freeze: bool) -> int:
    fake.add_guild("Home")
    services = Services.build(db.sessionmaker, Policy.of())
    settings = Settings(discord_token="x", database_url=db.url, _env_file=None)
    bot = PeninsulaBot(
        settings=settings, services=services, extensions=("cogs.briefing",), freeze_heap=freeze
    )
    gc.unfreeze()
    try:
        async with connect_bot(fake, bot):
            for _ in range(100):  # the freeze runs in a task of its own, once the bot is ready
                if bot._freezing is None or bot._freezing.done():
                    break
                await asyncio.sleep(0.01)
            return gc.get_freeze_count()
    finally:
        gc.unfreeze()


async def test_the_running_bot_freezes_what_start_up_built(
    fake_discord: FakeDiscord, sqlite_db: Database
) -> None:
    # Everything alive at ready (modules, cogs, the gateway's state) is out of the collector's scans.
    assert await _frozen_after_ready(fake_discord, sqlite_db, freeze=True) > 10_000


async def test_a_bot_without_the_option_freezes_nothing(
    fake_discord: FakeDiscord, sqlite_db: Database
) -> None:
    assert await _frozen_after_ready(fake_discord, sqlite_db, freeze=False) == 0
