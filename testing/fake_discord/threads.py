"""Threads and forum channels in the fake Discord.

* A thread started from a message: ``POST /channels/{id}/messages/{mid}/threads`` (the thread's id
  is the message's, as on Discord; a second thread on the same message is 400, code 160004, and
  the message then carries ``thread``; the bot needs Create Public Threads).
* A forum post: ``POST /channels/{forum}/threads`` with ``name``, ``message`` and
  ``applied_tags`` (ids of the forum's ``available_tags``, at most 5; the bot needs Send
  Messages, Discord's "Create Posts" there); the post is a public
  thread (type 11) whose starter message has the thread's id.
* ``GET /guilds/{id}/threads/active`` lists the guild's unarchived threads.
* A thread is a channel like any other for messages (create, list, get, edit, delete), and a
  connected client learns of each new one by THREAD_CREATE (and of those that exist when it
  connects through GUILD_CREATE's ``threads``), so discord.py has it in its cache.

Driving API: ``add_forum(guild, name, tags=(...))`` (type 15 with ``available_tags``),
``await add_thread(channel, name)`` (a public thread the members opened), ``threads_of(parent_id)``
and ``thread(id)``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .checks import check_message_payload
from .constants import JSON
from .interactions import Interactions
from .rest import Handler, error_response, form_error, json_response
from .world import FakeChannel, FakeGuild, FakeMessage, _iso, snowflake

PUBLIC_THREAD = 11
FORUM = 15
THREAD_PARENTS = (0, 5)  # text and announcement channels have message threads
ALREADY_THREADED = 160004
SEND_MESSAGES = 1 << 11
MANAGE_WEBHOOKS = 1 << 29
CREATE_PUBLIC_THREADS = 1 << 35


@dataclass
class FakeThread(FakeChannel):
    """A public thread (type 11): of a text channel's message, or a forum post."""

    owner_id: int = 0
    applied_tags: list[int] = field(default_factory=list)
    archived: bool = False
    created_at: float = field(default_factory=time.time)

    def to_json(self) -> JSON:
        data = super().to_json()
        data.update(
            owner_id=str(self.owner_id),
            message_count=0,
            member_count=1,
            total_message_sent=0,
            flags=0,
            applied_tags=[str(t) for t in self.applied_tags],
            thread_metadata={
                "archived": self.archived,
                "auto_archive_duration": 1440,
                "archive_timestamp": _iso(self.created_at),
                "locked": False,
                "create_timestamp": _iso(self.created_at),
            },
        )
        return data


@dataclass
class FakeForum(FakeChannel):
    """A forum channel (type 15) and the tags its posts may carry."""

    available_tags: list[JSON] = field(default_factory=list)

    def tag_ids(self) -> set[int]:
        return {int(t["id"]) for t in self.available_tags}

    def to_json(self) -> JSON:
        data = super().to_json()
        data.update(
            available_tags=self.available_tags,
            default_reaction_emoji=None,
            default_sort_order=None,
            default_forum_layout=0,
            default_thread_rate_limit_per_user=0,
            flags=0,
        )
        return data


