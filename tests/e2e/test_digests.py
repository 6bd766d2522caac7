"""Digest subscriptions end to end on SQLite and PostgreSQL, with a clock the test moves: one
message per period, grouped and counted; nothing for an empty period unless asked; weekly on the
server's weekday; a restart (and a ``kill -9`` of the bot process) between the boundary and the
post neither repeats nor loses a period; bad options refused, nothing written; ``/alerts list``
shows the schedule."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot import models
from bot.discord.client import PeninsulaBot
from bot.outbox.digests import DigestPlace, DigestScheduler, close_period, digest_place
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.digests import DigestOptions
from testing.clock import ManualClock
from testing.fake_discord import FakeDiscord
from tests.conftest import Database

from .bot_process import BotProcess, Staff, channel_manager, grant_bot, load_sample, running_bot
from .test_dispatcher import curator, event_input, wait_deliveries

# Thursday 3 Dec 2026, 10:00 in Seoul: the next 08:00 digest there is on Friday.
START = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
async def staff(fake_discord: FakeDiscord, database: Database) -> Staff:
    """A guild whose channels the bot may post in, over the sample corpus."""
    await load_sample(database)
    return Staff(fake_discord)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def admin(guild_id: int) -> Caller:
    return Caller(7, guild_id, frozenset({"manage_channels", "manage_guild"}))


async def in_zone(bot: PeninsulaBot, staff: Staff, zone: str) -> None:
    """``/settings timezone`` of the staff's server."""
    await bot.services.guild_settings.set_timezone(admin(staff.guild.id), zone)


async def subscribe(fake: FakeDiscord, options: dict[str, object]) -> str:
    reply = await fake.invoke("alerts", options, subcommand="subscribe")
    assert reply.ephemeral
    return reply.content or ""


async def digest_subscription(db: Database) -> models.Subscription:
    async with db.sessionmaker() as session:
        [sub] = (
            await session.scalars(select(models.Subscription).where(models.Subscription.mode == "digest"))
        ).all()
        return sub


async def pass_boundary(bot: PeninsulaBot, clock: ManualClock, db: Database) -> None:
    """Move the clock just past the digest's next boundary and let the scheduler look."""
    sub = await digest_subscription(db)
    assert sub.digest_next_at is not None
    clock.set(sub.digest_next_at + dt.timedelta(seconds=1))
    assert bot.digests is not None
    before = bot.digests.passes
    bot.digests.wake()
    for _ in range(100):
        if bot.digests.passes > before:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the scheduler made no pass")


async def digest_count(db: Database) -> int:
    async with db.sessionmaker() as session:
        D = models.Delivery
        return int(await session.scalar(select(func.count()).where(D.action == "digest")) or 0)


def text_of(message: Any) -> str:
    embed = message.embeds[0]
    parts = [embed.get("title") or "", embed.get("description") or ""]
    parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields") or ()]
    return "\n".join(parts)


