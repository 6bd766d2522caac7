"""Scale-out: shard processes on one PostgreSQL database against the fake Discord.

``--processes`` real ``python -m bot run`` processes (``SHARD_COUNT`` of them, one shard each)
start together on an empty private PostgreSQL database beside ``TEST_DATABASE_URL`` (or
``BENCH_DATABASE_URL``), against one fake Discord enforcing Discord's limits (50 requests/s
global, 5 messages per 5 s per channel, 429s with Discord's body) and serving ``--guilds``
guilds, each on its shard. Once every shard has identified, ``--subscriptions`` subscriptions
(spread evenly over the guilds' channels) are written, and ``/curate add`` is invoked in the home
guild. Reported:

* the publish: the interaction's answer (callback latency, and until the reply was final),
  and the outbox rows written;
* the fan-out: publish → last alert, the aggregate send rate as a share of 50/s, global and
  per-route 429s across the processes, each channel holding exactly one alert, peak resident
  memory of each process;
* ``--kill-runs`` runs on ``--kill-subscriptions`` of the subscriptions (the others paused): a
  publish, then ``kill -9`` of a random process (every shard as often, shard 0 included) once a
  third of the alerts are out, a restart of that shard, and per run the alerts lost and duplicated
  (a channel without its alert, or with two), plus re-POSTs of an in-doubt delivery (same nonce,
  answered with the first message);
* a probe of the alternative to per-process shares: a token budget kept in one PostgreSQL row,
  taken by every process before each request (one ``UPDATE … RETURNING``), with its latency.

Run from the repository root (not a test: targets are reported, not asserted)::

    TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m bench.scale --guilds 10000 --subscriptions 20000 --processes 4
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.fanout import LIMIT, MESSAGE_PATH, Created
from bot import db as dbmod
from bot import models
from testing.fake_discord import FakeDiscord, FakeGuild
from tests.e2e.bot_process import BotProcess, grant_bot

log = logging.getLogger("bench.scale")

ADD = {
    "kind": "nuclear_test",
    "date": "2026-02-01",
    "summary": "A benchmark event: one publish, every channel alerted.",
    "source_url": "https://example.org/bench",
    "significance": 5,
}


@contextlib.asynccontextmanager
async def private_database() -> AsyncIterator[str]:
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base:
        raise SystemExit("set TEST_DATABASE_URL (or BENCH_DATABASE_URL) to a PostgreSQL server")
    name = f"pb_scale_{uuid.uuid4().hex[:10]}"
    admin = dbmod.create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def rss_kib(pid: int, field_name: str = "VmHWM") -> int:
    """Peak (VmHWM) or current (VmRSS) resident memory of a process, in KiB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


@dataclass
class Shards:
    fake: FakeDiscord
    url: str
    count: int
    workdir: Path
    env: dict[str, str]
    procs: list[BotProcess] = field(default_factory=list)
    peak_kib: Counter[int] = field(default_factory=Counter)

    def process(self, shard_id: int) -> BotProcess:
        env = {**self.env, "SHARD_COUNT": str(self.count), "SHARD_IDS": str(shard_id)}
        return BotProcess(self.fake, self.url, env=env)

    async def start(self) -> None:
        self.procs = [self.process(i) for i in range(self.count)]
        await asyncio.gather(*(p.start(self.log(i)) for i, p in enumerate(self.procs)))

    def log(self, shard_id: int) -> Path:
        return self.workdir / f"shard-{shard_id}.log"

    def connected(self, shard_id: int, not_session: str | None = None) -> bool:
        session = self.fake.sessions.get(shard_id)
        return session is not None and session.ws is not None and session.id != not_session

    async def wait_connected(self, within: float) -> None:
        await self.fake.wait_for(
            lambda: all(self.connected(i) for i in range(self.count)), within, "every shard to identify"
        )

    def sample_memory(self) -> None:
        for i, p in enumerate(self.procs):
            if p.proc is not None and p.proc.returncode is None:
                self.peak_kib[i] = max(self.peak_kib[i], rss_kib(p.proc.pid))

    async def restart(self, shard_id: int, within: float) -> float:
        """``kill -9`` shard ``shard_id``'s process, start a new one; seconds until it identified."""
        old = self.fake.sessions[shard_id].id
        victim = self.procs[shard_id]
        victim.kill()
        await victim.wait(10)
        started = time.monotonic()
        self.procs[shard_id] = fresh = self.process(shard_id)
        await fresh.start(self.log(shard_id))
        await self.fake.wait_for(lambda: self.connected(shard_id, old), within, f"shard {shard_id} back")
        return time.monotonic() - started

    async def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            await p.stop()


