"""Every failure ends in text a user can read, through real discord.py against the fake Discord.

The error text comes from one place (``bot.discord.errors.user_message``); these tests cover each
caller: the command tree, the page buttons, the edit form, and the interaction that expired or
was answered elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import discord
import pytest
from discord.ext import commands
from sqlalchemy import text

from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.discord.errors import GENERIC
from bot.discord.tree import BriefTree
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.errors import ServiceError
from bot.services.validation import EventInput, SourceInput
from testing.fake_discord import FakeDiscord, FakeGuild, FakeMember, connect_bot
from tests.conftest import Database

from .bot_process import Staff, load_sample, running_bot

REFUSAL = "That event is already retracted."


class ErrorBot(commands.Bot):
    """The project's command tree with commands that fail in each way a real one can."""

    def __init__(self, fake: FakeDiscord) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.none(),
            tree_cls=BriefTree,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.fake = fake
        self.delay = 0.0

    async def setup_hook(self) -> None:
        tree = self.tree

        @tree.command(description="Answers, perhaps too late")
        async def ping(interaction: discord.Interaction) -> None:
            await asyncio.sleep(self.delay)
            await interaction.response.send_message("pong")

        @tree.command(description="Refuses, perhaps too late")
        async def refuse(interaction: discord.Interaction) -> None:
            await asyncio.sleep(self.delay)
            raise ServiceError(REFUSAL)

        @tree.command(description="Fails in a way nobody planned")
        async def broken(interaction: discord.Interaction) -> None:
            raise RuntimeError("secret internals")

        @tree.command(description="Acknowledged by another process, then refused")
        async def elsewhere(interaction: discord.Interaction) -> None:
            # Another process (or a retry) acknowledged the interaction: discord.py does not know.
            url = f"{self.fake.api_base}/interactions/{interaction.id}/{interaction.token}/callback"
            async with aiohttp.ClientSession() as http, http.post(url, json={"type": 5}) as response:
                assert response.status == 204
            raise ServiceError(REFUSAL)

        await tree.sync()


@pytest.fixture
async def error_bot(fake_discord: FakeDiscord) -> AsyncIterator[ErrorBot]:
    fake_discord.add_guild("Peninsula Watchers")
    client = ErrorBot(fake_discord)
    async with connect_bot(fake_discord, client):
        yield client


def bot_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("bot.")]


async def wait_for_record(caplog: pytest.LogCaptureFixture, level: int) -> logging.LogRecord:
    for _ in range(200):
        found = [r for r in bot_records(caplog) if r.levelno == level]
        if found:
            return found[0]
        await asyncio.sleep(0.01)
    raise AssertionError(f"nothing was logged at {logging.getLevelName(level)}")


# The command tree -------------------------------------------------------------------------------


async def test_a_refusal_is_its_own_text(fake_discord: FakeDiscord, error_bot: ErrorBot) -> None:
    result = await fake_discord.invoke("refuse")
    assert result.ephemeral
    assert result.content == REFUSAL


