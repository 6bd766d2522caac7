"""The world the fake Discord serves: users, guilds, channels, roles, members and messages.

:class:`World` holds the stores, the bot's own identity, the violations recorded by the checks
and the change notification every ``wait_for`` listens to; the gateway, REST and interaction
layers build on it (``gateway.py``, ``rest.py``, ``responses.py``, ``interactions.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .checks import walk_components
from .constants import ADMINISTRATOR, ALL_PERMISSIONS, DISCORD_EPOCH_MS, EPHEMERAL, JSON, LOADING

_counter = itertools.count(1)


def snowflake(shard: tuple[int, int] | None = None) -> int:
    """A Discord-shaped id: current time in the high bits, so ``created_at`` is sane. With
    ``shard=(i, n)``, an id whose guild would be on shard ``i`` of ``n`` (the time moved up to
    ``n - 1`` ms)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    if shard is not None:
        ms += (shard[0] - ms) % shard[1]
    return (ms << 22) | (next(_counter) & 0x3FFFFF)


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).isoformat()


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    #: The Discord client language this user has chosen (sent as an interaction's ``locale``).
    locale: str = "en-US"

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
class FakeOverwrite:
    """A channel permission overwrite for a role (``type`` 0) or a member (``type`` 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_json(self) -> JSON:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class FakeChannel:
    id: int
    name: str
    guild_id: int
    type: int = 0
    position: int = 0
    parent_id: int | None = None
    overwrites: list[FakeOverwrite] = field(default_factory=list)

    def set_overwrite(self, target: FakeRole | FakeMember, *, allow: int = 0, deny: int = 0) -> None:
        """Allow and deny bits for a role or member here (replacing its earlier overwrite).

        A client already connected learns of it only through :meth:`Gateway.set_permissions`."""
        kind = 1 if isinstance(target, FakeMember) else 0
        self.overwrites = [o for o in self.overwrites if o.id != target.id]
        self.overwrites.append(FakeOverwrite(target.id, kind, allow, deny))

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_json() for o in self.overwrites],
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

    def permissions_in(self, channel: FakeChannel) -> int:
        """Permissions in ``channel`` as Discord computes them: the guild-level ones, then the
        channel's overwrites for @everyone, for the member's roles (together), for the member."""
        perms = self.permissions
        if perms & ADMINISTRATOR or self.guild.owner_id == self.user.id:
            return ALL_PERMISSIONS
        by_id = {o.id: o for o in channel.overwrites}
        everyone = by_id.get(self.guild.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        role_ids = {r.id for r in self.roles}
        roles = [o for o in channel.overwrites if o.type == 0 and o.id in role_ids]
        deny = allow = 0
        for o in roles:
            deny |= o.deny
            allow |= o.allow
        perms = (perms & ~deny) | allow
        own = by_id.get(self.user.id)
        if own is not None and own.type == 1:
            perms = (perms & ~own.deny) | own.allow
        return perms

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
    fake: World
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    roles: dict[int, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    #: Its threads (``threads.py``): channels for messages, sent in GUILD_CREATE's ``threads``.
    threads: dict[int, FakeChannel] = field(default_factory=dict)
    #: Permissions the bot holds in this guild (sent as ``app_permissions``).
    bot_permissions: int = ALL_PERMISSIONS & ~ADMINISTRATOR
    #: The server's preferred locale (``preferred_locale``; an interaction's ``guild_locale``).
    locale: str = "en-US"

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
            "preferred_locale": self.locale,
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
            threads=[t.to_json() for t in self.threads.values()],
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
    #: ``message_reference`` (a crosspost copy's: the source message).
    reference: JSON | None = None
    deleted: bool = False
    edits: int = 0
    #: The thread started from this message (as Discord includes it in the message).
    thread: JSON | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    def custom_ids(self) -> list[str]:
        return [str(c["custom_id"]) for c in walk_components(self.components) if "custom_id" in c]

    def find_component(self, custom_id: str) -> JSON | None:
        return next((c for c in walk_components(self.components) if c.get("custom_id") == custom_id), None)

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
            # Kept: the attachments listed by id; new: the files uploaded with this request.
            kept = {str(a.get("id")) for a in payload["attachments"]}
            self.attachments = [a for a in self.attachments if a["id"] in kept]
        self.attachments += list(payload.get("_files") or [])
        self._resolve_attachment_urls()

    def _resolve_attachment_urls(self) -> None:
        """``attachment://name`` in an embed's image or thumbnail becomes that attachment's URL."""
        urls = {a["filename"]: a["url"] for a in self.attachments}
        for embed in self.embeds:
            for key in ("image", "thumbnail"):
                url = (embed.get(key) or {}).get("url", "")
                if url.startswith("attachment://") and url[13:] in urls:
                    embed[key] = {**embed[key], "url": urls[url[13:]], "proxy_url": urls[url[13:]]}

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
        if self.reference is not None:
            data["message_reference"] = self.reference
        if self.thread is not None:
            data["thread"] = self.thread
        if self.interaction_id is not None and self.interaction_user is not None:
            data["interaction_metadata"] = {
                "id": str(self.interaction_id),
                "type": 2,
                "user": self.interaction_user.to_json(),
                "authorizing_integration_owners": {},
            }
        return data


