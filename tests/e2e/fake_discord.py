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

* World (sync): ``add_guild(name, *, channels=("general",)) -> FakeGuild``;
  ``FakeGuild.add_channel(name, *, type=0)``, ``add_role(name, *, permissions=0)``,
  ``add_member(name_or_user, *, roles=(), owner=False)``; ``fake.add_user(name)``.
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
* ``dispatch(event, data)`` sends any gateway event; ``drop_gateway(code=4000)`` closes the
  socket (the client resumes); ``wait_resumed(count)``.
* Stores: ``channel_messages(channel_id) -> list[FakeMessage]``, ``message(id)``,
  ``global_commands`` / ``guild_commands[guild_id]``, ``requests`` (:class:`RequestRecord`
  with monotonic timestamps), ``mention_log`` (route, ``allowed_mentions``) and
  ``FakeMessage.allowed_mentions`` for "parse is empty / only this role" assertions.
* Faults: ``fail_channel(channel_id, status=403|404)``, ``fail_next(count, status=500,
  method=None, path=None)``, ``set_delay(seconds, method=None, path=None)``,
  ``clear_faults()``; rate limits per :class:`RateLimitConfig` (global 50/s, 5 messages per
  5 s per channel) answered with Discord's 429 body and headers; ``rate_limited`` counts 429s
  by scope.
* Checks: ``violations``, ``take_violations()``, ``assert_no_violations()``; the checkers
  ``check_command_definitions``, ``check_message_payload``, ``check_autocomplete_choices`` are
  plain functions usable on their own. Request bodies of command PUT, interaction callback,
  original edit, followup and channel message create are also validated against Discord's
  OpenAPI description when it is present (:mod:`tests.e2e.openapi_check`).
"""

# The driving API takes per-call ``timeout`` arguments on purpose: tests read better that way.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
import socket
import time
import unicodedata
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .openapi_check import OpenAPIChecker, load_default

if TYPE_CHECKING:
    import discord

__all__ = [
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "InteractionResult",
    "RateLimitConfig",
    "RequestRecord",
    "check_autocomplete_choices",
    "check_command_definitions",
    "check_message_payload",
    "connect_bot",
]

JSON = dict[str, Any]
DISCORD_EPOCH_MS = 1_420_070_400_000
ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 51) - 1
EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_COMPONENTS_V2 = 1 << 15
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)

# ---------------------------------------------------------------------------------------------
# Limit checkers (pure functions; each returns a list of violation strings)
# ---------------------------------------------------------------------------------------------


def _valid_chat_input_name(name: Any) -> bool:
    # ^[-_\p{L}\p{N}]{1,32}$ without the third-party ``regex`` module: the same classes by
    # Unicode general category.
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return False
    ok = all(c in "-_" or unicodedata.category(c)[0] in "LN" for c in name)
    return ok and name == name.lower()


def _check_text(value: Any, where: str, lo: int, hi: int) -> list[str]:
    if not isinstance(value, str) or not lo <= len(value) <= hi:
        shown = value if not isinstance(value, str) else f"{len(value)} chars"
        return [f"{where}: must be a string of {lo}-{hi} characters (got {shown!r})"]
    return []


def _check_choices(choices: Any, where: str) -> list[str]:
    if not isinstance(choices, list):
        return [f"{where}: choices must be a list"]
    out: list[str] = []
    if len(choices) > 25:
        out.append(f"{where}: {len(choices)} choices (max 25)")
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict):
            out.append(f"{where}.choices[{i}]: not an object")
            continue
        out += _check_text(choice.get("name"), f"{where}.choices[{i}].name", 1, 100)
        value = choice.get("value")
        if isinstance(value, str) and len(value) > 100:
            out.append(f"{where}.choices[{i}].value: {len(value)} chars (max 100)")
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            out.append(f"{where}.choices[{i}].value: must be a string or number")
    return out


def _check_options(options: Any, where: str, depth: int) -> list[str]:
    if options is None:
        return []
    if not isinstance(options, list):
        return [f"{where}.options: must be a list"]
    out: list[str] = []
    if len(options) > 25:
        out.append(f"{where}: {len(options)} options (max 25)")
    kinds = {opt.get("type") for opt in options if isinstance(opt, dict)}
    if kinds & {1, 2} and kinds - {1, 2}:
        out.append(f"{where}: subcommands cannot be mixed with other options")
    seen: set[str] = set()
    optional_seen = False
    for i, opt in enumerate(options):
        here = f"{where}.options[{i}]"
        if not isinstance(opt, dict):
            out.append(f"{here}: not an object")
            continue
        name, kind = opt.get("name"), opt.get("type")
        here = f"{where} option {name!r}"
        if not _valid_chat_input_name(name):
            out.append(f"{here}: name must match ^[-_\\p{{L}}\\p{{N}}]{{1,32}}$ in lower case")
        if name in seen:
            out.append(f"{here}: duplicate option name")
        seen.add(str(name))
        out += _check_text(opt.get("description"), f"{here}.description", 1, 100)
        if kind not in range(1, 12):
            out.append(f"{here}: unknown option type {kind!r}")
            continue
        if kind in (1, 2):
            if opt.get("required"):
                out.append(f"{here}: subcommands cannot be required")
            if kind == 2:
                if depth > 0:
                    out.append(f"{here}: subcommand groups cannot be nested")
                subs = opt.get("options") or []
                if any(isinstance(s, dict) and s.get("type") != 1 for s in subs):
                    out.append(f"{here}: a subcommand group may only contain subcommands")
                out += _check_options(subs, here, depth + 1)
            else:
                subs = opt.get("options") or []
                if any(isinstance(s, dict) and s.get("type") in (1, 2) for s in subs):
                    out.append(f"{here}: a subcommand cannot contain subcommands")
                out += _check_options(subs, here, depth + 1)
            continue
        if opt.get("required"):
            if optional_seen:
                out.append(f"{here}: required options must come before optional ones")
        else:
            optional_seen = True
        if "choices" in opt and opt["choices"] is not None:
            if kind not in (3, 4, 10):
                out.append(f"{here}: choices only on string, integer and number options")
            if opt.get("autocomplete"):
                out.append(f"{here}: autocomplete cannot be combined with choices")
            out += _check_choices(opt["choices"], here)
        if opt.get("autocomplete") and kind not in (3, 4, 10):
            out.append(f"{here}: autocomplete only on string, integer and number options")
    return out


def check_command_definitions(commands: Any) -> list[str]:
    """Check a bulk-overwrite body (a list of command definitions) against Discord's rules."""
    if not isinstance(commands, list):
        return ["commands: body must be a JSON array"]
    out: list[str] = []
    if len(commands) > 100:
        out.append(f"commands: {len(commands)} chat input commands (max 100)")
    seen: set[tuple[Any, Any]] = set()
    for i, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            out.append(f"commands[{i}]: not an object")
            continue
        kind = cmd.get("type", 1)
        name = cmd.get("name")
        where = f"command {name!r}"
        if (kind, name) in seen:
            out.append(f"{where}: duplicate name")
        seen.add((kind, name))
        if kind == 1:
            if not _valid_chat_input_name(name):
                out.append(f"{where}: name must match ^[-_\\p{{L}}\\p{{N}}]{{1,32}}$ in lower case")
            out += _check_text(cmd.get("description"), f"{where}.description", 1, 100)
            out += _check_options(cmd.get("options"), where, 0)
        else:
            out += _check_text(name, f"{where}.name", 1, 32)
            if cmd.get("description") not in ("", None):
                out.append(f"{where}: user/message commands take an empty description")
            if cmd.get("options"):
                out.append(f"{where}: user/message commands take no options")
    return out


