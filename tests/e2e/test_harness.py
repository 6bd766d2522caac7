"""Tests of the fake Discord itself, driven by a minimal real discord.py bot."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from testing.fake_discord import (
    FakeAttachment,
    FakeDiscord,
    FakeGuild,
    RateLimitConfig,
    check_autocomplete_choices,
    check_command_definitions,
    check_message_payload,
    checks,
    connect_bot,
    load_default,
)

PROGRAMS = ["yongbyon", "punggye-ri", "sohae", "sinpo", "kn-08"]


class CounterView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.count = 0

    @discord.ui.button(label="+1", custom_id="counter:inc")
    async def inc(self, interaction: discord.Interaction, button: discord.ui.Button[CounterView]) -> None:
        self.count += 1
        await interaction.response.edit_message(content=f"count: {self.count}", view=self)


class Feedback(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Feedback] = discord.ui.TextInput(label="Text", custom_id="feedback:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class HarnessBot(commands.Bot):
    """A minimal bot with the shapes the real cogs use."""

    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.delay = 0.0

    async def setup_hook(self) -> None:
        tree = self.tree

        @tree.command(description="Check the bot answers")
        async def ping(interaction: discord.Interaction) -> None:
            await asyncio.sleep(self.delay)
            await interaction.response.send_message("pong")

        @tree.command(description="Describe a program")
        @app_commands.describe(name="Program", private="Only you see the answer")
        async def program(interaction: discord.Interaction, name: str, private: bool = False) -> None:
            embed = discord.Embed(title=name, description=f"About {name}")
            await interaction.response.send_message(embed=embed, ephemeral=private)

        @program.autocomplete("name")
        async def program_name(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=p, value=p) for p in PROGRAMS if p.startswith(current.lower())]

        @tree.command(description="Echo typed options")
        async def echo(
            interaction: discord.Interaction,
            text: str,
            count: int,
            flag: bool,
            who: discord.Member,
            where: discord.TextChannel,
            role: discord.Role,
            ratio: float,
            file: discord.Attachment,
        ) -> None:
            data = await file.read()
            parts = [
                text,
                str(count),
                str(flag),
                who.name,
                where.name,
                role.name,
                f"{ratio:.1f}",
                data.decode(),
            ]
            await interaction.response.send_message(" ".join(parts), ephemeral=True)

        @tree.command(description="Count button presses")
        async def counter(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("count: 0", view=CounterView())

        @tree.command(description="Answer after deferring")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True, ephemeral=True)
            await interaction.followup.send("done")

        @tree.command(description="Open a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Feedback())

        alerts = app_commands.Group(name="alerts", description="Alert subscriptions")

        @alerts.command(name="test", description="Post a sample alert")
        async def alerts_test(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
            await channel.send("sample alert")
            await interaction.response.send_message("posted", ephemeral=True)

        tree.add_command(alerts)


@pytest.fixture
async def world(fake_discord: FakeDiscord) -> FakeGuild:
    guild = fake_discord.add_guild("Peninsula Watchers", channels=("general", "alerts"))
    curator = guild.add_role("curator", permissions=0)
    guild.add_member("alice", roles=[curator])
    return guild


@pytest.fixture
async def bot(fake_discord: FakeDiscord, world: FakeGuild) -> AsyncIterator[HarnessBot]:
    client = HarnessBot()
    async with connect_bot(fake_discord, client):
        await client.tree.sync()
        yield client


async def test_connects_and_syncs(fake_discord: FakeDiscord, bot: HarnessBot, world: FakeGuild) -> None:
    assert bot.user is not None
    assert bot.user.id == fake_discord.bot_user.id
    assert bot.get_guild(world.id) is not None
    assert {c.name for c in bot.get_guild(world.id).text_channels} == {"general", "alerts"}  # type: ignore[union-attr]
    assert fake_discord.gateway_connects == ["/gateway"]
    assert {c["name"] for c in fake_discord.global_commands} >= {"ping", "program", "alerts"}
    put = [r for r in fake_discord.requests if r.method == "PUT"]
    assert len(put) == 1
    assert put[0].status == 200
    fetched = await bot.tree.fetch_commands()
    assert {c.name for c in fetched} == {c["name"] for c in fake_discord.global_commands}


async def test_ping(fake_discord: FakeDiscord, bot: HarnessBot, world: FakeGuild) -> None:
    alice = next(m for m in world.members.values() if m.user.username == "alice")
    result = await fake_discord.invoke("ping", user=alice)
    assert result.callback_type == 4
    assert result.content == "pong"
    assert not result.ephemeral
    assert result.message is not None
    assert result.message.allowed_mentions == {"parse": []}
    assert result.latency < 1.0
    assert fake_discord.heartbeats >= 1


async def test_typed_options_and_resolved(
    fake_discord: FakeDiscord, bot: HarnessBot, world: FakeGuild
) -> None:
    alice = next(m for m in world.members.values() if m.user.username == "alice")
    role = next(r for r in world.roles.values() if r.name == "curator")
    options = {
        "text": "hi",
        "count": 3,
        "flag": True,
        "who": alice,
        "where": world.channel("alerts"),
        "role": role,
        "ratio": 0.5,
        "file": FakeAttachment("note.txt", b"payload", "text/plain"),
    }
    result = await fake_discord.invoke("echo", options)
    assert result.content == "hi 3 True alice alerts curator 0.5 payload"
    assert result.ephemeral


async def test_private_reply_is_ephemeral_embed(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    result = await fake_discord.invoke("program", {"name": "yongbyon", "private": True})
    assert result.ephemeral
    assert result.embeds[0]["title"] == "yongbyon"


async def test_autocomplete(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    choices = await fake_discord.autocomplete("program", "name", "s")
    assert [c["name"] for c in choices] == ["sohae", "sinpo"]


async def test_button_press_updates_message(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    opened = await fake_discord.invoke("counter")
    assert opened.message is not None
    assert opened.message.custom_ids() == ["counter:inc"]
    pressed = await fake_discord.press(opened, "counter:inc")
    assert pressed.callback_type == 7
    assert pressed.message is opened.message
    assert opened.content == "count: 1"
    await fake_discord.press(opened, "counter:inc")
    assert opened.content == "count: 2"


async def test_deferred_then_followup(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    result = await fake_discord.invoke("slow")
    assert result.callback_type == 5
    assert result.content == "done"
    assert result.ephemeral


async def test_modal_submit(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    opened = await fake_discord.invoke("feedback")
    assert opened.callback_type == 9
    assert opened.modal is not None
    submitted = await fake_discord.submit_modal(opened, {"feedback:text": "useful"})
    assert submitted.content == "thanks: useful"
    assert submitted.ephemeral


async def test_subcommand_posts_to_channel(
    fake_discord: FakeDiscord, bot: HarnessBot, world: FakeGuild
) -> None:
    alerts = world.channel("alerts")
    result = await fake_discord.invoke("alerts", {"channel": alerts}, subcommand="test")
    assert result.content == "posted"
    [posted] = fake_discord.channel_messages(alerts.id)
    assert posted.content == "sample alert"
    assert posted.allowed_mentions == {"parse": []}


async def test_late_answer_is_a_violation(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    fake_discord.response_deadline = 0.05
    bot.delay = 0.1
    with pytest.raises(TimeoutError):
        await fake_discord.invoke("ping", timeout=0.5)
    taken = fake_discord.take_violations()
    assert any("answered after" in v for v in taken), taken


async def test_nonce_dedupe(fake_discord: FakeDiscord, bot: HarnessBot, world: FakeGuild) -> None:
    channel = bot.get_channel(world.channel("alerts").id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("alert", nonce="delivery-1")
    again = await channel.send("alert", nonce="delivery-1")
    other = await channel.send("alert", nonce="delivery-2")
    assert first.id == again.id != other.id
    assert len(fake_discord.channel_messages(channel.id)) == 2


async def test_channel_faults(fake_discord: FakeDiscord, bot: HarnessBot, world: FakeGuild) -> None:
    channel = bot.get_channel(world.channel("alerts").id)
    assert isinstance(channel, discord.TextChannel)
    fake_discord.fail_channel(channel.id, 403)
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send("x")
    assert forbidden.value.code == 50013
    fake_discord.fail_channel(channel.id, 404)
    with pytest.raises(discord.NotFound) as missing:
        await channel.send("x")
    assert missing.value.code == 10003
    fake_discord.fail_channel(channel.id, None)
    await channel.send("x")
    assert len(fake_discord.channel_messages(channel.id)) == 1


async def test_channel_rate_limit_enforced(fake_discord: FakeDiscord, world: FakeGuild) -> None:
    channel_id = world.channel("alerts").id
    url = f"{fake_discord.api_base}/channels/{channel_id}/messages"
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    body = {"content": "x", "allowed_mentions": {"parse": []}}
    async with aiohttp.ClientSession(headers=headers) as http:
        statuses = []
        for _ in range(6):
            async with http.post(url, json=body) as resp:
                statuses.append(resp.status)
                last_headers, last_body = resp.headers, await resp.json()
    assert statuses == [200] * 5 + [429]
    assert last_headers["Content-Type"] == "application/json"
    assert last_headers["X-RateLimit-Scope"] == "user"
    assert last_headers["Via"]
    assert last_headers["X-RateLimit-Remaining"] == "0"
    assert float(last_headers["X-RateLimit-Reset-After"]) > 4
    assert last_body["global"] is False
    assert 4 < last_body["retry_after"] <= 5
    assert fake_discord.rate_limited["user"] == 1


async def test_global_rate_limit_enforced(fake_discord: FakeDiscord) -> None:
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        statuses = await asyncio.gather(
            *(_status(http, f"{fake_discord.api_base}/users/@me") for _ in range(55))
        )
    assert statuses.count(429) == 5
    assert statuses.count(200) == 50
    assert fake_discord.rate_limited["global"] == 5


async def _status(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url) as resp:
        if resp.status == 429:
            assert resp.headers["X-RateLimit-Global"] == "true"
            assert resp.headers["Via"]
            assert (await resp.json())["global"] is True
        return resp.status


async def test_discord_py_waits_out_429(world: FakeGuild, fake_discord: FakeDiscord) -> None:
    # A short window keeps this fast: discord.py must honour Retry-After, not treat it as a ban.
    fake_discord.rate_limits = RateLimitConfig(channel_messages=2, channel_window=0.3)
    client = HarnessBot()
    async with connect_bot(fake_discord, client):
        channel = client.get_channel(world.channel("alerts").id)
        assert isinstance(channel, discord.TextChannel)
        start = time.monotonic()
        for i in range(5):
            await channel.send(f"m{i}")
        assert time.monotonic() - start >= 0.5
    assert [m.content for m in fake_discord.channel_messages(channel.id)] == [f"m{i}" for i in range(5)]


async def test_server_error_burst(fake_discord: FakeDiscord) -> None:
    fake_discord.fail_next(2, 502, path=r"/users/@me")
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        got = [await _status(http, f"{fake_discord.api_base}/users/@me") for _ in range(3)]
    assert got == [502, 502, 200]


async def test_gateway_drop_resume_replays(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    bot.add_listener(on_resumed)
    await fake_discord.drop_gateway()
    # Dispatched while the socket is down: must be replayed after RESUME.
    result = await fake_discord.invoke("ping")
    assert result.content == "pong"
    await fake_discord.wait_resumed()
    await asyncio.wait_for(resumed.wait(), 2)
    assert fake_discord.gateway_connects == ["/gateway", "/gateway-resume"]
    assert fake_discord.identifies == 1
    assert (await fake_discord.invoke("ping")).content == "pong"


async def test_bad_definition_rejected_and_recorded(fake_discord: FakeDiscord, world: FakeGuild) -> None:
    client = HarnessBot()
    async with connect_bot(fake_discord, client):

        @client.tree.command(name="bad", description="x" * 101)
        async def bad(interaction: discord.Interaction) -> None:  # pragma: no cover - never invoked
            await interaction.response.send_message("no")

        with pytest.raises(discord.HTTPException) as exc:
            await client.tree.sync()
        assert exc.value.status == 400
        assert exc.value.code == 50035
    taken = fake_discord.take_violations()
    assert any("description" in v for v in taken), taken


async def test_oversize_embed_is_a_violation(
    fake_discord: FakeDiscord, bot: HarnessBot, world: FakeGuild
) -> None:
    channel = bot.get_channel(world.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException):
        await channel.send(embed=discord.Embed(title="t" * 257))
    assert any("title" in v for v in fake_discord.take_violations())


def test_command_checker() -> None:
    good = [
        {
            "name": "position",
            "description": "Stated positions",
            "options": [
                {"type": 3, "name": "party", "description": "Party", "required": True, "autocomplete": True},
                {"type": 3, "name": "topic", "description": "Topic"},
            ],
        }
    ]
    assert check_command_definitions(good) == []
    bad: list[dict[str, object]] = [
        {"name": "Brief", "description": "upper case"},
        {"name": "has space", "description": "space"},
        {"name": "empty", "description": ""},
        {
            "name": "order",
            "description": "optional before required",
            "options": [
                {"type": 3, "name": "a", "description": "a"},
                {"type": 3, "name": "b", "description": "b", "required": True},
            ],
        },
        {
            "name": "many",
            "description": "too many options and choices",
            "options": [{"type": 3, "name": f"o{i}", "description": "d"} for i in range(26)],
        },
        {
            "name": "choices",
            "description": "26 choices",
            "options": [
                {
                    "type": 3,
                    "name": "c",
                    "description": "d",
                    "choices": [{"name": str(i), "value": str(i)} for i in range(26)],
                }
            ],
        },
        {
            "name": "nest",
            "description": "group in a group",
            "options": [
                {
                    "type": 2,
                    "name": "g",
                    "description": "g",
                    "options": [{"type": 2, "name": "h", "description": "h", "options": []}],
                }
            ],
        },
        {
            "name": "mix",
            "description": "subcommand beside an option",
            "options": [
                {"type": 1, "name": "s", "description": "s"},
                {"type": 3, "name": "x", "description": "x"},
            ],
        },
    ]
    problems = check_command_definitions(bad)
    for needle in (
        "'Brief'",
        "'has space'",
        "'empty'.description",
        "required options must come before",
        "26 options",
        "26 choices",
        "only contain subcommands",
        "cannot be mixed",
    ):
        assert any(needle in p for p in problems), (needle, problems)
    assert check_command_definitions([{"name": "명령", "description": "Unicode letters are fine"}]) == []


def test_message_checker() -> None:
    assert check_message_payload({"content": "ok"}) == []
    embed = {
        "title": "t" * 257,
        "description": "d" * 4097,
        "fields": [{"name": "n", "value": "v" * 1025}] * 26,
        "footer": {"text": "f" * 2049},
        "author": {"name": "a" * 257},
    }
    problems = check_message_payload({"content": "c" * 2001, "embeds": [embed] * 11})
    for needle in (
        "content",
        "11 embeds",
        "title",
        "description",
        "26 fields",
        "value",
        "footer",
        "author",
        "6000",
    ):
        assert any(needle in p for p in problems), (needle, problems)
    button = {"type": 2, "style": 1, "label": "b", "custom_id": "x"}
    rows = [{"type": 1, "components": [button] * 6}] * 6
    problems = check_message_payload({"content": "x", "components": rows})
    assert any("6 action rows" in p for p in problems)
    assert any("6 buttons" in p for p in problems)
    long_id = {"type": 1, "components": [{**button, "custom_id": "x" * 101}]}
    assert any("custom_id" in p for p in check_message_payload({"content": "x", "components": [long_id]}))
    assert check_message_payload({}) == ["message: cannot send an empty message"]
    assert check_autocomplete_choices([{"name": "", "value": "v"}] + [{"name": "n", "value": "v"}] * 25) != []


def test_openapi_checker() -> None:
    checker = load_default()
    if checker is None:
        pytest.skip("Discord's OpenAPI description is not beside the repository")
    path = "/applications/1/commands"
    assert (
        checker.validate(
            "PUT", path, [{"name": "ping", "description": "d", "default_member_permissions": "32"}]
        )
        == []
    )
    assert checker.validate("PUT", path, [{"name": "x" * 33, "description": "d"}]) != []
    callback = "/interactions/1/tok/callback"
    assert (
        checker.validate(
            "POST", callback, {"type": 4, "data": {"content": "hi", "allowed_mentions": {"parse": []}}}
        )
        == []
    )
    assert checker.validate("POST", callback, {"type": 4, "data": {"content": 5}}) != []
    message = {
        "content": "x",
        "nonce": "abc",
        "enforce_nonce": True,
        "message_reference": {"message_id": 123},
    }
    assert checker.validate("POST", "/channels/1/messages", message) == []


async def test_second_answer_is_rejected(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    result = await fake_discord.invoke("ping")
    [record] = [r for r in fake_discord.requests if r.path.endswith("/callback")]
    async with aiohttp.ClientSession() as http:
        url = f"{fake_discord.api_base}{record.path}"
        async with http.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400
            assert (await resp.json())["code"] == 40060
    assert result.content == "pong"
    assert fake_discord.take_violations() == [f"interaction {result.interaction_id} answered more than once"]


async def test_bodies_checked_against_openapi_in_flight(fake_discord: FakeDiscord, world: FakeGuild) -> None:
    if fake_discord.openapi is None:
        pytest.skip("Discord's OpenAPI description is not beside the repository")
    url = f"{fake_discord.api_base}/channels/{world.channel('general').id}/messages"
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        body = {"content": "x", "allowed_mentions": {"parse": ["everyone", "nobody"]}}
        async with http.post(url, json=body) as resp:
            assert resp.status == 200
    [problem] = fake_discord.take_violations()
    assert problem.startswith("OpenAPI POST /channels/{channel_id}/messages")


async def test_missing_allowed_mentions_is_a_violation(fake_discord: FakeDiscord, world: FakeGuild) -> None:
    url = f"{fake_discord.api_base}/channels/{world.channel('general').id}/messages"
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession(headers=headers) as http, http.post(url, json={"content": "x"}) as resp:
        assert resp.status == 200
    [problem] = fake_discord.take_violations()
    assert problem.endswith("message-creating request without allowed_mentions")
    assert fake_discord.mention_log[-1][1] is None


async def test_guild_sync_and_default_permissions(fake_discord: FakeDiscord, world: FakeGuild) -> None:
    client = HarnessBot()
    async with connect_bot(fake_discord, client):

        @client.tree.command(description="Curators only")
        @app_commands.default_permissions(manage_guild=True)
        async def curate(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("curated", ephemeral=True)

        client.tree.copy_global_to(guild=discord.Object(world.id))
        await client.tree.sync(guild=discord.Object(world.id))
        assert {c["name"] for c in fake_discord.guild_commands[world.id]} >= {"ping", "curate"}
        alice = next(m for m in world.members.values() if m.user.username == "alice")
        with pytest.raises(PermissionError):
            await fake_discord.invoke("curate", user=alice)
        assert (await fake_discord.invoke("curate", user=alice, bypass_default_permissions=True)).ephemeral
        assert (await fake_discord.invoke("curate", member_permissions=1 << 5)).content == "curated"


async def test_guild_added_while_connected(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    joined = asyncio.Event()

    async def on_guild_join(guild: discord.Guild) -> None:
        joined.set()

    bot.add_listener(on_guild_join)
    late = fake_discord.add_guild("Late Guild")
    await asyncio.wait_for(joined.wait(), 2)
    assert bot.get_guild(late.id) is not None


def test_channel_permissions_apply_overwrites_as_discord_does() -> None:
    view, send, manage = 1 << 10, 1 << 11, 1 << 4
    fake = FakeDiscord()
    guild = fake.add_guild("Overwrites")
    helpers = guild.add_role("Helpers", permissions=manage)
    admin = guild.add_member("admin", roles=[guild.add_role("Admins", permissions=1 << 3)])
    helper = guild.add_member("helper", roles=[helpers])
    plain = guild.add_member("plain")
    private = guild.add_channel("private")
    private.set_overwrite(guild.everyone, deny=view | send)
    private.set_overwrite(helpers, allow=view)
    assert plain.permissions_in(private) & view == 0
    assert helper.permissions_in(private) & (view | send) == view
    assert helper.permissions_in(private) & manage == manage
    private.set_overwrite(helper, deny=manage, allow=send)  # the member's own overwrite wins
    assert helper.permissions_in(private) & (view | send | manage) == view | send
    assert helper.permissions & manage == manage  # guild-level permissions are unchanged
    assert admin.permissions_in(private) & view == view  # Administrator passes every overwrite
    assert private.to_json()["permission_overwrites"][0] == {
        "id": str(guild.id),
        "type": 0,
        "allow": "0",
        "deny": str(view | send),
    }


async def identify(
    http: aiohttp.ClientSession, fake: FakeDiscord, shard: list[int]
) -> tuple[aiohttp.ClientWebSocketResponse, list[dict[str, object]]]:
    """A raw gateway connection that identifies as ``shard``; returns it and READY + GUILD_CREATEs."""
    ws = await http.ws_connect(fake.gateway_url)
    hello = await ws.receive_json(timeout=5)
    assert hello["op"] == 10
    await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1, "properties": {}, "shard": shard}})
    ready = await ws.receive_json(timeout=5)
    assert ready["t"] == "READY"
    frames = [ready]
    for _ in ready["d"]["guilds"]:
        frames.append(await ws.receive_json(timeout=5))
    return ws, frames


async def test_gateway_shards_like_discord(fake_discord: FakeDiscord) -> None:
    fake_discord.shard_count = 2
    guilds = [fake_discord.add_guild(f"g{i}", shard=(i % 2, 2)) for i in range(4)]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake_discord.api_base}/gateway/bot", headers=auth(fake_discord)) as resp:
            assert (await resp.json())["shards"] == 2
        first, frames = await identify(http, fake_discord, [1, 2])
        assert frames[0]["d"]["shard"] == [1, 2]  # type: ignore[index]
        created = [int(f["d"]["id"]) for f in frames[1:]]  # type: ignore[index]
        assert created == [guilds[1].id, guilds[3].id]  # only shard 1's guilds
        # A guild's events go to its shard's session only.
        zero, _ = await identify(http, fake_discord, [0, 2])
        await fake_discord.dispatch("GUILD_UPDATE", {"id": str(guilds[0].id), "guild_id": str(guilds[0].id)})
        assert (await zero.receive_json(timeout=5))["t"] == "GUILD_UPDATE"
        # A second IDENTIFY for shard 1 takes the session from the first connection.
        second, _ = await identify(http, fake_discord, [1, 2])
        closed = await first.receive(timeout=5)
        assert closed.type is aiohttp.WSMsgType.CLOSE and first.close_code == 4009
        await fake_discord.dispatch("GUILD_UPDATE", {"id": str(guilds[1].id), "guild_id": str(guilds[1].id)})
        assert (await second.receive_json(timeout=5))["t"] == "GUILD_UPDATE"
        for ws in (zero, second):
            await ws.close()
    assert fake_discord.identifies == 3


def auth(fake: FakeDiscord) -> dict[str, str]:
    return {"Authorization": f"Bot {fake.token}"}


def test_fake_knows_discords_locales(shared_dir: Path) -> None:
    spec = json.loads((shared_dir / "discord-api-spec" / "openapi.json").read_text("utf-8"))
    enum = spec["components"]["schemas"]["AvailableLocalesEnum"]["oneOf"]
    assert {entry["const"] for entry in enum} == checks.LOCALES


def test_command_localizations_are_checked() -> None:
    good = {
        "name": "timeline",
        "description": "Events in order",
        "name_localizations": {"ko": "연표", "ja": "年表"},
        "description_localizations": {"ko": "사건을 순서대로", "zh-CN": "按时间顺序的事件"},
        "options": [
            {
                "type": 3,
                "name": "kind",
                "description": "Kind",
                "name_localizations": {"ko": "종류"},
                "choices": [{"name": "Launch", "value": "launch", "name_localizations": {"ko": "발사"}}],
            }
        ],
    }
    assert check_command_definitions([good]) == []
    bad = {
        **good,
        "name_localizations": {"ko": "연 표", "xx": "x"},
        "description_localizations": {"ja": "説" * 101},
        "options": [
            {"type": 3, "name": "a", "description": "A", "name_localizations": {"ko": "같음"}},
            {"type": 3, "name": "b", "description": "B", "name_localizations": {"ko": "같음"}},
        ],
    }
    problems = "\n".join(check_command_definitions([bad]))
    assert "name_localizations['ko']: name must match" in problems
    assert "name_localizations['xx']: not a Discord locale" in problems
    assert "description_localizations['ja']: must be a string of 1-100 characters" in problems
    assert "two options named '같음' in ko" in problems