def build_world(fake: FakeDiscord, guilds: int, shards: int, channels_per_guild: int) -> list[FakeGuild]:
    fake.shard_count = shards
    world = []
    for i in range(guilds):
        names = ["general"] + [f"alerts-{c}" for c in range(channels_per_guild)]
        guild = fake.add_guild(f"Guild {i}", channels=names, shard=(i % shards, shards))
        grant_bot(guild)
        world.append(guild)
    return world


def alert_channels(world: Sequence[FakeGuild], subscriptions: int) -> list[tuple[int, int]]:
    """``subscriptions`` (guild, channel) pairs, round-robin over the guilds' alert channels."""
    pairs: list[tuple[int, int]] = []
    per_guild = [[c for c, ch in g.channels.items() if ch.name.startswith("alerts-")] for g in world]
    depth = 0
    while len(pairs) < subscriptions:
        for guild, chans in zip(world, per_guild, strict=True):
            if depth < len(chans) and len(pairs) < subscriptions:
                pairs.append((guild.id, chans[depth]))
        depth += 1
    return pairs


async def subscribe(engine: AsyncEngine, pairs: Sequence[tuple[int, int]]) -> None:
    table = models.Subscription
    rows = [
        {"guild_id": g, "channel_id": c, "kinds": [], "programs": [], "tracks": [], "actors": []}
        for g, c in pairs
    ]
    async with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(table), rows[start : start + 5000])


def posts(fake: FakeDiscord, since: float) -> list[float]:
    return Created(fake, since)()


async def deliveries(engine: AsyncEngine, event_id: int) -> Counter[str]:
    D = models.Delivery
    async with engine.connect() as conn:
        stmt = select(D.state, func.count()).where(D.event_id == event_id).group_by(D.state)
        counts: dict[str, int] = dict((await conn.execute(stmt)).all())
        return Counter(counts)


async def latest_event(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(select(func.max(models.Event.id)))
    assert value is not None
    return int(value)


@dataclass
class Publish:
    callback_ms: float
    answered_ms: float
    outbox_rows: int
    event_id: int
    started: float


async def publish(fake: FakeDiscord, engine: AsyncEngine, home: FakeGuild, title: str) -> Publish:
    started = time.monotonic()
    result = await fake.invoke("curate", {**ADD, "title": title}, subcommand="add", guild=home, timeout=60)
    answered = time.monotonic() - started
    assert result.content.startswith("Published"), result.content
    event_id = await latest_event(engine)
    rows = sum((await deliveries(engine, event_id)).values())
    return Publish(result.latency * 1000, answered * 1000, rows, event_id, started)


async def wait_sent(shards: Shards, engine: AsyncEngine, event_id: int, rows: int, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        shards.sample_memory()
        states = await deliveries(engine, event_id)
        if states["sent"] + states["failed"] + states["cancelled"] >= rows:
            if states["sent"] != rows:
                log.warning("deliveries of event %s: %s", event_id, dict(states))
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"deliveries of event {event_id}: {dict(states)}")
        await asyncio.sleep(1.0)


def titled(fake: FakeDiscord, channel_id: int, title: str) -> int:
    messages = fake.channel_messages(channel_id)
    return sum(1 for m in messages if any(title in str(e.get("title", "")) for e in m.embeds))


@dataclass
class KillRun:
    victim: int
    sent_before_kill: int
    back_s: float
    done_s: float
    lost: int
    duplicated: int
    reposts: int


async def kill_run(
    shards: Shards,
    engine: AsyncEngine,
    home: FakeGuild,
    pairs: Sequence[tuple[int, int]],
    n: int,
    victim: int,
) -> KillRun:
    fake = shards.fake
    title = f"Kill run {n} {uuid.uuid4().hex[:6]}"
    pub = await publish(fake, engine, home, title)
    third = len(pairs) // 3
    posted = Created(fake, pub.started)
    await fake.wait_for(lambda: posted.count() >= third, 120, "a third of the alerts")
    sent_before = posted.count()
    back = await shards.restart(victim, 120)
    await wait_sent(shards, engine, pub.event_id, pub.outbox_rows, 300)
    done = time.monotonic() - pub.started
    counts = [titled(fake, c, title) for _, c in pairs]
    nonces = Counter(
        r.body.get("nonce")
        for r in fake.requests
        if r.at >= pub.started
        and isinstance(r.body, dict)
        and r.method == "POST"
        and MESSAGE_PATH.match(r.path)
    )
    return KillRun(
        victim,
        sent_before,
        back,
        done,
        lost=sum(1 for c in counts if c == 0),
        duplicated=sum(1 for c in counts if c > 1),
        reposts=sum(v - 1 for v in nonces.values() if v > 1),
    )


async def probe_shared_budget(url: str, processes: int, requests: int) -> tuple[float, float, float]:
    """Each of ``processes`` engines takes ``requests`` tokens from one row, as fast as it can:
    the tokens per second PostgreSQL can hand out, and the p50/p99 latency of one take, in ms."""
    setup = dbmod.create_engine(url)
    async with setup.begin() as conn:
        await conn.execute(text("CREATE TABLE bench_budget (id int PRIMARY KEY, taken bigint NOT NULL)"))
        await conn.execute(text("INSERT INTO bench_budget VALUES (1, 0)"))
    engines = [dbmod.create_engine(url) for _ in range(processes)]
    latencies: list[float] = []
    take = text("UPDATE bench_budget SET taken = taken + 1 WHERE id = 1 RETURNING taken")

    async def worker(engine: AsyncEngine) -> None:
        async with engine.connect() as conn:
            for _ in range(requests):
                t = time.perf_counter()
                await conn.execute(take)
                await conn.commit()
                latencies.append((time.perf_counter() - t) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker(e) for e in engines))
    elapsed = time.perf_counter() - started
    for e in engines:
        await e.dispose()
    async with setup.begin() as conn:
        await conn.execute(text("DROP TABLE bench_budget"))
    await setup.dispose()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return processes * requests / elapsed, statistics.median(latencies), p99


