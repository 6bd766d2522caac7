"""The outbox at its edges, end to end against the fake Discord: a backlog in one channel never
holds back another guild's alert; a loop stall longer than the lease sends nothing twice; a
delivery left ``sending`` past Discord's nonce window is found in its channel, not posted again;
retries run for their time, then fail visibly (``/alerts list``, ``/metrics``) until resumed."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot import models
from bot.outbox.config import DispatcherConfig
from bot.outbox.payload import alert_payload, delivery_ref, nonce_for, summary_payload
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.subscriptions import Filters
from bot.web import create_app
from testing.fake_discord import FakeDiscord
from testing.fake_discord.interactions import InteractionResult
from tests.conftest import Database

from .bot_process import FAST, Staff, channel_manager, grant_bot, load_sample, running_bot
from .test_dispatcher import curator, event_input, wait_deliveries

BACKLOG = 250


def posts_by_nonce(fake: FakeDiscord) -> Counter[str]:
    return Counter(
        str(r.body.get("nonce"))
        for r in fake.requests
        if r.method == "POST" and r.path.endswith("/messages") and isinstance(r.body, dict)
    )


async def test_a_channels_backlog_does_not_delay_another_guilds_alert(
    fake_discord: FakeDiscord, database: Database
) -> None:
    home = fake_discord.add_guild("Home", channels=["alerts"])
    busy = fake_discord.add_guild("Importers", channels=["imported"])
    for guild in (home, busy):
        grant_bot(guild)
    [home_channel] = home.channels
    [busy_channel] = busy.channels
    await load_sample(database)
    services = Services.build(database.sessionmaker, Policy.of([home.id]))
    await services.subscriptions.subscribe(
        channel_manager(home.id).in_channel(home_channel), home_channel, Filters()
    )
    await services.subscriptions.subscribe(
        channel_manager(busy.id).in_channel(busy_channel), busy_channel, Filters()
    )
    # The other guild's own events (local to it): 250 alerts queued for its one channel.
    for i in range(BACKLOG):
        await services.curation.create(curator(busy.id), event_input(f"Imported launch report {i:03d}"))
    async with running_bot(fake_discord, database, home_guild_ids=[home.id], extensions=()) as bot:
        await fake_discord.wait_for(
            lambda: bool(fake_discord.channel_messages(busy_channel)), 10, "the backlog"
        )
        published = time.monotonic()
        await bot.services.curation.create(curator(home.id), event_input("Home guild launch alert"))
        await fake_discord.wait_for(
            lambda: bool(fake_discord.channel_messages(home_channel)), 20, "the home guild's alert"
        )
        waited = time.monotonic() - published
        drained = len(fake_discord.channel_messages(busy_channel))
    [alert] = fake_discord.channel_messages(home_channel)
    assert alert.embeds[0]["title"] == "Home guild launch alert"
    assert waited < 3.0, f"the home guild's alert waited {waited:.1f} s behind the backlog"
    assert drained < BACKLOG  # the backlog was still there while the alert went out
    assert sum(fake_discord.rate_limited.values()) == 0


async def test_loop_stall_longer_than_the_lease_sends_each_alert_once(
    fake_discord: FakeDiscord, database: Database
) -> None:
    guild = fake_discord.add_guild("Stalled", channels=[f"s{i}" for i in range(12)])
    grant_bot(guild)
    channels = list(guild.channels)
    await load_sample(database)
    # One sender and slow responses: most of the 12 claimed deliveries wait in the worker. The
    # request timeout outlasts the stall, so the POST in flight is answered, not retried.
    config = DispatcherConfig(**{**FAST.__dict__, "concurrency": 1, "request_timeout": 10.0})
    fake_discord.set_delay(0.15, method="POST", path=r"/channels/\d+/messages$")
    async with running_bot(fake_discord, database, extensions=(), config=config) as bot:
        for cid in channels:
            await bot.services.subscriptions.subscribe(
                channel_manager(guild.id).in_channel(cid), cid, Filters()
            )
        await bot.services.curation.create(curator(guild.id), event_input())
        await fake_discord.wait_for(
            lambda: any(fake_discord.channel_messages(c) for c in channels), 5, "the first alert"
        )
        # The event loop stalls (a blocking call): every lease runs out meanwhile.
        time.sleep(config.lease + 1.0)  # noqa: ASYNC251
        await wait_deliveries(database, models.Delivery.state == "sent", len(channels), within=20)
    fake_discord.clear_faults()
    assert [len(fake_discord.channel_messages(c)) for c in channels] == [1] * len(channels)
    posts = posts_by_nonce(fake_discord)
    assert len(posts) == len(channels) and set(posts.values()) == {1}, posts
    async with database.sessionmaker() as s:
        rows = (await s.scalars(select(models.Delivery))).all()
    assert {r.message_id for r in rows} == {fake_discord.channel_messages(r.channel_id)[0].id for r in rows}


@pytest.mark.parametrize("action", ["post", "summary"])
async def test_stale_sending_delivery_already_posted_is_found_not_posted_again(
    fake_discord: FakeDiscord, database: Database, action: str
) -> None:
    # An alert, or an import's "N more events imported" message (a ``summary`` delivery).
    guild = fake_discord.add_guild("Crashed", channels=["posted", "lost"])
    grant_bot(guild)
    posted_channel, lost_channel = guild.channels
    await load_sample(database)
    services = Services.build(database.sessionmaker, Policy.of([]))
    for cid in (posted_channel, lost_channel):
        await services.subscriptions.subscribe(channel_manager(guild.id).in_channel(cid), cid, Filters())
    event = await services.curation.create(curator(guild.id), event_input())
    async with database.sessionmaker() as s:
        rows = {r.channel_id: r for r in (await s.scalars(select(models.Delivery))).all()}
    # Ten minutes ago a worker claimed both; one POST reached Discord, then the worker died.
    posted = rows[posted_channel]
    nonce = nonce_for(posted.id, posted.revision)
    if action == "summary":
        payload = summary_payload(7, delivery_ref(nonce))
    else:
        payload = alert_payload(event, marker=None, ref=delivery_ref(nonce))
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bot {fake_discord.token}"}) as http,
        http.post(
            f"{fake_discord.api_base}/channels/{posted_channel}/messages",
            json={**payload, "nonce": nonce, "enforce_nonce": True},
        ) as resp,
    ):
        assert resp.status == 200
        first_id = int((await resp.json())["id"])
    long_ago = models.utcnow() - dt.timedelta(minutes=10)
    async with database.sessionmaker() as s, s.begin():
        await s.execute(
            update(models.Delivery).values(
                action=action,
                summary_count=7 if action == "summary" else None,
                state="sending",
                attempts=1,
                created_at=long_ago,
                first_attempt_at=long_ago,
                claimed_by="dead-worker",
                claimed_until=long_ago + dt.timedelta(seconds=8),
            )
        )
    fake_discord.nonce_window = 0.0  # Discord has forgotten the nonce: only the lookup can help
    config = DispatcherConfig(**{**FAST.__dict__, "nonce_window": 60.0})
    async with running_bot(fake_discord, database, extensions=(), config=config):
        await wait_deliveries(database, models.Delivery.state == "sent", 2)
    [kept] = fake_discord.channel_messages(posted_channel)
    assert kept.id == first_id
    [resent] = fake_discord.channel_messages(lost_channel)
    assert resent.embeds[0]["footer"]["text"].endswith(f"ref {nonce_for(rows[lost_channel].id, 1)}")
    if action == "summary":
        assert resent.content.startswith("**7 more events imported**")
    assert posts_by_nonce(fake_discord)[nonce] == 1  # only the one from before the crash
    async with database.sessionmaker() as s:
        after = {r.channel_id: r for r in (await s.scalars(select(models.Delivery))).all()}
    assert after[posted_channel].message_id == first_id
    assert after[lost_channel].message_id == resent.id


def reply_text(result: InteractionResult) -> str:
    """What a reader sees of a reply: its content and every embed's text."""
    parts = [result.content]
    for embed in result.embeds:
        parts += [str(embed.get("title", "")), str(embed.get("description", ""))]
        parts += [f"{f.get('name', '')} {f.get('value', '')}" for f in embed.get("fields", [])]
    return "\n".join(parts)


