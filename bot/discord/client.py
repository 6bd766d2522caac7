"""The Discord client: receives its dependencies, loads the cogs, syncs only when commands change."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy import select

from bot import metrics, models
from bot.config import Settings
from bot.discord.tree import BriefTree, elapsed
from bot.services.container import Services

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = ("cogs.briefing", "cogs.curation", "cogs.alerts", "cogs.settings")
TREE_HASH_KEY = "command_tree_hash"


class PeninsulaBot(commands.Bot):
    def __init__(
        self,
        *,
        settings: Settings,
        services: Services,
        http_session: aiohttp.ClientSession | None = None,
        extensions: tuple[str, ...] = EXTENSIONS,
        sync_commands: bool = True,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels and roles for permission checks; no privileged intents
        options.setdefault("shard_ids", settings.shard_ids or None)
        options.setdefault("shard_count", settings.shard_count)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=BriefTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.settings = settings
        self.services = services
        self.http_session = http_session
        self.initial_extensions = extensions
        self.sync_commands = sync_commands

    async def setup_hook(self) -> None:
        for extension in self.initial_extensions:
            await self.load_extension(extension)
        if self.sync_commands:
            await self.sync_if_changed()

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        metrics.observe_command(command.qualified_name, "ok", elapsed(interaction))
        metrics.set_gateway_latency(self.latency)

    def tree_hash(self) -> str:
        """A stable digest of the command definitions (what Discord would be sent)."""
        payload = sorted((c.to_dict(self.tree) for c in self.tree.get_commands()), key=lambda c: c["name"])
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    async def sync_if_changed(self, *, force: bool = False) -> bool:
        """Bulk-overwrite the global commands when their definition changed; True when it synced."""
        digest = self.tree_hash()
        async with self.services.sessionmaker() as session, session.begin():
            stored = await session.scalar(select(models.KeyValue).where(models.KeyValue.key == TREE_HASH_KEY))
            if stored is not None and stored.value == digest and not force:
                log.info("command tree unchanged; not syncing")
                return False
            await self.tree.sync()
            if self.settings.dev_guild_id:
                guild = discord.Object(self.settings.dev_guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
            if stored is None:
                session.add(models.KeyValue(key=TREE_HASH_KEY, value=digest))
            else:
                stored.value, stored.updated_at = digest, models.utcnow()
        log.info("command tree synced (%s)", digest[:12])
        return True
