"""The source watcher owned by the running bot: a source is polled by the bot's own loop, its new
items become drafts, publishing one posts exactly one alert to a subscribed channel through the
outbox and the fake Discord, rejecting one posts nothing, and closing the bot stops the loop."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from bot import models
from bot.services.subscriptions import Filters
from testing.fake_discord import FakeDiscord
from tests.conftest import Database
from tests.feed_server import feed_server

from .bot_process import Staff, channel_manager, load_sample, running_bot
from .test_dispatcher import curator, wait_deliveries


async def _drafts(db: Database, within: float = 15) -> int:
    deadline = time.monotonic() + within
    while True:
        async with db.sessionmaker() as s:
            n = int(await s.scalar(select(func.count()).select_from(models.Draft)) or 0)
        if n or time.monotonic() > deadline:
            return n
        await asyncio.sleep(0.05)


async def test_the_bot_polls_sources_and_a_published_draft_alerts_once(
    fake_discord: FakeDiscord, sqlite_db: Database
) -> None:
    staff = Staff(fake_discord)
    await load_sample(sqlite_db)
    channel = staff.channel(0)
    async with (
        feed_server() as feeds,
        running_bot(
            fake_discord, sqlite_db, home_guild_ids=[staff.guild.id], watch_allow_private=True
        ) as bot,
    ):
        services = bot.services
        await services.subscriptions.subscribe(
            channel_manager(staff.guild.id).in_channel(channel.id), channel.id, Filters(programs=["icbm"])
        )
        # The loop checked the (empty) list at start; a source added now is due at once.
        await services.watch.add(curator(staff.guild.id), feeds.url("/feed"), "atom", "Test wire")
        assert bot.watcher is not None
        bot.watcher.wake()
        assert await _drafts(sqlite_db) == 2
        page = await services.watch.queue(curator(staff.guild.id))
        launch = next(d for d in page.drafts if d.links["systems"] == ["hwasong-15"])
        other = next(d for d in page.drafts if d.id != launch.id)
        event = await services.watch.publish(curator(staff.guild.id), launch.id)
        await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1)
        await services.watch.reject(curator(staff.guild.id), other.id, "seen already")
        await asyncio.sleep(0.5)
        posted = fake_discord.channel_messages(channel.id)
        assert len(posted) == 1
        assert posted[0].embeds[0]["title"].endswith(launch.title)
        assert event.title == launch.title
        assert len(feeds.seen) >= 1 and await _drafts(sqlite_db) == 2
    assert bot.watcher is None  # close stopped it
