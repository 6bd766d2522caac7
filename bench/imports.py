"""A large ``/curate import`` while readers keep asking: does the bot keep answering?

The real bot (``PeninsulaBot`` with ``cogs.curation`` and ``cogs.briefing``) on a fresh SQLite
database (or ``--database-url``, e.g. PostgreSQL) against the fake Discord. A curator imports a
native CSV of ``--rows`` new events (85,000 rows, 9.5 MB by default: the size of the file in the
issue that froze the bot); meanwhile another member runs ``/help`` every 0.5 s and, once, a
curator runs ``/curate add``. Reported: the import's time and rate, the ``/help`` answers'
latency while it ran (interaction sent → callback received), the ``/curate add`` defer and
reply, the event loop's longest stall (a 10 ms ticker's worst lateness), and whether every
interaction was answered in time (the fake records a late or missing answer as a violation).
Run from the repository root::

    .venv/bin/python -m bench.imports --rows 85000

Not a test: targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from pathlib import Path

from bot import db as dbmod
from bot.config import Settings, load_settings
from bot.discord.client import PeninsulaBot
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.importing.gate import ImportLimits
from bot.services.seed import load, read_corpus
from testing.bulk import bulk_native_csv
from testing.fake_discord import (
    FakeAttachment,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    InteractionResult,
    connect_bot,
)

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fixtures" / "corpus" / "sample.yaml"
EMBED_LINKS_ETC = (1 << 10) | (1 << 11) | (1 << 14)
ADD = {
    "kind": "missile_launch",
    "title": "Benchmark launch during an import",
    "date": "2024-10-31",
    "summary": "Published while a large import runs.",
    "source_url": "https://example.org/bench",
}


class Stalls:
    """The event loop's worst lateness, seen by a task that sleeps 10 ms at a time."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.monotonic() - t - 0.01)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def readers(fake: FakeDiscord, guild: FakeGuild, user: FakeMember, done: asyncio.Event) -> list[float]:
    latencies: list[float] = []
    while not done.is_set():
        result = await fake.invoke("help", guild=guild, user=user)
        latencies.append(result.latency)
        await asyncio.sleep(0.5)
    return latencies


def reader_guild(fake: FakeDiscord, name: str, url: str) -> tuple[FakeGuild, FakeMember, Settings]:
    """A home guild where the bot may post, one reader in it, and the bot's settings for ``url``."""
    guild = fake.add_guild(name, channels=["general"])
    role = guild.add_role("Peninsula Brief", permissions=EMBED_LINKS_ETC)
    guild.members[fake.bot_user.id].roles.append(role)
    reader = guild.add_member("reader")
    settings = load_settings(
        discord_token=fake.token, database_url=url, home_guild_ids=[guild.id], web_enabled=False
    )
    return guild, reader, settings


async def bench(rows: int, url: str) -> None:
    engine = dbmod.create_engine(url)
    await dbmod.upgrade(engine)
    sessionmaker = dbmod.make_sessionmaker(engine)
    await load(sessionmaker, read_corpus(files=[CORPUS]))
    data = bulk_native_csv(rows)
    async with FakeDiscord(openapi=False) as fake:
        guild, reader, settings = reader_guild(fake, "Imports", url)
        services = Services.build(sessionmaker, Policy.of([guild.id]), import_limits=ImportLimits(cooldown=0))
        bot = PeninsulaBot(
            settings=settings, services=services, extensions=("cogs.curation", "cogs.briefing")
        )
        async with connect_bot(fake, bot):
            stalls = Stalls()
            stalls.start()
            done = asyncio.Event()
            started = time.monotonic()
            upload = FakeAttachment("bulk.csv", data, "text/csv")
            job = asyncio.ensure_future(
                fake.invoke("curate", {"file": upload}, subcommand="import", guild=guild, timeout=3600)
            )
            helps = asyncio.ensure_future(readers(fake, guild, reader, done))
            await asyncio.sleep(5)
            add: InteractionResult = await fake.invoke(
                "curate", ADD, subcommand="add", guild=guild, timeout=60
            )
            add_answered = time.monotonic() - started
            report = await job
            seconds = time.monotonic() - started
            done.set()
            latencies = await helps
            stalls.stop()
            violations = list(fake.violations)
    await engine.dispose()
    ms = [x * 1000 for x in latencies]
    print(f"Machine: {platform.node()}, {platform.machine()}, Python {platform.python_version()}")
    print(f"Database: {engine.dialect.name}; file: {rows} rows, {len(data) / 1e6:.1f} MB")
    print(f"Report: {report.content}")
    print()
    print(
        "| rows | import s | rows/s | /help during it | /help p50 ms | /help p99 ms | /help max ms | "
        "/curate add defer ms | worst loop stall ms | violations |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {rows} | {seconds:.1f} | {rows / seconds:.0f} | {len(ms)} | {statistics.median(ms):.0f} | "
        f"{pct(ms, 0.99):.0f} | {max(ms):.0f} | {add.latency * 1000:.0f} (reply at {add_answered:.1f} s) | "
        f"{stalls.worst * 1000:.0f} | {len(violations)} |"
    )
    for v in violations[:5]:
        print(f"  violation: {v}")


async def main(rows: int, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await bench(rows, url or f"sqlite+aiosqlite:///{Path(tmp) / 'imports.db'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=85_000)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.database_url))