async def test_an_unexpected_failure_is_the_generic_text_logged_once(
    fake_discord: FakeDiscord, error_bot: ErrorBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    result = await fake_discord.invoke("broken")
    assert result.ephemeral
    assert result.content == GENERIC
    assert "secret" not in result.content
    [record] = [r for r in bot_records(caplog) if r.levelno >= logging.WARNING]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "command /broken failed"
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


# Expired and already answered interactions ---------------------------------------------------


async def test_an_expired_answer_is_logged_once_without_a_traceback(
    fake_discord: FakeDiscord, error_bot: ErrorBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    fake_discord.response_deadline = 0.05
    error_bot.delay = 0.1
    with pytest.raises(TimeoutError):
        await fake_discord.invoke("ping", timeout=0.5)
    record = await wait_for_record(caplog, logging.WARNING)
    assert record.getMessage() == "command /ping: the interaction expired before it was answered"
    assert record.exc_info is None
    await asyncio.sleep(0.1)
    assert [r.levelno for r in bot_records(caplog) if r.levelno >= logging.WARNING] == [logging.WARNING]
    # The token is dead: no followup is attempted (Discord would refuse it too).
    assert not [r for r in fake_discord.requests if r.path.startswith("/webhooks/")]
    taken = fake_discord.take_violations()
    assert any("answered after" in v for v in taken), taken


async def test_an_expired_error_reply_is_logged_once(
    fake_discord: FakeDiscord, error_bot: ErrorBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    fake_discord.response_deadline = 0.05
    error_bot.delay = 0.1
    with pytest.raises(TimeoutError):
        await fake_discord.invoke("refuse", timeout=0.5)
    record = await wait_for_record(caplog, logging.WARNING)
    assert record.getMessage().startswith("could not deliver an error reply for interaction ")
    assert record.getMessage().endswith("(it expired)")
    assert record.exc_info is None
    await asyncio.sleep(0.1)
    assert [r.levelno for r in bot_records(caplog) if r.levelno >= logging.WARNING] == [logging.WARNING]
    fake_discord.take_violations()


async def test_answered_elsewhere_falls_back_to_a_followup(
    fake_discord: FakeDiscord, error_bot: ErrorBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    result = await fake_discord.invoke("elsewhere")
    assert result.callback_type == 5
    [followup] = result.followups
    assert followup.content == REFUSAL
    assert result.content == REFUSAL  # the followup replaced the "thinking" message
    assert [r for r in bot_records(caplog) if r.levelno >= logging.WARNING] == []
    assert fake_discord.take_violations() == [f"interaction {result.interaction_id} answered more than once"]


# Page buttons and the edit form of the real bot ------------------------------------------------


@dataclass
class Reader:
    guild: FakeGuild
    member: FakeMember
    services: Services


async def break_table(db: Database, table: str) -> None:
    """A real database fault: the table the next step needs is gone."""
    async with db.engine.begin() as conn:
        await conn.execute(text(f"ALTER TABLE {table} RENAME TO {table}_gone"))


@pytest.fixture
async def reader(fake_discord: FakeDiscord, sqlite_db: Database) -> Reader:
    guild = fake_discord.add_guild("Home")
    member = guild.add_member("alice")
    await load_sample(sqlite_db)
    services = Services.build(sqlite_db.sessionmaker, Policy.of([guild.id]))
    caller = Caller(7, guild.id, frozenset({"manage_guild"}))
    for i in range(12):
        data = EventInput(
            f"Drill number {i} at the coast",
            "Artillery drill reported near the coast.",
            f"2019-{i + 1:02d}",
            "military_action",
            2,
            sources=[SourceInput("Yonhap", f"Report {i}")],
        )
        await services.curation.create(caller, data, alert=False)
    return Reader(guild, member, services)


async def test_a_page_that_fails_is_the_generic_text(
    fake_discord: FakeDiscord, reader: Reader, sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(discord_token="x", database_url=sqlite_db.url, _env_file=None)
    bot = PeninsulaBot(settings=settings, services=reader.services, extensions=("cogs.briefing",))
    async with connect_bot(fake_discord, bot):
        first = await fake_discord.invoke("timeline", {"kind": "military_action"}, user=reader.member)
        assert first.message is not None
        before = first.embeds[0]["description"]
        _prev, next_id = first.message.custom_ids()
        caplog.set_level(logging.INFO, logger="bot")
        await break_table(sqlite_db, "event")
        failed = await fake_discord.press(first, next_id, user=reader.member)
    assert failed.ephemeral
    assert failed.content == GENERIC
    assert first.embeds[0]["description"] == before
    [record] = [r for r in bot_records(caplog) if r.levelno >= logging.WARNING]
    assert record.getMessage().startswith("turning a page (") and record.exc_info is not None


async def test_an_edit_form_that_fails_is_the_generic_text(
    fake_discord: FakeDiscord, sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    staff = Staff(fake_discord, "Home")
    await load_sample(sqlite_db)
    async with running_bot(fake_discord, sqlite_db, home_guild_ids=[staff.guild.id]) as bot:
        caller = Caller(7, staff.guild.id, frozenset({"manage_guild"}))
        data = EventInput(
            "Hwasong-19 launch from Pyongyang",
            "A solid-fuel ICBM.",
            "2024-10-31",
            "missile_launch",
            4,
            sources=[SourceInput("Yonhap", "Report")],
        )
        event = await bot.services.curation.create(caller, data, alert=False)
        opened = await fake_discord.invoke("curate", {"id": str(event.id)}, subcommand="edit")
        assert opened.modal is not None
        caplog.set_level(logging.INFO, logger="bot")
        await break_table(sqlite_db, "audit_log")
        failed = await fake_discord.submit_modal(opened, {"title": "Hwasong-19 launch (revised)"})
    assert failed.ephemeral
    assert failed.content == GENERIC
    errors = [r for r in bot_records(caplog) if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [f"the edit form of event #{event.id} failed"]