async def test_a_daily_digest_fires_once_per_period_grouped_and_counted(
    fake_discord: FakeDiscord, database: Database, staff: Staff, clock: ManualClock
) -> None:
    channel = staff.channel(0)
    async with running_bot(fake_discord, database, clock=clock) as bot:
        await in_zone(bot, staff, "Asia/Seoul")
        reply = await subscribe(
            fake_discord, {"channel": channel, "mode": "digest", "frequency": "daily", "at": "08:00"}
        )
        assert "daily digest at 08:00 Asia/Seoul, next 4 Dec 2026 08:00 KST" in reply, reply
        sub = await digest_subscription(database)
        assert sub.digest_next_at == dt.datetime(2026, 12, 3, 23, 0, tzinfo=dt.UTC)
        who = curator(staff.guild.id)
        await bot.services.curation.create(who, event_input("Hwasong-19 launch"))
        await bot.services.curation.create(who, event_input("Second ICBM launch"))
        await bot.services.curation.create(
            who, event_input("Six-party envoys meet", kind="talks_session", programs=[], tracks=["six-party"])
        )
        gone = await bot.services.curation.create(who, event_input("A report soon retracted"))
        edited = await bot.services.curation.create(who, event_input("Launch with a first title"))
        await bot.services.curation.retract(who, gone.id, "Wrong report")
        await bot.services.curation.edit(who, edited.id, event_input("Launch with its corrected title"))
        await asyncio.sleep(0.5)
        assert fake_discord.channel_messages(channel.id) == []  # no alert of its own for any event
        async with database.sessionmaker() as session:
            waiting = await digest_place(session, sub.id, edited.id)
        assert waiting == DigestPlace(None, sub.digest_next_at)
        await pass_boundary(bot, clock, database)
        await wait_deliveries(database, models.Delivery.action == "digest", 1)
        await wait_deliveries(
            database, (models.Delivery.action == "digest") & (models.Delivery.state == "sent"), 1
        )
        [digest] = fake_discord.channel_messages(channel.id)
        text = text_of(digest)
        assert digest.content.startswith("**Daily digest** · 3 Dec 2026 08:00 KST – 4 Dec 2026 08:00 KST")
        assert digest.embeds[0]["title"] == "Daily digest"
        assert digest.embeds[0]["description"] == (
            "**4 events**: Intercontinental ballistic missiles 3 · Six-party talks 1"
        )
        async with database.sessionmaker() as session:
            place = await digest_place(session, sub.id, edited.id)
            assert place is not None and place.state == "sent" and place.message_id == int(digest.id)
            assert (place.start, place.end) == (sub.digest_next_at - dt.timedelta(days=1), sub.digest_next_at)
        assert "Launch with its corrected title" in text and "first title" not in text
        assert "retracted" not in text
        assert "](https://example.org/a)" in text  # each line links its source
        assert text.index("Intercontinental ballistic missiles\n") < text.index("Six-party talks\n")
        # A second look at the same boundary sends nothing more; the next period has its own.
        assert bot.digests is not None
        assert await bot.digests.run_once() == 0
        assert await digest_count(database) == 1
        await bot.services.curation.create(who, event_input("Friday launch"))
        await pass_boundary(bot, clock, database)
        await wait_deliveries(
            database, (models.Delivery.action == "digest") & (models.Delivery.state == "sent"), 2
        )
        first, second = sorted(fake_discord.channel_messages(channel.id), key=lambda m: int(m.id))
        assert second.embeds[0]["description"] == "**1 event**: Intercontinental ballistic missiles 1"
        assert "Friday launch" in text_of(second) and "Friday launch" not in text_of(first)
        assert "4 Dec 2026 08:00 KST – 5 Dec 2026 08:00 KST" in second.content


async def test_an_empty_period_sends_nothing_unless_asked(
    fake_discord: FakeDiscord, database: Database, staff: Staff, clock: ManualClock
) -> None:
    quiet, told = staff.channel(0), staff.channel(1)
    async with running_bot(fake_discord, database, clock=clock) as bot:
        await subscribe(fake_discord, {"channel": quiet, "mode": "digest", "at": "09:30"})
        await subscribe(fake_discord, {"channel": told, "mode": "digest", "at": "09:30", "empty": True})
        async with database.sessionmaker() as session:
            nexts = set((await session.scalars(select(models.Subscription.digest_next_at))).all())
        assert nexts == {dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)}  # UTC: no server zone set
        clock.set(dt.datetime(2026, 12, 3, 9, 31, tzinfo=dt.UTC))
        assert bot.digests is not None
        assert await bot.digests.run_once() == 1
        await wait_deliveries(database, models.Delivery.state == "sent", 1)
        await asyncio.sleep(0.3)
    assert fake_discord.channel_messages(quiet.id) == []
    [empty] = fake_discord.channel_messages(told.id)
    assert empty.embeds[0]["description"] == "No new events in this period."