async def scraped(services: Services) -> dict[str, float]:
    """``/metrics`` as a reader of it sees: sample name (with its outcome label) → value."""
    async with TestClient(TestServer(create_app(services))) as client:
        text = await (await client.get("/metrics")).text()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(("peninsula_outbox_failed ", "peninsula_deliveries_total{")):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


async def test_retries_run_for_their_time_then_fail_visibly_and_resume(
    fake_discord: FakeDiscord, database: Database
) -> None:
    staff = Staff(fake_discord, channels=1)
    channel = staff.channel(0)
    await load_sample(database)
    give_up = 2.5
    # Quick retries; the channel's pacing window shortened too, or its 5 per 5 s would be the pace
    # (the fake answers the injected 503s before counting the channel's messages).
    fast_retries = {"backoff_base": 0.01, "backoff_max": 0.05, "claim_interval": 0.05, "channel_window": 0.2}
    config = DispatcherConfig(**{**FAST.__dict__, **fast_retries, "give_up_after": give_up})
    fake_discord.fail_next(100_000, 503, method="POST", path=rf"/channels/{channel.id}/messages$")
    async with running_bot(fake_discord, database, extensions=("cogs.alerts",), config=config) as bot:
        manager = staff.channel_manager
        await fake_discord.invoke("alerts", {"channel": channel}, subcommand="subscribe", user=manager)
        before = await scraped(bot.services)
        published = time.monotonic()
        await bot.services.curation.create(curator(staff.guild.id), event_input())
        await wait_deliveries(database, models.Delivery.state == "failed", 1, within=20)
        failed_after = time.monotonic() - published
        async with database.sessionmaker() as s:
            row = await s.scalar(select(models.Delivery))
        assert row is not None and row.first_attempt_at is not None
        assert row.attempts > 6  # not the old fixed six
        assert "503" in (row.last_error or "") and "gave up" in (row.last_error or "")
        listed = reply_text(await fake_discord.invoke("alerts", subcommand="list", user=manager))
        assert "Failed alerts: 1" in listed
        metrics = await scraped(bot.services)
        assert metrics["peninsula_outbox_failed"] == 1.0
        failed_label = 'peninsula_deliveries_total{outcome="failed"}'
        assert metrics[failed_label] - before.get(failed_label, 0.0) == 1.0
        fake_discord.clear_faults()
        resumed = await fake_discord.invoke("alerts", {"channel": channel}, subcommand="resume", user=manager)
        assert "1 failed alert will be sent again" in resumed.content
        await wait_deliveries(database, models.Delivery.state == "sent", 1)
        listed = reply_text(await fake_discord.invoke("alerts", subcommand="list", user=manager))
        assert "Failed alerts" not in listed
        assert (await scraped(bot.services))["peninsula_outbox_failed"] == 0.0
    [alert] = fake_discord.channel_messages(channel.id)
    assert alert.embeds[0]["title"] == event_input().title
    async with database.sessionmaker() as s:
        audited = await s.scalar(
            select(models.AuditLog.details).where(models.AuditLog.action == "subscription.resume")
        )
    [sub] = await bot.services.subscriptions.list(channel_manager(staff.guild.id))
    assert audited == {"subscription": sub.id, "retried": 1}
    # The retries ran for the configured time (not a count of attempts), and not much longer.
    assert give_up <= failed_after < give_up + 5
