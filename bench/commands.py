"""Reader-command latency through the fake Discord, on 100,000 synthetic events.

Measures, per command and for autocomplete, the round trip from INTERACTION_CREATE sent by the
fake Discord to the interaction callback received (``InteractionResult.latency``), on SQLite and
on PostgreSQL, next to a bare ``/ping`` on the same stack. Run from the repository root::

    .venv/bin/python -m bench.commands                      # SQLite, and PostgreSQL when
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.commands

(``TEST_DATABASE_URL`` is used when ``BENCH_DATABASE_URL`` is unset; a private database is
created beside it and dropped afterwards.) Not a test: targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import logging
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from bot import db as dbmod
from bot import models
from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.seed import load as load_corpus
from bot.services.seed import read_corpus
from testing.fake_discord import FakeDiscord, FakeGuild, InteractionResult, connect_bot

log = logging.getLogger("bench.commands")

WORDS = [
    "launch",
    "test",
    "missile",
    "rocket",
    "engine",
    "satellite",
    "reactor",
    "enrichment",
    "plutonium",
    "uranium",
    "tunnel",
    "summit",
    "statement",
    "sanctions",
    "resolution",
    "parade",
    "drill",
    "artillery",
    "submarine",
    "ballistic",
    "cruise",
    "hypersonic",
    "solid",
    "fuel",
    "liquid",
    "stage",
    "warhead",
    "reentry",
    "orbit",
    "delegation",
    "envoy",
    "negotiation",
    "freeze",
    "moratorium",
    "inspection",
    "verification",
    "declaration",
    "dismantlement",
    "coast",
    "border",
    "island",
    "peninsula",
]
PLACES = ("Sohae", "Punggye-ri", "Yongbyon", "Sinpo", "Pyongyang", "Wonsan", "Hamhung", "Kusong", "Sunan")
SYSTEMS = (
    "Hwasong-12",
    "Hwasong-14",
    "Hwasong-15",
    "Hwasong-17",
    "Hwasong-18",
    "Pukguksong-3",
    "KN-23",
    "Unha",
)
TARGETS = {"sqlite": 25.0, "postgresql": 40.0}
AUTOCOMPLETE_TARGET = 15.0
#: Search p99 at 100,000 events, per dialect (the issue's targets).
SEARCH_TARGETS = {"sqlite": 20.0, "postgresql": 40.0}


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


async def populate(sessionmaker: dbmod.Sessionmaker, count: int, seed: int = 7) -> float:
    """The curated corpus plus ``count`` synthetic events (links and one source each), bulk inserted,
    then analyzed (and vacuumed on PostgreSQL)."""
    started = time.monotonic()
    await load_corpus(sessionmaker, read_corpus())
    rng = random.Random(seed)
    async with sessionmaker() as s, s.begin():
        programs = list((await s.scalars(select(models.Program.id))).all())
        actors = list((await s.scalars(select(models.Actor.id))).all())
        tracks = list((await s.scalars(select(models.TalksTrack.id))).all())
        first_id = int(await s.scalar(select(func.coalesce(func.max(models.Event.id), 0))) or 0) + 1
        first_source = int(await s.scalar(select(func.coalesce(func.max(models.Source.id), 0))) or 0) + 1
    kinds = [k for k in models.EVENT_KINDS if k != "other"]
    start = dt.date(1985, 1, 1).toordinal()
    span = dt.date(2026, 6, 30).toordinal() - start
    now = models.utcnow()
    batch = 5000
    for offset in range(0, count, batch):
        events, sources, ep, ea, et = [], [], [], [], []
        for n in range(offset, min(offset + batch, count)):
            ident = first_id + n
            kind = rng.choice(kinds)
            words = rng.sample(WORDS, 6)
            label = kind.replace("_", " ").capitalize()
            title = f"{label}: {rng.choice(SYSTEMS)} {words[0]} near {rng.choice(PLACES)}"
            events.append(
                {
                    "id": ident,
                    "external_id": f"synthetic-{n}",
                    "title": title,
                    "summary": f"Synthetic record {n}: {' '.join(words)}. "
                    + " ".join(rng.sample(WORDS, 12))
                    + ".",
                    "occurred_on": dt.date.fromordinal(start + rng.randrange(span)),
                    "precision": rng.choice(("day", "day", "day", "month", "year")),
                    "kind": kind,
                    "significance": rng.randint(1, 5),
                    "status": "published",
                    "guild_id": None if rng.random() > 0.05 else rng.randint(1, 50),
                    "details": {},
                    "revision": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            sources.append(
                {
                    "id": first_source + n,
                    "event_id": ident,
                    "position": 0,
                    "publisher": rng.choice(("KCNA", "Yonhap", "38 North", "CSIS", "UN Security Council")),
                    "title": f"Report on {words[0]} {n}",
                    "published_on": None,
                    "published_precision": "day",
                    "url": f"https://example.org/report/{n}",
                }
            )
            ep.append({"event_id": ident, "program_id": rng.choice(programs)})
            for actor in rng.sample(actors, 2):
                ea.append({"event_id": ident, "actor_id": actor})
            if rng.random() < 0.3:
                et.append({"event_id": ident, "track_id": rng.choice(tracks)})
        async with sessionmaker() as s, s.begin():
            await s.execute(insert(models.Event), events)
            await s.execute(insert(models.Source), sources)
            await s.execute(insert(models.event_program), ep)
            await s.execute(insert(models.event_actor), ea)
            if et:
                await s.execute(insert(models.event_track), et)
    await _after_bulk_insert(sessionmaker)
    return time.monotonic() - started


async def _after_bulk_insert(sessionmaker: dbmod.Sessionmaker) -> None:
    """Move PostgreSQL's id sequences past the inserted ids, then refresh the planner statistics."""
    async with sessionmaker() as s, s.begin():
        if (await s.connection()).dialect.name == "postgresql":
            for table in ("event", "source"):
                await s.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    async with sessionmaker() as s:
        conn = await s.connection()
        if conn.dialect.name == "postgresql":
            await conn.commit()
            raw = await conn.get_raw_connection()
            # As autovacuum leaves a table that has settled: statistics, and the visibility map that
            # lets an index-only scan skip the heap (a bulk load sets neither).
            await raw.driver_connection.execute("VACUUM (ANALYZE)")  # type: ignore[union-attr]
        else:
            await conn.execute(text("ANALYZE"))
            await conn.commit()


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


