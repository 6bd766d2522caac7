"""Running the real bot against the fake Discord: in this process (``running_bot``) or as a
``python -m bot`` subprocess (``BotProcess``, for tests that ``kill -9`` it)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import load_settings
from bot.discord.client import PeninsulaBot
from bot.outbox.config import DispatcherConfig
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.importing.gate import ImportLimits
from bot.services.seed import load, read_corpus
from testing.fake_discord import FakeDiscord, FakeGuild, FakeRole, connect_bot
from tests.conftest import Database

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CORPUS = REPO / "tests" / "fixtures" / "corpus" / "sample.yaml"
MY_EXTENSIONS = ("cogs.curation", "cogs.alerts", "cogs.settings")

# Short delays so failure paths finish in well under a second.
FAST = DispatcherConfig(
    lease=2.0,
    poll_interval=0.2,
    backoff_base=0.05,
    backoff_max=0.4,
    request_timeout=2.0,
    stop_grace=2.0,
)

VIEW_SEND_EMBED = (1 << 10) | (1 << 11) | (1 << 14)
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5


def grant_bot(guild: FakeGuild, permissions: int = VIEW_SEND_EMBED) -> FakeRole:
    """Give the bot a role with ``permissions`` (the fake's @everyone lacks Embed Links)."""
    role = guild.add_role("Peninsula Brief", permissions=permissions)
    guild.members[guild.fake.bot_user.id].roles.append(role)
    return role


async def load_sample(db: Database) -> None:
    await load(db.sessionmaker, read_corpus(files=[SAMPLE_CORPUS]))


def channel_manager(guild_id: int, user_id: int = 7) -> Caller:
    return Caller(user_id, guild_id, frozenset({"manage_channels", "manage_guild"}))


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    db: Database,
    *,
    home_guild_ids: Sequence[int] = (),
    config: DispatcherConfig | None = FAST,
    extensions: Sequence[str] = MY_EXTENSIONS,
    clock: Clock = SYSTEM_CLOCK,
    **settings: Any,
) -> AsyncIterator[PeninsulaBot]:
    """The real ``PeninsulaBot`` (given cogs, tree synced) connected to ``fake``; its outbox
    worker is running when this yields. Imports have no cooldown unless ``import_cooldown`` is
    given (tests import several files in a row); ``clock`` is the time its schedules (digests) read."""
    settings.setdefault("import_cooldown", 0)
    conf = load_settings(
        discord_token=fake.token,
        database_url=db.url,
        home_guild_ids=list(home_guild_ids),
        web_enabled=False,
        **settings,
    )
    services = Services.build(
        db.sessionmaker,
        Policy.of(home_guild_ids, conf.curator_role),
        import_limits=ImportLimits(conf.import_cooldown, conf.import_alert_cap),
        watch_interval=conf.watch_interval,
        watch_allow_private=conf.watch_allow_private,
        watch_allow_hosts=conf.watch_allow_hosts,
        clock=clock,
    )
    bot = PeninsulaBot(settings=conf, services=services, extensions=tuple(extensions), outbox_config=config)
    async with connect_bot(fake, bot):
        assert bot.outbox is not None  # started by setup_hook, claiming since the bot is ready
        yield bot


class BotProcess:
    """``python -m bot`` pointed at the fake Discord and a database, as a child process."""

    def __init__(self, fake: FakeDiscord, database_url: str, *, env: dict[str, str] | None = None) -> None:
        self.env = {
            **os.environ,
            "DISCORD_TOKEN": fake.token,
            "DATABASE_URL": database_url,
            "DISCORD_API_BASE": fake.api_base,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
            "WEB_ENABLED": "false",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path: Path | None = None

    async def start(self, log_path: Path) -> None:
        self.log_path = log_path
        out = log_path.open("ab")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=REPO, env=self.env, stdout=out, stderr=out
            )
        finally:
            out.close()

    def kill(self) -> None:
        """SIGKILL: no cleanup runs, exactly like a crash."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)

    async def wait(self, within: float = 15.0) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), within)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.terminate()
        try:
            await self.wait(15)
        except TimeoutError:
            self.kill()
            await self.wait(5)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""


class Staff:
    """A guild with the bot able to post, and one member per permission level."""

    def __init__(self, fake: FakeDiscord, name: str = "Peninsula Watchers", channels: int = 4) -> None:
        self.guild = fake.add_guild(name, channels=["general"] + [f"alerts-{i}" for i in range(channels)])
        grant_bot(self.guild)
        self.admin_role = self.guild.add_role("Moderators", permissions=MANAGE_GUILD)
        self.channels_role = self.guild.add_role("Channel managers", permissions=MANAGE_CHANNELS)
        self.curator_role = self.guild.add_role("Curator")
        self.admin = self.guild.add_member(f"admin-{name}", roles=[self.admin_role])
        self.channel_manager = self.guild.add_member(f"chan-{name}", roles=[self.channels_role])
        self.curator = self.guild.add_member(f"curator-{name}", roles=[self.curator_role])
        self.reader = self.guild.add_member(f"reader-{name}")

    def channel(self, i: int) -> Any:
        return self.guild.channel(f"alerts-{i}")
