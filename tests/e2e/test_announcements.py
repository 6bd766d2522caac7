"""Alerts in announcement channels: crossposted once, deferred by Discord's crosspost limit and
retried, edits and retractions reaching the copies in following channels (both databases)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot import models
from bot.discord.client import PeninsulaBot
from bot.models import utcnow
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.errors import PermissionDenied
from bot.services.follow import BotCannotFollow
from bot.services.subscriptions import Filters
from testing.fake_discord import FakeChannel, FakeDiscord, FakeGuild
from testing.fake_discord.announcements import ANNOUNCEMENT, CROSSPOSTED, IS_CROSSPOST, MANAGE_WEBHOOKS
from tests.conftest import Database

from .bot_process import (
    MANAGE_CHANNELS,
    VIEW_SEND_EMBED,
    BotProcess,
    Staff,
    grant_bot,
    load_sample,
    running_bot,
)
from .test_alerts_why import text_of, why
from .test_dispatcher import ALERT_OPTIONS, curator, event_input, subscribe_all, wait_deliveries

CROSSPOST_PATH = re.compile(r"^/channels/\d+/messages/\d+/crosspost$")


class World:
    """The staff guild with an announcement channel ``news``, followed by a channel of another
    server (``follower``)."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.staff = Staff(fake)
        self.news = self.staff.guild.add_channel("news", type=ANNOUNCEMENT)
        self.other: FakeGuild = fake.add_guild("Followers")
        grant_bot(self.other)
        self.follower: FakeChannel = self.other.channel("general")
        fake.follow(self.news, self.follower)


@pytest.fixture
async def world(fake_discord: FakeDiscord) -> World:
    return World(fake_discord)


@pytest.fixture
async def bot(fake_discord: FakeDiscord, world: World, database: Database) -> AsyncIterator[PeninsulaBot]:
    await load_sample(database)
    home = [world.staff.guild.id]
    async with running_bot(
        fake_discord, database, home_guild_ids=home, feed_channel_id=world.news.id
    ) as client:
        yield client


def crosspost_requests(fake: FakeDiscord) -> list[int]:
    return [r.status for r in fake.requests if r.method == "POST" and CROSSPOST_PATH.match(r.path)]


async def test_alert_in_an_announcement_channel_is_crossposted_once_and_copies_follow_edits(
    fake_discord: FakeDiscord, world: World, bot: PeninsulaBot, database: Database
) -> None:
    await subscribe_all(bot, world.staff.guild, [world.news.id, world.staff.channel(0).id])
    caller = curator(world.staff.guild.id)
    event = await bot.services.curation.create(caller, event_input())
    await wait_deliveries(database, models.Delivery.crosspost == "done", 1)
    await wait_deliveries(database, models.Delivery.state == "sent", 2)
    [posted] = fake_discord.channel_messages(world.news.id)
    assert posted.flags & CROSSPOSTED
    assert fake_discord.crossposts == [posted.id]  # the text channel's alert is not crossposted
    [copy] = fake_discord.channel_messages(world.follower.id)
    assert copy.flags == IS_CROSSPOST and copy.embeds == posted.embeds
    assert copy.to_json()["message_reference"]["message_id"] == str(posted.id)

    await bot.services.curation.edit(caller, event.id, event_input("Hwasong-19 ICBM launch (corrected)"))
    await wait_deliveries(database, models.Delivery.state == "sent", 4)
    assert copy.embeds[0]["title"] == "[Updated] Hwasong-19 ICBM launch (corrected)"
    await bot.services.curation.retract(caller, event.id, "Duplicate of an earlier report")
    await wait_deliveries(database, models.Delivery.state == "sent", 6)
    assert copy.embeds[0]["title"].startswith("[Retracted]")
    assert fake_discord.channel_messages(world.follower.id) == [copy]
    assert crosspost_requests(fake_discord) == [200]  # edits reach the copies through Discord

    # A crosspost tried again after its request (a worker killed before recording it) is not
    # made twice: Discord answers "already crossposted" and the delivery counts it done.
    async with database.sessionmaker() as s, s.begin():
        await s.execute(
            update(models.Delivery)
            .where(models.Delivery.crosspost == "done")
            .values(crosspost="pending", crosspost_at=utcnow())
        )
    await wait_deliveries(database, models.Delivery.crosspost == "done", 1)
    assert crosspost_requests(fake_discord) == [200, 400]
    assert fake_discord.crossposts == [posted.id]
    assert fake_discord.channel_messages(world.follower.id) == [copy]
    assert len(fake_discord.channel_messages(world.news.id)) == 1