class World:
    """The fake's state: identity, stores, recorded violations and change notification."""

    def __init__(self) -> None:
        self.token = "fake-bot-token"  # noqa: S105 - a fake's token, not a secret
        self.application_id = snowflake()
        self.bot_user = FakeUser(self.application_id, "Peninsula Brief", bot=True)
        self.owner = FakeUser(snowflake(), "owner")
        self.violations: list[str] = []
        self.guilds: dict[int, FakeGuild] = {}
        self.users: dict[int, FakeUser] = {}
        self._channels: dict[int, FakeChannel] = {}
        self._messages: dict[int, FakeMessage] = {}
        self._channel_log: dict[int, list[FakeMessage]] = {}
        self._attachments: dict[int, FakeAttachment] = {}
        self._changed = asyncio.Condition()
        self.port = 0

    # -- where the fake listens ------------------------------------------------------------------

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
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a per-call timeout reads better in tests
        what: str = "condition",
    ) -> None:
        """Wait until ``predicate()`` holds (re-checked on every state change of the fake)."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                raise TimeoutError(f"fake Discord: timed out after {timeout}s waiting for {what}") from None

    # -- world ----------------------------------------------------------------------------------

    def add_user(self, name: str) -> FakeUser:
        user = FakeUser(snowflake(), name)
        self.users[user.id] = user
        return user

    def add_guild(
        self, name: str, *, channels: Sequence[str] = ("general",), shard: tuple[int, int] | None = None
    ) -> FakeGuild:
        """Add a guild with its @everyone role, the bot and its owner as members, and channels;
        with ``shard=(i, n)`` its id puts it on shard ``i`` of ``n``.

        A guild added while a client is connected is sent to its shard's session as GUILD_CREATE.
        """
        gid = snowflake(shard)
        guild = FakeGuild(gid, name, self.owner.id, self)
        guild.roles[gid] = FakeRole(gid, "@everyone", permissions=(1 << 10) | (1 << 11) | (1 << 31))
        guild.add_member(self.owner)
        guild.add_member(self.bot_user)
        for channel in channels:
            guild.add_channel(channel)
        self.guilds[gid] = guild
        self._guild_added(guild)
        return guild

    def _guild_added(self, guild: FakeGuild) -> None:
        """Hook for the gateway: tell a connected client about a new guild."""

    def channel_messages(self, channel_id: int) -> list[FakeMessage]:
        """Messages in a channel, oldest first (not deleted, not ephemeral)."""
        return [m for m in self._channel_log.get(channel_id, []) if not m.deleted and not m.ephemeral]

    def message(self, message_id: int) -> FakeMessage:
        return self._messages[message_id]

    def _store(self, msg: FakeMessage) -> None:
        self._messages[msg.id] = msg
        self._channel_log.setdefault(msg.channel_id, []).append(msg)
