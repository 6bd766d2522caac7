"""Every extension that exists loads, and together they define each command name once, validly."""

from __future__ import annotations

import importlib.util
from collections import Counter

from discord import app_commands

from bot.config import Settings
from bot.discord.client import EXTENSIONS, PeninsulaBot
from bot.services.access import Policy
from bot.services.container import Services
from testing.fake_discord import check_command_definitions
from tests.conftest import Database


def present() -> tuple[str, ...]:
    return tuple(e for e in EXTENSIONS if importlib.util.find_spec(e) is not None)


async def test_every_extension_loads_without_duplicates(sqlite_db: Database) -> None:
    extensions = present()
    assert "cogs.briefing" in extensions
    settings = Settings(database_url=sqlite_db.url, _env_file=None)
    services = Services.build(sqlite_db.sessionmaker, Policy.of([]))
    bot = PeninsulaBot(settings=settings, services=services, extensions=extensions, sync_commands=False)
    try:
        for extension in extensions:
            # A duplicate name would raise CommandAlreadyRegistered here.
            await bot.load_extension(extension)
        assert set(bot.extensions) == set(extensions)
        commands = bot.tree.get_commands()
        names = Counter(c.name for c in commands)
        assert [n for n, k in names.items() if k > 1] == []
        payload = [c.to_dict(bot.tree) for c in commands]
        assert check_command_definitions(payload) == []
        for command in bot.tree.walk_commands():
            if isinstance(command, app_commands.Command):
                assert command.description, command.qualified_name
                assert all(p.description and p.description != "…" for p in command.parameters), command.name
    finally:
        await bot.close()
