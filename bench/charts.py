"""Chart latency: a cold chart (counted and drawn) and a cached one (same query, locale and data),
on the real corpus alone and with synthetic events, on SQLite. Run from the repository root::

    .venv/bin/python -m bench.charts                    # the corpus, then 100,000 synthetic events more
    .venv/bin/python -m bench.charts --events 0         # the corpus only

Measured at the service (``ChartService.chart``: the data-version query, the counting queries and the
PNG drawn in a worker thread, or the cache hit after the version query), which is what /chart,
the chart buttons and ``/charts/{metric}.png`` all wait on. Not a test: targets are reported, not
asserted (cached p99 ≤ 50 ms, cold p99 ≤ 800 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

from bench.commands import populate
from bot import db as dbmod
from bot.services.charts import ChartData, ChartQuery, ChartService, figure_for
from bot.services.plot import Figure, font_path

QUERIES = (
    ChartQuery("launches", "year"),
    ChartQuery("events", "month", since=dt.date(2017, 1, 1), until=dt.date(2019, 12, 31)),
    ChartQuery("nuclear_tests", "year", program="nuclear-weapons"),
    ChartQuery("launches", "system"),
    ChartQuery("sanctions", "year", party="un-security-council"),
    ChartQuery("events", "program"),
)
TARGETS = {"cold": 800.0, "cached": 50.0}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figure(data: ChartData) -> Figure:
    return figure_for(data, {})


async def measure(
    charts_for: ChartService, iterations: int, sessionmaker: dbmod.Sessionmaker
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"cold": [], "cached": []}
    for i in range(iterations):
        query = QUERIES[i % len(QUERIES)]
        cold = ChartService(sessionmaker)  # an empty cache: counted and drawn
        started = time.perf_counter()
        await cold.chart(query, figure)
        times["cold"].append((time.perf_counter() - started) * 1000)
        await charts_for.chart(query, figure)  # warm the shared one
        started = time.perf_counter()
        hit = await charts_for.chart(query, figure)
        times["cached"].append((time.perf_counter() - started) * 1000)
        assert hit.cached
    return times


async def run(events: int, iterations: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        engine = dbmod.create_engine(url)
        try:
            await dbmod.upgrade(engine)
            sessionmaker = dbmod.make_sessionmaker(engine)
            load_seconds = await populate(sessionmaker, events)
            times = await measure(ChartService(sessionmaker), iterations, sessionmaker)
        finally:
            await engine.dispose()
    label = f"corpus + {events:,} synthetic events" if events else "corpus only"
    print(f"\nSQLite, {label} (loaded in {load_seconds:.0f} s; {iterations} runs per row)")
    print(f"{'chart':<8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'target p99':>11}")
    for name, values in times.items():
        verdict = "ok" if pct(values, 0.99) <= TARGETS[name] else "MISSED"
        print(
            f"{name:<8} {pct(values, 0.5):8.1f} {pct(values, 0.99):8.1f} {max(values):8.1f}"
            f" {TARGETS[name]:>8.0f} ms {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, action="append", help="synthetic events (repeatable)")
    parser.add_argument("--iterations", type=int, default=120)
    args = parser.parse_args()
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · {platform.platform()} · {os.cpu_count()} cores")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} · font: {font_path()}")
    for events in args.events or [0, 100_000]:
        asyncio.run(run(events, args.iterations))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
