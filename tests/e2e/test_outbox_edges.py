"""The outbox at its edges, end to end against the fake Discord: a backlog in one channel never
holds back another guild's alert; a loop stall longer than the lease sends nothing twice."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from bot import models
from bot.outbox.config import DispatcherConfig
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.subscriptions import Filters
from testing.fake_discord import FakeDiscord
from tests.conftest import Database

from .bot_process import FAST, channel_manager, grant_bot, load_sample, running_bot
from .test_dispatcher import curator, event_input, wait_deliveries

BACKLOG = 250


def posts_by_nonce(fake: FakeDiscord) -> Counter[str]:
    return Counter(
        str(r.body.get("nonce"))
        for r in fake.requests
        if r.method == "POST" and r.path.endswith("/messages") and isinstance(r.body, dict)
    )


async def test_a_channels_backlog_does_not_delay_another_guilds_alert(
    fake_discord: FakeDiscord, database: Database
) -> None:
    home = fake_discord.add_guild("Home", channels=["alerts"])
    busy = fake_discord.add_guild("Importers", channels=["imported"])
    for guild in (home, busy):
        grant_bot(guild)
    [home_channel] = home.channels
    [busy_channel] = busy.channels
    await load_sample(database)
    services = Services.build(database.sessionmaker, Policy.of([home.id]))
    await services.subscriptions.subscribe(channel_manager(home.id), home_channel, Filters())
    await services.subscriptions.subscribe(channel_manager(busy.id), busy_channel, Filters())
    # The other guild's own events (local to it): 250 alerts queued for its one channel.
    for i in range(BACKLOG):
        await services.curation.create(curator(busy.id), event_input(f"Imported launch report {i:03d}"))
    async with running_bot(fake_discord, database, home_guild_ids=[home.id], extensions=()) as bot:
        await fake_discord.wait_for(
            lambda: bool(fake_discord.channel_messages(busy_channel)), 10, "the backlog"
        )
        published = time.monotonic()
        await bot.services.curation.create(curator(home.id), event_input("Home guild launch alert"))
        await fake_discord.wait_for(
            lambda: bool(fake_discord.channel_messages(home_channel)), 20, "the home guild's alert"
        )
        waited = time.monotonic() - published
        drained = len(fake_discord.channel_messages(busy_channel))
    [alert] = fake_discord.channel_messages(home_channel)
    assert alert.embeds[0]["title"] == "Home guild launch alert"
    assert waited < 3.0, f"the home guild's alert waited {waited:.1f} s behind the backlog"
    assert drained < BACKLOG  # the backlog was still there while the alert went out
    assert sum(fake_discord.rate_limited.values()) == 0


async def test_loop_stall_longer_than_the_lease_sends_each_alert_once(
    fake_discord: FakeDiscord, database: Database
) -> None:
    guild = fake_discord.add_guild("Stalled", channels=[f"s{i}" for i in range(12)])
    grant_bot(guild)
    channels = list(guild.channels)
    await load_sample(database)
    # One sender and slow responses: most of the 12 claimed deliveries wait in the worker. The
    # request timeout outlasts the stall, so the POST in flight is answered, not retried.
    config = DispatcherConfig(**{**FAST.__dict__, "concurrency": 1, "request_timeout": 10.0})
    fake_discord.set_delay(0.15, method="POST", path=r"/channels/\d+/messages$")
    async with running_bot(fake_discord, database, extensions=(), config=config) as bot:
        for cid in channels:
            await bot.services.subscriptions.subscribe(channel_manager(guild.id), cid, Filters())
        await bot.services.curation.create(curator(guild.id), event_input())
        await fake_discord.wait_for(
            lambda: any(fake_discord.channel_messages(c) for c in channels), 5, "the first alert"
        )
        # The event loop stalls (a blocking call): every lease runs out meanwhile.
        time.sleep(config.lease + 1.0)  # noqa: ASYNC251
        await wait_deliveries(database, models.Delivery.state == "sent", len(channels), within=20)
    fake_discord.clear_faults()
    assert [len(fake_discord.channel_messages(c)) for c in channels] == [1] * len(channels)
    posts = posts_by_nonce(fake_discord)
    assert len(posts) == len(channels) and set(posts.values()) == {1}, posts
    async with database.sessionmaker() as s:
        rows = (await s.scalars(select(models.Delivery))).all()
    assert {r.message_id for r in rows} == {fake_discord.channel_messages(r.channel_id)[0].id for r in rows}
