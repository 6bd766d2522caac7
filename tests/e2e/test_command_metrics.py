"""Every slash command is counted by outcome with its latency, on the process's metrics."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from testing.fake_discord import FakeDiscord, connect_bot
from tests.conftest import Database

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "corpus" / "sample.yaml"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_commands_are_counted_by_outcome(fake_discord: FakeDiscord, sqlite_db: Database) -> None:
    guild = fake_discord.add_guild("Home")
    user = guild.add_member("reader")
    await load(sqlite_db.sessionmaker, read_corpus(files=[SAMPLE]))
    services = Services.build(sqlite_db.sessionmaker, Policy.of())
    settings = Settings(discord_token="x", database_url=sqlite_db.url, _env_file=None)
    bot = PeninsulaBot(settings=settings, services=services, extensions=("cogs.briefing",))
    ok_before = sample("peninsula_commands_total", command="program", outcome="ok")
    bad_before = sample("peninsula_commands_total", command="program", outcome="user_error")
    timed_before = sample("peninsula_command_seconds_count", command="program")
    async with connect_bot(fake_discord, bot):
        good = await fake_discord.invoke("program", {"name": "icbm"}, guild=guild, user=user)
        bad = await fake_discord.invoke("program", {"name": "no such thing"}, guild=guild, user=user)
    assert not good.ephemeral
    assert bad.ephemeral
    assert sample("peninsula_commands_total", command="program", outcome="ok") == ok_before + 1
    assert sample("peninsula_commands_total", command="program", outcome="user_error") == bad_before + 1
    assert sample("peninsula_command_seconds_count", command="program") == timed_before + 2
