"""Alert fan-out: one event to N channels against the fake Discord enforcing Discord's limits.

Two runs on the same harness (50 requests/s global, 5 messages per 5 s per channel, 429s with
Discord's body and headers):

* **dispatcher** — the real bot (``PeninsulaBot`` with ``cogs.curation`` and ``cogs.alerts``)
  on a fresh SQLite database with N subscribed channels; ``/curate add`` is invoked through the
  fake and the clock runs from that interaction to the last alert created.
* **naive** — ``for channel in channels: await channel.send(...)`` through discord.py on a
  second fake, timed from the first send to the last.
* **followers** — the same bot, one subscribed announcement channel in the home guild and N
  channels of another server following it (as ``/alerts follow`` or Discord's Follow button
  makes them): the alert is posted once and crossposted once, and the fake copies it into every
  follower channel; timed from ``/curate add`` to the crosspost that made the last copy.

The follower table compares it with the dispatcher run: the REST requests the bot made after the
publish (interaction answers left out) and publish → the last channel holding the alert.

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
from testing.fake_discord.announcements import ANNOUNCEMENT

log = logging.getLogger("bench.fanout")

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fixtures" / "corpus" / "sample.yaml"
MESSAGE_PATH = re.compile(r"^/channels/\d+/messages$")
CROSSPOST_PATH = re.compile(r"^/channels/\d+/messages/\d+/crosspost$")
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
    requests: int = 0  # REST requests the bot made after the publish (interaction answers aside)

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        return (
            f"| {self.name} | {self.channels} | {self.delivered} | {self.seconds:.2f} | {self.rate:.1f} | "
            f"{self.rate / LIMIT:.1%} | {self.global_429} | {self.route_429} | {self.first_alert_ms:.0f} | "
            f"{'yes' if self.exactly_one else 'no'} |"
        )


def bot_requests(fake: FakeDiscord, since: float) -> int:
    """REST requests the bot made from ``since`` on, the interaction's answers left out."""
    token_routes = ("/interactions/", "/webhooks/")
    return sum(1 for r in fake.requests if r.at >= since and not r.path.startswith(token_routes))


def follower_row(run: Run) -> str:
    return (
        f"| {run.name} | {run.channels} | {run.requests} | {run.seconds:.2f} | "
        f"{'yes' if run.exactly_one else 'no'} |"
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
    async with FakeDiscord(openapi=False) as fake:
        guild = world(fake, channels)
        bot = await bench_bot(fake, workdir, guild.id, list(guild.channels))
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
                bot_requests(fake, started),
            )
    await dbmod.engine_of(bot.services.sessionmaker).dispose()
    return run


async def bench_bot(fake: FakeDiscord, workdir: Path, home: int, subscribed: list[int]) -> PeninsulaBot:
    """The real bot on a fresh SQLite database (sample corpus) with ``subscribed`` channels."""
    url = f"sqlite+aiosqlite:///{workdir / 'fanout.db'}"
    engine = dbmod.create_engine(url)
    await dbmod.upgrade(engine)
    sessionmaker = dbmod.make_sessionmaker(engine)
    await load(sessionmaker, read_corpus(files=[CORPUS]))
    services = Services.build(sessionmaker, Policy.of([home]))
    manager = Caller(1, home, frozenset({"manage_channels"}))
    for cid in subscribed:
        await services.subscriptions.subscribe(manager.in_channel(cid), cid, Filters())
    settings = load_settings(
        discord_token=fake.token, database_url=url, home_guild_ids=[home], web_enabled=False
    )
    extensions = ("cogs.curation", "cogs.alerts")
    return PeninsulaBot(
        settings=settings, services=services, extensions=extensions, outbox_config=DispatcherConfig()
    )


async def run_followers(channels: int, workdir: Path) -> Run:
    """One announcement channel subscribed, ``channels`` channels of another server following it."""
    async with FakeDiscord(openapi=False) as fake:
        home = world(fake, 0)
        feed = home.add_channel("feed", type=ANNOUNCEMENT)
        others = fake.add_guild("Followers", channels=[f"follows-{i}" for i in range(channels)])
        for channel in others.channels.values():
            fake.follow(feed, channel)
        bot = await bench_bot(fake, workdir, home.id, [feed.id])
        async with connect_bot(fake, bot):
            await asyncio.sleep(1.1)  # let the start-up requests leave the rolling second
            started = time.monotonic()
            result = await fake.invoke("curate", ADD, subcommand="add", guild=home, channel=feed, timeout=10)
            assert result.content.startswith("Published"), result.content
            await fake.wait_for(lambda: bool(fake.crossposts), 600, "the crosspost")
            [source] = fake.crossposts
            crosspost = next(r for r in fake.requests if CROSSPOST_PATH.match(r.path) and r.status == 200)
            posted = next(r for r in fake.requests if r.at >= started and MESSAGE_PATH.match(r.path))
            copies = len(fake.copies_of(source))
            one_each = all(len(fake.channel_messages(c)) == 1 for c in others.channels)
            run = Run(
                "followers of one announcement channel",
                channels,
                copies,
                one_each and copies == channels,
                crosspost.at - started,
                (posted.at - started) * 1000,
                fake.rate_limited["global"],
                fake.rate_limited["user"],
                bot_requests(fake, started),
            )
    await dbmod.engine_of(bot.services.sessionmaker).dispose()
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


async def main(channels: int, skip_naive: bool, skip_followers: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runs = [await run_dispatcher(channels, Path(tmp))]
    log.info("dispatcher done: %s", runs[0])
    followers: Run | None = None
    if not skip_followers:
        with tempfile.TemporaryDirectory() as tmp:
            followers = await run_followers(channels, Path(tmp))
        log.info("followers done: %s", followers)
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
    if followers is not None:
        print()
        print("| delivery | channels | bot requests | publish → last copy, s | one per channel |")
        print("|---|---:|---:|---:|---|")
        direct = replace(runs[0], name="direct subscriptions (this bot)")
        for run in (direct, followers):
            print(follower_row(run))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-followers", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("discord").setLevel(logging.WARNING)
    asyncio.run(main(args.channels, args.skip_naive, args.skip_followers))
