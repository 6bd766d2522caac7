"""``/alerts why`` end to end on SQLite and PostgreSQL: for each reason a channel did or did not
get an event's alert, the reply a channel manager reads; another server's local event never
shown; ``/alerts log`` turning its pages; a subscribe where the bot lacks what its alerts need refused
naming every missing permission at once, writing nothing (the one table, ``bot/services/permissions.py``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import models
from bot.discord.client import PeninsulaBot
from bot.i18n import format_datetime
from bot.services.access import Caller
from bot.services.errors import NotFound, PermissionDenied
from bot.services.permissions import BotLacksPermissions
from bot.services.subscriptions import Filters, SubscriptionView
from bot.services.targets import Placement
from testing.clock import ManualClock
from testing.fake_discord import FakeDiscord, InteractionResult
from tests.conftest import Database

from .bot_process import Staff, channel_manager, load_sample, running_bot
from .test_alerts_multi import sub_id, subscribe
from .test_digests import START as DIGEST_START
from .test_digests import digest_subscription, pass_boundary
from .test_dispatcher import curator, event_input, wait_deliveries


@pytest.fixture
async def staff(fake_discord: FakeDiscord) -> Staff:
    return Staff(fake_discord)


@pytest.fixture
async def bot(fake_discord: FakeDiscord, staff: Staff, database: Database) -> AsyncIterator[PeninsulaBot]:
    await load_sample(database)
    async with running_bot(fake_discord, database) as client:
        yield client


def text_of(reply: InteractionResult) -> str:
    """Everything the reader sees of the reply: content, and each embed's words in order."""
    parts = [reply.content]
    for embed in reply.embeds:
        parts += [embed.get("title", ""), embed.get("description", "")]
        for f in embed.get("fields", []):
            parts += [f["name"], f["value"]]
        parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(p for p in parts if p)


async def why(fake: FakeDiscord, event_id: int, channel: Any, **kw: Any) -> InteractionResult:
    reply = await fake.invoke("alerts", {"event": str(event_id), "channel": channel}, subcommand="why", **kw)
    assert reply.ephemeral
    return reply


async def subscription(bot: PeninsulaBot, staff: Staff, ident: int) -> SubscriptionView:
    subs = await bot.services.subscriptions.list(channel_manager(staff.guild.id))
    return next(s for s in subs if s.id == ident)


def when(moment: Any) -> str:
    return format_datetime(moment, "en", "UTC")


