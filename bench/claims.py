"""Claim speed of the outbox at depth: the fair claim (``DeliveryStore.claim``) over 20,000 open
deliveries, on SQLite and, given ``--postgres``, on PostgreSQL.

Two shapes of outbox, each ``--rows`` deep:

* **fan-out** — one delivery in each of ``rows`` channels (a big publish);
* **backlog** — four channels holding nearly all of them (a large import), plus 100 channels
  holding one each.

Each run claims 100 rows with a 60 s lease, records them sent (the worker's cycle), and repeats
``--claims`` times; reported are the claim's p50 / p95 / max in milliseconds and ``next_due``'s
p50. Run from the repository root::

    .venv/bin/python -m bench.claims --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test

Not a test: figures are reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, select, text

from bot import db as dbmod
from bot import models
from bot.db import Sessionmaker
from bot.models import utcnow
from bot.outbox.store import DeliveryStore, Result
from bot.services.seed import load, read_corpus

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fixtures" / "corpus" / "sample.yaml"
GUILD = 1 << 40


def layout(shape: str, rows: int) -> list[int]:
    """The channel of each delivery."""
    if shape == "fan-out":
        return list(range(1, rows + 1))
    backlog = rows - 100
    return [1 + i % 4 for i in range(backlog)] + list(range(100, 200))


async def fill(sessionmaker: Sessionmaker, shape: str, rows: int) -> None:
    channels = layout(shape, rows)
    async with sessionmaker() as session, session.begin():
        event_ids = list((await session.scalars(select(models.Event.id))).all())
        distinct = sorted(set(channels))
        await session.execute(
            insert(models.Subscription),
            [{"guild_id": GUILD + c % 50, "channel_id": c, "state": "active"} for c in distinct],
        )
        subs = dict(
            (await session.execute(select(models.Subscription.channel_id, models.Subscription.id))).all()
        )
        now = utcnow()
        seen: dict[int, int] = {}
        values = []
        for c in channels:
            n = seen[c] = seen.get(c, -1) + 1
            values.append(
                {
                    "event_id": event_ids[n % len(event_ids)],
                    "subscription_id": subs[c],
                    "guild_id": GUILD + c % 50,
                    "channel_id": c,
                    "revision": 1 + n // len(event_ids),
                    "action": "post",
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
        await session.execute(insert(models.Delivery), values)


async def measure(url: str, shape: str, rows: int, claims: int) -> str:
    engine = dbmod.create_engine(url)
    await dbmod.upgrade(engine)
    sessionmaker = dbmod.make_sessionmaker(engine)
    await load(sessionmaker, read_corpus(files=[CORPUS]))
    await fill(sessionmaker, shape, rows)
    store = DeliveryStore(sessionmaker, "bench")
    claim_ms: list[float] = []
    due_ms: list[float] = []
    got = 0
    for _ in range(claims):
        started = time.perf_counter()
        jobs = await store.claim(100, lease=60, per_channel=5)
        claim_ms.append((time.perf_counter() - started) * 1000)
        got += len(jobs)
        await store.record([Result(j, "sent", message_id=j.delivery_id) for j in jobs])
        started = time.perf_counter()
        await store.next_due()
        due_ms.append((time.perf_counter() - started) * 1000)
    await engine.dispose()
    p95 = statistics.quantiles(claim_ms, n=20)[-1]
    return (
        f"| {url.split('+', 1)[0]} | {shape} | {rows} | {claims} | {got / claims:.0f} | "
        f"{statistics.median(claim_ms):.1f} | {p95:.1f} | {max(claim_ms):.1f} | "
        f"{statistics.median(due_ms):.1f} |"
    )


async def postgres_run(base: str, shape: str, rows: int, claims: int) -> str:
    name = f"pb_bench_{uuid.uuid4().hex[:8]}"
    admin = dbmod.create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return await measure(base.rsplit("/", 1)[0] + f"/{name}", shape, rows, claims)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def main(rows: int, claims: int, postgres: str | None) -> None:
    print(
        f"{time.strftime('%Y-%m-%d')} on {platform.node()} "
        f"({platform.machine()}, Python {platform.python_version()})"
    )
    print(
        "| database | shape | open rows | claims | rows per claim | p50 ms | p95 ms | max ms "
        "| next_due p50 ms |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for shape in ("fan-out", "backlog"):
        with tempfile.TemporaryDirectory() as tmp:
            print(await measure(f"sqlite+aiosqlite:///{tmp}/claims.db", shape, rows, claims), flush=True)
        if postgres:
            print(await postgres_run(postgres, shape, rows, claims), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--claims", type=int, default=40)
    parser.add_argument("--postgres", help="a PostgreSQL URL; a private database is made beside it")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.claims, args.postgres))
