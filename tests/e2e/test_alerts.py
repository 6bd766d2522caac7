"""``/alerts`` and ``/settings`` end to end through real discord.py and the fake Discord."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot import models
from bot.discord.client import PeninsulaBot
from bot.services.access import Caller
from bot.services.errors import PermissionDenied, ValidationFailed
from bot.services.subscriptions import Filters
from testing.fake_discord import FakeDiscord, FakeMember
from tests.conftest import Database

from .bot_process import MANAGE_CHANNELS, MANAGE_GUILD, Staff, channel_manager, load_sample, running_bot
from .test_dispatcher import curator, event_input, wait_deliveries


def caller_of(staff: Staff, member: FakeMember) -> Caller:
    """The service-level caller for ``member`` of the staff guild, with its guild permissions."""
    names = {"manage_guild": MANAGE_GUILD, "manage_channels": MANAGE_CHANNELS}
    granted = frozenset(n for n, bit in names.items() if member.permissions & bit)
    return Caller(member.user.id, staff.guild.id, granted)


@pytest.fixture
async def staff(fake_discord: FakeDiscord) -> Staff:
    return Staff(fake_discord)


@pytest.fixture
async def bot(fake_discord: FakeDiscord, staff: Staff, sqlite_db: Database) -> AsyncIterator[PeninsulaBot]:
    await load_sample(sqlite_db)
    async with running_bot(fake_discord, sqlite_db) as client:
        yield client


async def test_groups_declare_default_permissions(fake_discord: FakeDiscord, bot: PeninsulaBot) -> None:
    defs = {c["name"]: c for c in fake_discord.global_commands}
    assert defs["curate"]["default_member_permissions"] == str(1 << 5)
    assert defs["alerts"]["default_member_permissions"] == str(1 << 4)
    assert defs["settings"]["default_member_permissions"] == str(1 << 5)
    for name in ("curate", "alerts", "settings"):
        assert defs[name].get("contexts") == [0] or defs[name].get("dm_permission") is False
    assert {o["name"] for o in defs["alerts"]["options"]} == {
        "subscribe",
        "unsubscribe",
        "list",
        "pause",
        "resume",
        "test",
        "follow",
        "why",
        "log",
    }
    assert {o["name"] for o in defs["settings"]["options"]} == {
        "curator-role",
        "locale",
        "timezone",
        "review-channel",
    }


async def test_permission_matrix_for_alerts_and_settings(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    channel = staff.channel(0)
    refused = await fake_discord.invoke(
        "alerts",
        {"channel": channel},
        subcommand="subscribe",
        user=staff.reader,
        bypass_default_permissions=True,
    )
    assert refused.ephemeral
    assert refused.content == "You need the Manage Channels permission to do this."
    refused = await fake_discord.invoke(
        "settings",
        subcommand="curator-role",
        user=staff.channel_manager,
        bypass_default_permissions=True,
    )
    assert refused.ephemeral
    assert refused.content == "You need the Manage Server permission to do this."
    with pytest.raises(PermissionDenied, match="Manage Server"):
        await bot.services.guild_settings.set_timezone(caller_of(staff, staff.channel_manager), "Asia/Seoul")
    assert await bot.services.subscriptions.list(channel_manager(staff.guild.id)) == []
    ok = await fake_discord.invoke(
        "alerts", {"channel": channel}, subcommand="subscribe", user=staff.channel_manager
    )
    assert ok.ephemeral
    assert f"<#{channel.id}> will receive alerts for every event" in ok.content
    ok = await fake_discord.invoke("settings", subcommand="curator-role", user=staff.admin)
    assert ok.content.startswith("Saved.")
    view = await bot.services.guild_settings.set_timezone(caller_of(staff, staff.admin), "asia/seoul")
    assert view.timezone == "Asia/Seoul"


async def test_subscribe_with_filters_mention_and_autocomplete(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    choices = await fake_discord.autocomplete(
        "alerts", "programs", "icbm, spa", {"channel": staff.channel(0)}, subcommand="subscribe"
    )
    assert choices[0]["value"] == "icbm, space-launch"
    kinds = await fake_discord.autocomplete("alerts", "kinds", "miss", subcommand="subscribe")
    assert kinds[0]["value"] == "missile_launch"
    role = staff.guild.add_role("DPRK watchers")
    result = await fake_discord.invoke(
        "alerts",
        {
            "channel": staff.channel(0),
            "kinds": "missile_launch",
            "programs": "icbm",
            "min_significance": 3,
            "mention": role,
        },
        subcommand="subscribe",
    )
    assert "kinds: missile_launch; programs: icbm; significance ≥ 3" in result.content
    await fake_discord.invoke(
        "alerts", {"channel": staff.channel(1), "kinds": "nuclear_test"}, subcommand="subscribe"
    )
    await bot.services.curation.create(curator(staff.guild.id), event_input())
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1)
    [alert] = fake_discord.channel_messages(staff.channel(0).id)
    assert alert.content.startswith(f"<@&{role.id}> ")
    assert alert.allowed_mentions == {"parse": [], "roles": [str(role.id)]}
    assert fake_discord.channel_messages(staff.channel(1).id) == []


async def test_subscribe_refusals_change_nothing(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    bad = await fake_discord.invoke(
        "alerts", {"channel": staff.channel(0), "programs": "icbm, nonsense"}, subcommand="subscribe"
    )
    assert bad.ephemeral
    assert "“nonsense” is not known" in bad.content
    everyone = await fake_discord.invoke(
        "alerts", {"channel": staff.channel(0), "mention": staff.guild.everyone}, subcommand="subscribe"
    )
    assert "@everyone cannot be the mention role" in everyone.content
    # A channel the bot cannot post in is refused up front, naming what is missing: in a server
    # joined later the bot has only @everyone's permissions, without Embed Links.
    joined = asyncio.Event()

    async def on_guild_join(guild: object) -> None:
        joined.set()

    bot.add_listener(on_guild_join)
    bare = fake_discord.add_guild("Bare")
    await asyncio.wait_for(joined.wait(), 5)
    hidden = bare.channel("general")
    refused = await fake_discord.invoke("alerts", {"channel": hidden}, subcommand="subscribe", guild=bare)
    assert refused.ephemeral
    assert refused.content == (
        f"I cannot post alerts in <#{hidden.id}>: I need the Embed Links permission there. "
        "Nothing was changed."
    )
    assert await bot.services.subscriptions.list(channel_manager(bare.id)) == []
    assert await bot.services.subscriptions.list(channel_manager(staff.guild.id)) == []


async def test_list_pause_resume_and_disabled_reason(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    a, b = staff.channel(0), staff.channel(1)
    for channel in (a, b):
        await fake_discord.invoke("alerts", {"channel": channel}, subcommand="subscribe")
    fake_discord.fail_channel(b.id, 403)
    paused = await fake_discord.invoke("alerts", {"channel": a}, subcommand="pause")
    assert "paused" in paused.content
    await bot.services.curation.create(curator(staff.guild.id), event_input())
    await wait_deliveries(sqlite_db, models.Delivery.state == "failed", 1)  # none for the paused one
    listing = await fake_discord.invoke("alerts", subcommand="list")
    assert listing.ephemeral
    [embed] = listing.embeds
    text = "\n".join(f["value"] for f in embed["fields"])
    assert f"<#{a.id}> · subscription #1\n**Paused** · every event" in text
    assert f"<#{b.id}> · subscription #2\n**Disabled** · every event" in text
    assert re.search(r"Paused since \d+ \w+ \d{4} \d\d:\d\d UTC", text)
    assert "Disabled because: Discord answered 403 Missing Permissions (code 50013)" in text
    assert fake_discord.channel_messages(a.id) == []
    resumed = await fake_discord.invoke("alerts", {"channel": a}, subcommand="resume")
    assert "active again" in resumed.content
    await bot.services.curation.create(curator(staff.guild.id), event_input("A later launch"))
    await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1)
    assert len(fake_discord.channel_messages(a.id)) == 1
    listing = await fake_discord.invoke("alerts", subcommand="list")
    assert re.search(
        r"Last alert: \d+ \w+ \d{4} \d\d:\d\d UTC \(<t:\d+:R>\)", listing.embeds[0]["fields"][0]["value"]
    )
    gone = await fake_discord.invoke("alerts", {"channel": b}, subcommand="unsubscribe")
    assert "no longer receive" in gone.content
    assert [s.channel_id for s in await bot.services.subscriptions.list(channel_manager(staff.guild.id))] == [
        a.id
    ]


async def test_test_posts_a_sample_alert(fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot) -> None:
    channel = staff.channel(2)
    result = await fake_discord.invoke("alerts", {"channel": channel}, subcommand="test")
    assert result.ephemeral
    assert result.content == f"Posted a sample alert in <#{channel.id}>."
    [sample] = fake_discord.channel_messages(channel.id)
    assert sample.embeds[0]["title"] == "Test alert from Peninsula Brief"
    assert sample.allowed_mentions == {"parse": []}
    assert "<@&" not in sample.content
    role = staff.guild.add_role("Sample watchers")
    await fake_discord.invoke("alerts", {"channel": channel, "mention": role}, subcommand="subscribe")
    pinged = await fake_discord.invoke("alerts", {"channel": channel}, subcommand="test")
    assert pinged.content == f"Posted a sample alert in <#{channel.id}>."
    [_, with_role] = fake_discord.channel_messages(channel.id)
    assert with_role.content.startswith(f"<@&{role.id}> ")
    assert with_role.allowed_mentions == {"parse": [], "roles": [str(role.id)]}
    fake_discord.fail_channel(channel.id, 403)
    failed = await fake_discord.invoke("alerts", {"channel": channel}, subcommand="test")
    assert "I cannot post in" in failed.content and "403" in failed.content


async def test_settings_commands(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    role = staff.guild.add_role("Editors")
    saved = await fake_discord.invoke("settings", {"role": role}, subcommand="curator-role", user=staff.admin)
    assert f"<@&{role.id}>" in saved.content
    everyone = await fake_discord.invoke(
        "settings", {"role": staff.guild.everyone}, subcommand="curator-role"
    )
    assert "@everyone cannot be the curator role" in everyone.content
    klingon = await fake_discord.invoke("settings", {"locale": "klingon"}, subcommand="locale")
    assert "not a language the bot speaks (en, ko, ja, zh-CN or auto)" in klingon.content
    mars = await fake_discord.invoke("settings", {"timezone": "Mars/Olympus"}, subcommand="timezone")
    assert "not an IANA time zone" in mars.content
    suggested = await fake_discord.autocomplete("settings", "timezone", "seoul", subcommand="timezone")
    assert suggested[0]["value"] == "Asia/Seoul"
    staff.admin.user.locale = "ja"  # the settings reply is ephemeral: in the admin's own language
    saved_ko = await fake_discord.invoke("settings", {"locale": "ko"}, subcommand="locale", user=staff.admin)
    assert saved_ko.ephemeral and "保存しました。" in saved_ko.content and "한국어 Korean" in saved_ko.content
    staff.admin.user.locale = "en-US"
    service = bot.services.guild_settings
    admin = caller_of(staff, staff.admin)
    assert (await service.presentation(staff.guild.id)).locale == "ko"
    with pytest.raises(ValidationFailed, match="not an IANA time zone"):
        await service.set_timezone(admin, "Mars/Olympus")
    zones = service.timezone_choices("seoul")
    assert zones[0].value == "Asia/Seoul"
    locales = service.locale_choices("kor")
    assert locales[0].value == "ko"
    async with sqlite_db.sessionmaker() as s:
        row = await s.get(models.GuildSettings, staff.guild.id)
        actions = (
            await s.scalars(select(models.AuditLog.action).where(models.AuditLog.guild_id == staff.guild.id))
        ).all()
    assert row is not None and (row.curator_role_id, row.locale, row.timezone) == (role.id, "ko", "UTC")
    assert actions.count("settings.curator_role") == 1 and actions.count("settings.locale") == 1


async def test_list_pages_through_every_subscription(
    fake_discord: FakeDiscord, staff: Staff, bot: PeninsulaBot
) -> None:
    manager = channel_manager(staff.guild.id)
    channel_ids = [900_000 + i for i in range(40)]
    for cid in channel_ids:
        await bot.services.subscriptions.subscribe(manager.in_channel(cid), cid, Filters(programs=["icbm"]))
    listing = await fake_discord.invoke("alerts", subcommand="list", user=staff.channel_manager)
    assert listing.ephemeral
    seen: list[int] = []
    footers = []
    page = listing
    while True:
        [embed] = page.embeds
        assert embed["title"] == f"Alert subscriptions in {staff.guild.name}"
        footers.append(embed["footer"]["text"])
        seen += [int(f["value"].split(">")[0].removeprefix("<#")) for f in embed["fields"]]
        [_, after] = [c for row in page.components for c in row["components"]]
        if after.get("disabled"):
            break
        assert after["label"] == "Next ▶"
        page = await fake_discord.press(page, after["custom_id"], user=staff.channel_manager)
    assert seen == channel_ids  # every subscription, once, in channel order
    total = len(footers)
    assert total >= 2 and footers == [f"Page {i}/{total}" for i in range(1, total + 1)]
    # Only the invoker turns the pages; a reader who is shown the buttons is refused.
    enabled = next(c for c in listing.components[0]["components"] if not c.get("disabled"))
    refused = await fake_discord.press(listing, enabled["custom_id"], user=staff.reader)
    assert refused.ephemeral and "Only the person who ran this command" in refused.content