async def test_crosspost_limit_defers_the_crosspost_and_list_says_when(
    fake_discord: FakeDiscord, world: World, bot: PeninsulaBot, database: Database
) -> None:
    fake_discord.crosspost_limit = 1
    fake_discord.crosspost_window = 2.5
    [sub_id] = await subscribe_all(bot, world.staff.guild, [world.news.id])
    caller = curator(world.staff.guild.id)
    await bot.services.curation.create(caller, event_input())
    await wait_deliveries(database, models.Delivery.crosspost == "done", 1)
    second_event = await bot.services.curation.create(caller, event_input("Second launch of the day"))
    await wait_deliveries(database, models.Delivery.crosspost == "pending", 1)
    # The alert is posted; its crosspost waits for the limit's window.
    assert len(fake_discord.channel_messages(world.news.id)) == 2
    assert len(fake_discord.channel_messages(world.follower.id)) == 1
    listing = await fake_discord.invoke("alerts", subcommand="list", user=world.staff.channel_manager)
    text = "\n".join(f["value"] for f in listing.embeds[0]["fields"])
    assert f"subscription #{sub_id}" in text
    assert re.search(r"Crosspost pending, retry at \d+ \w+ \d{4} \d\d:\d\d UTC", text), text
    answer = text_of(await why(fake_discord, second_event.id, world.news, user=world.staff.channel_manager))
    assert "**sent** · attempts: 1" in answer  # the alert is posted; its crosspost waits
    assert re.search(r"\nCrosspost pending, retry at \d+ \w+ \d{4} \d\d:\d\d UTC", answer), answer

    await wait_deliveries(database, models.Delivery.crosspost == "done", 2, within=8)
    assert crosspost_requests(fake_discord) == [200, 429, 200]
    first, second = fake_discord.channel_messages(world.news.id)
    assert fake_discord.crossposts == [first.id, second.id]
    copies = fake_discord.channel_messages(world.follower.id)
    assert [c.to_json()["message_reference"]["message_id"] for c in copies] == [str(first.id), str(second.id)]
    answer = text_of(await why(fake_discord, second_event.id, world.news, user=world.staff.channel_manager))
    assert "Crossposted: the channels following this one have it" in answer
    assert "Crosspost pending" not in answer
    listing = await fake_discord.invoke("alerts", subcommand="list", user=world.staff.channel_manager)
    assert "Crosspost pending" not in "\n".join(f["value"] for f in listing.embeds[0]["fields"])


class Reader:
    """Another server, whose moderator follows the feed into ``briefing``."""

    def __init__(self, fake: FakeDiscord, *, bot_webhooks: bool = True, member_webhooks: bool = True) -> None:
        self.guild = fake.add_guild("Readers", channels=("chat", "briefing"))
        grant_bot(self.guild, VIEW_SEND_EMBED | (MANAGE_WEBHOOKS if bot_webhooks else 0))
        perms = MANAGE_CHANNELS | (MANAGE_WEBHOOKS if member_webhooks else 0)
        self.mod = self.guild.add_member("reader-mod", roles=[self.guild.add_role("mods", permissions=perms)])
        self.briefing = self.guild.channel("briefing")


def bot_requests(fake: FakeDiscord, since: int) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in fake.requests[since:]
        if not r.path.startswith(("/interactions/", "/webhooks/"))
    ]


