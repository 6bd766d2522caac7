"""Alert fan-out: one event to N channels against the fake Discord enforcing Discord's limits.

Two runs on the same harness (50 requests/s global, 5 messages per 5 s per channel, 429s with
Discord's body and headers):

* **dispatcher** — the real bot (``PeninsulaBot`` with ``cogs.curation`` and ``cogs.alerts``)
  on a fresh SQLite database with N subscribed channels; ``/curate add`` is invoked through the
  fake and the clock runs from that interaction to the last alert created.
* **naive** — ``for channel in channels: await channel.send(...)`` through discord.py on a
  second fake, timed from the first send to the last.

Reported: sustained rate (alerts per second, and as a fraction of the 50/s limit), 429s received
(global and per-route), publish → first alert, and whether every channel holds exactly one
message. Run from the repository root::

    .venv/bin/python -m bench.fanout --channels 2000

Not a test: targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import re
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import discord
from discord.ext import commands

from bot import db as dbmod
from bot.config import load_settings
from bot.discord.client import PeninsulaBot
from bot.discord.render.events import event_embed
from bot.outbox.config import DispatcherConfig
from bot.outbox.payload import sample_event
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from bot.services.subscriptions import Filters
from testing.fake_discord import FakeDiscord, FakeGuild, connect_bot

log = logging.getLogger("bench.fanout")

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fixtures" / "corpus" / "sample.yaml"
MESSAGE_PATH = re.compile(r"^/channels/\d+/messages$")
LIMIT = 50
EMBED_LINKS_ETC = (1 << 10) | (1 << 11) | (1 << 14)

ADD = {
    "kind": "nuclear_test",
    "title": "Seventh nuclear test at Punggye-ri",
    "date": "2026-02-01",
    "summary": "A benchmark event: one publish, every channel alerted.",
    "source_url": "https://example.org/bench",
    "significance": 5,
}


@dataclass
class Run:
    name: str
    channels: int
    delivered: int
    exactly_one: bool
    seconds: float
    first_alert_ms: float
    global_429: int
    route_429: int

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        return (
            f"| {self.name} | {self.channels} | {self.delivered} | {self.seconds:.2f} | {self.rate:.1f} | "
            f"{self.rate / LIMIT:.1%} | {self.global_429} | {self.route_429} | {self.first_alert_ms:.0f} | "
            f"{'yes' if self.exactly_one else 'no'} |"
        )


def world(fake: FakeDiscord, channels: int) -> FakeGuild:
    guild = fake.add_guild("Fan-out", channels=[f"alerts-{i}" for i in range(channels)])
    role = guild.add_role("Peninsula Brief", permissions=EMBED_LINKS_ETC)
    guild.members[fake.bot_user.id].roles.append(role)
    return guild


class Created:
    """The arrival times of messages the fake created (POSTs answered 200), read incrementally:
    a wait on it runs at every request the fake answers, and rescanning every request each time
    would load the event loop it shares with the bot quadratically."""

    def __init__(self, fake: FakeDiscord, since: float = 0.0) -> None:
        self._fake = fake
        self._since = since
        self._next = 0  # the first request not yet answered when last read
        self.times: list[float] = []

    def __call__(self) -> list[float]:
        requests = self._fake.requests
        while self._next < len(requests) and requests[self._next].status:
            r = requests[self._next]
            self._next += 1
            if r.status == 200 and r.method == "POST" and r.at >= self._since and MESSAGE_PATH.match(r.path):
                self.times.append(r.at)
        # Requests are answered out of order: those after the first unanswered one, later.
        return sorted(self.times)

    def count(self) -> int:
        self()
        return len(self.times)


def created(fake: FakeDiscord) -> list[float]:
    return Created(fake)()


def exactly_one(fake: FakeDiscord, guild: FakeGuild) -> bool:
    return all(len(fake.channel_messages(c)) == 1 for c in guild.channels)


async def run_dispatcher(channels: int, workdir: Path) -> Run:
    url = f"sqlite+aiosqlite:///{workdir / 'fanout.db'}"
    engine = dbmod.create_engine(url)
    await dbmod.upgrade(engine)
    sessionmaker = dbmod.make_sessionmaker(engine)
    await load(sessionmaker, read_corpus(files=[CORPUS]))
    async with FakeDiscord(openapi=False) as fake:
        guild = world(fake, channels)
        policy = Policy.of([guild.id])
        services = Services.build(sessionmaker, policy)
        manager = Caller(1, guild.id, frozenset({"manage_channels"}))
        for cid in guild.channels:
            await services.subscriptions.subscribe(manager.in_channel(cid), cid, Filters())
        settings = load_settings(
            discord_token=fake.token, database_url=url, home_guild_ids=[guild.id], web_enabled=False
        )
        bot = PeninsulaBot(
            settings=settings,
            services=services,
            extensions=("cogs.curation", "cogs.alerts"),
            outbox_config=DispatcherConfig(),
        )
        async with connect_bot(fake, bot):
            await asyncio.sleep(1.1)  # let the start-up requests leave the rolling second
            started = time.monotonic()
            result = await fake.invoke("curate", ADD, subcommand="add", timeout=10)
            assert result.content.startswith("Published"), result.content
            posted = Created(fake)
            await fake.wait_for(lambda: posted.count() >= channels, 600, "every alert")
            times = posted()
            run = Run(
                "dispatcher (this bot)",
                channels,
                len(times),
                exactly_one(fake, guild),
                times[-1] - started,
                (times[0] - started) * 1000,
                fake.rate_limited["global"],
                fake.rate_limited["user"],
            )
    await engine.dispose()
    return run


async def run_naive(channels: int) -> Run:
    async with FakeDiscord(openapi=False) as fake:
        guild = world(fake, channels)
        bot = commands.Bot(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.none() | discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        embed = event_embed(replace(sample_event(), title=str(ADD["title"]), summary=str(ADD["summary"])))
        async with connect_bot(fake, bot):
            targets = [bot.get_channel(c) for c in guild.channels]
            await asyncio.sleep(1.1)
            started = time.monotonic()
            for channel in targets:
                assert isinstance(channel, discord.TextChannel)
                await channel.send(f"**New event:** {ADD['title']}", embed=embed)
            times = created(fake)
            return Run(
                "naive `for … await channel.send`",
                channels,
                len(times),
                exactly_one(fake, guild),
                times[-1] - started,
                (times[0] - started) * 1000,
                fake.rate_limited["global"],
                fake.rate_limited["user"],
            )


async def main(channels: int, skip_naive: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runs = [await run_dispatcher(channels, Path(tmp))]
    log.info("dispatcher done: %s", runs[0])
    if not skip_naive:
        runs.append(await run_naive(channels))
        log.info("naive done: %s", runs[1])
    print(f"Machine: {platform.node()}, {platform.machine()}, Python {platform.python_version()}")
    print()
    print(
        "| run | channels | alerts | publish → last alert, s | alerts/s | of 50/s | global 429s | "
        "route 429s | publish → first alert, ms | one per channel |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for run in runs:
        print(run.row())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("discord").setLevel(logging.WARNING)
    asyncio.run(main(args.channels, args.skip_naive))