class Threads(Interactions):
    """The interactions layer plus threads and forums."""

    def __init__(self) -> None:
        super().__init__()
        self._threads: dict[int, FakeThread] = {}

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        return [
            *super()._route_table(),
            ("POST", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/threads", self._start_thread),
            ("POST", r"/channels/(?P<cid>\d+)/threads", self._forum_post),
            ("GET", r"/guilds/(?P<guild>\d+)/threads/active", self._active_threads),
        ]

    # -- world -----------------------------------------------------------------------------------

    def add_forum(self, guild: FakeGuild, name: str, *, tags: Sequence[str] = ()) -> FakeForum:
        """A forum channel whose posts may carry ``tags`` (by name)."""
        forum = FakeForum(snowflake(), name, guild.id, FORUM, position=len(guild.channels))
        forum.available_tags = [
            {"id": str(snowflake()), "name": tag, "moderated": False, "emoji_id": None, "emoji_name": None}
            for tag in tags
        ]
        guild.channels[forum.id] = forum
        self._channels[forum.id] = forum
        return forum

    async def add_thread(self, parent: FakeChannel, name: str) -> FakeThread:
        """A public thread in ``parent`` that members opened (announced to a connected client)."""
        return await self._open_thread(parent, name, snowflake(), owner_id=self.owner.id)

    def threads_of(self, parent_id: int) -> list[FakeThread]:
        """The threads of a channel or forum, oldest first."""
        return [t for t in self._threads.values() if t.parent_id == parent_id]

    def thread(self, thread_id: int) -> FakeThread:
        return self._threads[thread_id]

    def guild_threads(self, guild_id: int) -> list[FakeThread]:
        return [t for t in self._threads.values() if t.guild_id == guild_id]

    async def _open_thread(
        self, parent: FakeChannel, name: str, thread_id: int, *, owner_id: int, tags: Sequence[int] = ()
    ) -> FakeThread:
        thread = FakeThread(
            thread_id,
            name,
            parent.guild_id,
            PUBLIC_THREAD,
            parent_id=parent.id,
            overwrites=parent.overwrites,  # a public thread's permissions are its parent's
            owner_id=owner_id,
            applied_tags=list(tags),
        )
        self._threads[thread.id] = thread
        self._channels[thread.id] = thread
        guild = self.guilds.get(parent.guild_id)
        if guild is not None:
            guild.threads[thread.id] = thread
        if self.session_for(parent.guild_id) is not None:
            await self.dispatch("THREAD_CREATE", {**thread.to_json(), "newly_created": True})
        return thread

    # -- REST ------------------------------------------------------------------------------------

    def _open_channel(self, cid: str) -> FakeChannel | web.Response:
        """The channel of a path, or the error Discord (or a fault set on it) answers."""
        channel = self._channel_or_404(cid)
        if isinstance(channel, web.Response):
            return channel
        fault = self._channel_fault(channel.id)
        return fault if fault is not None else channel

    def _bot_lacks(self, channel: FakeChannel, bit: int) -> web.Response | None:
        """403 Missing Permissions unless the bot holds ``bit`` in ``channel`` (overwrites applied)."""
        guild = self.guilds.get(channel.guild_id)
        member = guild.members.get(self.bot_user.id) if guild is not None else None
        if member is None or not member.permissions_in(channel) & bit:
            return error_response(403, 50013, "Missing Permissions")
        return None

    def _thread_name_problems(self, body: Any, where: str) -> list[str]:
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            return [f"{where}: name must be 1-100 characters"]
        return []

    async def _start_thread(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        self._validate_openapi("POST", "/" + request.match_info["tail"], body)
        msg = self._channel_message(m)
        if isinstance(msg, web.Response):
            return msg
        parent = self._channels[msg.channel_id]
        fault = self._channel_fault(parent.id)
        if fault is not None:
            return fault
        if parent.type not in THREAD_PARENTS:
            return error_response(400, 50024, "Cannot execute action on this channel type")
        refused = self._bot_lacks(parent, CREATE_PUBLIC_THREADS)
        if refused is not None:
            return refused
        problems = self._thread_name_problems(body, f"thread of message {msg.id}")
        if problems:
            self.violations.extend(problems)
            return form_error(problems)
        if msg.id in self._threads:
            return error_response(400, ALREADY_THREADED, "A thread has already been created for this message")
        thread = await self._open_thread(parent, body["name"], msg.id, owner_id=self.bot_user.id)
        msg.thread = thread.to_json()
        return json_response(thread.to_json(), 201)

    async def _forum_post(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        self._validate_openapi("POST", "/" + request.match_info["tail"], body)
        forum = self._open_channel(m["cid"])
        if isinstance(forum, web.Response):
            return forum
        if not isinstance(forum, FakeForum):
            return error_response(400, 50024, "Cannot execute action on this channel type")
        refused = self._bot_lacks(forum, SEND_MESSAGES)  # "Create Posts" in a forum
        if refused is not None:
            return refused
        limited, headers = self._channel_limit(forum.id)
        if limited is not None:
            return limited
        payload: JSON = body if isinstance(body, dict) else {}
        where = f"forum {forum.id} post"
        problems = self._thread_name_problems(payload, where)
        message = payload.get("message")
        problems += check_message_payload(message, f"{where} message")
        tags = [int(t) for t in payload.get("applied_tags") or ()]
        unknown = set(tags) - forum.tag_ids()
        if unknown:
            problems.append(f"{where}: applied_tags {sorted(unknown)} are not tags of the forum")
        if len(tags) > 5:
            problems.append(f"{where}: at most 5 applied_tags")
        self.violations.extend(problems)
        if problems:
            return form_error(problems)
        assert isinstance(message, dict)
        self._check_mentions(f"{where} message", message)
        thread = await self._open_thread(
            forum, payload["name"], snowflake(), owner_id=self.bot_user.id, tags=tags
        )
        starter = FakeMessage(
            id=thread.id,
            channel_id=thread.id,
            guild_id=forum.guild_id,
            author=self.bot_user.to_json(),
        )
        starter.apply(message)
        self._store(starter)
        return json_response({**thread.to_json(), "message": starter.to_json()}, 201, headers)

    async def _active_threads(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        guild = self._guild_or_404(m["guild"])
        if isinstance(guild, web.Response):
            return guild
        threads = [t.to_json() for t in self.guild_threads(guild.id) if not t.archived]
        return json_response({"threads": threads, "members": []})