def _embed_chars(embed: Mapping[str, Any]) -> int:
    total = len(str(embed.get("title") or "")) + len(str(embed.get("description") or ""))
    for fld in embed.get("fields") or []:
        if isinstance(fld, dict):
            total += len(str(fld.get("name") or "")) + len(str(fld.get("value") or ""))
    total += len(str((embed.get("footer") or {}).get("text") or ""))
    total += len(str((embed.get("author") or {}).get("name") or ""))
    return total


def _check_embed(embed: Any, where: str) -> list[str]:
    if not isinstance(embed, dict):
        return [f"{where}: not an object"]
    out: list[str] = []
    limits = (("title", 256), ("description", 4096))
    for key, hi in limits:
        if key in embed and embed[key] is not None and len(str(embed[key])) > hi:
            out.append(f"{where}.{key}: {len(str(embed[key]))} chars (max {hi})")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        out.append(f"{where}: {len(fields)} fields (max 25)")
    for j, fld in enumerate(fields):
        name, value = str(fld.get("name") or ""), str(fld.get("value") or "")
        if not 1 <= len(name) <= 256:
            out.append(f"{where}.fields[{j}].name: {len(name)} chars (1-256)")
        if not 1 <= len(value) <= 1024:
            out.append(f"{where}.fields[{j}].value: {len(value)} chars (1-1024)")
    footer = str((embed.get("footer") or {}).get("text") or "")
    if len(footer) > 2048:
        out.append(f"{where}.footer.text: {len(footer)} chars (max 2048)")
    author = str((embed.get("author") or {}).get("name") or "")
    if len(author) > 256:
        out.append(f"{where}.author.name: {len(author)} chars (max 256)")
    total = _embed_chars(embed)
    if total > 6000:
        out.append(f"{where}: {total} characters in total (max 6000)")
    return out


def _walk_components(components: Iterable[Any]) -> Iterable[JSON]:
    for comp in components:
        if isinstance(comp, dict):
            yield comp
            yield from _walk_components(comp.get("components") or [])
            if isinstance(comp.get("component"), dict):
                yield from _walk_components([comp["component"]])
            if isinstance(comp.get("accessory"), dict):
                yield from _walk_components([comp["accessory"]])


def _check_components(components: Any, flags: int, where: str) -> list[str]:
    if not isinstance(components, list):
        return [f"{where}.components: must be a list"]
    out: list[str] = []
    if not flags & IS_COMPONENTS_V2:
        if len(components) > 5:
            out.append(f"{where}: {len(components)} action rows (max 5)")
        for i, row in enumerate(components):
            if not isinstance(row, dict) or row.get("type") != 1:
                out.append(f"{where}.components[{i}]: top-level components must be action rows")
                continue
            children = row.get("components") or []
            buttons = [c for c in children if c.get("type") == 2]
            selects = [c for c in children if c.get("type") in (3, 5, 6, 7, 8)]
            if len(buttons) > 5:
                out.append(f"{where}.components[{i}]: {len(buttons)} buttons (max 5 per row)")
            if selects and len(children) > 1:
                out.append(f"{where}.components[{i}]: a select menu must be alone in its row")
            if not children:
                out.append(f"{where}.components[{i}]: empty action row")
    for comp in _walk_components(components):
        custom_id = comp.get("custom_id")
        if custom_id is not None and not 1 <= len(str(custom_id)) <= 100:
            out.append(
                f"{where}: custom_id {str(custom_id)[:20]!r}... is {len(str(custom_id))} chars (1-100)"
            )
        if comp.get("type") == 2 and comp.get("style") != 5 and comp.get("style") != 6 and not custom_id:
            out.append(f"{where}: a non-link button needs a custom_id")
        if comp.get("type") == 2 and len(str(comp.get("label") or "")) > 80:
            out.append(f"{where}: button label over 80 chars")
    return out


def check_message_payload(payload: Any, where: str = "message", *, partial: bool = False) -> list[str]:
    """Check a message body (create, edit, interaction response data) against Discord's limits.

    ``partial`` (edits) allows a body with nothing to show; a create needs content, embeds,
    components, attachments or a sticker.
    """
    if not isinstance(payload, dict):
        return [f"{where}: body must be an object"]
    out: list[str] = []
    content = payload.get("content")
    if content is not None and len(str(content)) > 2000:
        out.append(f"{where}.content: {len(str(content))} chars (max 2000)")
    embeds = payload.get("embeds")
    if embeds is not None:
        if len(embeds) > 10:
            out.append(f"{where}: {len(embeds)} embeds (max 10)")
        for i, embed in enumerate(embeds):
            out += _check_embed(embed, f"{where}.embeds[{i}]")
        total = sum(_embed_chars(e) for e in embeds if isinstance(e, dict))
        if total > 6000:
            out.append(f"{where}: {total} embed characters across the message (max 6000)")
    flags = int(payload.get("flags") or 0)
    if payload.get("components") is not None:
        out += _check_components(payload["components"], flags, where)
    if not partial and not flags & IS_COMPONENTS_V2:
        has_body = any(
            payload.get(k) for k in ("content", "embeds", "components", "sticker_ids", "attachments")
        )
        if not has_body and not payload.get("poll"):
            out.append(f"{where}: cannot send an empty message")
    return out


def check_autocomplete_choices(choices: Any) -> list[str]:
    """Check the choices of an autocomplete (type 8) answer."""
    return _check_choices(choices, "autocomplete")


# ---------------------------------------------------------------------------------------------
# World model
# ---------------------------------------------------------------------------------------------

_counter = itertools.count(1)


