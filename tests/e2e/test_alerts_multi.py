"""Several subscriptions per channel, end to end on SQLite and PostgreSQL: each with its own filters
and mention, one alert per channel and event, duplicates refused, a subscription picked by number."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import models
from bot.discord.client import PeninsulaBot
from bot.services.errors import NotFound
from bot.services.subscriptions import SeveralSubscriptions
from testing.fake_discord import FakeDiscord
from tests.conftest import Database

from .bot_process import Staff, channel_manager, load_sample, running_bot
from .test_dispatcher import curator, event_input, wait_deliveries


@pytest.fixture
async def staff(fake_discord: FakeDiscord) -> Staff:
    return Staff(fake_discord)


@pytest.fixture
async def bot(fake_discord: FakeDiscord, staff: Staff, database: Database) -> AsyncIterator[PeninsulaBot]:
    await load_sample(database)
    async with running_bot(fake_discord, database) as client:
        yield client


async def subscribe(fake: FakeDiscord, options: dict[str, object]) -> str:
    reply = await fake.invoke("alerts", options, subcommand="subscribe")
    assert reply.ephemeral
    return reply.content or ""


def sub_id(reply: str) -> int:
    """The number a subscribe reply gives the new subscription ("… (subscription #3).")."""
    return int(reply.rsplit("(subscription #", 1)[1].split(")")[0])


async def test_two_subscriptions_in_one_channel_each_deliver_what_matches_once(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    channel = staff.channel(0)
    launches, tests = staff.guild.add_role("Launch watch"), staff.guild.add_role("Test watch")
    first = await subscribe(
        fake_discord, {"channel": channel, "kinds": "missile_launch", "mention": launches}
    )
    second = await subscribe(fake_discord, {"channel": channel, "kinds": "nuclear_test", "mention": tests})
    assert first.startswith(f"<#{channel.id}> will receive alerts for kinds: missile_launch (subscription #")
    assert second.startswith(f"<#{channel.id}> will receive alerts for kinds: nuclear_test (subscription #")
    assert sub_id(first) != sub_id(second)
    caller = curator(staff.guild.id)
    await bot.services.curation.create(caller, event_input("A launch"))
    await bot.services.curation.create(caller, event_input("A test", kind="nuclear_test"))
    await bot.services.curation.create(caller, event_input("A statement", kind="statement"))
    await wait_deliveries(database, models.Delivery.state == "sent", 2)
    messages = fake_discord.channel_messages(channel.id)
    assert sorted(m.content for m in messages) == [
        f"<@&{launches.id}> **New event:** A launch",
        f"<@&{tests.id}> **New event:** A test",
    ]
    by_title = {m.content.rsplit(" ", 1)[-1]: m for m in messages}
    assert by_title["launch"].allowed_mentions == {"parse": [], "roles": [str(launches.id)]}
    assert by_title["test"].allowed_mentions == {"parse": [], "roles": [str(tests.id)]}
    listing = await fake_discord.invoke("alerts", subcommand="list")
    text = "\n".join(f["value"] for f in listing.embeds[0]["fields"])
    assert f"<#{channel.id}> · subscription #{sub_id(first)}\n**Active** · kinds: missile_launch" in text
    assert f"<#{channel.id}> · subscription #{sub_id(second)}\n**Active** · kinds: nuclear_test" in text
    assert f"Mentions <@&{launches.id}>" in text and f"Mentions <@&{tests.id}>" in text


async def test_an_event_both_match_is_one_alert_mentioning_both_roles(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    channel, other = staff.channel(0), staff.channel(1)
    launches, icbm = staff.guild.add_role("Launch watch"), staff.guild.add_role("ICBM watch")
    await subscribe(fake_discord, {"channel": channel, "kinds": "missile_launch", "mention": launches})
    await subscribe(fake_discord, {"channel": channel, "programs": "icbm", "mention": icbm})
    await subscribe(fake_discord, {"channel": channel, "min_significance": 3})  # matches, no role
    await subscribe(fake_discord, {"channel": other, "programs": "icbm"})
    event = await bot.services.curation.create(curator(staff.guild.id), event_input("An ICBM launch"))
    await wait_deliveries(database, models.Delivery.state == "sent", 2)
    [alert] = fake_discord.channel_messages(channel.id)
    assert alert.content == f"<@&{launches.id}> <@&{icbm.id}> **New event:** An ICBM launch"
    assert alert.allowed_mentions == {"parse": [], "roles": [str(launches.id), str(icbm.id)]}
    [elsewhere] = fake_discord.channel_messages(other.id)
    assert elsewhere.content == "**New event:** An ICBM launch"
    # An edit reaches the one alert, still naming both roles (and pinging nobody anew).
    await bot.services.curation.edit(curator(staff.guild.id), event.id, event_input("An ICBM launch, lofted"))
    await wait_deliveries(database, models.Delivery.state == "sent", 4)
    [edited] = fake_discord.channel_messages(channel.id)
    assert edited.content == f"<@&{launches.id}> <@&{icbm.id}> **Updated:** An ICBM launch, lofted"


async def test_identical_subscription_is_refused_naming_the_existing_one(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    channel = staff.channel(0)
    role = staff.guild.add_role("Watchers")
    made = await subscribe(
        fake_discord, {"channel": channel, "programs": "icbm, space-launch", "mention": role}
    )
    again = await subscribe(
        fake_discord, {"channel": channel, "programs": "space-launch, icbm", "mention": role}
    )
    assert again == (
        f"<#{channel.id}> already has subscription #{sub_id(made)} with these filters and this mention "
        "(programs: icbm, space-launch). Nothing was added."
    )
    # The same filters with another mention, or none, are a subscription of their own.
    other = await subscribe(fake_discord, {"channel": channel, "programs": "icbm, space-launch"})
    assert sub_id(other) != sub_id(made)
    subs = await bot.services.subscriptions.list(channel_manager(staff.guild.id))
    assert [s.id for s in subs] == [sub_id(made), sub_id(other)]


async def test_commands_pick_one_subscription_of_a_channel(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, database: Database
) -> None:
    channel = staff.channel(0)
    missiles = sub_id(await subscribe(fake_discord, {"channel": channel, "kinds": "missile_launch"}))
    tests = sub_id(await subscribe(fake_discord, {"channel": channel, "kinds": "nuclear_test"}))
    for command in ("pause", "resume", "unsubscribe", "test"):
        asked = await fake_discord.invoke("alerts", {"channel": channel}, subcommand=command)
        assert asked.ephemeral
        assert asked.content == (
            f"<#{channel.id}> has 2 subscriptions. Run the command again with the `subscription` option "
            f"set to one of them:\n- #{missiles} · <#{channel.id}> · kinds: missile_launch\n"
            f"- #{tests} · <#{channel.id}> · kinds: nuclear_test"
        ), command
    assert fake_discord.channel_messages(channel.id) == []  # no sample posted while undecided
    # Autocomplete offers this server's subscriptions, of the channel typed, by number and filters.
    offered = await fake_discord.autocomplete(
        "alerts", "subscription", "", {"channel": channel}, subcommand="pause"
    )
    assert [(c["name"], c["value"]) for c in offered] == [
        (f"#{missiles} · #{channel.name} · kinds: missile_launch", str(missiles)),
        (f"#{tests} · #{channel.name} · kinds: nuclear_test", str(tests)),
    ]
    paused = await fake_discord.invoke(
        "alerts", {"channel": channel, "subscription": str(missiles)}, subcommand="pause"
    )
    assert paused.content == f"Alerts in <#{channel.id}> are paused (subscription #{missiles})."
    await bot.services.curation.create(curator(staff.guild.id), event_input("A launch"))
    await bot.services.curation.create(curator(staff.guild.id), event_input("A test", kind="nuclear_test"))
    await wait_deliveries(database, models.Delivery.state == "sent", 1)
    assert [m.content for m in fake_discord.channel_messages(channel.id)] == ["**New event:** A test"]
    gone = await fake_discord.invoke(
        "alerts", {"channel": channel, "subscription": f"#{tests}"}, subcommand="unsubscribe"
    )
    assert gone.content == (
        f"Removed subscription #{tests}; <#{channel.id}> keeps 1 other subscription: #{missiles}."
    )
    [left] = await bot.services.subscriptions.list(channel_manager(staff.guild.id))
    assert (left.id, left.state, left.kinds) == (missiles, "paused", ("missile_launch",))
    # With one left, the channel alone names it again.
    resumed = await fake_discord.invoke("alerts", {"channel": channel}, subcommand="resume")
    assert resumed.content == f"Alerts in <#{channel.id}> are active again (subscription #{missiles})."
    last = await fake_discord.invoke("alerts", {"channel": channel}, subcommand="unsubscribe")
    assert last.content == f"<#{channel.id}> will no longer receive alerts."


async def test_a_subscription_of_another_channel_or_server_is_not_picked(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    here, there = staff.channel(0), staff.channel(1)
    mine = sub_id(await subscribe(fake_discord, {"channel": here}))
    other_guild = staff.guild.id + 1  # another server's subscription
    theirs = await bot.services.subscriptions.subscribe(channel_manager(other_guild).in_channel(99), 99)
    wrong_channel = await fake_discord.invoke(
        "alerts", {"channel": there, "subscription": str(mine)}, subcommand="pause"
    )
    assert wrong_channel.ephemeral
    assert f"subscription: #{mine} is in <#{here.id}>, not <#{there.id}>" in wrong_channel.content
    foreign = await fake_discord.invoke(
        "alerts", {"channel": here, "subscription": str(theirs.id)}, subcommand="unsubscribe"
    )
    assert foreign.content == f"No subscription matches “#{theirs.id}”."
    offered = await fake_discord.autocomplete("alerts", "subscription", "", subcommand="unsubscribe")
    assert [c["value"] for c in offered] == [str(mine)]
    nobody = await fake_discord.autocomplete(
        "alerts", "subscription", "", subcommand="unsubscribe", user=staff.reader
    )
    assert nobody == []
    service = bot.services.subscriptions
    with pytest.raises(NotFound):
        await service.get(channel_manager(staff.guild.id).in_channel(here.id), here.id, theirs.id)
    await subscribe(fake_discord, {"channel": here, "kinds": "statement"})
    with pytest.raises(SeveralSubscriptions):
        await service.get(channel_manager(staff.guild.id).in_channel(here.id), here.id)
    assert (await service.get(channel_manager(staff.guild.id).in_channel(here.id), here.id, mine)).id == mine