async def test_weekly_on_the_servers_weekday_across_daylight_saving(
    fake_discord: FakeDiscord, database: Database, staff: Staff, clock: ManualClock
) -> None:
    # Saturday 24 Oct 2026 in Berlin (summer time, UTC+2); clocks go back on Sunday the 25th.
    clock.set(dt.datetime(2026, 10, 24, 12, 0, tzinfo=dt.UTC))
    async with running_bot(fake_discord, database, clock=clock) as bot:
        await in_zone(bot, staff, "Europe/Berlin")
        reply = await subscribe(
            fake_discord,
            {
                "channel": staff.channel(0),
                "mode": "digest",
                "frequency": "weekly",
                "weekday": "mon",
                "at": "08:00",
            },
        )
        assert "weekly digest on Monday at 08:00 Europe/Berlin" in reply, reply
        sub = await digest_subscription(database)
        # Monday 26 Oct, 08:00 CET (winter time since Sunday): 07:00 UTC.
        assert sub.digest_next_at == dt.datetime(2026, 10, 26, 7, 0, tzinfo=dt.UTC)
        await bot.services.curation.create(curator(staff.guild.id), event_input("Weekend launch"))
        clock.set(dt.datetime(2026, 10, 26, 6, 59, tzinfo=dt.UTC))
        assert bot.digests is not None
        assert await bot.digests.run_once() == 0  # 07:59 in Berlin: not yet
        await pass_boundary(bot, clock, database)
        await wait_deliveries(database, models.Delivery.state == "sent", 1)
        sub = await digest_subscription(database)
        assert sub.digest_next_at == dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)
    [digest] = fake_discord.channel_messages(staff.channel(0).id)
    assert digest.content.startswith("**Weekly digest** · 19 Oct 2026 08:00 CEST – 26 Oct 2026 08:00 CET")


async def test_a_restart_between_the_boundary_and_the_post_neither_repeats_nor_skips(
    fake_discord: FakeDiscord, database: Database, staff: Staff, clock: ManualClock
) -> None:
    channel = staff.channel(0)
    services_caller = channel_manager(staff.guild.id).in_channel(channel.id)
    async with running_bot(fake_discord, database, clock=clock) as bot:
        await bot.services.subscriptions.subscribe(
            services_caller, channel.id, digest=_daily("08:00", empty=True)
        )
        await bot.services.curation.create(curator(staff.guild.id), event_input("Launch before the crash"))
        assert bot.digests is not None
        await bot.digests.stop()  # the process "dies" before its scheduler sees the boundary
    # Two periods pass while nothing runs; a scheduler elsewhere closes them, no worker posts.
    sub = await digest_subscription(database)
    assert sub.digest_next_at is not None
    clock.set(sub.digest_next_at + dt.timedelta(days=1, minutes=5))
    assert await DigestScheduler(database.sessionmaker, clock=clock).run_once() == 2
    async with running_bot(fake_discord, database, clock=clock) as bot:
        await wait_deliveries(database, models.Delivery.state == "sent", 2)
        # As if killed after the first POST and before its record: the row is "sending" again.
        async with database.sessionmaker() as session, session.begin():
            await session.execute(
                update(models.Delivery)
                .where(
                    models.Delivery.revision == 1,
                    models.Delivery.period_start == sub.digest_next_at - dt.timedelta(days=1),
                )
                .values(state="sending", claimed_by=None, claimed_until=None, next_attempt_at=models.utcnow())
            )
    async with running_bot(fake_discord, database, clock=clock) as bot:
        await wait_deliveries(database, models.Delivery.state == "sent", 2)
        assert bot.digests is not None
        assert await bot.digests.run_once() == 0
        await asyncio.sleep(0.3)
    messages = sorted(fake_discord.channel_messages(channel.id), key=lambda m: int(m.id))
    assert len(messages) == 2  # one per period: the resend returned the message already posted
    assert "Launch before the crash" in text_of(messages[0])
    assert messages[1].embeds[0]["description"] == "No new events in this period."
    assert await digest_count(database) == 2


def _daily(at: str, *, empty: bool = False) -> DigestOptions:
    return DigestOptions("daily", at, None, None, empty)


