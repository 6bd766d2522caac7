"""Several ``python -m bot`` processes on one database: shards, start-up locks, one alert each.

The processes are real subprocesses against the fake Discord, started together on a database
that has nothing in it, so they race for the migrations, the first seed and the command sync.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot import db as dbmod
from bot import models
from testing.fake_discord import FakeDiscord

from .bot_process import BotProcess, grant_bot

SEEDING = "empty database: loading the curated corpus"
ALERT = {
    "title": "Hwasong launch seen from two shards",
    "kind": "missile_launch",
    "date": "2026-03-01",
    "summary": "A launch every subscribed channel hears about once.",
    "source_url": "https://example.org/launch",
}
START_WITHIN = 120.0  # two cold starts and one corpus seed on a shared 2-core machine


def log_lines(proc: BotProcess) -> list[dict[str, Any]]:
    lines = []
    for line in proc.output().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def command_guilds(proc: BotProcess) -> set[int]:
    """The guilds whose commands this process answered (from its completion lines)."""
    return {int(line["guild_id"]) for line in log_lines(proc) if line.get("command") and line.get("guild_id")}


def shard_processes(fake: FakeDiscord, url: str, count: int, env: dict[str, str]) -> list[BotProcess]:
    fake.shard_count = count
    return [
        BotProcess(
            fake,
            url,
            env={**env, "SHARD_COUNT": str(count), "SHARD_IDS": str(i), "LOG_FORMAT": "json"},
        )
        for i in range(count)
    ]


async def start_together(procs: list[BotProcess], tmp_path: Path) -> None:
    await asyncio.gather(*(p.start(tmp_path / f"shard-{i}.log") for i, p in enumerate(procs)))


async def wait_identified(fake: FakeDiscord, procs: list[BotProcess], count: int) -> None:
    def identified() -> bool:
        return len(fake.sessions) == count and all(s.ws is not None for s in fake.sessions.values())

    try:
        await fake.wait_for(identified, START_WITHIN, f"{count} shards to identify")
    except TimeoutError:
        raise AssertionError("\n".join(p.output()[-3000:] for p in procs)) from None


async def stop_all(procs: list[BotProcess]) -> list[int | None]:
    for p in procs:
        p.terminate()
    codes: list[int | None] = []
    for p in procs:
        try:
            codes.append(await p.wait(30))
        except TimeoutError:
            await p.stop()
            codes.append(None)
    return codes


async def test_two_shard_processes_on_an_empty_postgres_each_answer_and_alert_their_guilds(
    fake_discord: FakeDiscord, empty_postgres_url: str, tmp_path: Path
) -> None:
    home = fake_discord.add_guild("Home", channels=["general", "alerts"], shard=(0, 2))
    other = fake_discord.add_guild("Other", channels=["general", "alerts"], shard=(1, 2))
    for guild in (home, other):
        grant_bot(guild)
    procs = shard_processes(fake_discord, empty_postgres_url, 2, {"HOME_GUILD_IDS": str(home.id)})
    await start_together(procs, tmp_path)
    try:
        await wait_identified(fake_discord, procs, 2)
        shards = sorted(p["shard"] for p in fake_discord.identify_payloads)
        assert shards == [[0, 2], [1, 2]], shards  # each process identified its own shard, once
        assert fake_discord.identifies == 2
        await fake_discord.wait_for(lambda: bool(fake_discord.global_commands), 30, "the command sync")
        for guild in (home, other):
            channel = guild.channel("alerts")
            reply = await fake_discord.invoke(
                "alerts", {"channel": channel}, subcommand="subscribe", guild=guild, timeout=20
            )
            assert reply.content.startswith(f"<#{channel.id}> will receive alerts"), reply.content
        published = await fake_discord.invoke("curate", ALERT, subcommand="add", guild=home, timeout=20)
        assert published.content.startswith("Published event #"), published.content
        channels = [g.channel("alerts").id for g in (home, other)]
        await fake_discord.wait_for(
            lambda: all(fake_discord.channel_messages(c) for c in channels), 30, "an alert in each guild"
        )
        await wait_all_sent(empty_postgres_url, 2)
        codes = await stop_all(procs)
    finally:
        for p in procs:
            await p.stop()
    assert codes == [0, 0], [p.output()[-2000:] for p in procs]
    # Exactly one alert per channel, each POSTed once.
    assert [len(fake_discord.channel_messages(c)) for c in channels] == [1, 1]
    posts = Counter(r.body["nonce"] for r in fake_discord.requests if r.path.endswith("/messages"))
    assert sorted(posts.values()) == [1, 1]
    # Each process answered only its own shard's guild.
    assert command_guilds(procs[0]) == {home.id}
    assert command_guilds(procs[1]) == {other.id}
    # One process migrated and seeded, the other found it done; the commands were synced once.
    assert sum(SEEDING in p.output() for p in procs) == 1
    puts = [r for r in fake_discord.requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert len(puts) == 1
    engine = dbmod.create_engine(empty_postgres_url)
    try:
        assert await dbmod.current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def wait_all_sent(url: str, count: int, within: float = 30.0) -> None:
    engine = dbmod.create_engine(url)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            D = models.Delivery
            async with engine.connect() as conn:
                rows = await conn.execute(select(D.state, func.count()).group_by(D.state))
                states: dict[str, int] = dict(rows.all())
            if states == {"sent": count}:
                return
            if loop.time() > deadline:
                raise AssertionError(f"deliveries: {states}")
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(dbmod.alembic_config()).get_current_head()
    assert head is not None
    return head


async def test_two_processes_migrating_one_new_sqlite_file_both_come_up(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'brief.db'}"
    guilds = [fake_discord.add_guild(f"Guild {i}", shard=(i, 2)) for i in range(2)]
    procs = shard_processes(fake_discord, url, 2, {})
    await start_together(procs, tmp_path)
    try:
        await wait_identified(fake_discord, procs, 2)
        await fake_discord.wait_for(lambda: bool(fake_discord.global_commands), 30, "the command sync")
        for guild in guilds:
            reply = await fake_discord.invoke("help", guild=guild, timeout=20)
            assert reply.embeds or reply.content
        codes = await stop_all(procs)
    finally:
        for p in procs:
            await p.stop()
    assert codes == [0, 0], [p.output()[-2000:] for p in procs]
    assert sum(SEEDING in p.output() for p in procs) == 1
    assert [command_guilds(p) for p in procs] == [{guilds[0].id}, {guilds[1].id}]
    engine = dbmod.create_engine(url)
    try:
        assert await dbmod.current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
