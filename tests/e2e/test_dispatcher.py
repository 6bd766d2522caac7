"""The alert dispatcher end to end: outbox rows → Discord messages, against the fake Discord."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import db as dbmod
from bot import models
from bot.discord.client import PeninsulaBot
from bot.outbox.config import DispatcherConfig
from bot.outbox.pacing import Share, SlidingWindow
from bot.outbox.payload import nonce_for
from bot.outbox.transport import Outcome, RestTransport, classify
from bot.outbox.worker import Dispatcher
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.subscriptions import Filters
from bot.services.validation import EventInput, SourceInput
from bot.web import create_app
from testing.fake_discord import FakeDiscord, FakeGuild, RateLimitConfig
from tests.conftest import Database

from .bot_process import FAST, BotProcess, Staff, channel_manager, grant_bot, load_sample, running_bot

ALERT_OPTIONS = {
    "kind": "nuclear_test",
    "date": "2026-02-01",
    "summary": "A test at Punggye-ri.",
    "source_url": "https://example.org/test",
}


def event_input(title: str = "Hwasong-19 launch from Pyongyang", **changes: object) -> EventInput:
    data = EventInput(
        title=title,
        summary="A solid-fuel ICBM flies on a lofted trajectory.",
        date="2024-10-31",
        kind="missile_launch",
        significance=4,
        programs=["icbm"],
        actors=["dprk"],
        sources=[SourceInput("Yonhap", "North Korea fires ICBM", "2024-10-31", "https://example.org/a")],
    )
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def curator(guild_id: int) -> Caller:
    return Caller(1, guild_id, frozenset({"manage_guild"}))


async def subscribe_all(bot: PeninsulaBot, guild: FakeGuild, channels: list[int], **kw: object) -> list[int]:
    ids = []
    for cid in channels:
        caller = channel_manager(guild.id).in_channel(cid)
        view = await bot.services.subscriptions.subscribe(caller, cid, Filters(), **kw)  # type: ignore[arg-type]
        ids.append(view.id)
    return ids


@asynccontextmanager
async def one_alert_sent(fake: FakeDiscord, db: Database, staff: Staff) -> AsyncIterator[PeninsulaBot]:
    """The bot running over the sample corpus, channel 0 of ``staff`` subscribed to everything,
    and one event published and its alert sent."""
    await load_sample(db)
    async with running_bot(fake, db) as client:
        caller = channel_manager(staff.guild.id).in_channel(staff.channel(0).id)
        await client.services.subscriptions.subscribe(caller, staff.channel(0).id, Filters())
        await client.services.curation.create(curator(staff.guild.id), event_input())
        await wait_deliveries(db, models.Delivery.state == "sent", 1)
        yield client


async def wait_deliveries(db: Database, where: Any, count: int, within: float = 10) -> None:
    """Wait until exactly ``count`` delivery rows match ``where`` (polled: rows are recorded
    after Discord's response, so the fake's own change notifications come too early)."""
    deadline = time.monotonic() + within
    while True:
        async with db.sessionmaker() as s:
            n = await s.scalar(select(func.count()).select_from(models.Delivery).where(where))
        if n == count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{n} deliveries match, wanted {count}")
        await asyncio.sleep(0.02)


async def publish_to_workers(
    fake: FakeDiscord,
    workers: list[Dispatcher],
    engines: list[AsyncEngine],
    services: Services,
    guild_id: int,
    db: Database,
    count: int,
    within: float,
) -> None:
    """Run ``workers`` against ``fake``, publish one event in ``guild_id``, wait until ``count``
    deliveries are sent, then stop the workers and dispose of their engines."""
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    from bot.discord_endpoints import configure_endpoints

    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    configure_endpoints(fake.api_base, fake.gateway_url)
    try:
        for w in workers:
            w.start()
        await services.curation.create(curator(guild_id), event_input())
        for w in workers:
            w.wake()
        await wait_deliveries(db, models.Delivery.state == "sent", count, within=within)
    finally:
        for w in workers:
            await w.stop()
        for e in engines:
            await e.dispose()
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.fixture
async def world(fake_discord: FakeDiscord) -> FakeGuild:
    guild = fake_discord.add_guild("Peninsula Watchers", channels=[f"alerts-{i}" for i in range(12)])
    grant_bot(guild)
    return guild


@pytest.fixture
async def bot(
    fake_discord: FakeDiscord, world: FakeGuild, sqlite_db: Database
) -> AsyncIterator[PeninsulaBot]:
    await load_sample(sqlite_db)
    async with running_bot(fake_discord, sqlite_db, extensions=("cogs.alerts",)) as client:
        yield client


def channel_ids(guild: FakeGuild) -> list[int]:
    return [c.id for c in guild.channels.values()]


async def test_fan_out_once_per_channel_with_nonce(
    fake_discord: FakeDiscord, world: FakeGuild, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    role = world.add_role("watchers")
    channels = channel_ids(world)
    await subscribe_all(bot, world, channels[:6])
    await subscribe_all(bot, world, channels[6:], mention_role_id=role.id)
    event = await bot.services.curation.create(curator(world.id), event_input())
    await fake_discord.wait_for(lambda: all(fake_discord.channel_messages(c) for c in channels), 5, "alerts")
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", len(channels))
    for i, cid in enumerate(channels):
        [msg] = fake_discord.channel_messages(cid)
        assert msg.embeds[0]["title"] == event.title
        assert isinstance(msg.nonce, str) and msg.nonce.startswith("pb") and len(msg.nonce) <= 25
        if i < 6:
            assert msg.allowed_mentions == {"parse": []}
            assert "<@&" not in msg.content
        else:
            assert msg.content.startswith(f"<@&{role.id}> ")
            assert msg.allowed_mentions == {"parse": [], "roles": [str(role.id)]}
    async with sqlite_db.sessionmaker() as s:
        rows = (await s.scalars(select(models.Delivery))).all()
        subs = (await s.scalars(select(models.Subscription))).all()
    assert {r.message_id for r in rows} == {fake_discord.channel_messages(r.channel_id)[0].id for r in rows}
    assert all(r.attempts == 1 and r.claimed_by is None for r in rows)
    assert all(s.last_delivery_at is not None for s in subs)


async def test_server_errors_then_recovery(
    fake_discord: FakeDiscord, world: FakeGuild, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    channels = channel_ids(world)
    await subscribe_all(bot, world, channels)
    fake_discord.fail_next(15, 502, method="POST", path=r"/channels/\d+/messages$")
    await bot.services.curation.create(curator(world.id), event_input())
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", len(channels))
    assert all(len(fake_discord.channel_messages(c)) == 1 for c in channels)
    async with sqlite_db.sessionmaker() as s:
        attempts = (await s.scalars(select(models.Delivery.attempts))).all()
    assert max(attempts) > 1
    assert sum(a - 1 for a in attempts) == 15
    statuses = Counter(
        r.status for r in fake_discord.requests if r.method == "POST" and "/messages" in r.path
    )
    assert statuses == {502: 15, 200: len(channels)}


async def test_forbidden_channel_disables_subscription_with_reason(
    fake_discord: FakeDiscord, world: FakeGuild, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    channels = channel_ids(world)
    await subscribe_all(bot, world, channels)
    fake_discord.fail_channel(channels[0], 403)
    fake_discord.fail_channel(channels[1], 404)
    await bot.services.curation.create(curator(world.id), event_input())
    await bot.services.curation.create(curator(world.id), event_input("Second launch of the day"))
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 2 * (len(channels) - 2))
    await wait_deliveries(sqlite_db, models.Delivery.state.in_(("failed", "cancelled")), 4)
    subs = {s.channel_id: s for s in await bot.services.subscriptions.list(channel_manager(world.id))}
    assert subs[channels[0]].state == "disabled"
    assert "403" in (subs[channels[0]].disabled_reason or "")
    assert subs[channels[1]].state == "disabled"
    assert "no longer exists" in (subs[channels[1]].disabled_reason or "")
    assert all(subs[c].state == "active" for c in channels[2:])
    # No retry storm: at most one request per failing channel and event.
    for cid in channels[:2]:
        hits = [r for r in fake_discord.requests if r.path == f"/channels/{cid}/messages"]
        assert 1 <= len(hits) <= 2
    async with sqlite_db.sessionmaker() as s:
        audit = (
            await s.scalars(select(models.AuditLog).where(models.AuditLog.action == "subscription.disable"))
        ).all()
    assert {a.record_id for a in audit} == {str(channels[0]), str(channels[1])}


async def test_edit_and_retract_reach_posted_alerts(
    fake_discord: FakeDiscord, world: FakeGuild, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    channels = channel_ids(world)[:3]
    await subscribe_all(bot, world, channels)
    caller = curator(world.id)
    event = await bot.services.curation.create(caller, event_input())
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 3)
    await bot.services.curation.edit(caller, event.id, event_input("Hwasong-19 ICBM launch (corrected)"))
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 6)
    for cid in channels:
        [msg] = fake_discord.channel_messages(cid)
        assert msg.embeds[0]["title"] == "[Updated] Hwasong-19 ICBM launch (corrected)"
        assert msg.content.startswith("**Updated:**")
        assert msg.edits == 1
    await bot.services.curation.retract(caller, event.id, "Duplicate of an earlier report")
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 9)
    for cid in channels:
        [msg] = fake_discord.channel_messages(cid)
        assert msg.embeds[0]["title"].startswith("[Retracted]")
        assert "Duplicate of an earlier report" in msg.embeds[0]["description"]
        assert msg.edits == 2


async def scraped_deliveries(services: Services) -> Counter[str]:
    """``peninsula_deliveries_total`` by outcome, as ``/metrics`` shows it (process registry)."""
    async with TestClient(TestServer(create_app(services))) as client:
        text = await (await client.get("/metrics")).text()
    counts: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "peninsula_deliveries_total":
                counts[sample.labels["outcome"]] += int(sample.value)
    return counts


async def test_deliveries_metric_counts_real_outcomes(
    fake_discord: FakeDiscord, world: FakeGuild, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    channels = channel_ids(world)[:4]
    await subscribe_all(bot, world, channels)
    fake_discord.fail_channel(channels[3], 403)
    fake_discord.fail_next(1, 502, method="POST", path=rf"/channels/{channels[0]}/messages$")
    before = await scraped_deliveries(bot.services)
    caller = curator(world.id)
    event = await bot.services.curation.create(caller, event_input())
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 3)
    await wait_deliveries(sqlite_db, models.Delivery.state == "failed", 1)
    await bot.services.curation.edit(caller, event.id, event_input("Hwasong-19 ICBM launch (corrected)"))
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 6)
    after = await scraped_deliveries(bot.services)
    assert after - before == Counter({"sent": 3, "edited": 3, "retry": 1, "disabled": 1})


async def test_paused_subscription_gets_nothing(
    fake_discord: FakeDiscord, world: FakeGuild, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    a, b = channel_ids(world)[:2]
    await subscribe_all(bot, world, [a, b])
    await bot.services.subscriptions.set_state(channel_manager(world.id).in_channel(b), b, "paused")
    await bot.services.curation.create(curator(world.id), event_input())
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1)
    assert len(fake_discord.channel_messages(a)) == 1
    assert fake_discord.channel_messages(b) == []


async def test_429_is_honoured_without_duplicates(
    fake_discord: FakeDiscord, world: FakeGuild, sqlite_db: Database
) -> None:
    # The fake is stricter than the dispatcher believes Discord to be: 429s must be waited out.
    fake_discord.rate_limits = RateLimitConfig(global_per_second=4, channel_messages=5, channel_window=5)
    await load_sample(sqlite_db)
    config = DispatcherConfig(**{**FAST.__dict__, "global_per_second": 50})
    async with running_bot(fake_discord, sqlite_db, extensions=("cogs.alerts",), config=config) as client:
        channels = channel_ids(world)
        await subscribe_all(client, world, channels)
        await client.services.curation.create(curator(world.id), event_input())
        await wait_deliveries(sqlite_db, models.Delivery.state == "sent", len(channels), within=15)
    assert fake_discord.rate_limited["global"] > 0
    assert all(len(fake_discord.channel_messages(c)) == 1 for c in channels)


async def test_a_fan_out_is_drained_in_full_batches_after_the_first_small_claim(
    fake_discord: FakeDiscord, sqlite_db: Database
) -> None:
    # The small first claim (quick first alert) must not repeat while a backlog drains: claims
    # are spaced by ``claim_interval``, so ``first_batch`` per claim would cap the send rate
    # (10 per 0.25 s = 40/s, 80 % of Discord's 50/s, with the production tuning).
    guild = fake_discord.add_guild("Fan-out", channels=[f"alerts-{i}" for i in range(40)])
    grant_bot(guild)
    await load_sample(sqlite_db)
    config = DispatcherConfig(**{**FAST.__dict__, "batch": 20, "first_batch": 2, "claim_interval": 0.25})
    async with running_bot(fake_discord, sqlite_db, extensions=("cogs.alerts",), config=config) as client:
        assert client.outbox is not None
        store = client.outbox.store
        claimed: list[int] = []
        claim = store.claim

        async def counting_claim(limit: int, lease: float, **kw: Any) -> list[Any]:
            jobs = await claim(limit, lease, **kw)
            if jobs:
                claimed.append(len(jobs))
            return jobs

        store.claim = counting_claim  # type: ignore[method-assign]
        channels = channel_ids(guild)
        await subscribe_all(client, guild, channels)
        await client.services.curation.create(curator(guild.id), event_input())
        await wait_deliveries(sqlite_db, models.Delivery.state == "sent", len(channels), within=15)
    assert sum(claimed) == len(channels)
    assert claimed[0] == 2  # the first claim is small
    # Then each claim refills the batch: 38 rows in 10 or more at a time, not 19 claims of 2.
    assert len(claimed) <= 5, claimed
    assert all(len(fake_discord.channel_messages(c)) == 1 for c in channels)


def test_shard_shares_add_up_to_the_token_limit_at_every_moment() -> None:
    config = DispatcherConfig(share_epoch=60.0, request_timeout=10.0, clock_skew=0.5)
    shares = [Share.of(config.for_shards([s], 4)) for s in range(4)]
    assert all(shares)
    for when in [0.0, 30.0, 48.4, 48.6, 59.9, 60.0, 90.0, 108.6, 120.0, 1e9 + 0.3]:
        limits = [share.limit(when) for share in shares if share is not None]
        assert sum(limits) <= 50 and set(limits) <= {12, 13}
    # Inside a turn all of it is used, two shards with 13; the next turn the other two.
    assert [s.limit(10.0) for s in shares if s] == [13, 13, 12, 12]
    assert [s.limit(70.0) for s in shares if s] == [12, 12, 13, 13]
    # A share about to shrink has shrunk a guard (request timeout + window + skew) before.
    assert [s.limit(60.0 - 11.4) for s in shares if s] == [12, 12, 12, 12]
    # Over time each shard has 12.5/s on average less the guards; a process with all shards, 50.
    assert config.for_shards([0, 1, 2, 3], 4).shards is None
    assert Share.of(config.for_shards([0, 2], 4)) is not None


async def test_four_shard_workers_together_never_exceed_the_token_limit(
    fake_discord: FakeDiscord, sqlite_db: Database
) -> None:
    # 22 requests/s for the token: shares of 5 or 6 (5.5 on average), changing turn every 3 s.
    fake_discord.rate_limits = RateLimitConfig(global_per_second=22, channel_messages=5, channel_window=5)
    guilds = [
        fake_discord.add_guild(f"Shard {s}", channels=[f"c{i}" for i in range(33)], shard=(s, 4))
        for s in range(4)
    ]
    await load_sample(sqlite_db)
    services = Services.build(sqlite_db.sessionmaker, Policy.of([g.id for g in guilds]))
    for guild in guilds:
        for cid in channel_ids(guild):
            await services.subscriptions.subscribe(channel_manager(guild.id).in_channel(cid), cid)
    engines = [dbmod.create_engine(sqlite_db.url) for _ in range(4)]
    config = DispatcherConfig(
        **{
            **FAST.__dict__,
            "global_per_second": 22,
            "share_epoch": 3.0,
            "clock_skew": 0.0,
            "request_timeout": 1.0,
        }
    )
    workers = [
        Dispatcher(
            dbmod.make_sessionmaker(e),
            RestTransport(fake_discord.token, timeout=config.request_timeout),
            config=config.for_shards([s], 4),
            shard_ids=[s],
            shard_count=4,
            worker_id=f"shard-{s}",
        )
        for s, e in enumerate(engines)
    ]
    await publish_to_workers(fake_discord, workers, engines, services, guilds[0].id, sqlite_db, 132, 40)
    # Every worker sent its own shard's 33, all of them at once, and the fake (counting at
    # arrival) never saw more than 22 in a rolling second: it would have answered 429.
    assert [w.stats.sent for w in workers] == [33] * 4
    assert fake_discord.rate_limited["global"] == 0
    assert all(len(fake_discord.channel_messages(c)) == 1 for g in guilds for c in channel_ids(g))


def test_sliding_window_bursts_then_waits_without_drift() -> None:
    now = [0.0]
    w = SlidingWindow(3, 1.0, clock=lambda: now[0])
    for _ in range(3):
        assert w.delay() == 0
        w.take()
    assert w.delay() is None  # all three in flight
    now[0] = 0.01
    for _ in range(3):
        w.release()
    assert w.delay() == pytest.approx(1.0)
    now[0] = 1.01
    assert w.delay() == 0
    w.block(2.0)
    assert w.delay() == pytest.approx(2.0)


def test_classify_and_nonce() -> None:
    assert classify(200, {}, {"id": "5"}) == Outcome("ok", message_id=5)
    limited = classify(429, {"X-RateLimit-Global": "true"}, {"retry_after": 0.25, "global": True})
    assert limited.kind == "rate_limited" and limited.is_global and limited.retry_after == 0.25
    assert classify(403, {}, {"code": 50013}).kind == "forbidden"
    assert classify(404, {}, {"code": 10003}).kind == "missing_channel"
    assert classify(404, {}, {"code": 10008}).kind == "gone"
    assert classify(502, {}, None).kind == "transient"
    assert classify(400, {}, {"code": 50035}).kind == "invalid"
    assert len(nonce_for(2**53, 9999)) <= 25


async def test_kill_9_mid_fan_out_then_restart_leaves_exactly_one_alert_per_channel(
    fake_discord: FakeDiscord, sqlite_db: Database, tmp_path: Path
) -> None:
    guild = fake_discord.add_guild("Fan-out", channels=[f"c{i}" for i in range(200)])
    grant_bot(guild)
    channels = channel_ids(guild)
    await load_sample(sqlite_db)
    services = Services.build(sqlite_db.sessionmaker, Policy.of([guild.id]))
    for cid in channels:
        await services.subscriptions.subscribe(channel_manager(guild.id).in_channel(cid), cid)
    env = {"HOME_GUILD_IDS": str(guild.id)}
    first = BotProcess(fake_discord, sqlite_db.url, env=env)
    await first.start(tmp_path / "bot.log")
    try:
        await fake_discord.wait_for(lambda: bool(fake_discord.global_commands), 30, "the bot to sync")
        await fake_discord.wait_for(lambda: fake_discord.identifies >= 1, 30, "the bot to connect")
        result = await fake_discord.invoke(
            "curate", {**ALERT_OPTIONS, "title": "Seventh nuclear test"}, subcommand="add", timeout=10
        )
        assert result.content.startswith("Published event #"), first.output()

        def posted() -> int:
            return sum(1 for c in channels if fake_discord.channel_messages(c))

        await fake_discord.wait_for(lambda: posted() >= 60, 20, "60 alerts")
        first.kill()
        killed_at = time.monotonic()
        assert await first.wait(10) == -9
        assert posted() < 200, "the fan-out finished before the kill; nothing was tested"

        second = BotProcess(fake_discord, sqlite_db.url, env=env)
        await second.start(tmp_path / "bot.log")
        try:
            await fake_discord.wait_for(lambda: posted() == 200, 40, "every channel to hold an alert")
            resumed_in = time.monotonic() - killed_at
            await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 200, within=10)
            second.terminate()
            assert await second.wait(20) == 0, second.output()
        finally:
            await second.stop()
    finally:
        await first.stop()
    assert all(len(fake_discord.channel_messages(c)) == 1 for c in channels)
    async with sqlite_db.sessionmaker() as s:
        rows = (await s.scalars(select(models.Delivery))).all()
    assert {r.message_id for r in rows} == {fake_discord.channel_messages(r.channel_id)[0].id for r in rows}
    assert all(r.claimed_by is None for r in rows)
    # The restart resends in-doubt deliveries with the same nonce rather than skipping them.
    nonces = Counter(
        r.body.get("nonce")
        for r in fake_discord.requests
        if r.method == "POST" and r.path.endswith("/messages") and isinstance(r.body, dict)
    )
    assert len(nonces) == 200
    assert resumed_in < 30, f"took {resumed_in:.1f}s after the kill"


async def test_two_dispatchers_on_postgres_never_send_a_delivery_twice(
    fake_discord: FakeDiscord, postgres_db: Database
) -> None:
    guild = fake_discord.add_guild("Two workers", channels=[f"c{i}" for i in range(120)])
    channels = channel_ids(guild)
    await load_sample(postgres_db)
    services = Services.build(postgres_db.sessionmaker, Policy.of([guild.id]))
    for cid in channels:
        await services.subscriptions.subscribe(channel_manager(guild.id).in_channel(cid), cid)
    engines = [dbmod.create_engine(postgres_db.url) for _ in range(2)]
    # Each process takes half of the bot's global budget, as sharded processes do.
    config = DispatcherConfig(**{**FAST.__dict__, "global_per_second": 25, "batch": 20})
    workers = [
        Dispatcher(
            dbmod.make_sessionmaker(e),
            RestTransport(fake_discord.token),
            config=config,
            worker_id=f"proc-{i}",
        )
        for i, e in enumerate(engines)
    ]
    await publish_to_workers(fake_discord, workers, engines, services, guild.id, postgres_db, 120, 20)
    assert all(len(fake_discord.channel_messages(c)) == 1 for c in channels)
    posts = Counter(
        r.body["nonce"] for r in fake_discord.requests if r.method == "POST" and r.path.endswith("/messages")
    )
    assert len(posts) == 120 and set(posts.values()) == {1}
    assert all(w.stats.sent > 0 for w in workers), [w.stats.sent for w in workers]
    assert sum(w.stats.sent for w in workers) == 120
    assert fake_discord.rate_limited["global"] == 0