async def test_why_a_channel_got_the_alert_links_the_message(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    channel = staff.channel(0)
    ident = sub_id(await subscribe(fake_discord, {"channel": channel}))
    event = await bot.services.curation.create(curator(staff.guild.id), event_input("A launch"))
    await wait_deliveries(database, models.Delivery.state == "sent", 1)
    [alert] = fake_discord.channel_messages(channel.id)
    text = text_of(await why(fake_discord, event.id, channel))
    link = f"https://discord.com/channels/{staff.guild.id}/{channel.id}/{alert.id}"
    assert text.startswith(f"Event #{event.id}: A launch\n<#{channel.id}> got this alert: {link}\n")
    assert "**sent** · attempts: 1 · queued " in text
    assert f"Message: {link}" in text
    assert f"Subscription #{ident}\n- matches: this subscription carried the channel's alert" in text


async def excluded(
    fake: FakeDiscord, bot: PeninsulaBot, staff: Staff, options: dict[str, Any], **event: Any
) -> tuple[int, str]:
    """Subscribe channel 0 with ``options``, publish an event (``event`` changed from the sample
    launch), and read ``/alerts why``: the subscription's number and the reply."""
    channel = staff.channel(0)
    ident = sub_id(await subscribe(fake, {"channel": channel, **options}))
    made = await bot.services.curation.create(curator(staff.guild.id), event_input("A launch", **event))
    text = text_of(await why(fake, made.id, channel))
    assert f"<#{channel.id}> did not get this alert." in text
    return ident, text


async def test_why_not_names_the_kind_filter(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    ident, text = await excluded(fake_discord, bot, staff, {"kinds": "nuclear_test, statement"})
    assert (
        f"Subscription #{ident}\n"
        "- kind missile_launch is not among this subscription's kinds (nuclear_test, statement)"
    ) in text


async def test_why_not_names_the_program_filter(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    ident, text = await excluded(fake_discord, bot, staff, {"programs": "space-launch"})
    assert (
        f"Subscription #{ident}\n- the programs filter excludes it: the event has icbm, this subscription "
        "wants one of space-launch"
    ) in text


async def test_why_not_names_the_party_filter_when_the_event_has_none(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    ident, text = await excluded(fake_discord, bot, staff, {"parties": "usa"}, actors=[])
    assert (
        f"Subscription #{ident}\n- the parties filter excludes it: the event has none, this subscription "
        "wants one of united-states"
    ) in text


async def test_why_not_names_the_minimum_significance(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    ident, text = await excluded(fake_discord, bot, staff, {"min_significance": 4}, significance=2)
    assert f"Subscription #{ident}\n- significance 2 is below this subscription's minimum 4" in text


async def test_why_not_says_paused_since_when(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    channel = staff.channel(0)
    ident = sub_id(await subscribe(fake_discord, {"channel": channel}))
    await fake_discord.invoke("alerts", {"channel": channel}, subcommand="pause")
    event = await bot.services.curation.create(curator(staff.guild.id), event_input("A launch"))
    sub = await subscription(bot, staff, ident)
    assert sub.state_since is not None
    text = text_of(await why(fake_discord, event.id, channel))
    assert f"<#{channel.id}> did not get this alert." in text
    assert f"Subscription #{ident}\n- paused since {when(sub.state_since)}" in text


async def test_why_not_says_disabled_since_when_and_why(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    channel = staff.channel(0)
    ident = sub_id(await subscribe(fake_discord, {"channel": channel}))
    fake_discord.fail_channel(channel.id, 403)
    first = await bot.services.curation.create(curator(staff.guild.id), event_input("A launch"))
    await wait_deliveries(database, models.Delivery.state == "failed", 1)
    second = await bot.services.curation.create(curator(staff.guild.id), event_input("A second launch"))
    sub = await subscription(bot, staff, ident)
    assert sub.state == "disabled" and sub.state_since is not None
    reason = (
        "Discord answered 403 Missing Permissions (code 50013): cannot post in this channel (alerts need "
        "View Channel, Send Messages, Embed Links)"
    )
    assert sub.disabled_reason == reason
    # The first event's alert was tried, and failed with the reason.
    text = text_of(await why(fake_discord, first.id, channel))
    assert (
        f"<#{channel.id}> did not get this alert" not in text and "The alert for" in text and "failed" in text
    )
    assert "**failed** · attempts: 1 · queued " in text
    assert f"Last error: {reason}" in text
    # The second was never queued: the subscription was disabled.
    text = text_of(await why(fake_discord, second.id, channel))
    assert f"Subscription #{ident}\n- disabled since {when(sub.state_since)}: {reason}" in text


async def test_why_not_says_subscribed_after_the_event_was_published(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    channel = staff.channel(0)
    event = await bot.services.curation.create(curator(staff.guild.id), event_input("A launch"))
    ident = sub_id(await subscribe(fake_discord, {"channel": channel}))
    sub = await subscription(bot, staff, ident)
    async with bot.services.sessionmaker() as s:
        published = (await s.get(models.Event, event.id)).created_at  # type: ignore[union-attr]
    text = text_of(await why(fake_discord, event.id, channel))
    assert (
        f"Subscription #{ident}\n- made on {when(sub.created_at)}, after the event was published "
        f"({when(published)}): a subscription gets the events published after it"
    ) in text


async def test_why_not_says_the_event_is_retracted(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    channel = staff.channel(0)
    caller = curator(staff.guild.id)
    event = await bot.services.curation.create(caller, event_input("A launch"), alert=False)
    await bot.services.curation.retract(caller, event.id, "Duplicate report")
    await subscribe(fake_discord, {"channel": channel})
    text = text_of(await why(fake_discord, event.id, channel))
    assert (
        f"Event #{event.id} is retracted: a retracted event is not alerted (alerts posted before are "
        "marked retracted)."
    ) in text


async def test_why_not_says_the_channel_has_no_subscription(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    channel, other = staff.channel(0), staff.channel(1)
    await subscribe(fake_discord, {"channel": other})
    event = await bot.services.curation.create(curator(staff.guild.id), event_input("A launch"))
    text = text_of(await why(fake_discord, event.id, channel))
    assert (
        f"<#{channel.id}> did not get this alert.\n<#{channel.id}> has no subscription, so it gets no "
        "alerts. Add one with `/alerts subscribe`."
    ) in text


async def test_why_a_pending_alert_shows_its_attempts_next_attempt_and_last_error(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    channel = staff.channel(0)
    await subscribe(fake_discord, {"channel": channel})
    fake_discord.fail_next(1000, 503, method="POST", path=rf"/channels/{channel.id}/messages$")
    event = await bot.services.curation.create(curator(staff.guild.id), event_input("A launch"))
    D = models.Delivery
    await wait_deliveries(database, (D.state == "sending") & (D.attempts >= 2), 1)
    text = text_of(await why(fake_discord, event.id, channel))
    fake_discord.clear_faults()
    assert f"The alert for <#{channel.id}> is queued and not sent yet." in text
    assert re.search(r"\*\*pending\*\* · attempts: \d+ · queued ", text), text
    assert "Next attempt: " in text
    assert "Last error: 503" in text


async def test_why_names_the_subscription_that_carried_the_one_alert(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    channel = staff.channel(0)
    first = sub_id(await subscribe(fake_discord, {"channel": channel, "kinds": "missile_launch"}))
    second = sub_id(await subscribe(fake_discord, {"channel": channel, "programs": "icbm"}))
    event = await bot.services.curation.create(curator(staff.guild.id), event_input("A launch"))
    await wait_deliveries(database, models.Delivery.state == "sent", 1)
    text = text_of(await why(fake_discord, event.id, channel))
    assert f"Subscription #{first}\n- matches: this subscription carried the channel's alert" in text
    assert (
        f"Subscription #{second}\n- matches: the channel's one alert came through subscription #{first}"
        in text
    )


async def test_why_never_shows_another_servers_local_event(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    other = Staff(fake_discord, "Elsewhere")
    channel = staff.channel(0)
    await fake_discord.invoke("alerts", {"channel": channel}, subcommand="subscribe", guild=staff.guild)
    local = await bot.services.curation.create(curator(other.guild.id), event_input("Their local launch"))
    async with bot.services.sessionmaker() as s:
        assert (await s.get(models.Event, local.id)).guild_id == other.guild.id  # type: ignore[union-attr]
    reply = await why(fake_discord, local.id, channel, guild=staff.guild)
    assert text_of(reply) == f"No event matches “#{local.id}”."
    assert "Their local launch" not in text_of(reply)
    # A member without Manage Channels is refused before anything is read.
    refused = await why(
        fake_discord, local.id, channel, user=staff.reader, guild=staff.guild, bypass_default_permissions=True
    )
    assert "Manage Channels" in text_of(refused)


async def test_log_pages_the_channels_deliveries_newest_first(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    channel = staff.channel(0)
    await subscribe(fake_discord, {"channel": channel})
    caller = curator(staff.guild.id)
    for i in range(11):
        await bot.services.curation.create(caller, event_input(f"Launch number {i}"))
    await wait_deliveries(database, models.Delivery.state == "sent", 11, within=30)
    async with bot.services.sessionmaker() as s:
        ids = list(await s.scalars(select(models.Event.id).where(models.Event.title.like("Launch number %"))))
    reply = await fake_discord.invoke("alerts", {"channel": channel}, subcommand="log")
    assert reply.ephemeral
    text = text_of(reply)
    assert text.startswith(f"Delivery log\nAlerts for <#{channel.id}>, newest first.\n")
    titles = re.findall(r"Event #\d+: Launch number (\d+)", text)
    assert titles == ["10", "9", "8", "7", "6"]
    assert text.endswith("Page 1/3")
    [prev, nxt] = reply.components[0]["components"]
    assert prev["disabled"] and not nxt.get("disabled", False)
    page2 = await fake_discord.press(reply, nxt["custom_id"])
    assert re.findall(r"Event #\d+: Launch number (\d+)", text_of(page2)) == ["5", "4", "3", "2", "1"]
    assert text_of(page2).endswith("Page 2/3")
    [_, nxt] = page2.components[0]["components"]
    page3 = await fake_discord.press(page2, nxt["custom_id"])
    assert re.findall(r"Event #\d+: Launch number (\d+)", text_of(page3)) == ["0"]
    assert text_of(page3).endswith("Page 3/3")
    assert f"Event #{min(ids)}: Launch number 0\n**sent** · attempts: 1 · queued " in text_of(page3)
    # Only the invoker turns the pages.
    other = await fake_discord.press(
        page3, page3.components[0]["components"][0]["custom_id"], user=staff.admin
    )
    assert other.ephemeral and "Only the person who ran this command" in other.content


async def test_the_service_checks_again_and_scopes_to_the_callers_guild(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    channel = staff.channel(0)
    event = await bot.services.curation.create(curator(staff.guild.id), event_input("A launch"))
    deliveries = bot.services.deliveries
    reader = Caller(9, staff.guild.id).in_channel(channel.id)
    with pytest.raises(PermissionDenied, match="Manage Channels"):
        await deliveries.why(reader, event.id, channel.id)
    with pytest.raises(PermissionDenied, match="Manage Channels"):
        await deliveries.log(reader, channel.id)
    blind = channel_manager(staff.guild.id)  # cannot see the channel asked about
    with pytest.raises(PermissionDenied, match="View Channel"):
        await deliveries.why(blind, event.id, channel.id)
    with pytest.raises(PermissionDenied, match="View Channel"):
        await deliveries.log(blind, channel.id)
    other = Staff(fake_discord, "Elsewhere")
    local = await bot.services.curation.create(curator(other.guild.id), event_input("Their launch"))
    with pytest.raises(NotFound):
        await deliveries.why(channel_manager(staff.guild.id).in_channel(channel.id), local.id, channel.id)


async def test_why_agrees_with_delivery_for_every_channel(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    filters: list[dict[str, Any]] = [
        {},
        {"kinds": "statement"},
        {"programs": "icbm"},
        {"min_significance": 5},
        {"parties": "dprk"},
    ]
    channels = [staff.guild.channel("general"), *(staff.channel(i) for i in range(4))]
    for channel, options in zip(channels, filters, strict=True):
        await fake_discord.invoke("alerts", {"channel": channel, **options}, subcommand="subscribe")
    event = await bot.services.curation.create(curator(staff.guild.id), event_input("A launch"))
    await wait_deliveries(database, models.Delivery.state == "sent", 3)
    for channel in channels:
        got = bool(fake_discord.channel_messages(channel.id))
        text = text_of(await why(fake_discord, event.id, channel))
        assert (f"<#{channel.id}> got this alert: " in text) is got, text
        assert (f"<#{channel.id}> did not get this alert." in text) is not got, text


async def test_why_and_log_follow_an_event_into_a_digest(
    fake_discord: FakeDiscord, staff: Staff, database: Database
) -> None:
    clock = ManualClock(DIGEST_START)
    await load_sample(database)
    channel = staff.channel(0)
    async with running_bot(fake_discord, database, clock=clock) as client:
        ident = sub_id(await subscribe(fake_discord, {"channel": channel, "mode": "digest", "at": "08:00"}))
        event = await client.services.curation.create(curator(staff.guild.id), event_input("A launch"))
        sub = await digest_subscription(database)
        text = text_of(await why(fake_discord, event.id, channel))
        assert (
            f"Subscription #{ident}\n- matches: collected for the digest now open, posted at "
            f"{when(sub.digest_next_at)}"
        ) in text
        start = sub.digest_next_at - dt.timedelta(days=1)  # type: ignore[operator]
        await pass_boundary(client, clock, database)
        D = models.Delivery
        await wait_deliveries(database, (D.action == "digest") & (D.state == "sent"), 1)
        [digest] = fake_discord.channel_messages(channel.id)
        link = f"https://discord.com/channels/{staff.guild.id}/{channel.id}/{digest.id}"
        text = text_of(await why(fake_discord, event.id, channel))
        assert (
            f"Subscription #{ident}\n- matches: in the digest of the period from {when(start)}: {link}"
            in text
        )
        log = text_of(await fake_discord.invoke("alerts", {"channel": channel}, subcommand="log"))
        assert f"Digest from {when(start)} to {when(sub.digest_next_at)}\n**digest** · attempts: 1" in log
        assert f"Message: {link}" in log


# -- permissions first --------------------------------------------------------------------------

VIEW, SEND, EMBED = 1 << 10, 1 << 11, 1 << 14


async def written(database: Database) -> tuple[int, int]:
    """How many subscriptions and subscription audit rows there are."""
    async with database.sessionmaker() as s:
        subs = await s.scalar(select(func.count()).select_from(models.Subscription))
        audit = await s.scalar(select(func.count()).where(models.AuditLog.action.like("subscription.%")))
    return int(subs or 0), int(audit or 0)


async def test_subscribe_names_every_missing_permission_and_writes_nothing(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    channel = staff.channel(0)
    role = next(r for r in staff.guild.roles.values() if r.name == "Peninsula Brief")
    await fake_discord.set_permissions(channel, role, deny=SEND | EMBED)
    for options in ({}, {"kinds": "missile_launch"}, {"mode": "digest"}):
        refused = await fake_discord.invoke("alerts", {"channel": channel, **options}, subcommand="subscribe")
        assert refused.ephemeral
        assert refused.content == (
            f"I cannot post alerts in <#{channel.id}>: I need the Send Messages, Embed Links permissions "
            "there. Nothing was changed."
        ), options
    assert await written(database) == (0, 0)
    # Without sight of the channel too, each of the three is named.
    await fake_discord.set_permissions(channel, role, deny=VIEW | SEND | EMBED)
    refused = await fake_discord.invoke("alerts", {"channel": channel}, subcommand="subscribe")
    assert refused.content == (
        f"I cannot post alerts in <#{channel.id}>: I need the View Channel, Send Messages, Embed Links "
        "permissions there. Nothing was changed."
    )
    assert await written(database) == (0, 0)
    # Given back what it lacked, the same subscribe goes through.
    await fake_discord.set_permissions(channel, role)
    made = await fake_discord.invoke("alerts", {"channel": channel}, subcommand="subscribe")
    assert made.content.startswith(f"<#{channel.id}> will receive alerts for every event (subscription #")
    assert await written(database) == (1, 1)


async def test_the_service_checks_the_table_for_the_delivery_form(
    staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    channel = staff.channel(0)
    caller = channel_manager(staff.guild.id).in_channel(channel.id)
    subscriptions = bot.services.subscriptions
    message_only = frozenset({"view_channel", "send_messages", "embed_links"})
    with pytest.raises(BotLacksPermissions) as refused:  # a discussion thread on each alert
        await subscriptions.subscribe(
            caller, channel.id, Filters(), placement=Placement(thread=True), bot_permissions=message_only
        )
    assert refused.value.labels == ["Create Public Threads", "Send Messages in Threads"]
    with pytest.raises(BotLacksPermissions, match="I need the Embed Links permission there"):
        await subscriptions.subscribe(
            caller, channel.id, Filters(), bot_permissions={"view_channel", "send_messages"}
        )
    assert await written(database) == (0, 0)
    # An administrator's bot lacks nothing; all three granted lack nothing either.
    await subscriptions.subscribe(caller, channel.id, Filters(), bot_permissions={"administrator"})
    await subscriptions.subscribe(
        caller, channel.id, Filters(kinds=["statement"]), bot_permissions=message_only
    )
    assert await written(database) == (2, 2)