async def test_follow_makes_a_follower_and_an_alert_reaches_it_with_one_request(
    fake_discord: FakeDiscord, world: World, database: Database
) -> None:
    reader = Reader(fake_discord)
    await load_sample(database)
    home = [world.staff.guild.id]
    async with running_bot(fake_discord, database, home_guild_ids=home, feed_channel_id=world.news.id) as bot:
        done = await fake_discord.invoke(
            "alerts", {"channel": reader.briefing}, subcommand="follow", guild=reader.guild, user=reader.mod
        )
        assert done.ephemeral
        assert done.content == (
            f"<#{reader.briefing.id}> now follows <#{world.news.id}>: every alert posted there reaches this "
            "channel through Discord."
        )
        assert [h.channel_id for h in fake_discord.followers_of(world.news)] == [
            world.follower.id,
            reader.briefing.id,
        ]
        again = await fake_discord.invoke(
            "alerts", {"channel": reader.briefing}, subcommand="follow", guild=reader.guild, user=reader.mod
        )
        assert (
            again.content
            == f"<#{reader.briefing.id}> already follows <#{world.news.id}>. Nothing was changed."
        )
        assert len(fake_discord.followers_of(world.news)) == 2

        await subscribe_all(bot, world.staff.guild, [world.news.id])
        since = len(fake_discord.requests)
        await bot.services.curation.create(curator(world.staff.guild.id), event_input())
        await wait_deliveries(database, models.Delivery.crosspost == "done", 1)
        [posted] = fake_discord.channel_messages(world.news.id)
        made = bot_requests(fake_discord, since)
        # One message and one crosspost, whatever the number of followers; nothing to them directly.
        assert made == [
            ("POST", f"/channels/{world.news.id}/messages"),
            ("POST", f"/channels/{world.news.id}/messages/{posted.id}/crosspost"),
        ]
        for channel in (reader.briefing, world.follower):
            [copy] = fake_discord.channel_messages(channel.id)
            assert (
                copy.embeds[0]["title"] == "Hwasong-19 launch from Pyongyang" and copy.flags == IS_CROSSPOST
            )
        async with database.sessionmaker() as s:
            [audit] = (
                await s.scalars(select(models.AuditLog).where(models.AuditLog.action == "feed.follow"))
            ).all()
        assert audit.guild_id == reader.guild.id and audit.record_id == str(reader.briefing.id)


async def test_follow_refused_without_manage_webhooks_naming_it(
    fake_discord: FakeDiscord, world: World, database: Database
) -> None:
    no_member = Reader(fake_discord, member_webhooks=False)
    no_bot = Reader(fake_discord, bot_webhooks=False)
    home = [world.staff.guild.id]
    async with running_bot(fake_discord, database, home_guild_ids=home, feed_channel_id=world.news.id) as bot:
        refused = await fake_discord.invoke(
            "alerts",
            {"channel": no_member.briefing},
            subcommand="follow",
            guild=no_member.guild,
            user=no_member.mod,
        )
        assert refused.ephemeral
        assert (
            refused.content
            == f"You need the Manage Webhooks permission in <#{no_member.briefing.id}> to do this."
        )
        refused = await fake_discord.invoke(
            "alerts", {"channel": no_bot.briefing}, subcommand="follow", guild=no_bot.guild, user=no_bot.mod
        )
        assert refused.ephemeral
        assert refused.content == (
            f"I need the Manage Webhooks permission in <#{no_bot.briefing.id}> to follow the feed there."
        )
        assert [h.channel_id for h in fake_discord.followers_of(world.news)] == [world.follower.id]
        # The service refuses the same, whoever calls it.
        feed = bot.services.follow.feed(world.news.id, world.staff.guild.id)
        caller = Caller(no_member.mod.id, no_member.guild.id, frozenset({"manage_channels"}))
        with pytest.raises(PermissionDenied, match="Manage Webhooks"):
            bot.services.follow.require(
                caller.in_channel(no_member.briefing.id), no_member.briefing.id, {"manage_webhooks"}, feed
            )
        allowed = caller.in_channel(no_bot.briefing.id, ("view_channel", "manage_webhooks"))
        with pytest.raises(BotCannotFollow, match="Manage Webhooks"):
            bot.services.follow.require(allowed, no_bot.briefing.id, {"send_messages"}, feed)
        async with database.sessionmaker() as s:
            assert (
                await s.scalars(select(models.AuditLog).where(models.AuditLog.action == "feed.follow"))
            ).all() == []