async def test_a_long_digest_is_several_messages_and_every_event_once(
    fake_discord: FakeDiscord, database: Database, staff: Staff, clock: ManualClock
) -> None:
    channel = staff.channel(0)
    async with running_bot(fake_discord, database, clock=clock) as bot:
        await subscribe(fake_discord, {"channel": channel, "mode": "digest"})
        who = curator(staff.guild.id)
        titles = [f"Launch number {i:02d} of a long and busy week on the peninsula" for i in range(70)]
        for title in titles:
            await bot.services.curation.create(who, event_input(title))
        await pass_boundary(bot, clock, database)
        await fake_discord.wait_for(lambda: len(fake_discord.channel_messages(channel.id)) >= 2, 15, "parts")
        await asyncio.sleep(1.0)
        messages = sorted(fake_discord.channel_messages(channel.id), key=lambda m: int(m.id))
    total = len(messages)
    assert total >= 2
    body = "\n".join(text_of(m) for m in messages)
    for title in titles:
        assert body.count(f"[{title}]") == 1, title
    for number, message in enumerate(messages, 1):
        assert message.embeds[0]["footer"]["text"].startswith(f"Page {number}/{total} · ")
    assert messages[0].embeds[0]["description"].startswith("**70 events**")


async def test_bad_digest_options_are_refused_naming_the_option(
    fake_discord: FakeDiscord, database: Database, staff: Staff, clock: ManualClock
) -> None:
    channel = staff.channel(0)
    async with running_bot(fake_discord, database):
        for options, named in (
            ({"mode": "digest", "at": "25:00"}, "at: “25:00” is not a time of day"),
            ({"mode": "digest", "frequency": "daily", "weekday": "mon"}, "weekday: only a weekly digest"),
            ({"mode": "digest", "frequency": "weekly"}, "weekday: a weekly digest needs a weekday"),
            ({"mode": "digest", "timezone": "Mars/Olympus"}, "timezone: “Mars/Olympus” is not an IANA"),
            ({"frequency": "daily"}, "frequency: goes with mode:digest only"),
        ):
            reply = await fake_discord.invoke(
                "alerts", {"channel": channel, **options}, subcommand="subscribe"
            )
            assert reply.ephemeral
            assert named in (reply.content or ""), (options, reply.content)
        async with database.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(models.Subscription)) == 0


async def test_alerts_list_shows_the_schedule_and_the_next_digest(
    fake_discord: FakeDiscord, database: Database, staff: Staff, clock: ManualClock
) -> None:
    async with running_bot(fake_discord, database, clock=clock):
        await subscribe(fake_discord, {"channel": staff.channel(0), "mode": "digest", "at": "08:00"})
        await subscribe(
            fake_discord,
            {
                "channel": staff.channel(1),
                "mode": "digest",
                "frequency": "weekly",
                "weekday": "sun",
                "at": "18:15",
                "timezone": "asia/tokyo",
            },
        )
        before = await fake_discord.invoke("alerts", subcommand="list")
        # The server's zone changes after the subscribe: the digest that follows it moves.
        await fake_discord.invoke("settings", {"timezone": "Asia/Seoul"}, subcommand="timezone")
        listing = await fake_discord.invoke("alerts", subcommand="list")
        # Beside an alert subscription of the same channel, the digest is told apart by its label.
        await subscribe(fake_discord, {"channel": staff.channel(0)})
        pick = await fake_discord.invoke("alerts", {"channel": staff.channel(0)}, subcommand="unsubscribe")
    lines = (pick.content or "").splitlines()
    assert lines[1:] == [
        f"- #1 · <#{staff.channel(0).id}> · every event · Daily digest 08:00",
        f"- #3 · <#{staff.channel(0).id}> · every event",
    ], pick.content
    text = "\n".join(f["value"] for f in before.embeds[0]["fields"])
    assert "Daily digest at 08:00 UTC, next 3 Dec 2026 08:00 UTC" in text, text
    text = "\n".join(f["value"] for f in listing.embeds[0]["fields"])
    assert "Daily digest at 08:00 Asia/Seoul, next 4 Dec 2026 08:00 KST" in text, text
    assert "Weekly digest on Sunday at 18:15 Asia/Tokyo, next 6 Dec 2026 18:15 JST" in text, text