@dataclass
class Outcome:
    load: tuple[float, float, float]
    up_s: float = 0.0
    pub: Publish | None = None
    fan_s: float = 0.0
    alerts: int = 0
    rate: float = 0.0
    one_each: bool = False
    global_429: int = 0
    route_429: int = 0
    peak_kib: Counter[int] = field(default_factory=Counter)
    kills: list[KillRun] = field(default_factory=list)
    kill_429: int = 0
    budget: tuple[float, float, float] = (0.0, 0.0, 0.0)
    violations: list[str] = field(default_factory=list)


async def fan_out(
    shards: Shards,
    engine: AsyncEngine,
    home: FakeGuild,
    pairs: list[tuple[int, int]],
    out: Outcome,
    within: float,
) -> None:
    fake = shards.fake
    title = "Seventh nuclear test at Punggye-ri"
    before = fake.rate_limited["global"], fake.rate_limited["user"]
    out.pub = pub = await publish(fake, engine, home, title)
    await wait_sent(shards, engine, pub.event_id, pub.outbox_rows, within)
    times = posts(fake, pub.started)
    out.alerts, out.fan_s = len(times), times[-1] - pub.started
    out.rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    out.one_each = all(titled(fake, c, title) == 1 for _, c in pairs)
    out.global_429 = fake.rate_limited["global"] - before[0]
    out.route_429 = fake.rate_limited["user"] - before[1]
    log.info("fan-out done: %d alerts in %.1f s", len(times), out.fan_s)


async def kill_runs(
    shards: Shards,
    engine: AsyncEngine,
    home: FakeGuild,
    subset: list[tuple[int, int]],
    out: Outcome,
    runs: int,
) -> None:
    keep = {c for _, c in subset}
    S = models.Subscription
    async with engine.begin() as conn:
        await conn.execute(update(S).where(S.channel_id.not_in(keep)).values(state="paused"))
    before = shards.fake.rate_limited["global"]
    # Random victims, every shard (shard 0, the publishing process, too) as often as another:
    # each round of ``shards.count`` runs kills each shard once, in a random order.
    victims: list[int] = []
    for n in range(runs):
        if not victims:
            victims = random.sample(range(shards.count), shards.count)
        out.kills.append(await kill_run(shards, engine, home, subset, n, victims.pop()))
        log.info("kill run %d: %s", n, out.kills[-1])
    out.kill_429 = shards.fake.rate_limited["global"] - before


