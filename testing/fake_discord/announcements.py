"""Announcement channels (type 5): crossposts, channel followers and the copies they receive.

As on Discord:

* ``POST /channels/{id}/messages/{mid}/crosspost`` publishes a message of an announcement channel
  to every channel following it: the bot's own message needs Send Messages there, another's
  Manage Messages. A channel takes ``crosspost_limit`` crossposts per ``crosspost_window``
  seconds (10 an hour); beyond it the answer is a 429 with Discord's body (``retry_after``) and
  headers. A message crossposted already is refused (400, code 40033); so is a message of a
  channel that is not an announcement channel (400, code 50024).
* ``POST /channels/{id}/followers`` (body ``webhook_channel_id``, validated against the OpenAPI
  description) makes the target channel follow an announcement channel: the bot needs Manage
  Webhooks in the target; the answer is ``{channel_id, webhook_id}`` and the target holds a
  channel-follower webhook (type 2), listed by ``GET /channels/{id}/webhooks`` (Manage Webhooks
  too). Following a channel the target already follows returns the webhook it has.
* On crosspost, the source message gets the CROSSPOSTED flag and every follower channel a copy:
  author and ``webhook_id`` are the follower webhook's, flag IS_CROSSPOST, and a
  ``message_reference`` to the source message. Editing the source edits the copies; deleting it
  deletes them.

Driving (sync): ``follow(source, target)`` (as a member's "Follow" button), ``followers_of(channel)``
(the webhooks following it), ``copies_of(message_id)`` (the copies of a crossposted message, not
deleted), ``crossposts`` (message ids crossposted, in order), and ``crosspost_limit`` /
``crosspost_window`` to shorten the limit in a test.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .constants import JSON
from .rest import Handler, Rest, error_response, json_response
from .world import FakeChannel, FakeMessage, snowflake

__all__ = [
    "ANNOUNCEMENT",
    "CROSSPOSTED",
    "IS_CROSSPOST",
    "Announcements",
    "FakeWebhook",
]

ANNOUNCEMENT = 5  # GUILD_ANNOUNCEMENT (discord.py's "news")
CROSSPOSTED = 1 << 0
IS_CROSSPOST = 1 << 1
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
MANAGE_WEBHOOKS = 1 << 29
VIEW_CHANNEL = 1 << 10


@dataclass
class FakeWebhook:
    """A channel-follower webhook (type 2): ``channel_id`` follows ``source_channel_id``."""

    id: int
    channel_id: int
    guild_id: int
    source_channel_id: int
    source_guild_id: int
    name: str
    source_channel_name: str = ""
    source_guild_name: str = ""

    def to_json(self, creator: JSON) -> JSON:
        return {
            "id": str(self.id),
            "type": 2,
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id),
            "name": self.name,
            "avatar": None,
            "application_id": None,
            "user": {**creator, "flags": 0, "primary_guild": None},
            "source_guild": {"id": str(self.source_guild_id), "name": self.source_guild_name, "icon": None},
            "source_channel": {"id": str(self.source_channel_id), "name": self.source_channel_name},
        }


class Announcements(Rest):
    """Crosspost and follower routes, and the copies they make (a layer over the REST routes)."""

    def __init__(self) -> None:
        super().__init__()
        self.crosspost_limit = 10
        self.crosspost_window = 3600.0
        self.crossposts: list[int] = []
        self._followers: dict[int, list[FakeWebhook]] = {}
        self._copies: dict[int, list[int]] = {}
        self._crosspost_windows: dict[int, deque[float]] = {}

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        return [
            *super()._route_table(),
            ("POST", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/crosspost", self._crosspost),
            ("POST", r"/channels/(?P<cid>\d+)/followers", self._follow),
            ("GET", r"/channels/(?P<cid>\d+)/webhooks", self._channel_webhooks),
        ]

    # -- driving ---------------------------------------------------------------------------------

    def followers_of(self, channel: FakeChannel | int) -> list[FakeWebhook]:
        cid = channel if isinstance(channel, int) else channel.id
        return list(self._followers.get(cid, []))

    def follow(self, source: FakeChannel, target: FakeChannel) -> FakeWebhook:
        """Make ``target`` follow ``source`` (as a member's "Follow" button does); the webhook it
        already has when it follows it already."""
        hooks = self._followers.setdefault(source.id, [])
        hook = next((h for h in hooks if h.channel_id == target.id), None)
        if hook is None:
            source_guild = self.guilds[source.guild_id]
            hook = FakeWebhook(
                snowflake(),
                target.id,
                target.guild_id,
                source.id,
                source.guild_id,
                f"{source_guild.name} #{source.name}",
                source.name,
                source_guild.name,
            )
            hooks.append(hook)
        return hook

    def copies_of(self, message_id: int) -> list[FakeMessage]:
        copies = (self._messages[i] for i in self._copies.get(message_id, []))
        return [m for m in copies if not m.deleted]

    # -- permissions -----------------------------------------------------------------------------

    def _bot_permissions_in(self, channel: FakeChannel) -> int:
        guild = self.guilds[channel.guild_id]
        member = guild.members.get(self.bot_user.id)
        return member.permissions_in(channel) if member is not None else 0

    def _missing(self, channel: FakeChannel, *bits: int) -> web.Response | None:
        perms = self._bot_permissions_in(channel)
        if not perms & VIEW_CHANNEL:
            return error_response(403, 50001, "Missing Access")
        if any(not perms & bit for bit in bits):
            return error_response(403, 50013, "Missing Permissions")
        return None

    # -- crosspost -------------------------------------------------------------------------------

    def _crosspost_limited(self, channel_id: int) -> web.Response | None:
        now = time.monotonic()
        window = self._crosspost_windows.setdefault(channel_id, deque())
        while window and window[0] <= now - self.crosspost_window:
            window.popleft()
        if self.rate_limits.enabled and len(window) >= self.crosspost_limit:
            retry = window[0] + self.crosspost_window - now
            return self._ratelimit_429("user", retry, self.crosspost_limit, "fake-crosspost", False)
        window.append(now)
        return None

    async def _crosspost(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        msg = self._channel_message(m)
        if isinstance(msg, web.Response):
            return msg
        channel = self._channels[msg.channel_id]
        own = msg.author.get("id") == str(self.bot_user.id)
        refused = self._missing(channel, SEND_MESSAGES if own else MANAGE_MESSAGES)
        if refused is not None:
            return refused
        if channel.type != ANNOUNCEMENT:
            return error_response(400, 50024, "Cannot execute action on this channel type")
        if msg.flags & CROSSPOSTED:
            return error_response(400, 40033, "This message has already been crossposted")
        limited = self._crosspost_limited(channel.id)
        if limited is not None:
            return limited
        msg.flags |= CROSSPOSTED
        self.crossposts.append(msg.id)
        for hook in self._followers.get(channel.id, []):
            self._copy(msg, hook)
        return json_response(msg.to_json())

    def _copy(self, source: FakeMessage, hook: FakeWebhook) -> None:
        author = {
            "id": str(hook.id),
            "username": f"{hook.source_guild_name} #{hook.source_channel_name}",
            "discriminator": "0000",
            "avatar": None,
            "bot": True,
        }
        copy = FakeMessage(
            id=snowflake(),
            channel_id=hook.channel_id,
            guild_id=hook.guild_id,
            author=author,
            webhook_id=hook.id,
        )
        copy.apply({"content": source.content, "embeds": source.embeds, "allowed_mentions": {"parse": []}})
        copy.flags = IS_CROSSPOST
        copy.reference = {
            "type": 0,
            "channel_id": str(source.channel_id),
            "guild_id": str(source.guild_id),
            "message_id": str(source.id),
        }
        self._store(copy)
        self._copies.setdefault(source.id, []).append(copy.id)

    async def _edit_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        response = await super()._edit_message(request, m, body)
        if response.status == 200:
            source = self._messages[int(m["mid"])]
            for copy in self.copies_of(source.id):
                copy.apply({"content": source.content, "embeds": source.embeds})
                copy.edited_at = source.edited_at
                copy.edits += 1
        return response

    async def _delete_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        response = await super()._delete_message(request, m, body)
        if response.status == 204:
            for copy in self.copies_of(int(m["mid"])):
                copy.deleted = True
        return response

    # -- followers -------------------------------------------------------------------------------

    async def _follow(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        self._validate_openapi("POST", "/" + request.match_info["tail"], body)
        raw = str(body.get("webhook_channel_id") or "") if isinstance(body, dict) else ""
        source = self._channels.get(int(m["cid"]))
        target = self._channels.get(int(raw)) if raw.isdigit() else None
        if source is None or target is None:
            return error_response(404, 10003, "Unknown Channel")
        refused = self._missing(source) or self._missing(target, MANAGE_WEBHOOKS)
        if refused is not None:
            return refused
        if source.type != ANNOUNCEMENT or target.type not in (0, ANNOUNCEMENT):
            return error_response(400, 50024, "Cannot execute action on this channel type")
        hook = self.follow(source, target)
        return json_response({"channel_id": str(source.id), "webhook_id": str(hook.id)})

    async def _channel_webhooks(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        channel = self._channel_or_404(m["cid"])
        if isinstance(channel, web.Response):
            return channel
        refused = self._missing(channel, MANAGE_WEBHOOKS)
        if refused is not None:
            return refused
        creator = self.bot_user.to_json()
        hooks = [h for hs in self._followers.values() for h in hs if h.channel_id == channel.id]
        return json_response([h.to_json(creator) for h in hooks])
