"""The fake Discord's announcement channels: crossposts, followers and their copies, driven by a
minimal real discord.py client (tests of the fake itself)."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import discord
import pytest
from discord.ext import commands
from jsonschema import Draft202012Validator

from testing.fake_discord import FakeDiscord, FakeGuild, FakeMessage, FakeUser, FakeWebhook, connect_bot
from testing.fake_discord.announcements import ANNOUNCEMENT, CROSSPOSTED, IS_CROSSPOST, MANAGE_WEBHOOKS
from testing.fake_discord.world import snowflake

MANAGE_MESSAGES = 1 << 13


@pytest.fixture
def home(fake_discord: FakeDiscord) -> FakeGuild:
    guild = fake_discord.add_guild("Home", channels=())
    guild.add_channel("feed", type=ANNOUNCEMENT)
    guild.add_channel("chat")
    return guild


def plain_bot() -> commands.Bot:
    return commands.Bot(
        command_prefix="!", intents=discord.Intents.none(), allowed_mentions=discord.AllowedMentions.none()
    )


def grant(guild: FakeGuild, permissions: int) -> None:
    role = guild.add_role("bot extra", permissions=permissions)
    guild.members[guild.fake.bot_user.id].roles.append(role)


def follower(fake: FakeDiscord, name: str) -> FakeGuild:
    guild = fake.add_guild(name, channels=("news",))
    grant(guild, MANAGE_WEBHOOKS)
    return guild


async def test_crosspost_copies_into_every_follower_and_follows_edits_and_deletes(
    fake_discord: FakeDiscord, home: FakeGuild
) -> None:
    a = follower(fake_discord, "Alpha")
    b = follower(fake_discord, "Beta")
    async with connect_bot(fake_discord, plain_bot()) as bot:
        feed = await bot.fetch_channel(home.channel("feed").id)
        assert isinstance(feed, discord.TextChannel) and feed.is_news()
        for guild in (a, b):
            target = await bot.fetch_channel(guild.channel("news").id)
            assert isinstance(target, discord.TextChannel)
            hook = await feed.follow(destination=target)
            assert hook.type is discord.WebhookType.channel_follower
            again = await feed.follow(destination=target)  # following twice: the same webhook
            assert again.id == hook.id
            [listed] = await target.webhooks()
            assert listed.id == hook.id and listed.source_channel is not None
            assert listed.source_channel.id == feed.id
        assert len(fake_discord.followers_of(home.channel("feed"))) == 2
        message = await feed.send("Seventh nuclear test")
        await message.publish()
        source = fake_discord.message(message.id)
        assert source.flags & CROSSPOSTED
        for guild in (a, b):
            [copy] = fake_discord.channel_messages(guild.channel("news").id)
            assert copy.content == "Seventh nuclear test" and copy.flags == IS_CROSSPOST
            data = copy.to_json()
            assert data["message_reference"]["message_id"] == str(message.id)
            assert data["message_reference"]["channel_id"] == str(feed.id)
            assert data["webhook_id"] == str(fake_discord.followers_of(feed.id)[[a, b].index(guild)].id)
        with pytest.raises(discord.HTTPException) as twice:
            await message.publish()
        assert twice.value.code == 40033
        await message.edit(content="Seventh nuclear test (corrected)")
        assert {c.content for c in fake_discord.copies_of(message.id)} == {"Seventh nuclear test (corrected)"}
        await message.delete()
        assert fake_discord.copies_of(message.id) == []
        assert fake_discord.channel_messages(a.channel("news").id) == []


async def test_crosspost_limit_is_a_429_with_retry_after(fake_discord: FakeDiscord, home: FakeGuild) -> None:
    fake_discord.crosspost_limit = 2
    feed = home.channel("feed")
    async with (
        connect_bot(fake_discord, plain_bot()),
        aiohttp.ClientSession(headers={"Authorization": f"Bot {fake_discord.token}"}) as http,
    ):
        statuses, bodies = [], []
        for i in range(3):
            async with http.post(f"{fake_discord.api_base}/channels/{feed.id}/messages", json=_msg(i)) as r:
                mid = (await r.json())["id"]
            async with http.post(f"{fake_discord.api_base}/channels/{feed.id}/messages/{mid}/crosspost") as r:
                statuses.append(r.status)
                bodies.append(await r.json())
        assert statuses == [200, 200, 429]
        assert bodies[2]["message"] == "You are being rate limited." and bodies[2]["global"] is False
        assert 3590 < bodies[2]["retry_after"] <= 3600
        # A text channel's message cannot be crossposted; another's message needs Manage Messages.
        chat = home.channel("chat")
        async with http.post(f"{fake_discord.api_base}/channels/{chat.id}/messages", json=_msg(9)) as r:
            mid = (await r.json())["id"]
        async with http.post(f"{fake_discord.api_base}/channels/{chat.id}/messages/{mid}/crosspost") as r:
            assert r.status == 400 and (await r.json())["code"] == 50024


async def test_crossposting_anothers_message_needs_manage_messages(
    fake_discord: FakeDiscord, home: FakeGuild
) -> None:
    feed = home.channel("feed")
    theirs = FakeMessage(snowflake(), feed.id, home.id, fake_discord.owner.to_json(), content="hi")
    fake_discord._store(theirs)
    url = f"{fake_discord.api_base}/channels/{feed.id}/messages/{theirs.id}/crosspost"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fake_discord.token}"}) as http:
        async with http.post(url) as r:
            assert r.status == 403 and (await r.json())["code"] == 50013
        grant(home, MANAGE_MESSAGES)
        async with http.post(url) as r:
            assert r.status == 200


async def test_follow_needs_manage_webhooks_and_a_valid_body(
    fake_discord: FakeDiscord, home: FakeGuild
) -> None:
    other = fake_discord.add_guild("Gamma", channels=("news",))
    feed, target = home.channel("feed"), other.channel("news")
    url = f"{fake_discord.api_base}/channels/{feed.id}/followers"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fake_discord.token}"}) as http:
        async with http.post(url, json={"webhook_channel_id": str(target.id)}) as r:
            assert r.status == 403 and (await r.json())["code"] == 50013
        assert fake_discord.followers_of(feed) == []
        grant(other, MANAGE_WEBHOOKS)
        async with http.post(url, json={"webhook_channel_id": str(target.id)}) as r:
            assert r.status == 200
            data = await r.json()
        assert data == {"channel_id": str(feed.id), "webhook_id": str(fake_discord.followers_of(feed)[0].id)}
        async with http.post(
            f"{fake_discord.api_base}/channels/{home.channel('chat').id}/followers",
            json={"webhook_channel_id": str(target.id)},
        ) as r:
            assert r.status == 400 and (await r.json())["code"] == 50024
        if fake_discord.openapi is not None:
            async with http.post(url, json={"channel": str(target.id)}) as r:
                assert r.status == 404
            [problem] = fake_discord.take_violations()
            assert problem.startswith("OpenAPI POST /channels/{channel_id}/followers")


def test_follower_answers_match_the_openapi_description(shared_dir: Path) -> None:
    spec = json.loads((shared_dir / "discord-api-spec" / "openapi.json").read_text("utf-8"))
    schemas = spec["components"]["schemas"]
    hook = FakeWebhook(3, 4, 5, 6, 7, "Home #feed", "feed", "Home")
    for name, data in (
        ("ChannelFollowerWebhookResponse", hook.to_json(FakeUser(1, "bot", bot=True).to_json())),
        ("ChannelFollowerResponse", {"channel_id": "6", "webhook_id": "3"}),
    ):
        root = {**schemas[name], "components": spec["components"]}
        errors = [e.message for e in Draft202012Validator(root).iter_errors(data)]
        assert errors == [], (name, errors)


def _msg(i: int) -> dict[str, object]:
    return {"content": f"alert {i}", "allowed_mentions": {"parse": []}}