async def main(args: argparse.Namespace) -> Outcome:
    out = Outcome(os.getloadavg())
    async with private_database() as url, FakeDiscord(openapi=False) as fake:
        per_guild = max(1, -(-args.subscriptions // args.guilds))
        world = build_world(fake, args.guilds, args.processes, per_guild)
        home = world[0]
        pairs = alert_channels(world, args.subscriptions)
        with tempfile.TemporaryDirectory() as tmp:
            env = {"HOME_GUILD_IDS": str(home.id), "LOG_LEVEL": "WARNING"}
            shards = Shards(fake, url, args.processes, Path(tmp), env)
            engine = dbmod.create_engine(url)
            try:
                t = time.monotonic()
                await shards.start()
                await shards.wait_connected(300)
                out.up_s = time.monotonic() - t
                await fake.wait_for(lambda: bool(fake.global_commands), 60, "the command sync")
                await subscribe(engine, pairs)
                await asyncio.sleep(1.1)  # let the start-up requests leave the rolling second
                await fan_out(shards, engine, home, pairs, out, args.timeout)
                if args.kill_runs:
                    await kill_runs(
                        shards, engine, home, pairs[: args.kill_subscriptions], out, args.kill_runs
                    )
                out.budget = await probe_shared_budget(url, args.processes, 500)
            finally:
                out.peak_kib = shards.peak_kib
                out.violations = fake.take_violations()
                await shards.stop()
                await engine.dispose()
    return out


def report(args: argparse.Namespace, out: Outcome) -> None:
    machine = f"{platform.node()}, {platform.machine()}, {os.cpu_count()} cores"
    print(f"Machine: {machine}, Python {platform.python_version()}")
    print(f"Load average at start: {out.load[0]:.2f} {out.load[1]:.2f} {out.load[2]:.2f}")
    print()
    print("| measure | value |")
    print("|---|---|")
    pub = out.pub
    assert pub is not None
    memory = ", ".join(f"{out.peak_kib[i] / 1024:.0f} MiB" for i in sorted(out.peak_kib))
    rows = [
        (
            "guilds / subscriptions / shard processes",
            f"{args.guilds} / {args.subscriptions} / {args.processes}",
        ),
        ("start together on an empty database → every shard identified", f"{out.up_s:.1f} s"),
        ("publish: interaction answered (callback)", f"{pub.callback_ms:.0f} ms"),
        ("publish: reply final", f"{pub.answered_ms:.0f} ms"),
        ("outbox rows written", str(pub.outbox_rows)),
        ("publish → last alert", f"{out.fan_s:.1f} s"),
        ("alerts created", str(out.alerts)),
        ("aggregate send rate", f"{out.rate:.2f}/s ({out.rate / LIMIT:.1%} of 50/s)"),
        ("global 429s / route 429s (fan-out)", f"{out.global_429} / {out.route_429}"),
        ("each channel exactly one alert", "yes" if out.one_each else "no"),
        ("peak resident memory per process", memory),
    ]
    kills = out.kills
    if kills:
        lost, dup = sum(k.lost for k in kills), sum(k.duplicated for k in kills)
        rows += [
            (f"kill -9 runs ({args.kill_subscriptions} subscriptions each)", str(len(kills))),
            ("alerts lost / duplicated (all runs)", f"{lost} / {dup}"),
            ("in-doubt re-POSTs (same nonce, one message)", str(sum(k.reposts for k in kills))),
            ("killed shard back (identified), median / max", seconds([k.back_s for k in kills])),
            ("publish → every alert of the run, median / max", seconds([k.done_s for k in kills])),
            ("global 429s (kill runs)", str(out.kill_429)),
        ]
    takes, p50, p99 = out.budget
    rows.append(
        (
            f"shared budget in PostgreSQL ({args.processes} takers, one row)",
            f"{takes:.0f} takes/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms per take",
        )
    )
    rows.append(("violations the fake recorded", str(len(out.violations))))
    for name, value in rows:
        print(f"| {name} | {value} |")
    for violation in out.violations[:10]:
        print(f"  violation: {violation[:300]}")
    if kills:
        print()
        print(
            "| run | killed shard | alerts before the kill | shard back, s | all sent, s | lost | duplicated "
            "| re-POSTs |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, k in enumerate(kills):
            print(
                f"| {n} | {k.victim} | {k.sent_before_kill} | {k.back_s:.1f} | {k.done_s:.1f} | {k.lost} | "
                f"{k.duplicated} | {k.reposts} |"
            )


def seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} s / {max(values):.1f} s"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=20_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--kill-runs", type=int, default=20)
    parser.add_argument("--kill-subscriptions", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds the fan-out may take")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("discord").setLevel(logging.WARNING)
    report(args, asyncio.run(main(args)))
