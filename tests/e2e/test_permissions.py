"""Permissions and scope end to end, through real discord.py and the fake Discord with channel
permission overwrites: ``/alerts`` by guild-level Manage Channels and sight of the target channel
(an overwrite in the channel a command is typed in grants nothing), two curators editing one
event in forms of their own, and a dry-run import that never reveals another server's event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import models
from bot.discord.client import PeninsulaBot
from bot.services.errors import PermissionDenied
from testing.fake_discord import FakeAttachment, FakeChannel, FakeDiscord, FakeMember
from tests.conftest import Database

from .bot_process import MANAGE_CHANNELS, VIEW_SEND_EMBED, Staff, channel_manager, load_sample, running_bot
from .test_curation import ADD

VIEW_CHANNEL = 1 << 10


@dataclass
class World:
    home: Staff
    other: Staff
    third: Staff
    mods: FakeChannel  # the home guild's private channel: only Moderators (and the bot) see it
    deputy: FakeMember  # no guild-wide permission; Manage Channels in #general by an overwrite


@pytest.fixture
async def world(fake_discord: FakeDiscord) -> World:
    home = Staff(fake_discord, "Home")
    mods = home.guild.add_channel("moderators")
    mods.set_overwrite(home.guild.everyone, deny=VIEW_CHANNEL)
    mods.set_overwrite(home.admin_role, allow=VIEW_CHANNEL)
    mods.set_overwrite(home.guild.members[fake_discord.bot_user.id], allow=VIEW_SEND_EMBED)
    deputy = home.guild.add_member("deputy")
    home.guild.channel("general").set_overwrite(deputy, allow=MANAGE_CHANNELS)
    other = Staff(fake_discord, "Other", channels=1)
    third = Staff(fake_discord, "Third", channels=1)
    return World(home, other, third, mods, deputy)


@pytest.fixture
async def bot(fake_discord: FakeDiscord, world: World, sqlite_db: Database) -> AsyncIterator[PeninsulaBot]:
    await load_sample(sqlite_db)
    async with running_bot(fake_discord, sqlite_db, home_guild_ids=[world.home.guild.id]) as client:
        yield client


async def subscribed(bot: PeninsulaBot, world: World) -> dict[int, str]:
    """The home guild's subscriptions, channel → state, as the owner's service caller sees them."""
    return {
        s.channel_id: s.state
        for s in await bot.services.subscriptions.list(channel_manager(world.home.guild.id))
    }


async def test_a_channel_overwrite_where_the_command_is_typed_grants_nothing(
    fake_discord: FakeDiscord, world: World, bot: PeninsulaBot
) -> None:
    general = world.home.guild.channel("general")
    public = world.home.channel(0)
    await fake_discord.invoke("alerts", {"channel": public}, subcommand="subscribe", guild=world.home.guild)
    # Discord shows /alerts to the deputy in #general (Manage Channels there), but the
    # permission is not theirs server-wide: every /alerts command is refused, nothing changes.
    for subcommand, options in (
        ("subscribe", {"channel": world.mods}),
        ("unsubscribe", {"channel": public}),
        ("pause", {"channel": public}),
        ("test", {"channel": world.mods}),
        ("list", {}),
    ):
        refused = await fake_discord.invoke(
            "alerts", options, subcommand=subcommand, user=world.deputy, channel=general
        )
        assert refused.ephemeral
        assert refused.content == "You need the Manage Channels permission to do this.", subcommand
    assert await subscribed(bot, world) == {public.id: "active"}
    assert fake_discord.channel_messages(world.mods.id) == []


async def test_alerts_need_sight_of_the_target_channel(
    fake_discord: FakeDiscord, world: World, bot: PeninsulaBot
) -> None:
    manager, mods = world.home.channel_manager, world.mods
    refusal = f"You need the View Channel permission in <#{mods.id}> to do this."
    refused = await fake_discord.invoke("alerts", {"channel": mods}, subcommand="subscribe", user=manager)
    assert refused.ephemeral and refused.content == refusal
    assert await subscribed(bot, world) == {}
    # The owner (who sees every channel) subscribes it; the channel manager cannot touch it.
    await fake_discord.invoke("alerts", {"channel": mods}, subcommand="subscribe", guild=world.home.guild)
    for subcommand in ("unsubscribe", "pause", "resume", "test"):
        refused = await fake_discord.invoke("alerts", {"channel": mods}, subcommand=subcommand, user=manager)
        assert refused.ephemeral and refused.content == refusal, subcommand
    assert await subscribed(bot, world) == {mods.id: "active"}
    assert fake_discord.channel_messages(mods.id) == []
    # A channel they see, they manage.
    ok = await fake_discord.invoke(
        "alerts", {"channel": world.home.channel(1)}, subcommand="subscribe", user=manager
    )
    assert f"<#{world.home.channel(1).id}> will receive alerts" in ok.content
    # Once they are let in, they may pause it.
    await fake_discord.set_permissions(mods, manager, allow=VIEW_CHANNEL)
    paused = await fake_discord.invoke("alerts", {"channel": mods}, subcommand="pause", user=manager)
    [sub] = [
        s
        for s in await bot.services.subscriptions.list(channel_manager(world.home.guild.id))
        if s.channel_id == mods.id
    ]
    assert paused.content == f"Alerts in <#{mods.id}> are paused (subscription #{sub.id})."
    # The service refuses the same callers by itself: no sight of the channel stated, none given.
    caller = channel_manager(world.home.guild.id)
    services = bot.services.subscriptions
    for blind in (caller, caller.in_channel(mods.id, ())):
        with pytest.raises(PermissionDenied, match="View Channel permission in"):
            await services.unsubscribe(blind, mods.id)
        with pytest.raises(PermissionDenied, match="View Channel permission in"):
            await services.get(blind, mods.id)
    assert (await services.get(caller.in_channel(mods.id), mods.id)).state == "paused"


def form_id(opened: Any) -> str:
    return str(opened.modal["custom_id"])


async def test_two_curators_editing_one_event_each_get_an_answer(
    fake_discord: FakeDiscord, world: World, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    home = world.home
    published = await fake_discord.invoke("curate", ADD, subcommand="add", guild=home.guild)
    event_id = int(published.content.split("#")[1].split()[0])
    # Two curators: Manage Server, and the curator role (let in by the server's command settings).
    first = await fake_discord.invoke("curate", {"id": str(event_id)}, subcommand="edit", user=home.admin)
    second = await fake_discord.invoke(
        "curate", {"id": str(event_id)}, subcommand="edit", user=home.curator, bypass_default_permissions=True
    )
    assert first.modal is not None and second.modal is not None
    assert form_id(first) != form_id(second)
    saved = await fake_discord.submit_modal(first, {"title": "Hwasong-19 launch (first curator)"})
    assert saved.ephemeral and f"Saved event #{event_id} (revision 2)" in saved.content
    # The second form was opened on revision 1: its submission is answered and writes nothing.
    stale = await fake_discord.submit_modal(second, {"title": "Hwasong-19 launch (second curator)"})
    assert stale.ephemeral
    assert stale.content == (
        f"Event #{event_id} changed while your form was open (it is now at revision 2); nothing was "
        "written. Open the form again to edit the new version."
    )
    async with sqlite_db.sessionmaker() as s:
        event = await s.get(models.Event, event_id)
        assert event is not None
        assert (event.title, event.revision) == ("Hwasong-19 launch (first curator)", 2)
    again = await fake_discord.invoke(
        "curate", {"id": str(event_id)}, subcommand="edit", user=home.curator, bypass_default_permissions=True
    )
    redone = await fake_discord.submit_modal(again, {"title": "Hwasong-19 launch (second curator)"})
    assert f"Saved event #{event_id} (revision 3)" in redone.content


def import_file(
    external_id: str, *, date: str = "2024-10-31", kind: str = "missile_launch"
) -> FakeAttachment:
    record = {
        "external_id": external_id,
        "title": "Imported launch report",
        "date": date,
        "kind": kind,
        "summary": "Imported for a test.",
        "significance": 3,
        "programs": ["icbm"],
        "sources": [{"publisher": "CNS", "title": "Missile test database"}],
    }
    return FakeAttachment("events.json", json.dumps([record]).encode(), "application/json")


async def events_count(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(models.Event)) or 0)


async def test_a_dry_run_import_never_reveals_another_servers_event(
    fake_discord: FakeDiscord, world: World, bot: PeninsulaBot, sqlite_db: Database
) -> None:
    other, third = world.other.guild, world.third.guild
    local = await fake_discord.invoke("curate", ADD, subcommand="add", guild=other)
    assert "local to this server" in local.content
    local_id = int(local.content.split("#")[1].split()[0])
    unused_id = local_id + 1000
    before = await events_count(sqlite_db)

    async def dry(guild: Any, external_id: str, **kw: str) -> str:
        result = await fake_discord.invoke(
            "curate",
            {"file": import_file(external_id, **kw), "dry_run": True},
            subcommand="import",
            guild=guild,
        )
        assert result.ephemeral
        return result.content

    # Same date and kind as Other's local event, a different date, and a number no event has: a
    # third server reads the same answer each time.
    texts = [
        await dry(third, f"pb:{local_id}"),
        await dry(third, f"pb:{local_id}", date="2023-01-01"),
        await dry(third, f"pb:{unused_id}"),
    ]
    assert set(texts) == {
        "Native import (dry run, nothing written): 1 rows would give 1 created, 0 updated, 0 unchanged."
    }
    # Its own server still finds it (the export round trip keeps working).
    own = await dry(other, f"pb:{local_id}")
    assert "0 created, 1 updated, 0 unchanged" in own
    # A home server may not name another server's own ids (g<number>:) at all: the same refusal
    # whether such an event exists or not.
    imported = await fake_discord.invoke(
        "curate", {"file": import_file("cns-2024-7")}, subcommand="import", guild=other
    )
    assert "1 created" in imported.content
    exists = await dry(world.home.guild, f"g{other.id}:cns-2024-7")
    missing = await dry(world.home.guild, f"g{other.id}:cns-none")
    assert "reserved" in exists and "another scope" not in exists
    assert exists.replace("cns-2024-7", "X") == missing.replace("cns-none", "X")
    assert await events_count(sqlite_db) == before + 1
