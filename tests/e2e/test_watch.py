"""The source watcher owned by the running bot: a source is polled by the bot's own loop, its new
items become drafts, publishing one posts exactly one alert to a subscribed channel through the
outbox and the fake Discord, rejecting one posts nothing, and closing the bot stops the loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import func, select

from bot import models
from bot.discord.review import QUEUE_NOT_YOURS
from bot.services.feeds import parse
from bot.services.subscriptions import Filters
from testing.fake_discord import FakeDiscord
from tests.conftest import Database
from tests.feed_server import as_csv, feed_server, records

from .bot_process import Staff, channel_manager, load_sample, running_bot
from .test_dispatcher import curator, wait_deliveries


async def _drafts(db: Database, want: int = 1, within: float = 30) -> int:
    """How many drafts there are once there are ``want`` (or the deadline passed)."""
    deadline = time.monotonic() + within
    while True:
        async with db.sessionmaker() as s:
            n = int(await s.scalar(select(func.count()).select_from(models.Draft)) or 0)
        if n >= want or time.monotonic() > deadline:
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
        page = await services.review.queue(curator(staff.guild.id))
        launch = next(d for d in page.drafts if d.links["systems"] == ["hwasong-15"])
        other = next(d for d in page.drafts if d.id != launch.id)
        event = await services.review.publish(curator(staff.guild.id), launch.id)
        await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1)
        await services.review.reject(curator(staff.guild.id), other.id, "seen already")
        await asyncio.sleep(0.5)
        posted = fake_discord.channel_messages(channel.id)
        assert len(posted) == 1
        assert posted[0].embeds[0]["title"].endswith(launch.title)
        assert event.title == launch.title
        assert len(feeds.seen) >= 1 and await _drafts(sqlite_db) == 2
    assert bot.watcher is None  # close stopped it


async def test_curate_watch_and_queue_commands(fake_discord: FakeDiscord, sqlite_db: Database) -> None:
    staff = Staff(fake_discord)
    await load_sample(sqlite_db)
    channel = staff.channel(0)
    async with (
        feed_server() as feeds,
        running_bot(
            fake_discord, sqlite_db, home_guild_ids=[staff.guild.id], watch_allow_private=True
        ) as bot,
    ):
        await bot.services.subscriptions.subscribe(
            channel_manager(staff.guild.id).in_channel(channel.id), channel.id, Filters(programs=["icbm"])
        )
        refused = await fake_discord.invoke(
            "curate",
            {"url": feeds.url("/feed"), "format": "atom", "name": "Test wire"},
            subcommand="watch add",
            user=staff.reader,
            bypass_default_permissions=True,
        )
        assert refused.ephemeral and "curator" in refused.content.lower()
        added = await fake_discord.invoke(
            "curate",
            {"url": feeds.url("/feed"), "format": "atom", "name": "Test wire"},
            subcommand="watch add",
            user=staff.admin,
        )
        assert added.content.startswith("Watching source #1 Test wire.")
        assert await _drafts(sqlite_db) == 2  # the add woke the bot's watcher
        listed = await fake_discord.invoke("curate", subcommand="watch list", user=staff.admin)
        field = listed.embeds[0]["fields"][0]
        assert field["name"] == "#1 Test wire (atom)" and "last error" not in field["value"]
        queue = await fake_discord.invoke("curate", subcommand="queue", user=staff.admin)
        assert queue.ephemeral
        newest = queue.embeds[0]
        assert newest["footer"]["text"] == "Draft 1 of 2 in the queue, newest first"
        assert newest["title"] == "Draft #2: Unha-3 places a satellite in orbit from Sohae"
        async with sqlite_db.sessionmaker() as s:
            unha = await s.scalar(select(models.Event.id).where(models.Event.title == newest["title"][10:]))
        assert {"name": "Possible duplicate", "value": f"of event #{unha}", "inline": False} in newest[
            "fields"
        ]
        shown = queue.message
        assert shown is not None
        publish, _edit, _merge, reject, _prev, _next = shown.custom_ids()
        stranger = await fake_discord.press(queue, reject, user=staff.curator)
        assert stranger.ephemeral and stranger.content == QUEUE_NOT_YOURS
        form = await fake_discord.press(queue, reject, user=staff.admin)
        assert form.modal is not None  # the reason is asked for
        rejected = await fake_discord.submit_modal(form, {"reason": "Recorded already"}, user=staff.admin)
        assert "Rejected draft #2; nothing was posted." in (shown.content or "")
        assert rejected.callback_type == 6  # deferred, then the queue message edited
        assert queue.embeds[0]["title"] == "Draft #1: North Korea fires a Hwasong-15 from near Pyongyang"
        publish, _edit, _reject, _prev, _next = shown.custom_ids()
        await fake_discord.press(queue, publish, user=staff.admin)
        assert "Published draft #1 as event #" in (shown.content or "")
        await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1)
        await asyncio.sleep(0.3)
        assert len(fake_discord.channel_messages(channel.id)) == 1
        assert shown.embeds == []  # the last draft decided: the queue says it is empty
        again = await fake_discord.invoke("curate", subcommand="queue", user=staff.admin)
        assert again.content == "The review queue is empty."
        removed = await fake_discord.invoke(
            "curate", {"source": 1}, subcommand="watch remove", user=staff.admin
        )
        assert removed.content == "No longer watching #1 Test wire."


async def test_pause_resume_and_source_autocomplete_stay_in_their_scope(
    fake_discord: FakeDiscord, sqlite_db: Database
) -> None:
    home = Staff(fake_discord)
    other = Staff(fake_discord, "Other server")
    async with running_bot(
        fake_discord, sqlite_db, home_guild_ids=[home.guild.id], watch_allow_private=True
    ) as bot:
        watch = bot.services.watch
        shared = await watch.add(curator(home.guild.id), "https://example.org/a.atom", "atom", "Shared wire")
        theirs = await watch.add(curator(other.guild.id), "https://example.org/b.atom", "atom", "Their wire")
        offered = await fake_discord.autocomplete(
            "curate", "source", "wire", subcommand="watch pause", guild=home.guild, user=home.admin
        )
        assert offered == [{"name": f"#{shared.id} Shared wire", "value": str(shared.id)}]
        offered = await fake_discord.autocomplete(
            "curate", "source", "", subcommand="watch remove", guild=other.guild, user=other.admin
        )
        assert offered == [{"name": f"#{theirs.id} Their wire", "value": str(theirs.id)}]
        none = await fake_discord.autocomplete(
            "curate", "source", "", subcommand="watch resume", guild=home.guild, user=home.reader
        )
        assert none == []
        paused = await fake_discord.invoke(
            "curate", {"source": "Shared wire"}, subcommand="watch pause", guild=home.guild, user=home.admin
        )
        assert paused.ephemeral
        assert paused.content == (
            f"Paused #{shared.id} Shared wire: it is not checked until `/curate watch resume`."
        )
        listed = await fake_discord.invoke(
            "curate", subcommand="watch list", guild=home.guild, user=home.admin
        )
        assert "paused" in listed.embeds[0]["fields"][0]["value"]
        again = await fake_discord.invoke(
            "curate", {"source": str(shared.id)}, subcommand="watch pause", guild=home.guild, user=home.admin
        )
        assert again.ephemeral and "is already paused" in again.content
        # Another guild's source is "not found", by number or by name, and its name is never shown.
        by_number = await fake_discord.invoke(
            "curate", {"source": str(theirs.id)}, subcommand="watch pause", guild=home.guild, user=home.admin
        )
        assert by_number.ephemeral and f"#{theirs.id}" in by_number.content
        assert by_number.content.startswith("No source matches") and "Their wire" not in by_number.content
        by_name = await fake_discord.invoke(
            "curate", {"source": "Their wire"}, subcommand="watch pause", guild=home.guild, user=home.admin
        )
        assert by_name.ephemeral and "names no single source" in by_name.content
        assert f"#{theirs.id}" not in by_name.content
        assert not (await watch.sources(curator(other.guild.id)))[0].paused
        resumed = await fake_discord.invoke(
            "curate",
            {"source": f"#{shared.id}"},
            subcommand="watch resume",
            guild=home.guild,
            user=home.admin,
        )
        assert resumed.content == f"Resumed #{shared.id} Shared wire: it is checked again."
        assert not (await watch.sources(curator(home.guild.id)))[0].paused


async def test_a_dataset_source_drafts_a_row_appended_between_two_polls(
    fake_discord: FakeDiscord, database: Database, shared_dir: Path
) -> None:
    staff = Staff(fake_discord)
    await load_sample(database)
    path = shared_dir / "datasets" / "csis-provocations" / "north_korea_provocations_1958_present.csv"
    header, rows = records(path)
    async with (
        feed_server() as feeds,
        running_bot(fake_discord, database, home_guild_ids=[staff.guild.id], watch_allow_private=True) as bot,
    ):
        feeds.data = as_csv([header, *rows[:-1]])
        expected = len(await parse(feeds.data, "csis"))
        added = await fake_discord.invoke(
            "curate",
            {"url": feeds.url("/data"), "format": "csis", "name": "CSIS provocations"},
            subcommand="watch add",
            user=staff.admin,
        )
        assert added.content.startswith("Watching source #1 CSIS provocations.")
        assert await _drafts(database, expected) == expected  # the add woke the bot's watcher
        listed = await fake_discord.invoke("curate", subcommand="watch list", user=staff.admin)
        field = listed.embeds[0]["fields"][0]
        assert field["name"] == "#1 CSIS provocations (csis)" and "last error" not in field["value"]

        feeds.data = as_csv([header, *rows])  # the dataset gains a row
        [polled] = await bot.services.watch.run_once()  # the next poll, without waiting for it
        assert polled.error is None and len(polled.drafted) == 1
        assert await _drafts(database, expected + 1) == expected + 1
        queue = await fake_discord.invoke("curate", subcommand="queue", user=staff.admin)
        newest = queue.embeds[0]
        assert newest["footer"]["text"] == f"Draft 1 of {expected + 1} in the queue, newest first"
        assert {"name": "Source", "value": "CSIS provocations", "inline": False} in newest["fields"]