def snowflake() -> int:
    """A Discord-shaped id: current time in the high bits, so ``created_at`` is sane."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) & 0x3FFFFF)


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).isoformat()


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    def to_json(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 0

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class FakeChannel:
    id: int
    name: str
    guild_id: int
    type: int = 0
    position: int = 0
    parent_id: int | None = None

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }


@dataclass
class FakeMember:
    user: FakeUser
    guild: FakeGuild
    roles: list[FakeRole] = field(default_factory=list)
    nick: str | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def permissions(self) -> int:
        """Guild-level permissions: @everyone plus the member's roles; owner/admin get all."""
        if self.guild.owner_id == self.user.id:
            return ALL_PERMISSIONS
        perms = self.guild.everyone.permissions
        for role in self.roles:
            perms |= role.permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def to_json(self, *, with_user: bool = True, permissions: int | None = None) -> JSON:
        data: JSON = {
            "roles": [str(r.id) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "joined_at": _iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_json()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    fake: FakeDiscord
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    roles: dict[int, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    #: Permissions the bot holds in this guild (sent as ``app_permissions``).
    bot_permissions: int = ALL_PERMISSIONS & ~ADMINISTRATOR

    @property
    def everyone(self) -> FakeRole:
        return self.roles[self.id]

    def add_channel(self, name: str, *, type: int = 0) -> FakeChannel:
        channel = FakeChannel(snowflake(), name, self.id, type, position=len(self.channels))
        self.channels[channel.id] = channel
        self.fake._channels[channel.id] = channel
        return channel

    def add_role(self, name: str, *, permissions: int = 0) -> FakeRole:
        role = FakeRole(snowflake(), name, permissions, position=len(self.roles))
        self.roles[role.id] = role
        return role

    def add_member(
        self, user: str | FakeUser, *, roles: Sequence[FakeRole] = (), owner: bool = False
    ) -> FakeMember:
        if isinstance(user, str):
            user = self.fake.add_user(user)
        member = FakeMember(user, self, list(roles))
        self.members[user.id] = member
        if owner:
            self.owner_id = user.id
        return member

    def channel(self, name: str) -> FakeChannel:
        return next(c for c in self.channels.values() if c.name == name)

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [r.to_json() for r in self.roles.values()],
            "max_members": 500000,
        }

    def create_payload(self) -> JSON:
        data = self.to_json()
        data.update(
            unavailable=False,
            large=False,
            joined_at=_iso(),
            member_count=len(self.members),
            members=[m.to_json() for m in self.members.values()],
            channels=[c.to_json() for c in self.channels.values()],
            threads=[],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return data


@dataclass
class FakeAttachment:
    """An uploaded file for an attachment (type 11) option; served by the fake at ``url``."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    id: int = field(default_factory=snowflake)
    url: str = ""

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.content),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
            "ephemeral": True,
        }


@dataclass
class FakeMessage:
    """A stored message; edits mutate it in place, so a held reference stays current."""

    id: int
    channel_id: int
    guild_id: int | None
    author: JSON
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: JSON | None = None
    nonce: str | int | None = None
    attachments: list[JSON] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    edited_at: float | None = None
    interaction_id: int | None = None
    interaction_user: FakeUser | None = None
    webhook_id: int | None = None
    deleted: bool = False
    edits: int = 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    def custom_ids(self) -> list[str]:
        return [str(c["custom_id"]) for c in _walk_components(self.components) if "custom_id" in c]

    def find_component(self, custom_id: str) -> JSON | None:
        return next((c for c in _walk_components(self.components) if c.get("custom_id") == custom_id), None)

    def apply(self, payload: Mapping[str, Any]) -> None:
        """Apply a create/edit body (only the keys present change, as on Discord)."""
        if "content" in payload:
            self.content = payload["content"] or ""
        if "embeds" in payload:
            self.embeds = list(payload["embeds"] or [])
        if "components" in payload:
            self.components = list(payload["components"] or [])
        if "flags" in payload and payload["flags"] is not None:
            self.flags = (self.flags & (EPHEMERAL | LOADING)) | int(payload["flags"])
        if "allowed_mentions" in payload:
            self.allowed_mentions = payload["allowed_mentions"]
        if "attachments" in payload and payload["attachments"] is not None:
            self.attachments = list(payload["attachments"])

    def to_json(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author,
            "content": self.content,
            "timestamp": _iso(self.created_at),
            "edited_timestamp": _iso(self.edited_at) if self.edited_at else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self.attachments,
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "type": 20 if self.interaction_id else 0,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.interaction_id is not None and self.interaction_user is not None:
            data["interaction_metadata"] = {
                "id": str(self.interaction_id),
                "type": 2,
                "user": self.interaction_user.to_json(),
                "authorizing_integration_owners": {},
            }
        return data


@dataclass
class RequestRecord:
    at: float  # time.monotonic()
    method: str
    path: str  # relative to the API base, e.g. /channels/1/messages
    query: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class RateLimitConfig:
    enabled: bool = True
    global_per_second: int = 50
    channel_messages: int = 5
    channel_window: float = 5.0


@dataclass
class _Interaction:
    id: int
    token: str
    type: int
    user: FakeUser
    guild_id: int | None
    channel_id: int
    dispatched_at: float
    source_message: FakeMessage | None = None
    callback_type: int | None = None
    callback: JSON | None = None
    callback_at: float | None = None
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    edits_after_defer: int = 0


@dataclass
class InteractionResult:
    """What the bot did with one interaction. ``message`` is live (later edits show)."""

    interaction_id: int
    callback_type: int
    callback: JSON
    latency: float
    message: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    choices: list[JSON] = field(default_factory=list)
    modal: JSON | None = None
    _token: str = ""

    @property
    def content(self) -> str:
        return self.message.content if self.message else ""

    @property
    def embeds(self) -> list[JSON]:
        return self.message.embeds if self.message else []

    @property
    def components(self) -> list[JSON]:
        return self.message.components if self.message else []

    @property
    def flags(self) -> int:
        return self.message.flags if self.message else 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)


# ---------------------------------------------------------------------------------------------
# Gateway session
# ---------------------------------------------------------------------------------------------


@dataclass
class _Session:
    id: str
    seq: int = 0
    events: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=5000))
    ws: web.WebSocketResponse | None = None


def _json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # discord.py parses JSON only when Content-Type is exactly application/json (no charset).
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=hdrs)


def _form_error(problems: list[str]) -> web.Response:
    errors = [{"code": "BASE_TYPE_INVALID", "message": p} for p in problems]
    return _json_response({"message": "Invalid Form Body", "code": 50035, "errors": {"_errors": errors}}, 400)


def _error(status: int, code: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return _json_response({"message": message, "code": code}, status, headers)


Handler = Callable[[web.Request, "re.Match[str]", Any], Awaitable[web.Response]]


class FakeDiscord:
    """The fake; use ``async with FakeDiscord() as fake`` or ``await start()`` / ``close()``."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",  # noqa: S107 - a fake's token, not a secret
        rate_limits: RateLimitConfig | None = None,
        response_deadline: float = 3.0,
        heartbeat_interval: float = 41.25,
        nonce_window: float = 300.0,
        openapi: OpenAPIChecker | bool | None = True,
    ) -> None:
        self.token = token
        self.rate_limits = rate_limits or RateLimitConfig()
        self.response_deadline = response_deadline
        self.heartbeat_interval = heartbeat_interval
        self.nonce_window = nonce_window
        self.openapi: OpenAPIChecker | None = load_default() if openapi is True else (openapi or None)
        self.application_id = snowflake()
        self.bot_user = FakeUser(self.application_id, "Peninsula Brief", bot=True)
        self.owner = FakeUser(snowflake(), "owner")

        self.violations: list[str] = []
        self.requests: list[RequestRecord] = []
        self.mention_log: list[tuple[str, JSON | None]] = []
        self.rate_limited: Counter[str] = Counter()
        self.guilds: dict[int, FakeGuild] = {}
        self.users: dict[int, FakeUser] = {}
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.gateway_connects: list[str] = []  # path of each websocket connection
        self.identifies = 0
        self.resumes = 0
        self.heartbeats = 0
        self.identify_payloads: list[JSON] = []

        self._channels: dict[int, FakeChannel] = {}
        self._messages: dict[int, FakeMessage] = {}
        self._channel_log: dict[int, list[FakeMessage]] = {}
        self._nonces: dict[tuple[int, str], tuple[float, FakeMessage]] = {}
        self._interactions: dict[int, _Interaction] = {}
        self._by_token: dict[str, _Interaction] = {}
        self._attachments: dict[int, FakeAttachment] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._session: _Session | None = None
        self._changed = asyncio.Condition()
        self._global_window: deque[float] = deque()
        self._channel_windows: dict[int, deque[float]] = {}
        self._channel_faults: dict[int, int] = {}
        self._fail_next: list[list[Any]] = []  # [remaining, status, method, path-regex]
        self._delays: list[tuple[float, str | None, re.Pattern[str] | None]] = []
        self._runner: web.AppRunner | None = None
        self._ws_tasks: set[web.WebSocketResponse] = set()
        self._background: set[asyncio.Task[int]] = set()
        self.port = 0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = self._route_table()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway-resume", self._gateway)
        app.router.add_get("/attachments/{id}/{filename}", self._serve_attachment)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        # Bind first so the free port is known before the site starts.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        for ws in list(self._ws_tasks):
            await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway-resume"

    # -- violations and waiting --------------------------------------------------------------

    def violation(self, message: str) -> None:
        self.violations.append(message)

    def take_violations(self) -> list[str]:
        """Return and clear the recorded violations (for tests that provoke them on purpose)."""
        taken, self.violations = self.violations, []
        return taken

    def assert_no_violations(self) -> None:
        if self.violations:
            raise AssertionError("fake Discord recorded violations:\n  " + "\n  ".join(self.violations))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` holds (re-checked on every state change of the fake)."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                raise TimeoutError(f"fake Discord: timed out after {timeout}s waiting for {what}") from None

    async def wait_ready(self, timeout: float = 5.0) -> None:
        """Wait until a client has identified and received READY and its guilds."""
        await self.wait_for(lambda: self.identifies > 0, timeout, "IDENTIFY")

    async def wait_resumed(self, count: int = 1, timeout: float = 5.0) -> None:
        await self.wait_for(lambda: self.resumes >= count, timeout, f"RESUME #{count}")

    # -- world ----------------------------------------------------------------------------------

    def add_user(self, name: str) -> FakeUser:
        user = FakeUser(snowflake(), name)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, channels: Sequence[str] = ("general",)) -> FakeGuild:
        """Add a guild with its @everyone role, the bot and its owner as members, and channels.

        A guild added while a client is connected is sent to it as GUILD_CREATE.
        """
        gid = snowflake()
        guild = FakeGuild(gid, name, self.owner.id, self)
        guild.roles[gid] = FakeRole(gid, "@everyone", permissions=(1 << 10) | (1 << 11) | (1 << 31))
        guild.add_member(self.owner)
        guild.add_member(self.bot_user)
        for channel in channels:
            guild.add_channel(channel)
        self.guilds[gid] = guild
        if self._session is not None and self._session.ws is not None:
            payload = guild.create_payload()
            del payload["unavailable"]  # absent on a join, as Discord sends it (→ on_guild_join)
            task = asyncio.get_running_loop().create_task(self.dispatch("GUILD_CREATE", payload))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return guild

    def channel_messages(self, channel_id: int) -> list[FakeMessage]:
        """Messages in a channel, oldest first (not deleted, not ephemeral)."""
        return [m for m in self._channel_log.get(channel_id, []) if not m.deleted and not m.ephemeral]

    def message(self, message_id: int) -> FakeMessage:
        return self._messages[message_id]

    # -- faults --------------------------------------------------------------------------------

    def fail_channel(self, channel_id: int, status: int | None = 403) -> None:
        """Make message create/edit in a channel answer 403 (50013) or 404 (10003); None heals."""
        if status is None:
            self._channel_faults.pop(channel_id, None)
        elif status in (403, 404):
            self._channel_faults[channel_id] = status
        else:
            raise ValueError("status must be 403, 404 or None")

    def fail_next(
        self, count: int, status: int = 500, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next ``count`` matching REST requests with ``status`` (a 5xx burst)."""
        self._fail_next.append([count, status, method, re.compile(path) if path else None])

    def set_delay(self, seconds: float, *, method: str | None = None, path: str | None = None) -> None:
        """Delay matching REST responses by ``seconds``."""
        self._delays.append((seconds, method, re.compile(path) if path else None))

    def clear_faults(self) -> None:
        self._channel_faults.clear()
        self._fail_next.clear()
        self._delays.clear()

    # -- gateway ---------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: JSON) -> int:
        """Send a DISPATCH event (buffered for replay if the client is disconnected)."""
        session = self._session
        if session is None:
            raise RuntimeError("no gateway session: connect a bot first")
        session.seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": session.seq, "d": data})
        session.events.append((session.seq, frame))
        if session.ws is not None and not session.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await session.ws.send_str(frame)
        return session.seq

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the client's websocket with a resumable code; events are buffered meanwhile."""
        session = self._session
        if session is None or session.ws is None:
            raise RuntimeError("no connected gateway session")
        ws, session.ws = session.ws, None
        await ws.close(code=code, message=b"dropped by test")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=1.0, autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.gateway_connects.append(request.path)
        self._ws_tasks.add(ws)
        # Text frames: discord.py asks for zlib-stream but reads TEXT frames as plain JSON.
        await ws.send_str(
            json.dumps({"op": 10, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}})
        )
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                await self._gateway_frame(ws, frame)
        finally:
            self._ws_tasks.discard(ws)
            if self._session is not None and self._session.ws is ws:
                self._session.ws = None
            await self._notify()
        return ws

    async def _gateway_frame(self, ws: web.WebSocketResponse, frame: JSON) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            self.heartbeats += 1
            await ws.send_str(json.dumps({"op": 11}))
        elif op == 2:
            await self._identify(ws, data or {})
        elif op == 6:
            await self._resume(ws, data or {})
        elif op in (3, 4, 8):
            pass  # presence, voice state, request guild members: accepted, ignored
        else:
            await ws.close(code=4001, message=b"Unknown opcode")

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> None:
        self.identify_payloads.append(data)
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed")
            return
        if int(data.get("intents") or 0) & PRIVILEGED_INTENTS:
            await ws.close(code=4014, message=b"Disallowed intent(s)")
            return
        session = _Session(secrets.token_hex(16), ws=ws)
        self._session = session
        ready = {
            "v": 10,
            "user": self.bot_user.to_json(),
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "shard": [0, 1],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "geo_ordered_rtc_regions": [],
        }
        await self.dispatch("READY", ready)
        for guild in self.guilds.values():
            await self.dispatch("GUILD_CREATE", guild.create_payload())
        self.identifies += 1
        await self._notify()

    async def _resume(self, ws: web.WebSocketResponse, data: JSON) -> None:
        session = self._session
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed")
            return
        if session is None or data.get("session_id") != session.id:
            await ws.send_str(json.dumps({"op": 9, "d": False}))
            return
        since = int(data.get("seq") or 0)
        session.ws = ws
        for seq, frame in list(session.events):
            if seq > since:
                await ws.send_str(frame)
        session.seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}}))
        self.resumes += 1
        await self._notify()

    # -- REST plumbing -------------------------------------------------------------------------

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"/gateway", self._get_gateway),
            ("GET", r"/gateway/bot", self._get_gateway),
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/applications/(?P<app>\d+)/commands", self._get_commands),
            ("PUT", r"/applications/(?P<app>\d+)/commands", self._put_commands),
            ("GET", r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands", self._get_commands),
            ("PUT", r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands", self._put_commands),
            ("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", self._callback),
            (
                "GET",
                r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                self._get_webhook_msg,
            ),
            (
                "PATCH",
                r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                self._edit_webhook_msg,
            ),
            (
                "DELETE",
                r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                self._delete_webhook_msg,
            ),
            ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._followup),
            ("GET", r"/channels/(?P<cid>\d+)", self._get_channel),
            ("GET", r"/channels/(?P<cid>\d+)/messages", self._list_messages),
            ("POST", r"/channels/(?P<cid>\d+)/messages", self._create_message),
            ("GET", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._get_message),
            ("PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._edit_message),
            ("DELETE", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._delete_message),
            ("GET", r"/guilds/(?P<guild>\d+)", self._get_guild),
            ("GET", r"/guilds/(?P<guild>\d+)/channels", self._get_guild_channels),
            ("GET", r"/guilds/(?P<guild>\d+)/roles", self._get_guild_roles),
            ("GET", r"/guilds/(?P<guild>\d+)/members/(?P<user>\d+)", self._get_guild_member),
        ]
        return [(m, re.compile(f"^{p}$"), h) for m, p, h in table]

    async def _read_body(self, request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type == "multipart/form-data":
            form = await request.post()
            payload = form.get("payload_json")
            body: Any = json.loads(str(payload)) if payload is not None else {}
            files = [k for k in form if k.startswith("files[")]
            if isinstance(body, dict) and files:
                body.setdefault("_files", files)
            return body
        raw = await request.read()
        if not raw:
            return None
        if request.content_type != "application/json":
            self.violation(
                f"{request.method} {request.path}: body sent as {request.content_type!r}, not JSON"
            )
        try:
            return json.loads(raw)
        except ValueError:
            self.violation(f"{request.method} {request.path}: body is not valid JSON")
            return None

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await self._read_body(request)
        record = RequestRecord(time.monotonic(), request.method, path, dict(request.query), body)
        self.requests.append(record)
        response = await self._rest_inner(request, path, body)
        record.status = response.status
        await self._notify()
        return response

    def _matches(
        self, method: str | None, pattern: re.Pattern[str] | None, req_method: str, path: str
    ) -> bool:
        return (method is None or method == req_method) and (pattern is None or bool(pattern.search(path)))

    async def _rest_inner(self, request: web.Request, path: str, body: Any) -> web.Response:
        for seconds, method, pattern in self._delays:
            if self._matches(method, pattern, request.method, path):
                await asyncio.sleep(seconds)
        for entry in self._fail_next:
            if entry[0] > 0 and self._matches(entry[2], entry[3], request.method, path):
                entry[0] -= 1
                return _error(entry[1], 0, f"{entry[1]}: injected server error")
        token_route = path.startswith(("/interactions/", "/webhooks/"))
        if not token_route and request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        if not token_route:
            limited = self._global_limit()
            if limited is not None:
                return limited
        for method, pattern, handler in self._routes:
            match = pattern.match(path)
            if match and method == request.method:
                return await handler(request, match, body)
        self.violation(f"unhandled route {request.method} {path} (the fake does not implement it)")
        return _error(404, 0, "404: Not Found")

    def _validate_openapi(self, method: str, path: str, body: Any) -> None:
        if self.openapi is not None and body is not None:
            clean = {k: v for k, v in body.items() if k != "_files"} if isinstance(body, dict) else body
            for err in self.openapi.validate(method, path, clean):
                self.violation(err)

    # -- rate limits -----------------------------------------------------------------------------

    def _ratelimit_429(
        self, scope: str, retry_after: float, limit: int, bucket: str, is_global: bool
    ) -> web.Response:
        self.rate_limited[scope] += 1
        retry_after = round(max(retry_after, 0.001), 3)
        headers = {
            "Retry-After": str(max(1, int(retry_after + 0.999))),
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",  # without it discord.py takes a 429 for a Cloudflare ban
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
            "code": 0,
        }
        return _json_response(body, 429, headers)

    def _global_limit(self) -> web.Response | None:
        if not self.rate_limits.enabled:
            return None
        now = time.monotonic()
        window = self._global_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.rate_limits.global_per_second:
            return self._ratelimit_429(
                "global", window[0] + 1.0 - now, self.rate_limits.global_per_second, "global", True
            )
        window.append(now)
        return None

    def _channel_limit(self, channel_id: int) -> tuple[web.Response | None, dict[str, str]]:
        cfg = self.rate_limits
        if not cfg.enabled:
            return None, {}
        now = time.monotonic()
        window = self._channel_windows.setdefault(channel_id, deque())
        while window and window[0] <= now - cfg.channel_window:
            window.popleft()
        bucket = "fake-message-create"
        if len(window) >= cfg.channel_messages:
            retry = window[0] + cfg.channel_window - now
            return self._ratelimit_429("user", retry, cfg.channel_messages, bucket, False), {}
        window.append(now)
        reset_after = window[0] + cfg.channel_window - now
        headers = {
            "X-RateLimit-Limit": str(cfg.channel_messages),
            "X-RateLimit-Remaining": str(cfg.channel_messages - len(window)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }
        return None, headers

    # -- REST handlers: identity and commands ---------------------------------------------------

    async def _get_gateway(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        data: JSON = {"url": self.gateway_url}
        if m.re.pattern.endswith("bot$"):
            data["shards"] = 1
            data["session_start_limit"] = {
                "total": 1000,
                "remaining": 999,
                "reset_after": 0,
                "max_concurrency": 1,
            }
        return _json_response(data)

    async def _get_me(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        data = self.bot_user.to_json()
        data.update(verified=True, mfa_enabled=False, flags=0)
        return _json_response(data)

    async def _get_application(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        return _json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": self.owner.to_json(),
                "team": None,
                "interactions_endpoint_url": None,
                "bot": self.bot_user.to_json(),
            }
        )

    def _commands_for(self, guild: str | None) -> list[JSON]:
        return self.global_commands if guild is None else self.guild_commands.get(int(guild), [])

    async def _get_commands(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        return _json_response(self._commands_for(m.groupdict().get("guild")))

    async def _put_commands(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        if m["app"] != str(self.application_id):
            self.violation(f"command sync for unknown application {m['app']}")
            return _error(403, 50001, "Missing Access")
        path = request.match_info["tail"]
        self._validate_openapi("PUT", "/" + path, body)
        problems = check_command_definitions(body)
        if problems:
            self.violations.extend(problems)
            return _form_error(problems)
        guild = m.groupdict().get("guild")
        gid = int(guild) if guild else None
        stored: list[JSON] = []
        for cmd in body:
            key = (gid, int(cmd.get("type", 1)), cmd["name"])
            cid = self._command_ids.setdefault(key, snowflake())
            out = dict(cmd)
            out.setdefault("type", 1)
            out.setdefault("description", "")
            out.setdefault("options", [])
            if out.get("default_member_permissions") is not None:
                out["default_member_permissions"] = str(out["default_member_permissions"])
            out.update(id=str(cid), application_id=str(self.application_id), version=str(snowflake()))
            if gid is not None:
                out["guild_id"] = str(gid)
            stored.append(out)
        if gid is None:
            self.global_commands = stored
        else:
            self.guild_commands[gid] = stored
        return _json_response(stored)

    # -- REST handlers: interactions ----------------------------------------------------------

    def _check_mentions(self, route: str, payload: Any) -> None:
        if not isinstance(payload, dict):
            return
        if "allowed_mentions" not in payload:
            self.violation(f"{route}: message-creating request without allowed_mentions")
        self.mention_log.append((route, payload.get("allowed_mentions")))

    def _new_message(self, inter: _Interaction, data: JSON, flags: int = 0) -> FakeMessage:
        msg = FakeMessage(
            id=snowflake(),
            channel_id=inter.channel_id,
            guild_id=inter.guild_id,
            author=self.bot_user.to_json(),
            flags=flags,
            interaction_id=inter.id,
            interaction_user=inter.user,
            webhook_id=self.application_id,
        )
        msg.apply(data)
        self._store(msg)
        return msg

    def _store(self, msg: FakeMessage) -> None:
        self._messages[msg.id] = msg
        self._channel_log.setdefault(msg.channel_id, []).append(msg)

    async def _callback(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        path = "/" + request.match_info["tail"]
        self._validate_openapi("POST", path, body)
        inter = self._interactions.get(int(m["iid"]))
        if inter is None or inter.token != m["token"]:
            self.violation(f"callback for unknown interaction {m['iid']}")
            return _error(404, 10062, "Unknown interaction")
        now = time.monotonic()
        if inter.callback_type is not None:
            self.violation(f"interaction {inter.id} answered more than once")
            return _error(400, 40060, "Interaction has already been acknowledged.")
        elapsed = now - inter.dispatched_at
        if elapsed > self.response_deadline:
            self.violation(
                f"interaction {inter.id} answered after {elapsed:.2f}s (deadline {self.response_deadline}s)"
            )
            return _error(404, 10062, "Unknown interaction")
        if not isinstance(body, dict) or not isinstance(body.get("type"), int):
            self.violation(f"interaction {inter.id}: callback body without a type")
            return _error(400, 50035, "Invalid Form Body")
        ctype: int = body["type"]
        data: JSON = body.get("data") or {}
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(inter.type, set())
        if ctype not in allowed:
            self.violation(f"interaction {inter.id} (type {inter.type}): callback type {ctype} not allowed")
            return _error(400, 50035, "Invalid Form Body")
        where = f"interaction callback type {ctype}"
        message: FakeMessage | None = None
        if ctype in (4, 7):
            self.violations.extend(check_message_payload(data, where, partial=ctype == 7))
            self._check_mentions(where, data)
        if ctype == 4:
            message = self._new_message(
                inter, data, int(data.get("flags") or 0) & (EPHEMERAL | IS_COMPONENTS_V2)
            )
            inter.original = message
        elif ctype == 5:
            message = self._new_message(inter, {}, LOADING | (int(data.get("flags") or 0) & EPHEMERAL))
            inter.original = message
        elif ctype in (6, 7):
            message = inter.source_message
            if message is None:
                self.violation(f"interaction {inter.id}: update callback without a source message")
                return _error(400, 50035, "Invalid Form Body")
            inter.original = message
            if ctype == 7:
                message.apply(data)
                message.edited_at = time.time()
                message.edits += 1
        elif ctype == 8:
            self.violations.extend(check_autocomplete_choices(data.get("choices")))
        elif ctype == 9:
            title = str(data.get("title") or "")
            if not 1 <= len(title) <= 45:
                self.violation(f"modal title must be 1-45 characters (got {len(title)})")
            if not 1 <= len(str(data.get("custom_id") or "")) <= 100:
                self.violation("modal custom_id must be 1-100 characters")
            if not 1 <= len(data.get("components") or []) <= 5:
                self.violation("a modal needs 1-5 components")
        inter.callback_type, inter.callback, inter.callback_at = ctype, body, now
        await self._notify()
        if request.query.get("with_response") in ("1", "true", "True"):
            resp: JSON = {
                "interaction": {
                    "id": str(inter.id),
                    "type": inter.type,
                    "response_message_loading": ctype == 5,
                    "response_message_ephemeral": bool(message and message.ephemeral),
                }
            }
            if message is not None:
                resp["interaction"]["response_message_id"] = str(message.id)
                resp["resource"] = {"type": ctype, "message": message.to_json()}
            return _json_response(resp)
        return web.Response(status=204)

    def _interaction_for_token(self, m: re.Match[str]) -> _Interaction | None:
        inter = self._by_token.get(m["token"])
        if inter is None or m["app"] != str(self.application_id):
            self.violation(f"webhook request for unknown interaction token (app {m['app']})")
            return None
        return inter

    def _webhook_target(self, inter: _Interaction, mid: str) -> FakeMessage | None:
        if mid == "@original":
            return inter.original
        msg = self._messages.get(int(mid))
        return msg if msg is not None and msg.interaction_id == inter.id else None

    async def _get_webhook_msg(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        inter = self._interaction_for_token(m)
        target = self._webhook_target(inter, m["mid"]) if inter else None
        if target is None or target.deleted:
            return _error(404, 10008, "Unknown Message")
        return _json_response(target.to_json())

    async def _edit_webhook_msg(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        inter = self._interaction_for_token(m)
        if inter is None:
            return _error(404, 10015, "Unknown Webhook")
        path = "/" + request.match_info["tail"]
        if m["mid"] == "@original":
            if inter.callback_type is None:
                self.violation(f"interaction {inter.id}: original response edited before any callback")
                return _error(404, 10008, "Unknown Message")
            self._validate_openapi("PATCH", path, body)
            self._check_mentions("original response edit", body)
        target = self._webhook_target(inter, m["mid"])
        if target is None or target.deleted:
            return _error(404, 10008, "Unknown Message")
        self.violations.extend(check_message_payload(body, "webhook message edit", partial=True))
        target.apply(body or {})
        target.flags &= ~LOADING
        target.edited_at = time.time()
        target.edits += 1
        if m["mid"] == "@original":
            inter.edits_after_defer += 1
        await self._notify()
        return _json_response(target.to_json())

    async def _delete_webhook_msg(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        inter = self._interaction_for_token(m)
        target = self._webhook_target(inter, m["mid"]) if inter else None
        if target is None or target.deleted:
            return _error(404, 10008, "Unknown Message")
        target.deleted = True
        await self._notify()
        return web.Response(status=204)

    async def _followup(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        inter = self._interaction_for_token(m)
        if inter is None:
            return _error(404, 10015, "Unknown Webhook")
        if inter.callback_type is None:
            self.violation(f"interaction {inter.id}: followup sent before the interaction was answered")
            return _error(404, 10015, "Unknown Webhook")
        self._validate_openapi("POST", "/" + request.match_info["tail"], body)
        self.violations.extend(check_message_payload(body, "followup"))
        self._check_mentions("followup", body)
        payload: JSON = body or {}
        flags = int(payload.get("flags") or 0) & (EPHEMERAL | IS_COMPONENTS_V2)
        if inter.callback_type == 5 and inter.original is not None and inter.original.flags & LOADING:
            # The first followup after a deferred response replaces the "thinking" message.
            msg = inter.original
            msg.apply(payload)
            msg.flags &= ~LOADING
        else:
            msg = self._new_message(inter, payload, flags)
        inter.followups.append(msg)
        await self._notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return _json_response(msg.to_json())
        return web.Response(status=204)

    # -- REST handlers: channels and guilds ------------------------------------------------------

    def _channel_or_404(self, cid: str) -> FakeChannel | web.Response:
        channel = self._channels.get(int(cid))
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        return channel

    async def _get_channel(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        channel = self._channel_or_404(m["cid"])
        return channel if isinstance(channel, web.Response) else _json_response(channel.to_json())

    async def _list_messages(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        channel = self._channel_or_404(m["cid"])
        if isinstance(channel, web.Response):
            return channel
        limit = min(int(request.query.get("limit", "50")), 100)
        newest_first = list(reversed(self.channel_messages(channel.id)))[:limit]
        return _json_response([msg.to_json() for msg in newest_first])

    def _channel_fault(self, channel_id: int) -> web.Response | None:
        status = self._channel_faults.get(channel_id)
        if status == 403:
            return _error(403, 50013, "Missing Permissions")
        if status == 404:
            return _error(404, 10003, "Unknown Channel")
        return None

    async def _create_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        self._validate_openapi("POST", "/" + request.match_info["tail"], body)
        channel = self._channel_or_404(m["cid"])
        if isinstance(channel, web.Response):
            return channel
        fault = self._channel_fault(channel.id)
        if fault is not None:
            return fault
        limited, headers = self._channel_limit(channel.id)
        if limited is not None:
            return limited
        payload: JSON = body if isinstance(body, dict) else {}
        problems = check_message_payload(payload, f"channel {channel.id} message")
        self.violations.extend(problems)
        self._check_mentions(f"channel {channel.id} message create", payload)
        if problems:
            return _form_error(problems)
        nonce = payload.get("nonce")
        if nonce is not None and (isinstance(nonce, bool) or (isinstance(nonce, str) and len(nonce) > 25)):
            self.violation(
                f"channel {channel.id} message: nonce must be an integer or a string of at most 25 chars"
            )
        if payload.get("enforce_nonce") and nonce is None:
            self.violation(f"channel {channel.id} message: enforce_nonce without a nonce")
        key = (self.bot_user.id, str(nonce))
        now = time.monotonic()
        if nonce is not None and payload.get("enforce_nonce"):
            hit = self._nonces.get(key)
            if hit is not None and now - hit[0] <= self.nonce_window:
                return _json_response(hit[1].to_json(), 200, headers)
        msg = FakeMessage(
            id=snowflake(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=self.bot_user.to_json(),
            nonce=nonce,
        )
        msg.apply(payload)
        self._store(msg)
        if nonce is not None:
            self._nonces[key] = (now, msg)
        return _json_response(msg.to_json(), 200, headers)

    def _channel_message(self, m: re.Match[str]) -> FakeMessage | web.Response:
        channel = self._channel_or_404(m["cid"])
        if isinstance(channel, web.Response):
            return channel
        msg = self._messages.get(int(m["mid"]))
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            return _error(404, 10008, "Unknown Message")
        return msg

    async def _get_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        msg = self._channel_message(m)
        return msg if isinstance(msg, web.Response) else _json_response(msg.to_json())

    async def _edit_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        msg = self._channel_message(m)
        if isinstance(msg, web.Response):
            return msg
        fault = self._channel_fault(msg.channel_id)
        if fault is not None:
            return fault
        if msg.author.get("id") != str(self.bot_user.id):
            return _error(403, 50005, "Cannot edit a message authored by another user")
        problems = check_message_payload(body, f"channel {msg.channel_id} message edit", partial=True)
        self.violations.extend(problems)
        if problems:
            return _form_error(problems)
        msg.apply(body or {})
        msg.edited_at = time.time()
        msg.edits += 1
        return _json_response(msg.to_json())

    async def _delete_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        msg = self._channel_message(m)
        if isinstance(msg, web.Response):
            return msg
        msg.deleted = True
        return web.Response(status=204)

    def _guild_or_404(self, gid: str) -> FakeGuild | web.Response:
        guild = self.guilds.get(int(gid))
        return guild if guild is not None else _error(404, 10004, "Unknown Guild")

    async def _get_guild(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        guild = self._guild_or_404(m["guild"])
        return guild if isinstance(guild, web.Response) else _json_response(guild.to_json())

    async def _get_guild_channels(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        guild = self._guild_or_404(m["guild"])
        if isinstance(guild, web.Response):
            return guild
        return _json_response([c.to_json() for c in guild.channels.values()])

    async def _get_guild_roles(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        guild = self._guild_or_404(m["guild"])
        if isinstance(guild, web.Response):
            return guild
        return _json_response([r.to_json() for r in guild.roles.values()])

    async def _get_guild_member(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        guild = self._guild_or_404(m["guild"])
        if isinstance(guild, web.Response):
            return guild
        member = guild.members.get(int(m["user"]))
        if member is None:
            return _error(404, 10007, "Unknown Member")
        return _json_response(member.to_json())

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        attachment = self._attachments.get(int(request.match_info["id"]))
        if attachment is None:
            return web.Response(status=404)
        return web.Response(body=attachment.content, headers={"Content-Type": attachment.content_type})

    # -- driving interactions ---------------------------------------------------------------------

    def _find_command(self, name: str, guild: FakeGuild | None, kind: int = 1) -> JSON:
        pools = ([self.guild_commands.get(guild.id, [])] if guild else []) + [self.global_commands]
        for pool in pools:
            for cmd in pool:
                if cmd["name"] == name and cmd.get("type", 1) == kind:
                    return cmd
        raise LookupError(f"command /{name} is not registered (did the bot sync its tree?)")

    def _context(
        self, guild: FakeGuild | None, channel: FakeChannel | None, user: FakeUser | FakeMember | None
    ) -> tuple[FakeGuild, FakeChannel, FakeMember]:
        if guild is None:
            if len(self.guilds) != 1:
                raise ValueError("pass guild= (the fake has more than one guild, or none)")
            guild = next(iter(self.guilds.values()))
        if channel is None:
            channel = next(c for c in guild.channels.values() if c.type == 0)
        if user is None:
            member = guild.members[guild.owner_id]
        elif isinstance(user, FakeMember):
            member = user
        else:
            member = guild.members.get(user.id) or guild.add_member(user)
        return guild, channel, member

    def _base_payload(
        self,
        kind: int,
        guild: FakeGuild,
        channel: FakeChannel,
        member: FakeMember,
        member_permissions: int | None,
    ) -> tuple[_Interaction, JSON]:
        iid = snowflake()
        token = f"aW50ZXJhY3Rpb246{iid}:{secrets.token_urlsafe(24)}"
        perms = member.permissions if member_permissions is None else member_permissions
        channel_json = channel.to_json()
        channel_json["permissions"] = str(perms)
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel.id),
            "channel": channel_json,
            "member": member.to_json(permissions=perms),
            "app_permissions": str(guild.bot_permissions),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        inter = _Interaction(iid, token, kind, member.user, guild.id, channel.id, 0.0)
        return inter, payload

    def _option_value(self, opt: JSON, value: Any, guild: FakeGuild, resolved: JSON) -> Any:
        kind = opt["type"]
        if kind == 3:
            return str(value)
        if kind == 4:
            return int(value)
        if kind == 5:
            return bool(value)
        if kind == 10:
            return float(value)
        if kind in (6, 9) and isinstance(value, (FakeUser, FakeMember)):
            member = value if isinstance(value, FakeMember) else guild.members.get(value.id)
            user = value.user if isinstance(value, FakeMember) else value
            resolved.setdefault("users", {})[str(user.id)] = user.to_json()
            if member is not None:
                perms = member.permissions
                resolved.setdefault("members", {})[str(user.id)] = member.to_json(
                    with_user=False, permissions=perms
                )
            return str(user.id)
        if kind in (8, 9) and isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.to_json()
            return str(value.id)
        if kind == 7 and isinstance(value, FakeChannel):
            data = value.to_json()
            data["permissions"] = str(guild.bot_permissions)
            resolved.setdefault("channels", {})[str(value.id)] = data
            return str(value.id)
        if kind == 11 and isinstance(value, FakeAttachment):
            value.url = f"{self.base_url}/attachments/{value.id}/{value.filename}"
            self._attachments[value.id] = value
            resolved.setdefault("attachments", {})[str(value.id)] = value.to_json()
            return str(value.id)
        raise TypeError(f"option {opt['name']!r} (type {kind}) cannot take {value!r}")

    def _build_options(
        self,
        definition: JSON,
        options: Mapping[str, Any],
        subcommand: str | None,
        guild: FakeGuild,
        resolved: JSON,
        focused: str | None = None,
    ) -> list[JSON]:
        path = subcommand.split() if subcommand else []
        level: list[JSON] = definition.get("options") or []
        chain: list[JSON] = []
        for part in path:
            node = next((o for o in level if o["name"] == part and o["type"] in (1, 2)), None)
            if node is None:
                raise LookupError(f"/{definition['name']} has no subcommand {part!r}")
            chain.append({"type": node["type"], "name": part, "options": []})
            level = node.get("options") or []
        if any(o["type"] in (1, 2) for o in level):
            raise ValueError(f"/{definition['name']} needs subcommand= (one of {[o['name'] for o in level]})")
        built: list[JSON] = []
        for name, value in options.items():
            opt = next((o for o in level if o["name"] == name), None)
            if opt is None:
                raise LookupError(f"/{definition['name']} {subcommand or ''} has no option {name!r}")
            if name == focused:
                built.append({"name": name, "type": opt["type"], "value": str(value), "focused": True})
            else:
                built.append(
                    {
                        "name": name,
                        "type": opt["type"],
                        "value": self._option_value(opt, value, guild, resolved),
                    }
                )
        if focused is None:
            missing = [o["name"] for o in level if o.get("required") and o["name"] not in options]
            if missing:
                raise ValueError(f"missing required option(s) {missing} (Discord would not send this)")
        if not chain:
            return built
        chain[-1]["options"] = built
        for outer, inner in zip(chain[-2::-1], chain[:0:-1], strict=True):
            outer["options"] = [inner]
        return [chain[0]]

    async def _send_interaction(self, inter: _Interaction, payload: JSON) -> None:
        self._interactions[inter.id] = inter
        self._by_token[inter.token] = inter
        inter.dispatched_at = time.monotonic()
        await self.dispatch("INTERACTION_CREATE", payload)

    async def _outcome(self, inter: _Interaction, timeout: float) -> InteractionResult:
        try:
            await self.wait_for(
                lambda: inter.callback_type is not None, timeout, f"a callback to interaction {inter.id}"
            )
        except TimeoutError:
            self.violation(f"interaction {inter.id} was never answered")
            raise
        if inter.callback_type in (5, 6):
            await self.wait_for(
                lambda: inter.edits_after_defer > 0 or bool(inter.followups),
                timeout,
                f"the response after deferring interaction {inter.id}",
            )
        assert inter.callback is not None
        assert inter.callback_type is not None
        assert inter.callback_at is not None
        data = inter.callback.get("data") or {}
        message = inter.original
        if inter.callback_type == 5 and inter.followups and inter.edits_after_defer == 0:
            message = inter.followups[0]
        return InteractionResult(
            interaction_id=inter.id,
            callback_type=inter.callback_type,
            callback=inter.callback,
            latency=inter.callback_at - inter.dispatched_at,
            message=message,
            followups=inter.followups,
            choices=list(data.get("choices") or []) if inter.callback_type == 8 else [],
            modal=data if inter.callback_type == 9 else None,
            _token=inter.token,
        )

    async def invoke(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
        user: FakeUser | FakeMember | None = None,
        member_permissions: int | None = None,
        bypass_default_permissions: bool = False,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Run a slash command as ``user`` and return what the bot answered."""
        guild, channel, member = self._context(guild, channel, user)
        definition = self._find_command(name, guild)
        perms = member.permissions if member_permissions is None else member_permissions
        required = definition.get("default_member_permissions")
        hidden = required is not None and int(required) & perms != int(required)
        if hidden and not bypass_default_permissions and not perms & ADMINISTRATOR:
            raise PermissionError(f"Discord hides /{name} from this member (default_member_permissions)")
        inter, payload = self._base_payload(2, guild, channel, member, member_permissions)
        resolved: JSON = {}
        data: JSON = {
            "id": definition["id"],
            "name": name,
            "type": 1,
            "options": self._build_options(definition, options or {}, subcommand, guild, resolved),
        }
        if resolved:
            data["resolved"] = resolved
        if definition.get("guild_id"):
            data["guild_id"] = definition["guild_id"]
        payload["data"] = data
        await self._send_interaction(inter, payload)
        return await self._outcome(inter, timeout)

    async def autocomplete(
        self,
        name: str,
        focused: str,
        value: str,
        options: Mapping[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
        user: FakeUser | FakeMember | None = None,
        timeout: float = 5.0,
    ) -> list[JSON]:
        """Type into option ``focused`` and return the bot's autocomplete choices."""
        guild, channel, member = self._context(guild, channel, user)
        definition = self._find_command(name, guild)
        inter, payload = self._base_payload(4, guild, channel, member, None)
        resolved: JSON = {}
        merged = {**(options or {}), focused: value}
        payload["data"] = {
            "id": definition["id"],
            "name": name,
            "type": 1,
            "options": self._build_options(definition, merged, subcommand, guild, resolved, focused=focused),
        }
        await self._send_interaction(inter, payload)
        return (await self._outcome(inter, timeout)).choices

    async def press(
        self,
        message: FakeMessage | InteractionResult,
        custom_id: str,
        *,
        user: FakeUser | FakeMember | None = None,
        values: Sequence[str] | None = None,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Click a button (or choose ``values`` in a select) on a message the bot sent."""
        if isinstance(message, InteractionResult):
            if message.message is None:
                raise ValueError("that interaction produced no message")
            message = message.message
        component = message.find_component(custom_id)
        if component is None:
            raise LookupError(f"no component {custom_id!r} on message {message.id}: {message.custom_ids()}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; Discord would not send the click")
        guild = self.guilds.get(message.guild_id or 0)
        channel = self._channels.get(message.channel_id)
        guild, channel, member = self._context(guild, channel, user)
        inter, payload = self._base_payload(3, guild, channel, member, None)
        inter.source_message = message
        data: JSON = {"custom_id": custom_id, "component_type": component["type"]}
        if "id" in component:
            data["id"] = component["id"]
        if component["type"] != 2:
            data["values"] = list(values or [])
        payload["data"] = data
        payload["message"] = message.to_json()
        await self._send_interaction(inter, payload)
        return await self._outcome(inter, timeout)

    async def submit_modal(
        self,
        opened: InteractionResult,
        values: Mapping[str, str | Sequence[str]],
        *,
        user: FakeUser | FakeMember | None = None,
        timeout: float = 5.0,
    ) -> InteractionResult:
        """Fill in and submit the modal that ``opened`` (a type 9 result) showed."""
        modal = opened.modal
        if modal is None:
            raise ValueError("that interaction did not open a modal")
        source = self._interactions[opened.interaction_id]
        guild = self.guilds.get(source.guild_id or 0)
        channel = self._channels.get(source.channel_id)
        guild, channel, member = self._context(guild, channel, user or source.user)

        def fill(comp: JSON) -> JSON:
            kind = comp.get("type")
            if kind == 1:
                return {"type": 1, "components": [fill(c) for c in comp.get("components") or []]}
            if kind == 18:
                return {"type": 18, "id": comp.get("id", 0), "component": fill(comp["component"])}
            out: JSON = {"type": kind, "custom_id": comp.get("custom_id")}
            if "id" in comp:
                out["id"] = comp["id"]
            value = values.get(str(comp.get("custom_id")), comp.get("value", ""))
            if kind == 4:
                out["value"] = value if isinstance(value, str) else ",".join(value)
            else:
                out["values"] = [value] if isinstance(value, str) else list(value)
            return out

        inter, payload = self._base_payload(5, guild, channel, member, None)
        inter.source_message = source.original if source.type == 3 else None
        payload["data"] = {
            "custom_id": modal["custom_id"],
            "components": [fill(c) for c in modal["components"]],
        }
        if source.type == 3 and source.source_message is not None:
            inter.source_message = source.source_message
            payload["message"] = source.source_message.to_json()
        await self._send_interaction(inter, payload)
        return await self._outcome(inter, timeout)


@contextlib.asynccontextmanager
async def connect_bot(
    fake: FakeDiscord, bot: discord.Client, *, ready_timeout: float = 5.0, guild_ready_timeout: float = 0.05
) -> AsyncIterator[discord.Client]:
    """Point discord.py at ``fake``, start ``bot`` and wait until it is ready; close it after.

    discord.py waits ``guild_ready_timeout`` (2 s by default) after the last GUILD_CREATE before
    READY fires; the fake sends every guild at once, so a short wait keeps tests fast.
    """
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    from bot.discord_endpoints import configure_endpoints

    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    configure_endpoints(fake.api_base, fake.gateway_url)
    bot._connection.guild_ready_timeout = guild_ready_timeout
    task = asyncio.create_task(bot.start(fake.token), name="fake-discord-bot")
    try:
        # Polled: wait_until_ready() refuses to run before login has set the client up.
        deadline = time.monotonic() + ready_timeout
        while not bot.is_ready():
            if task.done():
                task.result()  # re-raise the start-up error
                raise RuntimeError("bot stopped before it was ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"bot was not ready within {ready_timeout}s")
            await asyncio.sleep(0.005)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5.0)
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved
