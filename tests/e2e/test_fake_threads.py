"""Tests of the fake Discord's threads, forums and channel webhooks (``testing/fake_discord/threads.py``
and ``webhooks.py``), through raw REST and a real discord.py client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from testing.fake_discord import FakeDiscord, FakeGuild, connect_bot

ALLOWED: dict[str, list[str]] = {"parse": []}


@pytest.fixture
def world(fake_discord: FakeDiscord) -> FakeGuild:
    guild = fake_discord.add_guild("Threads", channels=("general", "news"))
    # The fake's @everyone cannot make threads or webhooks: the bot gets a role that can.
    role = guild.add_role("Peninsula Brief", permissions=(1 << 10) | (1 << 11) | (1 << 29) | (1 << 35))
    guild.members[fake_discord.bot_user.id].roles.append(role)
    return guild


@pytest.fixture
async def http(fake_discord: FakeDiscord) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fake_discord.token}"}) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, fake: FakeDiscord, method: str, path: str, body: Any = None, **params: str
) -> tuple[int, Any]:
    async with http.request(method, fake.api_base + path, json=body, params=params or None) as resp:
        data = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, data


async def test_forum_post_with_tags_and_its_starter_message(
    fake_discord: FakeDiscord, world: FakeGuild, http: aiohttp.ClientSession
) -> None:
    forum = fake_discord.add_forum(world, "alerts", tags=("missile_launch", "icbm"))
    launch = forum.available_tags[0]["id"]
    body = {
        "name": "A launch",
        "applied_tags": [launch],
        "message": {"content": "hi", "allowed_mentions": ALLOWED},
    }
    status, data = await call(http, fake_discord, "POST", f"/channels/{forum.id}/threads", body)
    assert status == 201 and data["type"] == 11 and data["parent_id"] == str(forum.id)
    assert data["applied_tags"] == [launch] and data["message"]["id"] == data["id"]
    thread = fake_discord.thread(int(data["id"]))
    assert [m.content for m in fake_discord.channel_messages(thread.id)] == ["hi"]
    # A message in the post, its starter edited, the guild's active threads listed.
    status, _ = await call(
        http,
        fake_discord,
        "POST",
        f"/channels/{thread.id}/messages",
        {"content": "more", "allowed_mentions": ALLOWED},
    )
    assert status == 200
    status, _ = await call(
        http, fake_discord, "PATCH", f"/channels/{thread.id}/messages/{thread.id}", {"content": "edited"}
    )
    assert status == 200 and fake_discord.message(thread.id).content == "edited"
    status, active = await call(http, fake_discord, "GET", f"/guilds/{world.id}/threads/active")
    assert [t["id"] for t in active["threads"]] == [str(thread.id)]
    # A tag the forum does not have, a name too long, a text channel: refused.
    bad = {**body, "applied_tags": ["123"]}
    assert (await call(http, fake_discord, "POST", f"/channels/{forum.id}/threads", bad))[0] == 400
    long = {**body, "name": "x" * 101}
    assert (await call(http, fake_discord, "POST", f"/channels/{forum.id}/threads", long))[0] == 400
    text = world.channel("general")
    assert (await call(http, fake_discord, "POST", f"/channels/{text.id}/threads", body))[0] == 400
    problems = fake_discord.take_violations()
    assert any("not tags of the forum" in p for p in problems)
    assert any("OpenAPI POST /channels/{channel_id}/threads" in p for p in problems)


async def test_thread_from_a_message_once(
    fake_discord: FakeDiscord, world: FakeGuild, http: aiohttp.ClientSession
) -> None:
    channel = world.channel("general")
    _, msg = await call(
        http,
        fake_discord,
        "POST",
        f"/channels/{channel.id}/messages",
        {"content": "x", "allowed_mentions": ALLOWED},
    )
    path = f"/channels/{channel.id}/messages/{msg['id']}/threads"
    status, thread = await call(
        http, fake_discord, "POST", path, {"name": "Talk", "auto_archive_duration": 1440}
    )
    assert status == 201 and thread["id"] == msg["id"] and thread["parent_id"] == str(channel.id)
    status, again = await call(http, fake_discord, "POST", path, {"name": "Talk"})
    assert status == 400 and again["code"] == 160004
    _, read = await call(http, fake_discord, "GET", f"/channels/{channel.id}/messages/{msg['id']}")
    assert read["thread"]["id"] == thread["id"]
    assert fake_discord.threads_of(channel.id)[0].name == "Talk"


async def test_discord_py_sees_threads_and_forums(fake_discord: FakeDiscord, world: FakeGuild) -> None:
    forum = fake_discord.add_forum(world, "posts", tags=("statement",))
    before = await fake_discord.add_thread(world.channel("general"), "Older talk")
    bot = discord.Client(intents=discord.Intents.default())
    async with connect_bot(fake_discord, bot):
        guild = bot.get_guild(world.id)
        assert guild is not None
        cached_forum = guild.get_channel(forum.id)
        assert isinstance(cached_forum, discord.ForumChannel)
        assert [t.name for t in cached_forum.available_tags] == ["statement"]
        assert isinstance(guild.get_thread(before.id), discord.Thread)  # from GUILD_CREATE
        later = await fake_discord.add_thread(world.channel("news"), "New talk")  # THREAD_CREATE
        for _ in range(250):  # the client's cache, not the fake's state: polled
            if guild.get_thread(later.id) is not None:
                break
            await asyncio.sleep(0.02)
        thread = guild.get_thread(later.id)
        assert thread is not None and thread.parent_id == world.channel("news").id


async def test_channel_webhooks_identity_edit_and_deletion(
    fake_discord: FakeDiscord, world: FakeGuild, http: aiohttp.ClientSession
) -> None:
    channel = world.channel("general")
    status, hook = await call(
        http, fake_discord, "POST", f"/channels/{channel.id}/webhooks", {"name": "Brief"}
    )
    assert status == 200 and hook["token"] and hook["user"]["id"] == str(fake_discord.bot_user.id)
    _, listed = await call(http, fake_discord, "GET", f"/channels/{channel.id}/webhooks")
    assert [h["id"] for h in listed] == [hook["id"]]
    url = f"/webhooks/{hook['id']}/{hook['token']}"
    body = {
        "content": "alert",
        "username": "Watch desk",
        "avatar_url": "https://example.org/a.png",
        "allowed_mentions": ALLOWED,
    }
    status, msg = await call(http, fake_discord, "POST", url, body, wait="true")
    assert status == 200 and msg["webhook_id"] == hook["id"]
    posted = fake_discord.message(int(msg["id"]))
    assert (
        posted.author["username"] == "Watch desk"
        and posted.author["avatar_url"] == "https://example.org/a.png"
    )
    status, _ = await call(http, fake_discord, "PATCH", f"{url}/messages/{msg['id']}", {"content": "edited"})
    assert status == 200 and posted.content == "edited" and posted.edits == 1
    # Into a thread of the channel, and as a forum post through the forum's webhook.
    thread = await fake_discord.add_thread(channel, "Talk")
    status, in_thread = await call(
        http, fake_discord, "POST", url, body, wait="true", thread_id=str(thread.id)
    )
    assert status == 200 and in_thread["channel_id"] == str(thread.id)
    forum = fake_discord.add_forum(world, "posts")
    _, forum_hook = await call(
        http, fake_discord, "POST", f"/channels/{forum.id}/webhooks", {"name": "Brief"}
    )
    forum_url = f"/webhooks/{forum_hook['id']}/{forum_hook['token']}"
    assert (await call(http, fake_discord, "POST", forum_url, body, wait="true"))[0] == 400  # no thread_name
    status, post = await call(
        http, fake_discord, "POST", forum_url, {**body, "thread_name": "A post"}, wait="true"
    )
    assert (
        status == 200
        and post["id"] == post["channel_id"]
        and fake_discord.thread(int(post["id"])).name == "A post"
    )
    # Deleted: its URLs are unknown.
    assert (await call(http, fake_discord, "DELETE", f"/webhooks/{hook['id']}"))[0] == 204
    status, gone = await call(http, fake_discord, "POST", url, body, wait="true")
    assert status == 404 and gone["code"] == 10015
    status, gone = await call(http, fake_discord, "PATCH", f"{url}/messages/{msg['id']}", {"content": "x"})
    assert status == 404 and gone["code"] == 10015
    assert (
        await call(http, fake_discord, "POST", f"/channels/{channel.id}/webhooks", {"name": "my discord"})
    )[0] == 400


async def test_a_lost_response_takes_effect(
    fake_discord: FakeDiscord, world: FakeGuild, http: aiohttp.ClientSession
) -> None:
    channel = world.channel("general")
    fake_discord.lose_next_response(1, method="POST", path=r"/messages$")
    body = {"content": "x", "allowed_mentions": ALLOWED}
    status, _ = await call(http, fake_discord, "POST", f"/channels/{channel.id}/messages", body)
    assert status == 500 and len(fake_discord.channel_messages(channel.id)) == 1