class BenchBot(PeninsulaBot):
    async def setup_hook(self) -> None:
        @app_commands.command(name="ping", description="Bare round trip")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", allowed_mentions=discord.AllowedMentions.none())

        self.tree.add_command(ping)
        await super().setup_hook()


@dataclass
class Row:
    name: str
    samples: list[float]
    #: CPU seconds the process spent per run (bot, fake Discord and SQLite's thread together): what
    #: the work costs, whatever else the machine is doing.
    cpu: list[float] = field(default_factory=list)

    @property
    def cpu_p50(self) -> float:
        return statistics.median(self.cpu) * 1000 if self.cpu else float("nan")

    @property
    def cpu_p99(self) -> float:
        ordered = sorted(self.cpu)
        return (
            ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000
            if ordered
            else float("nan")
        )

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000


async def measure(
    fake: FakeDiscord,
    guild: FakeGuild,
    iterations: int,
    rng: random.Random,
    event_ids: list[int],
    only: tuple[str, ...] = (),
    forget: Callable[[], None] = lambda: None,
) -> list[Row]:
    """Each row's samples, after its warm-up: five runs, and for a search row each query of its list
    once (a bot that has served a while has built the statement of every common shape of query;
    the first query of a shape is a row of its own, after ``forget`` drops every built statement)."""
    member = guild.add_member("reader")

    async def inv(name: str, options: dict[str, Any] | None = None) -> InteractionResult:
        result = await fake.invoke(name, options, guild=guild, user=member)
        if result.ephemeral and not result.embeds:
            raise RuntimeError(f"/{name} {options} refused: {result.content}")
        return result

    async def ac(name: str, focused: str, value: str) -> float:
        await fake.autocomplete(name, focused, value, guild=guild, user=member)
        return fake_last_latency(fake)

    programs = ["icbm", "Hwasong-15", "nuclear-weapons", "Sohae", "KN-08", "Yongbyon", "slbm"]
    cases: dict[str, Callable[[], Awaitable[float]]] = {
        "ping": lambda: _lat(inv("ping")),
        "brief": lambda: _lat(inv("brief", rng.choice([{}, {"since": "2020"}]))),
        "program": lambda: _lat(inv("program", {"name": rng.choice(programs)})),
        "talks": lambda: _lat(inv("talks", {"track": rng.choice(["six-party", "us-dprk", "inter-korean"])})),
        "position": lambda: _lat(inv("position", {"party": rng.choice(["dprk", "china", "united-states"])})),
        "compare": lambda: _lat(inv("compare", {"topic": rng.choice(["peace-treaty", "sanctions"])})),
        "timeline": lambda: _lat(inv("timeline", rng.choice(TIMELINES))),
        "event": lambda: _lat(inv("event", {"id": str(rng.choice(event_ids))})),
        "search": lambda: _lat(inv("search", {"query": " ".join(rng.sample(SEARCHES, rng.randint(1, 2)))})),
        "search (names, codes, phrases)": lambda: _lat(inv("search", {"query": rng.choice(NAMED_SEARCHES)})),
        FIRST_OF_SHAPE: lambda: _first(forget, inv("search", {"query": rng.choice(NAMED_SEARCHES)})),
        "help": lambda: _lat(inv("help")),
        "autocomplete (catalog)": lambda: ac(
            "position", "party", rng.choice(["dp", "North", "pyong", "chi", "Sou", "Nroth Korea"])
        ),
        "autocomplete (event title)": lambda: ac(
            "event", "id", rng.choice(["hwasong", "launch sohae", "unha", "test"])
        ),
        "timeline Next press": lambda: _press(fake, inv, member),
    }
    rows = []
    for name, case in cases.items():
        if only and name != "ping" and not name.startswith(only):
            continue
        for _ in range(5):  # warm caches and connections
            await case()
        for query in WARM.get(name, ()):
            await inv("search", {"query": query})
        samples, cpu = [], []
        for _ in range(iterations):
            started = time.process_time()
            samples.append(await case())
            cpu.append(time.process_time() - started)
        rows.append(Row(name, samples, cpu))
        log.info("%s: p50 %.1f ms, p99 %.1f ms", name, rows[-1].p50, rows[-1].p99)
    return rows