async def test_a_digest_speaks_the_servers_language(
    fake_discord: FakeDiscord, database: Database, staff: Staff, clock: ManualClock
) -> None:
    channel = staff.channel(0)
    async with running_bot(fake_discord, database, clock=clock) as bot:
        await bot.services.guild_settings.set_locale(admin(staff.guild.id), "ko")
        await in_zone(bot, staff, "Asia/Seoul")
        await subscribe(fake_discord, {"channel": channel, "mode": "digest", "at": "08:00"})
        await bot.services.curation.create(curator(staff.guild.id), event_input("Hwasong-19 launch"))
        await pass_boundary(bot, clock, database)
        await wait_deliveries(database, models.Delivery.state == "sent", 1)
    [digest] = fake_discord.channel_messages(channel.id)
    assert digest.embeds[0]["title"] == "일일 다이제스트"
    assert digest.embeds[0]["description"].startswith("**사건 1건**")
    assert "2026년 12월 3일 08:00 KST" in digest.content


async def test_kill_9_between_the_boundary_and_the_post_leaves_one_digest(
    fake_discord: FakeDiscord, sqlite_db: Database, tmp_path: Path
) -> None:
    guild = fake_discord.add_guild("Digest readers", channels=["digest"])
    grant_bot(guild)
    [channel_id] = guild.channels
    await load_sample(sqlite_db)
    services = Services.build(sqlite_db.sessionmaker, Policy.of([guild.id]))
    caller = channel_manager(guild.id).in_channel(channel_id)
    await services.subscriptions.subscribe(caller, channel_id, digest=_daily("08:00"))
    await services.curation.create(curator(guild.id), event_input("Launch the digest carries"))
    # The period ends now (the stored boundary moved: the process reads the real clock).
    async with sqlite_db.sessionmaker() as session, session.begin():
        await session.execute(update(models.Subscription).values(digest_next_at=models.utcnow()))
    fake_discord.set_delay(4.0, method="POST", path=r"/channels/\d+/messages$")
    env = {"HOME_GUILD_IDS": str(guild.id)}
    first = BotProcess(fake_discord, sqlite_db.url, env=env)
    await first.start(tmp_path / "bot.log")
    try:
        await wait_deliveries(sqlite_db, models.Delivery.state == "sending", 1, within=30)
        first.kill()
        assert await first.wait(10) == -9
    finally:
        await first.stop()
    fake_discord.clear_faults()
    second = BotProcess(fake_discord, sqlite_db.url, env=env)
    await second.start(tmp_path / "bot.log")
    try:
        await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1, within=40)
        await asyncio.sleep(1.0)
    finally:
        await second.stop()
    [digest] = fake_discord.channel_messages(channel_id)
    assert "Launch the digest carries" in text_of(digest)
    assert await digest_count(sqlite_db) == 1


async def test_a_period_written_already_is_not_written_again(
    staff: Staff, database: Database, clock: ManualClock
) -> None:
    services = Services.build(database.sessionmaker, Policy.of([]), clock=clock)
    channel_id = staff.channel(0).id
    caller = channel_manager(staff.guild.id).in_channel(channel_id)
    view = await services.subscriptions.subscribe(caller, channel_id, digest=_daily("08:00", empty=True))
    assert view.digest_next_at is not None
    end = view.digest_next_at
    # Another process wrote the period and died before moving the boundary on.
    async with database.sessionmaker() as session, session.begin():
        sub = await session.get(models.Subscription, view.id)
        assert sub is not None
        assert await close_period(session, sub, None)
        sub.digest_next_at = end
    clock.set(end + dt.timedelta(minutes=1))
    assert await DigestScheduler(database.sessionmaker, clock=clock).run_once() == 0
    assert await digest_count(database) == 1
    sub = await digest_subscription(database)
    assert sub.digest_next_at == end + dt.timedelta(days=1)
