"""One poll of 50 watched sources while readers keep asking: does the bot keep answering?

The real bot (``PeninsulaBot`` with ``cogs.briefing`` and ``cogs.curation``) on a fresh SQLite
database (or ``--database-url``) with the sample corpus, against the fake Discord. A local aiohttp
server on 127.0.0.1 serves 50 Atom feeds of 20 made-up items each (1,000 items); a first poll
drafts them all (the warm-up), then one item is added to 20 of the feeds and the measured poll
(``WatchService.run_once``, as the bot's watcher runs it) fetches and parses all 1,000 items and
drafts the 20 new ones. Meanwhile a reader runs ``/brief`` and ``/search`` one after the other;
reported are their p50 / p99 / max latencies idle (before the poll) and during it, and the ratio
of the p99s (target: within 1.5x). Run from the repository root::

    .venv/bin/python -m bench.watch

Not a test: targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from bench.imports import CORPUS, pct, reader_guild
from bot import db as dbmod
from bot.discord.client import PeninsulaBot
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from testing.fake_discord import FakeDiscord, FakeGuild, FakeMember, connect_bot

SOURCES = 50
ITEMS = 20
NEW = 20
ASKS: tuple[tuple[str, dict[str, str]], ...] = (("brief", {}), ("search", {"query": "launch"}))


def feed(source: int, count: int) -> bytes:
    """An Atom feed of ``count`` made-up items, newest first."""
    entries = "".join(
        f"<entry><id>urn:bench:{source}:{i}</id><title>Bench bulletin {source}-{i} on talks</title>"
        f'<link href="https://example.org/bench/{source}/{i}"/><updated>2025-01-01T00:00:00Z</updated>'
        f"<summary>A made-up item {i} of source {source}.</summary></entry>"
        for i in range(count, 0, -1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Bench {source}</title><id>urn:bench:{source}</id>"
        f"<updated>2025-01-01T00:00:00Z</updated>{entries}</feed>"
    ).encode()


@asynccontextmanager
async def feeds(counts: dict[int, int]) -> AsyncIterator[str]:
    async def one(request: web.Request) -> web.Response:
        source = int(request.match_info["n"])
        return web.Response(body=feed(source, counts[source]), content_type="application/atom+xml")

    app = web.Application()
    app.router.add_get("/s/{n}", one)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def ask(
    fake: FakeDiscord, guild: FakeGuild, user: FakeMember, until: asyncio.Event | int
) -> list[float]:
    """Latencies (ms) of reader commands, back to back: ``until`` set, or that many answers."""
    out: list[float] = []
    while (len(out) < until) if isinstance(until, int) else not until.is_set():
        name, options = ASKS[len(out) % len(ASKS)]
        result = await fake.invoke(name, options, guild=guild, user=user, timeout=30)
        out.append(result.latency * 1000)
    return out


def row(label: str, ms: list[float]) -> str:
    return f"| {label} | {len(ms)} | {statistics.median(ms):.0f} | {pct(ms, 0.99):.0f} | {max(ms):.0f} |"


async def bench(url: str, idle_asks: int) -> None:
    engine = dbmod.create_engine(url)
    await dbmod.upgrade(engine)
    sessionmaker = dbmod.make_sessionmaker(engine)
    await load(sessionmaker, read_corpus(files=[CORPUS]))
    counts = dict.fromkeys(range(SOURCES), ITEMS)
    async with FakeDiscord(openapi=False) as fake, feeds(counts) as base:
        guild, reader, settings = reader_guild(fake, "Watch", url)
        services = Services.build(sessionmaker, Policy.of([guild.id]), watch_allow_private=True)
        bot = PeninsulaBot(
            settings=settings, services=services, extensions=("cogs.briefing", "cogs.curation")
        )
        async with connect_bot(fake, bot):
            if bot.watcher is not None:
                await bot.watcher.stop()  # the bench drives the polls itself
            for n in range(SOURCES):
                await services.watch.add(Caller.system(), f"{base}/s/{n}", "atom", f"Bench {n}")
            warm = await services.watch.run_once()
            drafted_warm = sum(len(r.drafted) for r in warm)
            idle = await ask(fake, guild, reader, idle_asks)
            for n in range(NEW):
                counts[n * SOURCES // NEW] += 1
            done = asyncio.Event()
            during_task = asyncio.ensure_future(ask(fake, guild, reader, done))
            started = time.monotonic()
            results = await services.watch.run_once()
            poll_s = time.monotonic() - started
            done.set()
            during = await during_task
    await engine.dispose()
    drafted = sum(len(r.drafted) for r in results)
    errors = [r.error for r in results if r.error]
    load1, load5, _ = os.getloadavg()
    machine = f"{platform.node()}, {platform.machine()}, {os.cpu_count()} cores"
    print(f"Machine: {machine}, Python {platform.python_version()}")
    print(f"Database: {engine.dialect.name}; load average at the end {load1:.2f} / {load5:.2f} (1 / 5 min)")
    print(
        f"Warm-up poll drafted {drafted_warm}; measured poll: {SOURCES} sources, "
        f"{SOURCES * ITEMS + NEW} items read, {drafted} drafted, {len(errors)} errors, {poll_s:.2f} s"
    )
    print()
    print("| reader commands (/brief, /search) | answers | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    print(row("idle", idle))
    print(row("during the poll", during))
    print(f"\np99 during / idle: {pct(during, 0.99) / pct(idle, 0.99):.2f}x (target <= 1.5x)")


async def main(url: str | None, idle_asks: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await bench(url or f"sqlite+aiosqlite:///{Path(tmp) / 'watch.db'}", idle_asks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="an empty database (default: a new SQLite file)")
    parser.add_argument("--idle", type=int, default=60, help="reader commands measured before the poll")
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.idle))