TIMELINES: list[dict[str, Any]] = [
    {},
    {"program": "icbm"},
    {"party": "dprk", "since": "2017"},
    {"kind": "nuclear_test"},
    {"track": "six-party", "until": "2008"},
    {"program": "space-launch", "kind": "satellite_launch", "since": "2000", "until": "2020"},
]
SEARCHES = [
    "launch",
    "sohae",
    "hwasong",
    "satellite orbit",
    "reactor",
    "sanctions",
    "moratorium",
    "tunnel",
    "summit",
]
#: Queries that name catalog records (parties, tracks, systems), write codes in several ways, quote a
#: phrase or hold a word no event has (the closest-matches fallback).
NAMED_SEARCHES = [
    "UNSC 2397",
    "Kim Jong Un Putin",
    "DPRK launch",
    "Hwasong17",
    "KN-08 parade",
    '"solid fuel"',
    "six-party talks",
    "Yongbyon reactor",
    "영변",
    "launch zzzqqq",
]


async def _lat(result: Awaitable[InteractionResult]) -> float:
    return (await result).latency


async def _first(forget: Callable[[], None], result: Awaitable[InteractionResult]) -> float:
    forget()
    return (await result).latency


#: Reported without a target: what the first query of a shape costs (building and compiling its
#: statement) before the statement is kept.
FIRST_OF_SHAPE = "search (first query of its shape)"
#: The queries each search row runs once before its samples: its list, and for the search row each
#: pair of its words in one order (a sample may ask for them in the other).
WARM = {
    "search": [*SEARCHES, *(" ".join(pair) for pair in itertools.combinations(SEARCHES, 2))],
    "search (names, codes, phrases)": NAMED_SEARCHES,
}


def fake_last_latency(fake: FakeDiscord) -> float:
    inter = max(fake._interactions.values(), key=lambda i: i.dispatched_at)
    assert inter.callback_at is not None
    return float(inter.callback_at - inter.dispatched_at)


async def _press(fake: FakeDiscord, inv: Callable[..., Awaitable[InteractionResult]], member: Any) -> float:
    first = await inv("timeline", {"program": "icbm"})
    assert first.message is not None
    _prev, nxt = first.message.custom_ids()
    return (await fake.press(first, nxt, user=member)).latency


