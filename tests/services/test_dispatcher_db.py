"""The dispatcher's outbox store on real databases: claiming, leases, shards, recording; and on
PostgreSQL, concurrent claimers (``FOR UPDATE SKIP LOCKED``) never sharing a delivery."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select, update

from bot import db as dbmod
from bot import models
from bot.outbox.store import DeliveryStore, Job, Result, shard_of
from bot.services.errors import PermissionDenied
from bot.services.subscriptions import Filters
from bot.services.validation import EventInput, SourceInput
from tests.conftest import Database

from .conftest import HOME, Services, curator, member

# Snowflake-shaped guild ids spread over two shards.
GUILDS = [(1 << 22) * k + 12345 for k in range(1, 5)]


def launch(title: str = "Missile launch into the Sea of Japan") -> EventInput:
    return EventInput(
        title=title,
        summary="",
        date="2022-11-18",
        kind="missile_launch",
        significance=3,
        sources=[SourceInput("Yonhap", "Launch", None, "https://example.org/l")],
    )


async def seed_deliveries(services: Services, per_guild: int) -> int:
    """Subscriptions in every guild of GUILDS, then one global event: one delivery each."""
    for guild in GUILDS:
        for i in range(per_guild):
            cid = 10_000 * guild + i
            await services.subscriptions.subscribe(curator(guild).in_channel(cid), cid, Filters())
    await services.curation.create(curator(HOME), launch())
    async with services.db.sessionmaker() as s:
        return len((await s.scalars(select(models.Delivery.id))).all())


async def test_claim_lease_release_and_record(services: Services) -> None:
    total = await seed_deliveries(services, 3)
    assert total == 12
    a = DeliveryStore(services.db.sessionmaker, "worker-a")
    b = DeliveryStore(services.db.sessionmaker, "worker-b")
    first = await a.claim(5, lease=60)
    rest = await b.claim(100, lease=60)
    assert len(first) == 5 and len(rest) == 7
    assert not {j.delivery_id for j in first} & {j.delivery_id for j in rest}
    assert all(j.attempts == 1 and j.event is not None and j.event.title.startswith("Missile") for j in first)
    assert await a.claim(100, lease=60) == []  # everything is leased
    assert await a.next_due() is not None  # b's leases, when they run out
    # A released delivery is claimable again at once, keeping its attempt count.
    assert await a.release([first[0].delivery_id]) == 1
    [again] = await b.claim(100, lease=60)
    assert again.delivery_id == first[0].delivery_id and again.attempts == 2
    # An expired lease (a crashed worker) is claimable too.
    async with services.db.sessionmaker() as s, s.begin():
        await s.execute(
            update(models.Delivery)
            .where(models.Delivery.claimed_by == "worker-a")
            .values(claimed_until=models.utcnow() - dt.timedelta(seconds=1))
        )
    stolen = await b.claim(100, lease=60)
    assert {j.delivery_id for j in stolen} == {j.delivery_id for j in first[1:]}
    await b.record(
        [Result(stolen[0], "sent", message_id=99), Result(stolen[1], "retry", error="502", retry_in=30)]
    )
    async with services.db.sessionmaker() as s:
        sent = await s.get(models.Delivery, stolen[0].delivery_id)
        retry = await s.get(models.Delivery, stolen[1].delivery_id)
        sub = await s.get(models.Subscription, stolen[0].subscription_id)
    assert sent is not None and (sent.state, sent.message_id, sent.claimed_by) == ("sent", 99, None)
    assert retry is not None and (retry.state, retry.claimed_by, retry.last_error) == ("sending", None, "502")
    assert retry.next_attempt_at > models.utcnow() + dt.timedelta(seconds=20)
    assert sub is not None and sub.last_delivery_at is not None
    assert await b.release() == 10  # all of b's other open deliveries


async def test_claims_only_the_guilds_of_its_shards(services: Services) -> None:
    await seed_deliveries(services, 2)
    even = DeliveryStore(services.db.sessionmaker, "even", shard_ids=[0], shard_count=2)
    odd = DeliveryStore(services.db.sessionmaker, "odd", shard_ids=[1], shard_count=2)
    got_even = await even.claim(100, lease=60)
    got_odd = await odd.claim(100, lease=60)
    assert {shard_of(j.guild_id, 2) for j in got_even} == {0}
    assert {shard_of(j.guild_id, 2) for j in got_odd} == {1}
    assert len(got_even) + len(got_odd) == 8


async def test_concurrent_claimers_never_share_a_delivery(services: Services, database: Database) -> None:
    total = await seed_deliveries(services, 25)
    assert total == 100
    # Separate engines: separate connection pools, as in separate processes.
    engines = [dbmod.create_engine(database.url) for _ in range(4)]
    try:
        stores = [DeliveryStore(dbmod.make_sessionmaker(e), f"w{i}") for i, e in enumerate(engines)]

        async def drain(store: DeliveryStore) -> list[Job]:
            mine: list[Job] = []
            while batch := await store.claim(7, lease=60):
                mine += batch
            return mine

        results = await asyncio.gather(*(drain(s) for s in stores))
    finally:
        for e in engines:
            await e.dispose()
    claimed = [j.delivery_id for jobs in results for j in jobs]
    assert len(claimed) == len(set(claimed)) == 100
    if database.dialect == "postgresql":
        assert sum(1 for jobs in results if jobs) >= 2  # the work really was shared


async def test_claim_is_fair_across_channels_and_guilds(services: Services) -> None:
    """One channel's backlog takes at most its allowance; every other guild's alert is claimed
    in the same claim, and the claim is ordered round-robin across guilds."""
    busy_guild, quiet_guild = GUILDS[0], GUILDS[1]
    busy = await services.subscriptions.subscribe(curator(busy_guild).in_channel(777), 777, Filters())
    quiet = await services.subscriptions.subscribe(curator(quiet_guild).in_channel(888), 888, Filters())
    for i in range(20):  # local events of the busy guild: only its own channel is alerted
        await services.curation.create(curator(busy_guild), launch(f"Backlog launch number {i}"))
    await services.curation.create(curator(HOME), launch())  # global: both channels
    store = DeliveryStore(services.db.sessionmaker, "fair")
    first = await store.claim(100, lease=60, per_channel=5)
    by_channel = Counter(j.channel_id for j in first)
    assert by_channel == {busy.channel_id: 5, quiet.channel_id: 1}
    assert [j.channel_id for j in first[:2]] in ([777, 888], [888, 777])  # one turn each first
    # The busy channel's allowance is taken while its rows are leased: nothing more of it.
    assert await store.claim(100, lease=60, per_channel=5) == []
    # Recorded sends free the allowance again, oldest first.
    await store.record([Result(j, "sent", message_id=j.delivery_id) for j in first if j.channel_id == 777])
    second = await store.claim(100, lease=60, per_channel=5)
    assert len(second) == 5 and {j.channel_id for j in second} == {777}
    assert min(j.delivery_id for j in second) > max(j.delivery_id for j in first if j.channel_id == 777)


async def test_claim_never_returns_what_its_worker_holds(services: Services) -> None:
    await seed_deliveries(services, 2)
    a = DeliveryStore(services.db.sessionmaker, "stalled")
    b = DeliveryStore(services.db.sessionmaker, "other")
    held = await a.claim(100, lease=60)
    ids = {j.delivery_id for j in held}
    assert len(ids) == 8
    # A stall longer than the lease: every lease has run out, the worker still holds its rows.
    async with services.db.sessionmaker() as s, s.begin():
        await s.execute(
            update(models.Delivery).values(claimed_until=models.utcnow() - dt.timedelta(seconds=1))
        )
    assert await a.claim(100, lease=60, exclude=ids) == []
    assert await a.renew(60, ids) == ids  # still its own: renewed
    async with services.db.sessionmaker() as s, s.begin():
        await s.execute(
            update(models.Delivery).values(claimed_until=models.utcnow() - dt.timedelta(seconds=1))
        )
    taken = {j.delivery_id for j in await b.claim(3, lease=60)}
    assert len(taken) == 3
    # The stalled worker learns which ones it lost when it renews.
    assert await a.renew(60, ids) == ids - taken


async def test_resume_retries_only_its_own_failed_deliveries(services: Services) -> None:
    await seed_deliveries(services, 1)
    store = DeliveryStore(services.db.sessionmaker, "w")
    jobs = await store.claim(100, lease=60)
    assert len(jobs) == 4
    await store.record([Result(j, "failed", error="gave up") for j in jobs])
    mine, other = GUILDS[0], GUILDS[1]
    channel = 10_000 * mine
    assert [s.failed for s in await services.subscriptions.list(curator(mine))] == [1]
    with pytest.raises(PermissionDenied):
        await services.subscriptions.resume(member(mine).in_channel(channel), channel)
    view, retried = await services.subscriptions.resume(curator(mine).in_channel(channel), channel)
    assert retried == 1 and view.state == "active"
    assert [s.failed for s in await services.subscriptions.list(curator(mine))] == [0]
    assert [s.failed for s in await services.subscriptions.list(curator(other))] == [1]  # untouched
    [again] = await store.claim(100, lease=60)
    assert again.guild_id == mine and again.attempts == 2  # kept: a resend may look first
    assert again.first_attempt_at is not None and again.first_attempt_at > jobs[0].first_attempt_at  # type: ignore[operator]
