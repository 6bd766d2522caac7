"""A local fake Discord (REST + gateway) that the real discord.py client talks to.

The fake is an aiohttp application bound to ``127.0.0.1`` on a free port. It serves the REST
routes a bot uses (login, application info, command sync, interaction callbacks and webhooks,
channel messages) under ``fake.api_base`` and a gateway websocket at ``fake.gateway_url``
(HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, sequence numbers, RESUME → replay + RESUMED).
It checks what it receives the way Discord does and records every breach in
``fake.violations``; a test fails on any of them through the ``fake_discord`` fixture
(``tests/e2e/conftest.py``), which calls :meth:`FakeDiscord.assert_no_violations` at teardown.

Getting a connected bot::

    async def test_something(fake_discord: FakeDiscord) -> None:
        guild = fake_discord.add_guild("Pyongyang Watchers")
        alice = guild.add_member("alice", roles=[guild.add_role("curator", permissions=0)])
        bot = make_bot()                              # any discord.Client / commands.Bot
        async with connect_bot(fake_discord, bot):    # endpoints set, started, ready
            await bot.tree.sync()                     # PUT validated
            result = await fake_discord.invoke("ping", guild=guild, user=alice)
            assert result.content == "pong" and not result.ephemeral

Driving API (all ``async`` unless noted):

* World (sync): ``add_guild(name, *, channels=("general",), shard=None) -> FakeGuild`` (with
  ``shard=(i, n)`` the guild is on shard ``i`` of ``n``);
  ``FakeGuild.add_channel(name, *, type=0)``, ``add_role(name, *, permissions=0)``,
  ``add_member(name_or_user, *, roles=(), owner=False)``; ``fake.add_user(name)``;
  ``FakeChannel.set_overwrite(role_or_member, *, allow=0, deny=0)`` before a client connects, or
  ``await fake.set_permissions(channel, role_or_member, allow=..., deny=...)`` (CHANNEL_UPDATE)
  after. Interactions carry the member's permissions *in the channel* (overwrites applied), as
  Discord sends them; ``FakeMember.permissions`` is the guild-level set.
* ``invoke(name, options=None, *, subcommand=None, guild=None, channel=None, user=None,
  member_permissions=None, bypass_default_permissions=False, timeout=5.0) -> InteractionResult``
  — type 2; options are typed from the *synced* definition (3 str, 4 int, 5 bool, 6 user,
  7 channel, 8 role, 9 mentionable, 10 number, 11 attachment via :class:`FakeAttachment`) with
  ``resolved`` filled in; ``subcommand`` is ``"sub"`` or ``"group sub"``. Waits for the
  callback and, after a defer (type 5/6), for the original-response edit or a followup.
* ``autocomplete(name, focused, value, options=None, *, subcommand=None, ...) -> list[dict]``
  (type 4; returns the choices of the type 8 callback).
* ``press(message, custom_id, *, user=None, values=None, ...) -> InteractionResult`` (type 3).
* ``submit_modal(result, values, *, user=None, ...) -> InteractionResult`` (type 5) for a
  modal opened by a type 9 callback (``result.modal``).
* ``dispatch(event, data)`` sends any gateway event (to the session of its guild's shard);
  ``drop_gateway(code=4000, shard_id=0)`` closes a shard's socket (the client resumes);
  ``wait_resumed(count)``. Sharding: ``shard_count`` (what ``GET /gateway/bot`` recommends),
  ``sessions`` (the live session of each shard id), ``identify_payloads``; a second IDENTIFY for
  a shard takes its session from the first connection, as on Discord.
* Stores: ``channel_messages(channel_id) -> list[FakeMessage]``, ``message(id)``,
  ``global_commands`` / ``guild_commands[guild_id]``, ``requests`` (:class:`RequestRecord`
  with monotonic timestamps), ``mention_log`` (route, ``allowed_mentions``) and
  ``FakeMessage.allowed_mentions`` for "parse is empty / only this role" assertions.
* Announcement channels (``add_channel(name, type=5)``): crossposts (10 per hour per channel,
  ``crosspost_limit`` / ``crosspost_window``), followers (``followers_of(channel)``) and the copies
  a crosspost makes in every follower channel (``copies_of(message_id)``); see
  :mod:`testing.fake_discord.announcements`.
* Faults: ``fail_channel(channel_id, status=403|404)``, ``fail_next(count, status=500,
  method=None, path=None)``, ``set_delay(seconds, method=None, path=None)``,
  ``clear_faults()``; rate limits per :class:`RateLimitConfig` (global 50/s, 5 messages per
  5 s per channel) answered with Discord's 429 body and headers; ``rate_limited`` counts 429s
  by scope.
* Threads and forums (``threads.py``): ``add_forum(guild, name, tags=(...))`` (type 15 with
  ``available_tags``), ``await add_thread(channel, name)`` (a public thread, announced by
  THREAD_CREATE), ``threads_of(parent_id)``, ``thread(id)``; the routes start a thread from a
  message (once: 160004 after), make a forum post with its tags, and list a guild's active
  threads; a thread takes messages like any channel.
* Channel webhooks (``webhooks.py``): ``webhooks_of(channel_id)``, ``delete_webhook(id)`` (as a
  member would; its URLs then answer 10015 Unknown Webhook); create, list, delete, execute with
  ``username``/``avatar_url`` (into a thread with ``thread_id``, into a forum as a post with
  ``thread_name``), edit and delete its messages; ``lose_next_response(count, method=, path=)``
  lets matching requests take effect and answers them 500, as a lost response.
* Checks: ``violations``, ``take_violations()``, ``assert_no_violations()``; the checkers
  ``check_command_definitions``, ``check_message_payload``, ``check_autocomplete_choices`` are
  plain functions usable on their own. Request bodies of command PUT, interaction callback,
  original edit, followup and channel message create are also validated against Discord's
  OpenAPI description when it is present (:mod:`testing.fake_discord.openapi`).

The modules, each one layer on the one before: ``constants`` and ``checks`` (Discord's limits,
pure functions), ``openapi`` (request bodies against the OpenAPI description), ``world`` (users,
guilds, channels, roles, members, messages; violations and waiting), ``gateway`` (the websocket
session), ``rest`` (routing, auth, faults, rate limits, commands, channels, guilds),
``responses`` (interaction callbacks, original response, followups), ``announcements``
(crossposts and followers), ``interactions`` (driving the bot as a user), ``threads`` (threads and
forums), ``webhooks`` (channel webhooks) and ``server`` (:class:`FakeDiscord` on a port,
:func:`connect_bot`).
"""

from .announcements import FakeWebhook
from .checks import check_autocomplete_choices, check_command_definitions, check_message_payload
from .interactions import InteractionResult
from .openapi import OpenAPIChecker, load_default
from .rest import RateLimitConfig, RequestRecord
from .server import FakeDiscord, connect_bot
from .threads import FakeForum, FakeThread
from .webhooks import FakeChannelWebhook
from .world import (
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeOverwrite,
    FakeRole,
    FakeUser,
)

__all__ = [
    "FakeAttachment",
    "FakeChannel",
    "FakeChannelWebhook",
    "FakeDiscord",
    "FakeForum",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeOverwrite",
    "FakeRole",
    "FakeThread",
    "FakeUser",
    "FakeWebhook",
    "InteractionResult",
    "OpenAPIChecker",
    "RateLimitConfig",
    "RequestRecord",
    "check_autocomplete_choices",
    "check_command_definitions",
    "check_message_payload",
    "connect_bot",
    "load_default",
]