async def run_database(
    url: str, events: int, iterations: int, only: tuple[str, ...] = ()
) -> tuple[list[Row], float]:
    engine = dbmod.create_engine(url)
    try:
        await dbmod.upgrade(engine)
        sessionmaker = dbmod.make_sessionmaker(engine)
        load_seconds = await populate(sessionmaker, events)
        async with sessionmaker() as s:
            ids = list(
                (await s.scalars(select(models.Event.id).where(models.Event.guild_id.is_(None)))).all()
            )
        # In-flight OpenAPI validation runs inside the timed window on the same event loop; it is a
        # test-time check, not part of the stack being measured.
        async with FakeDiscord(openapi=False) as fake:
            guild = fake.add_guild("Bench")
            services = Services.build(sessionmaker, Policy.of([guild.id]))
            settings = Settings(discord_token="x", database_url=url, _env_file=None)  # noqa: S106  # type: ignore[call-arg]
            # As `python -m bot run` does: the start-up heap frozen once ready.
            bot = BenchBot(
                settings=settings, services=services, extensions=("cogs.briefing",), freeze_heap=True
            )

            def forget() -> None:
                services.search._statements.clear()
                engine.sync_engine._compiled_cache.clear()  # type: ignore[union-attr]

            async with connect_bot(fake, bot):
                rows = await measure(fake, guild, iterations, random.Random(11), ids, only, forget)
            problems = fake.take_violations()
            if problems:
                log.warning("harness violations: %s", problems[:5])
        return rows, load_seconds
    finally:
        await engine.dispose()


async def with_private_postgres(base: str, fn: Callable[[str], Awaitable[Any]]) -> Any:
    name = f"pb_bench_{uuid.uuid4().hex[:8]}"
    admin = dbmod.create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return await fn(make_url(base).set(database=name).render_as_string(hide_password=False))
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def report(dialect: str, rows: list[Row], load_seconds: float, events: int) -> str:
    ping = next(r for r in rows if r.name == "ping")
    target = TARGETS[dialect]
    lines = [
        f"### {'SQLite' if dialect == 'sqlite' else 'PostgreSQL'} ({events:,} synthetic events + corpus, "
        f"loaded in {load_seconds:.0f} s; {len(ping.samples)} runs per row; load average "
        f"{os.getloadavg()[0]:.1f} after the runs)",
        "",
        "| command | p50 ms | p99 ms | target p99 ms | p99 target met | p50 ≤ 2× ping "
        "| CPU p50 ms | CPU p99 ms |",
        "|---|---:|---:|---:|---|---|---:|---:|",
    ]
    for r in rows:
        limit = target
        if r.name.startswith("autocomplete"):
            limit = AUTOCOMPLETE_TARGET
        elif r.name.startswith("search"):
            limit = SEARCH_TARGETS[dialect]
        p50_ok = r.name == "ping" or r.p50 <= 2 * ping.p50
        met = "—" if r.name == FIRST_OF_SHAPE else ("yes" if r.p99 <= limit else "**no**")
        lines.append(
            f"| {r.name} | {r.p50:.1f} | {r.p99:.1f} | {'—' if met == '—' else f'{limit:.0f}'} | {met} | "
            f"{'yes' if p50_ok else '**no**'} | {r.cpu_p50:.1f} | {r.cpu_p99:.1f} |"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    sections = []
    only = tuple(n.strip() for n in args.only.split(",") if n.strip())
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            rows, seconds = await run_database(url, args.events, args.iterations, only)
            sections.append(report("sqlite", rows, seconds, args.events))
            print(sections[-1], flush=True)
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if base and not args.skip_postgres:
        rows, seconds = await with_private_postgres(
            base, lambda url: run_database(url, args.events, args.iterations, only)
        )
        sections.append(report("postgresql", rows, seconds, args.events))
        print(sections[-1], flush=True)
    elif not args.skip_postgres:
        print("PostgreSQL skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL")
    print(
        f"\n{dt.date.today().isoformat()} · {platform.node()} · {platform.machine()} · "
        f"{os.cpu_count()} cores · Python {platform.python_version()}"
    )
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument(
        "--only", default="", help="comma-separated row prefixes, e.g. search,autocomplete (ping always runs)"
    )
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--skip-postgres", action="store_true")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("discord", "bot", "alembic", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
