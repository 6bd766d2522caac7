"""The Discord client: receives its dependencies, loads the cogs, syncs only when commands change,
and owns the outbox worker and the source watcher (started in ``setup_hook``, stopped in ``close``).

The client is an ``AutoShardedBot``: with ``SHARD_IDS``/``SHARD_COUNT`` a process identifies only
its shards (so answers only their guilds) and its outbox worker claims only their guilds'
deliveries, with their share of the token's global rate limit; without them it runs every shard
Discord recommends. The command tree is synced once per definition change whatever the number of
processes: the stored hash is compared and written under a lock shared by all of them.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy import select

from bot import db, metrics, models
from bot.config import Settings
from bot.discord.language import choose
from bot.discord.review_posts import ReviewPoster
from bot.discord.translator import CatalogTranslator
from bot.discord.tree import BriefTree, finished
from bot.i18n import catalog_digest
from bot.outbox.config import DispatcherConfig
from bot.outbox.digests import DigestScheduler
from bot.outbox.transport import RestTransport
from bot.outbox.worker import Dispatcher
from bot.services.container import Services
from bot.services.watch import Watcher

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = (
    "cogs.briefing",
    "cogs.charts",
    "cogs.curation",
    "cogs.alerts",
    "cogs.settings",
    "cogs.suggest",
)
TREE_HASH_KEY = "command_tree_hash"
SYNC_LOCK = "command-sync"


class PeninsulaBot(commands.AutoShardedBot):
    def __init__(
        self,
        *,
        settings: Settings,
        services: Services,
        http_session: aiohttp.ClientSession | None = None,
        extensions: tuple[str, ...] = EXTENSIONS,
        sync_commands: bool = True,
        outbox_config: DispatcherConfig | None = None,
        freeze_heap: bool = False,
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
        self.outbox_config = outbox_config or DispatcherConfig.from_settings(settings)
        #: Once ready, move what start-up built to the collector's permanent generation (see
        #: :meth:`_freeze_when_ready`); for the process that runs the bot, not for a test's bots.
        self.freeze_heap = freeze_heap
        self._freezing: asyncio.Task[None] | None = None
        #: The alert outbox worker, built and started by ``setup_hook`` (None before it ran).
        self.outbox: Dispatcher | None = None
        self._unhook_outbox: Callable[[], None] | None = None
        self._set_up = False
        #: The source watcher, started by ``setup_hook`` in the process holding shard 0 (one per
        #: deployment; the source row lock keeps two from drafting an item twice all the same).
        self.watcher: Watcher | None = None
        #: Posts new drafts in review channels and edits them once decided; started beside the
        #: watcher (one per deployment; its leases keep two from posting a draft twice).
        self.review_poster: ReviewPoster | None = None
        self._unhook_poster: Callable[[], None] | None = None
        #: Closes digest periods into deliveries; started beside the watcher (one per deployment).
        self.digests: DigestScheduler | None = None

    async def setup_hook(self) -> None:
        self._set_up = True
        for extension in self.initial_extensions:
            await self.load_extension(extension)
        await self.tree.set_translator(CatalogTranslator())
        if self.sync_commands:
            await self.sync_if_changed()
        outbox = self.start_outbox()
        if not self.settings.shard_ids or 0 in self.settings.shard_ids:
            self.watcher = Watcher(self.services.watch)
            self.watcher.start()
            self.review_poster = ReviewPoster(self.services.sessionmaker, outbox)
            self._unhook_poster = self.services.add_enqueue_listener(self.review_poster.wake)
            self.review_poster.start(ready=self.wait_until_ready)
            self.digests = DigestScheduler(
                self.services.sessionmaker, clock=self.services.clock, on_enqueue=outbox.wake
            )
            self.digests.start()
        if self.freeze_heap:
            self._freezing = asyncio.create_task(self._freeze_when_ready(), name="freeze-heap")

    async def _freeze_when_ready(self) -> None:
        """Once ready, collect and freeze the heap: the modules, cogs, caches and the gateway's
        state are alive for good, and a full collection scanning them all (100–150 ms) would stall
        whatever command it interrupts. Later collections scan what was made after."""
        await self.wait_until_ready()
        gc.collect()
        gc.freeze()
        log.info("heap frozen after start-up: %d objects", gc.get_freeze_count())

    def start_outbox(self) -> Dispatcher:
        """Build the outbox worker (after login: it needs the token) and start it; it claims
        nothing until the gateway is ready, and every publish wakes it."""
        if self.outbox is None:
            settings = self.settings
            config = self.outbox_config.for_shards(settings.shard_ids, settings.shard_count)
            transport = RestTransport(
                self.http.token or "", timeout=config.request_timeout, user_agent=self.http.user_agent
            )
            self.outbox = Dispatcher(
                self.services.sessionmaker,
                transport,
                config=config,
                on_disable=self.services.subscriptions.disable,
                shard_ids=settings.shard_ids or None,
                shard_count=settings.shard_count,
                locale_of=self.alert_locale,
                is_announcement=self.is_announcement,
            )
            self._unhook_outbox = self.services.add_enqueue_listener(self.outbox.wake)
        self.outbox.start(ready=self.wait_until_ready)
        return self.outbox

    def is_announcement(self, channel_id: int) -> bool:
        """Whether a channel is an announcement channel (the outbox crossposts its alerts)."""
        channel = self.get_channel(channel_id)
        return isinstance(channel, discord.TextChannel) and channel.is_news()

    async def alert_locale(self, guild_id: int) -> str:
        """The language of a guild's alerts: its ``/settings locale``, else its Discord language (the
        gateway's ``preferred_locale``), else English (``bot/discord/language.py`` decides)."""
        shown = await self.services.guild_settings.presentation(guild_id)
        guild = self.get_guild(guild_id)
        preferred = guild.preferred_locale.value if guild is not None else None
        return choose(shown, private=False, user=None, guild=preferred)

    async def close(self) -> None:
        """Stop the watcher, the review poster and the outbox first (in-flight deliveries finish or
        are released), then disconnect."""
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        if self.digests is not None:
            await self.digests.stop()
            self.digests = None
        if self._unhook_poster is not None:
            self._unhook_poster()
            self._unhook_poster = None
        if self.review_poster is not None:  # before the outbox: it closes the shared transport
            await self.review_poster.stop()
            self.review_poster = None
        if self._unhook_outbox is not None:
            self._unhook_outbox()
            self._unhook_outbox = None
        if self.outbox is not None:
            await self.outbox.stop()
        if not self._set_up:
            # Never logged in (the console, tests): the sharded client builds its event queue in
            # this hook, and its close() needs it.
            await self._async_setup_hook()
        await super().close()

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        finished(interaction, command.qualified_name, "ok")
        metrics.set_gateway_latency(self.latency)

    def tree_hash(self) -> str:
        """A stable digest of the command definitions (what Discord would be sent): the English
        definitions and the catalogs their translations come from."""
        payload = sorted((c.to_dict(self.tree) for c in self.tree.get_commands()), key=lambda c: c["name"])
        payload.append({"name": "~catalogs", "digest": catalog_digest()})
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    async def sync_if_changed(self, *, force: bool = False) -> bool:
        """Bulk-overwrite the global commands when their definition changed; True when it synced."""
        digest = self.tree_hash()
        engine = db.engine_of(self.services.sessionmaker)
        async with db.exclusive(engine, SYNC_LOCK), self.services.sessionmaker() as session, session.begin():
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
