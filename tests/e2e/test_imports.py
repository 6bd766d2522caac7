"""``/curate import`` under load: a large file is parsed off the event loop and written in short
transactions, so everyone else is answered while it runs; one import per server at a time and a
cooldown between two, each refusal a clear ephemeral message; the alerts one import queues are
capped per channel, the rest summed up in one message."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from bot import models
from testing.bulk import bulk_native_csv
from testing.fake_discord import FakeAttachment, FakeDiscord, RateLimitConfig, RequestRecord
from tests.conftest import Database

from .bot_process import FAST, MY_EXTENSIONS, Staff, load_sample, running_bot
from .test_curation import ADD, native_file, subscribe
from .test_dispatcher import wait_deliveries

# Large enough that the import takes seconds (parsing, validation, ten thousand inserts), small
# enough that the test takes about 10 s on an idle machine (bench/imports.py runs 85,000 rows).
BULK_ROWS = 10_000


def bulk_file(rows: int, prefix: str = "bulk") -> FakeAttachment:
    """A native CSV of ``rows`` new events."""
    return FakeAttachment(f"{prefix}.csv", bulk_native_csv(rows, prefix), "text/csv")


def callbacks(fake: FakeDiscord) -> list[RequestRecord]:
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith("/callback")]


def answered_at(fake: FakeDiscord, callback: RequestRecord) -> float:
    """When the bot sent the answer that follows ``callback`` (a defer): its first followup."""
    token = callback.path.split("/")[3]  # /interactions/<id>/<token>/callback
    return min(
        r.at
        for r in fake.requests
        if r.method == "POST" and r.path.startswith("/webhooks/") and token in r.path
    )


async def count_events(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(models.Event)) or 0)


async def test_a_large_import_leaves_the_bot_answering(
    fake_discord: FakeDiscord, sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    staff, other = Staff(fake_discord, "Home"), Staff(fake_discord, "Elsewhere")
    await load_sample(sqlite_db)
    extensions = (*MY_EXTENSIONS, "cogs.briefing")
    async with running_bot(
        fake_discord, sqlite_db, home_guild_ids=[staff.guild.id], extensions=extensions, import_cooldown=60
    ):
        before = len(callbacks(fake_discord))
        big = asyncio.create_task(
            fake_discord.invoke(
                "curate", {"file": bulk_file(BULK_ROWS)}, subcommand="import", guild=staff.guild, timeout=120
            )
        )
        await fake_discord.wait_for(lambda: len(callbacks(fake_discord)) > before, 5, "the import's defer")
        deferred = callbacks(fake_discord)[before]
        assert deferred.body["type"] == 5  # deferred before any work

        # Another user's /help is answered while the import runs (the fake fails a late answer).
        help_ = await fake_discord.invoke("help", guild=staff.guild, user=staff.reader)
        assert help_.embeds and not big.done()

        # A curator's /curate add is deferred at once, then answered, the event written.
        added = await fake_discord.invoke("curate", ADD, subcommand="add", guild=staff.guild, timeout=30)
        assert added.callback_type == 5
        assert added.content.startswith("Published event #")

        # A second import in the same server is told to wait; another server imports meanwhile.
        second = await fake_discord.invoke(
            "curate", {"file": native_file("Hwasong-14 first flight")}, subcommand="import", guild=staff.guild
        )
        assert second.callback_type == 4 and second.ephemeral
        assert second.content.startswith("An import is already running in this server")
        elsewhere = await fake_discord.invoke(
            "curate", {"file": native_file("Hwasong-14 first flight")}, subcommand="import", guild=other.guild
        )
        assert "1 created" in elsewhere.content
        assert not big.done()

        report = await big
        assert report.ephemeral
        assert (
            report.content
            == f"Native import: {BULK_ROWS} rows — {BULK_ROWS} created, 0 updated, 0 unchanged."
        )
        # The reader was answered before the import's report was sent.
        [help_callback] = [r for r in callbacks(fake_discord) if f"/{help_.interaction_id}/" in r.path]
        assert help_callback.at < answered_at(fake_discord, deferred)
        assert await count_events(sqlite_db) == 3 + 1 + BULK_ROWS + 1  # sample, add, bulk, elsewhere

        # Right after, the server waits out the cooldown (and is told how long).
        again = await fake_discord.invoke(
            "curate",
            {"file": native_file("Hwasong-14 second flight")},
            subcommand="import",
            guild=staff.guild,
        )
        assert again.ephemeral
        match = re.fullmatch(
            r"This server can start one import every 60 s; try again in (\d+) s\. Nothing was changed\.",
            again.content,
        )
        assert match is not None and 50 <= int(match[1]) <= 60
    assert await count_events(sqlite_db) == 3 + 1 + BULK_ROWS + 1
    # The outbox worker claimed all along (every 0.2 s) without meeting a locked database.
    assert "database is locked" not in caplog.text


async def test_an_import_queues_at_most_its_cap_of_alerts_per_channel(
    fake_discord: FakeDiscord, sqlite_db: Database
) -> None:
    staff = Staff(fake_discord, "Home")
    await load_sample(sqlite_db)
    # Discord's per-channel pace (5 per 5 s) is not what this tests: both sides allow more.
    fake_discord.rate_limits = RateLimitConfig(channel_messages=50, channel_window=1.0)
    config = replace(FAST, channel_messages=50, channel_window=1.0)
    async with running_bot(fake_discord, sqlite_db, home_guild_ids=[staff.guild.id], config=config):
        await subscribe(fake_discord, staff, 0, 1)
        titles = [f"Imported launch {i:03d}" for i in range(250)]
        report = await fake_discord.invoke(
            "curate", {"file": native_file(*titles), "alert": True}, subcommand="import", timeout=30
        )
        assert report.content == (
            "Native import: 250 rows — 250 created, 0 updated, 0 unchanged, 40 alerts queued (at most 20 "
            "per channel per import: 2 channels get one “N more events imported” message instead of the "
            "other 460)."
        )
        await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 42)
        await asyncio.sleep(0.5)  # nothing more arrives
        for i in (0, 1):
            messages = fake_discord.channel_messages(staff.channel(i).id)
            assert len(messages) == 21
            alerts, [summary] = messages[:20], messages[20:]
            assert [m.embeds[0]["title"] for m in alerts] == titles[:20]
            assert summary.content == (
                "**230 more events imported** without an alert of their own; `/timeline` lists them."
            )
            # Like an alert, it names its delivery in its footer (found, not posted twice, after
            # Discord has forgotten the nonce).
            assert summary.embeds == [{"footer": {"text": f"ref {summary.nonce}"}}]
            assert summary.allowed_mentions == {"parse": []}