async def test_follow_without_a_feed_channel_says_so(
    fake_discord: FakeDiscord, world: World, sqlite_db: Database
) -> None:
    reader = Reader(fake_discord)
    async with running_bot(fake_discord, sqlite_db, home_guild_ids=[world.staff.guild.id]):
        refused = await fake_discord.invoke(
            "alerts", {"channel": reader.briefing}, subcommand="follow", guild=reader.guild, user=reader.mod
        )
        assert refused.ephemeral
        assert (
            refused.content
            == "No feed channel is set up to follow (the bot's operator sets FEED_CHANNEL_ID)."
        )
    # A feed that is not a home server's announcement channel is refused too.
    async with running_bot(fake_discord, sqlite_db, feed_channel_id=world.news.id):
        refused = await fake_discord.invoke(
            "alerts", {"channel": reader.briefing}, subcommand="follow", guild=reader.guild, user=reader.mod
        )
        assert refused.content == (
            f"The feed channel <#{world.news.id}> is not an announcement channel of the bot's home server; "
            "it cannot be followed."
        )
    assert len(fake_discord.followers_of(world.news)) == 1


async def test_kill_9_during_the_crosspost_then_restart_crossposts_once(
    fake_discord: FakeDiscord, world: World, database: Database, tmp_path: Path
) -> None:
    await load_sample(database)
    services = Services.build(database.sessionmaker, Policy.of([world.staff.guild.id]))
    manager = Caller(1, world.staff.guild.id, frozenset({"manage_channels"}))
    await services.subscriptions.subscribe(manager.in_channel(world.news.id), world.news.id, Filters())
    fake_discord.set_delay(1.5, method="POST", path=r"/crosspost$")
    env = {"HOME_GUILD_IDS": str(world.staff.guild.id)}
    first = BotProcess(fake_discord, database.url, env=env)
    await first.start(tmp_path / "bot.log")
    try:
        await fake_discord.wait_for(lambda: fake_discord.identifies >= 1, 30, "the bot to connect")
        await fake_discord.wait_for(lambda: bool(fake_discord.global_commands), 30, "the bot to sync")
        result = await fake_discord.invoke(
            "curate",
            {**ALERT_OPTIONS, "title": "Seventh nuclear test"},
            subcommand="add",
            guild=world.staff.guild,
            timeout=10,
        )
        assert result.content.startswith("Published event #"), first.output()
        await fake_discord.wait_for(
            lambda: bool(crosspost_requests(fake_discord)), 20, "the crosspost request"
        )
        first.kill()  # the crosspost is in flight: its outcome is never recorded
        assert await first.wait(10) == -9
        fake_discord.clear_faults()
        second = BotProcess(fake_discord, database.url, env=env)
        await second.start(tmp_path / "bot.log")
        try:
            await wait_deliveries(database, models.Delivery.crosspost == "done", 1, within=40)
        finally:
            await second.stop()
    finally:
        await first.stop()
    [posted] = fake_discord.channel_messages(world.news.id)
    assert fake_discord.crossposts == [posted.id]
    assert [
        c.to_json()["message_reference"]["message_id"]
        for c in fake_discord.channel_messages(world.follower.id)
    ] == [str(posted.id)]
    assert len(crosspost_requests(fake_discord)) == 2  # the one in doubt, then the one after the restart
