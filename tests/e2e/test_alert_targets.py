"""Alerts in every target, end to end on SQLite and PostgreSQL: forum posts (named by the event,
tagged by its kind or program), a thread's messages, discussion threads from ``thread_min``, and
webhook identity; each exactly once (also when Discord's answer is lost after the effect), edits
and retractions reaching each form, a deleted webhook made again once, then the subscription
disabled with the reason shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import models
from bot.discord.client import PeninsulaBot
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.targets import Placement
from testing.fake_discord import FakeDiscord, FakeGuild
from testing.fake_discord.threads import FakeForum, FakeThread
from tests.conftest import Database

from .bot_process import VIEW_SEND_EMBED, BotProcess, Staff, grant_bot, load_sample, running_bot
from .test_dispatcher import ALERT_OPTIONS, curator, event_input, wait_deliveries

CREATE_PUBLIC_THREADS = 1 << 35
SEND_IN_THREADS = 1 << 38
MANAGE_WEBHOOKS = 1 << 29
ALL_FORMS = VIEW_SEND_EMBED | CREATE_PUBLIC_THREADS | SEND_IN_THREADS | MANAGE_WEBHOOKS
FORUM = Placement(target="forum", forum_tags="kind")
THREADED = Placement(thread=True, thread_min=1)
HOOKED = Placement(identity="webhook", webhook_name="Watch desk")


@dataclass
class Places:
    staff: Staff
    forum: FakeForum
    programs: FakeForum
    thread: FakeThread

    @property
    def guild(self) -> FakeGuild:
        return self.staff.guild


@pytest.fixture
async def places(fake_discord: FakeDiscord) -> Places:
    staff = Staff(fake_discord)
    bot_role = next(r for r in staff.guild.roles.values() if r.name == "Peninsula Brief")
    bot_role.permissions = ALL_FORMS
    forum = fake_discord.add_forum(
        staff.guild, "alert-posts", tags=("Missile launch", "nuclear_test", "ICBM")
    )
    programs = fake_discord.add_forum(staff.guild, "by-program", tags=("icbm", "slbm"))
    thread = await fake_discord.add_thread(staff.channel(3), "Launch watch")
    return Places(staff, forum, programs, thread)


@pytest.fixture
async def bot(fake_discord: FakeDiscord, places: Places, database: Database) -> AsyncIterator[PeninsulaBot]:
    await load_sample(database)
    async with running_bot(fake_discord, database) as client:
        yield client


async def subscribe(fake: FakeDiscord, options: dict[str, object], **kw: object) -> str:
    reply = await fake.invoke("alerts", options, subcommand="subscribe", **kw)  # type: ignore[arg-type]
    assert reply.ephemeral
    return reply.content or ""


async def sent(database: Database) -> list[models.Delivery]:
    async with database.sessionmaker() as s:
        return list(await s.scalars(select(models.Delivery).order_by(models.Delivery.id)))


async def test_forum_posts_are_named_tagged_and_edited(
    fake_discord: FakeDiscord, places: Places, bot: PeninsulaBot, database: Database
) -> None:
    reply = await subscribe(fake_discord, {"channel": places.forum})
    assert "A forum post per alert, tagged by kind" in reply
    programs = places.programs
    reply = await subscribe(fake_discord, {"channel": programs, "forum_tags": "program"})
    assert "tagged by program" in reply, reply
    caller = curator(places.guild.id)
    long_title = "Hwasong-19 launch from Pyongyang " + "with a very long description of the flight " * 2
    event = await bot.services.curation.create(caller, event_input(long_title.strip()))
    await wait_deliveries(database, models.Delivery.state == "sent", 2)
    [post] = fake_discord.threads_of(places.forum.id)
    assert (
        len(post.name) <= 100 and post.name.endswith("…") and long_title.startswith(post.name[:-1].rstrip())
    )
    tags = {t["name"]: int(t["id"]) for t in places.forum.available_tags}
    assert post.applied_tags == [tags["Missile launch"]]
    [by_program] = fake_discord.threads_of(programs.id)
    assert by_program.applied_tags == [int(programs.available_tags[0]["id"])]  # icbm
    [starter] = fake_discord.channel_messages(post.id)
    assert starter.id == post.id and starter.content.startswith("**New event:**")
    await bot.services.curation.edit(caller, event.id, event_input("Hwasong-19 ICBM launch (corrected)"))
    await wait_deliveries(database, models.Delivery.state == "sent", 4)
    assert starter.embeds[0]["title"] == "[Updated] Hwasong-19 ICBM launch (corrected)" and starter.edits == 1
    await bot.services.curation.retract(caller, event.id, "Duplicate of an earlier report")
    await wait_deliveries(database, models.Delivery.state == "sent", 6)
    assert starter.embeds[0]["title"].startswith("[Retracted]") and starter.edits == 2
    assert len(fake_discord.threads_of(places.forum.id)) == 1  # edits open no new post
    rows = [d for d in await sent(database) if d.action == "post"]
    assert {d.thread_id for d in rows} == {post.id, by_program.id}


async def test_thread_target_and_discussion_threads_from_thread_min(
    fake_discord: FakeDiscord, places: Places, bot: PeninsulaBot, database: Database
) -> None:
    text = places.staff.channel(0)
    await subscribe(fake_discord, {"channel": places.thread})
    reply = await subscribe(fake_discord, {"channel": text, "thread": True, "thread_min": 4})
    assert "A discussion thread on each alert of significance ≥ 4" in reply
    caller = curator(places.guild.id)
    big = await bot.services.curation.create(caller, event_input("An ICBM launch"))
    await bot.services.curation.create(caller, event_input("A short-range launch", significance=3))
    await wait_deliveries(database, models.Delivery.state == "sent", 4)
    in_thread = fake_discord.channel_messages(places.thread.id)
    assert sorted(m.content for m in in_thread) == [
        "**New event:** A short-range launch",
        "**New event:** An ICBM launch",
    ]
    messages = {m.content: m for m in fake_discord.channel_messages(text.id)}
    assert set(messages) == {"**New event:** A short-range launch", "**New event:** An ICBM launch"}
    [discussion] = fake_discord.threads_of(text.id)
    assert (
        discussion.id == messages["**New event:** An ICBM launch"].id and discussion.name == "An ICBM launch"
    )
    await bot.services.curation.edit(caller, big.id, event_input("An ICBM launch (corrected)"))
    await wait_deliveries(database, models.Delivery.state == "sent", 6)
    assert fake_discord.message(discussion.id).content == "**Updated:** An ICBM launch (corrected)"
    assert len(fake_discord.threads_of(text.id)) == 1


async def test_each_form_posts_once_when_discords_answer_is_lost(
    fake_discord: FakeDiscord, places: Places, bot: PeninsulaBot, database: Database
) -> None:
    text, hooked = places.staff.channel(0), places.staff.channel(1)
    await subscribe(fake_discord, {"channel": places.forum})
    await subscribe(fake_discord, {"channel": text, "thread": True})
    await subscribe(fake_discord, {"channel": hooked, "identity": "webhook", "name": "Watch desk"})
    # Each creating request takes effect and its answer is lost: the retry finds what it made.
    fake_discord.lose_next_response(1, method="POST", path=rf"^/channels/{places.forum.id}/threads$")
    fake_discord.lose_next_response(1, method="POST", path=r"/messages/\d+/threads$")
    fake_discord.lose_next_response(1, method="POST", path=r"^/webhooks/\d+/[^/]+$")
    await bot.services.curation.create(curator(places.guild.id), event_input("An ICBM launch"))
    await wait_deliveries(database, models.Delivery.state == "sent", 3, within=20)
    assert len(fake_discord.threads_of(places.forum.id)) == 1
    assert len(fake_discord.channel_messages(text.id)) == 1 and len(fake_discord.threads_of(text.id)) == 1
    [message] = fake_discord.channel_messages(hooked.id)
    assert message.author["username"] == "Watch desk"
    rows = await sent(database)
    assert all(d.attempts == 2 for d in rows), [(d.channel_id, d.attempts, d.last_error) for d in rows]
    by_channel = {d.channel_id: d for d in rows}
    assert (
        by_channel[hooked.id].message_id == message.id
        and by_channel[hooked.id].webhook_id == message.webhook_id
    )
    assert by_channel[text.id].thread_id == fake_discord.threads_of(text.id)[0].id


async def test_webhook_identity_reused_edited_recreated_once_then_disabled(
    fake_discord: FakeDiscord, places: Places, bot: PeninsulaBot, database: Database
) -> None:
    channel = places.staff.channel(0)
    reply = await subscribe(
        fake_discord,
        {
            "channel": channel,
            "identity": "webhook",
            "name": "Watch desk",
            "avatar_url": "https://example.org/a.png",
        },
    )
    assert "Posted through a webhook as “Watch desk”" in reply
    caller = curator(places.guild.id)
    first = await bot.services.curation.create(caller, event_input("First launch"))
    await bot.services.curation.create(caller, event_input("Second launch"))
    await wait_deliveries(database, models.Delivery.state == "sent", 2)
    [hook] = fake_discord.webhooks_of(channel.id)  # made once, reused
    messages = fake_discord.channel_messages(channel.id)
    assert [m.webhook_id for m in messages] == [hook.id, hook.id]
    assert {m.author["username"] for m in messages} == {"Watch desk"}
    assert {m.author["avatar_url"] for m in messages} == {"https://example.org/a.png"}
    await bot.services.curation.edit(caller, first.id, event_input("First launch (corrected)"))
    await wait_deliveries(database, models.Delivery.state == "sent", 3)
    edited = next(m for m in messages if m.edits)
    assert edited.content == "**Updated:** First launch (corrected)"
    assert any(
        r.method == "PATCH" and r.path.startswith(f"/webhooks/{hook.id}/") for r in fake_discord.requests
    )
    # Deleted: made again once, and the alert still goes out.
    fake_discord.delete_webhook(hook.id)
    await bot.services.curation.create(caller, event_input("Third launch"))
    await wait_deliveries(database, models.Delivery.state == "sent", 4)
    [again] = fake_discord.webhooks_of(channel.id)
    assert again.id != hook.id and fake_discord.channel_messages(channel.id)[-1].webhook_id == again.id
    # Deleted again: the subscription is disabled, saying why; nothing more is posted.
    fake_discord.delete_webhook(again.id)
    await bot.services.curation.create(caller, event_input("Fourth launch"))
    await wait_deliveries(database, models.Delivery.state == "failed", 1)
    assert len(fake_discord.channel_messages(channel.id)) == 3 and not fake_discord.webhooks_of(channel.id)
    listing = await fake_discord.invoke("alerts", subcommand="list")
    text = "\n".join(f["value"] for f in listing.embeds[0]["fields"])
    assert "**Disabled**" in text and "its webhook was deleted again" in text
    async with database.sessionmaker() as s:
        [sub] = (await s.scalars(select(models.Subscription))).all()
    assert sub.webhook_token and sub.webhook_token not in text  # the token is never shown
    # Resume makes a new one.
    resumed = await fake_discord.invoke("alerts", {"channel": channel}, subcommand="resume")
    assert "active again" in (resumed.content or "")
    await wait_deliveries(database, models.Delivery.state == "sent", 5)
    assert (
        len(fake_discord.webhooks_of(channel.id)) == 1 and len(fake_discord.channel_messages(channel.id)) == 4
    )


async def test_bad_target_options_are_refused_and_change_nothing(
    fake_discord: FakeDiscord, places: Places, bot: PeninsulaBot, database: Database
) -> None:
    text = places.staff.channel(0)
    cases = [
        ({"channel": text, "forum_tags": "kind"}, "forum_tags: applies to a forum channel only"),
        ({"channel": places.forum, "thread": True}, "thread: opens threads in a text channel only"),
        ({"channel": text, "name": "Desk"}, "name: and avatar_url need identity:webhook"),
        (
            {"channel": text, "identity": "webhook", "name": "Discord bot"},
            "may not contain “clyde” or “discord”",
        ),
        (
            {"channel": text, "identity": "webhook", "avatar_url": "javascript:x"},
            "avatar_url: must be an http",
        ),
    ]
    for options, expected in cases:
        reply = await fake_discord.invoke("alerts", options, subcommand="subscribe")
        assert reply.ephemeral and expected in (reply.content or ""), (options, reply.content)
    manager = places.staff.channel_manager  # Manage Channels, not Manage Webhooks
    refused = await fake_discord.invoke(
        "alerts", {"channel": text, "identity": "webhook"}, subcommand="subscribe", user=manager
    )
    assert "You need the Manage Webhooks permission" in (refused.content or "")
    bot_role = next(r for r in places.guild.roles.values() if r.name == "Peninsula Brief")
    await fake_discord.set_permissions(text, bot_role, deny=CREATE_PUBLIC_THREADS)
    refused = await fake_discord.invoke("alerts", {"channel": text, "thread": True}, subcommand="subscribe")
    assert "I need the Create Public Threads permission" in (refused.content or "")
    async with database.sessionmaker() as s:
        assert (await s.scalars(select(models.Subscription))).all() == []
    sample = await fake_discord.invoke("alerts", {"channel": places.forum}, subcommand="test")
    assert "is a forum: it takes posts, not messages" in (sample.content or "")


async def test_kill_9_mid_fan_out_leaves_one_post_thread_and_webhook_message_per_target(
    fake_discord: FakeDiscord, sqlite_db: Database, tmp_path: Path
) -> None:
    guild = fake_discord.add_guild(
        "Every form", channels=[f"t{i}" for i in range(40)] + [f"w{i}" for i in range(40)]
    )
    grant_bot(guild, ALL_FORMS)
    forums = [fake_discord.add_forum(guild, f"f{i}", tags=("nuclear_test",)) for i in range(40)]
    threaded = [c.id for c in guild.channels.values() if c.name.startswith("t")]
    hooked = [c.id for c in guild.channels.values() if c.name.startswith("w")]
    await load_sample(sqlite_db)
    services = Services.build(sqlite_db.sessionmaker, Policy.of([guild.id]))
    manager = Caller(7, guild.id, frozenset({"manage_channels", "manage_webhooks"}))
    for forum in forums:
        await services.subscriptions.subscribe(manager.in_channel(forum.id), forum.id, placement=FORUM)
    for cid in threaded:
        await services.subscriptions.subscribe(manager.in_channel(cid), cid, placement=THREADED)
    for cid in hooked:
        await services.subscriptions.subscribe(manager.in_channel(cid), cid, placement=HOOKED)

    def posted() -> int:
        return (
            sum(1 for f in forums if fake_discord.threads_of(f.id))
            + sum(1 for c in threaded if fake_discord.threads_of(c))
            + sum(1 for c in hooked if fake_discord.channel_messages(c))
        )

    env = {"HOME_GUILD_IDS": str(guild.id)}
    first = BotProcess(fake_discord, sqlite_db.url, env=env)
    await first.start(tmp_path / "bot.log")
    try:
        await fake_discord.wait_for(lambda: bool(fake_discord.global_commands), 30, "the bot to sync")
        await fake_discord.wait_for(lambda: fake_discord.identifies >= 1, 30, "the bot to connect")
        options = {**ALERT_OPTIONS, "title": "Seventh nuclear test", "significance": 5}
        result = await fake_discord.invoke("curate", options, subcommand="add", timeout=10)
        assert result.content.startswith("Published event #"), first.output()
        await fake_discord.wait_for(lambda: posted() >= 30, 20, "30 alerts")
        first.kill()
        assert await first.wait(10) == -9
        assert posted() < 120, "the fan-out finished before the kill; nothing was tested"
        second = BotProcess(fake_discord, sqlite_db.url, env=env)
        await second.start(tmp_path / "bot.log")
        try:
            await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 120, within=60)
            second.terminate()
            assert await second.wait(20) == 0, second.output()
        finally:
            await second.stop()
    finally:
        await first.stop()
    assert all(len(fake_discord.threads_of(f.id)) == 1 for f in forums)
    for cid in threaded:
        assert len(fake_discord.channel_messages(cid)) == 1 and len(fake_discord.threads_of(cid)) == 1
    for cid in hooked:
        assert len(fake_discord.channel_messages(cid)) == 1 and len(fake_discord.webhooks_of(cid)) == 1
    async with sqlite_db.sessionmaker() as s:
        rows = (await s.scalars(select(models.Delivery))).all()
    assert all(r.claimed_by is None and r.message_id for r in rows)
