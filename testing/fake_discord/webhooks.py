"""Channel webhooks in the fake Discord, and a fault that loses a response after its effect.

* ``POST /channels/{id}/webhooks`` (``name`` 1-80, no "clyde" or "discord"; the bot needs Manage
  Webhooks there) makes an incoming webhook (type 1) owned by the bot, with a token;
  ``GET /channels/{id}/webhooks`` lists the channel's (tokens included, as Discord gives them to
  Manage Webhooks; with ``announcements.py``, its follower webhooks too); ``DELETE /webhooks/{id}``
  removes one (also ``delete_webhook(id)``, as a member would), after which its URLs answer 404
  Unknown Webhook (10015).
* Execute ``POST /webhooks/{id}/{token}?wait=true`` posts a message with the webhook's identity,
  or ``username``/``avatar_url`` overriding it (``FakeMessage.author``), in its channel, in the
  thread of ``thread_id``, or in a forum as a new post (``thread_name``, ``applied_tags``); the
  body is checked as a message. ``PATCH``/``DELETE /webhooks/{id}/{token}/messages/{mid}`` edit and
  delete its messages. An interaction's webhook (the application's id) is left to ``responses``.
* ``lose_next_response(count, method=, path=)``: the next matching requests take effect, then are
  answered 500, as when Discord's answer never reaches the client.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .checks import check_message_payload
from .constants import JSON
from .rest import Handler, error_response, form_error, json_response
from .threads import MANAGE_WEBHOOKS, FakeForum, FakeThread, Threads
from .world import FakeMessage, snowflake

_HOOK = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"
_HOOK_MESSAGE = _HOOK + r"/messages/(?P<mid>@original|\d+)"
UNKNOWN_WEBHOOK = 10015


@dataclass
class FakeChannelWebhook:
    id: int
    channel_id: int
    guild_id: int
    name: str
    token: str
    owner: JSON
    application_id: int
    avatar: str | None = None

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "type": 1,
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id),
            "name": self.name,
            "avatar": self.avatar,
            "token": self.token,
            "application_id": str(self.application_id),
            "user": self.owner,
        }


class Webhooks(Threads):
    """Threads and forums plus channel webhooks."""

    def __init__(self) -> None:
        super().__init__()
        self.webhooks: dict[int, FakeChannelWebhook] = {}
        self._lose: list[list[Any]] = []  # [remaining, method, path-regex]

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        own: list[tuple[str, str, Handler]] = [
            ("POST", r"/channels/(?P<cid>\d+)/webhooks", self._create_webhook),
            ("GET", r"/channels/(?P<cid>\d+)/webhooks", self._list_webhooks),
            ("DELETE", r"/webhooks/(?P<hid>\d+)", self._delete_webhook),
            ("POST", _HOOK, self._execute),
            ("PATCH", _HOOK_MESSAGE, self._edit_hook_message),
            ("DELETE", _HOOK_MESSAGE, self._delete_hook_message),
        ]
        return [*own, *super()._route_table()]  # before the interaction webhooks they fall back to

    # -- world and faults ------------------------------------------------------------------------

    def delete_webhook(self, webhook_id: int) -> None:
        """Delete a webhook, as a member with Manage Webhooks would."""
        self.webhooks.pop(webhook_id, None)

    def webhooks_of(self, channel_id: int) -> list[FakeChannelWebhook]:
        return [w for w in self.webhooks.values() if w.channel_id == channel_id]

    def lose_next_response(
        self, count: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """The next ``count`` matching requests take effect and are then answered 500."""
        self._lose.append([count, method, re.compile(path) if path else None])

    def clear_faults(self) -> None:
        super().clear_faults()
        self._lose.clear()

    async def _rest_inner(self, request: web.Request, path: str, body: Any) -> web.Response:
        response = await super()._rest_inner(request, path, body)
        for entry in self._lose:
            if (
                entry[0] > 0
                and response.status < 300
                and self._matches(entry[1], entry[2], request.method, path)
            ):
                entry[0] -= 1
                return error_response(500, 0, "500: the response was lost")
        return response

    # -- management (bot token) ------------------------------------------------------------------

    async def _create_webhook(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        self._validate_openapi("POST", "/" + request.match_info["tail"], body)
        channel = self._open_channel(m["cid"])
        if isinstance(channel, web.Response):
            return channel
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 80:
            return form_error(["name: must be 1-80 characters"])
        if any(word in name.lower() for word in ("clyde", "discord")):
            return form_error(['name: Username cannot contain "clyde" or "discord"'])
        if isinstance(channel, FakeThread) or channel.type not in (0, 5, 15):
            return error_response(400, 50024, "Cannot execute action on this channel type")
        refused = self._bot_lacks(channel, MANAGE_WEBHOOKS)
        if refused is not None:
            return refused
        hook = FakeChannelWebhook(
            snowflake(),
            channel.id,
            channel.guild_id,
            name,
            secrets.token_urlsafe(32),
            self.bot_user.to_json(),
            self.application_id,
        )
        self.webhooks[hook.id] = hook
        return json_response(hook.to_json())

    async def _list_webhooks(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        channel = self._open_channel(m["cid"])
        if isinstance(channel, web.Response):
            return channel
        listed = [w.to_json() for w in self.webhooks_of(channel.id)]
        followers = getattr(self, "_channel_webhooks", None)  # announcements.py: follower webhooks
        if followers is not None:
            response: web.Response = await followers(request, m, body)
            if response.status != 200 or not isinstance(response.body, bytes):
                return response
            listed += json.loads(response.body)
        return json_response(listed)

    async def _delete_webhook(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        if self.webhooks.pop(int(m["hid"]), None) is None:
            return error_response(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        return web.Response(status=204)

    # -- the webhook's own URLs (its token) ------------------------------------------------------

    def _hook(self, m: re.Match[str]) -> FakeChannelWebhook | web.Response:
        hook = self.webhooks.get(int(m["app"]))
        if hook is None or not secrets.compare_digest(hook.token, m["token"]):
            return error_response(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        return hook

    def _is_interaction(self, m: re.Match[str]) -> bool:
        return m["app"] == str(self.application_id)

    async def _execute(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        if self._is_interaction(m):
            return await self._followup(request, m, body)
        self._validate_openapi("POST", "/" + request.match_info["tail"], body)
        hook = self._hook(m)
        if isinstance(hook, web.Response):
            return hook
        payload: JSON = body if isinstance(body, dict) else {}
        where = f"webhook {hook.id} message"
        problems = check_message_payload(payload, where)
        username = payload.get("username")
        if username is not None and (not isinstance(username, str) or not 1 <= len(username) <= 80):
            problems.append(f"{where}: username must be 1-80 characters")
        self.violations.extend(problems)
        if problems:
            return form_error(problems)
        self._check_mentions(where, payload)
        place = await self._hook_channel(hook, request, payload)
        if isinstance(place, web.Response):
            return place
        channel_id, new_post = place
        limited, headers = self._channel_limit(channel_id)
        if limited is not None:
            return limited
        author = {
            "id": str(hook.id),
            "username": username or hook.name,
            "avatar": None,
            "avatar_url": payload.get("avatar_url"),
            "discriminator": "0000",
            "bot": True,
        }
        msg = FakeMessage(
            id=channel_id if new_post else snowflake(),  # a forum post's starter has the thread's id
            channel_id=channel_id,
            guild_id=hook.guild_id,
            author=author,
            webhook_id=hook.id,
        )
        msg.apply(payload)
        self._store(msg)
        await self._notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(msg.to_json(), 200, headers)
        return web.Response(status=204)

    async def _hook_channel(
        self, hook: FakeChannelWebhook, request: web.Request, payload: JSON
    ) -> tuple[int, bool] | web.Response:
        """Where an execute posts (the webhook's channel, a thread of it, or a new forum post), and
        whether it is a new post."""
        channel = self._channels.get(hook.channel_id)
        if channel is None:
            return error_response(404, 10003, "Unknown Channel")
        fault = self._channel_fault(channel.id)
        if fault is not None:
            return fault
        thread_id = request.query.get("thread_id")
        if thread_id is not None:
            thread = self._threads.get(int(thread_id))
            if thread is None or thread.parent_id != channel.id:
                return error_response(400, 10003, "Unknown Channel")
            return thread.id, False
        if isinstance(channel, FakeForum):
            name = payload.get("thread_name")
            if not isinstance(name, str) or not 1 <= len(name) <= 100:
                return form_error(["thread_name: a webhook message in a forum needs a thread_name"])
            tags = [int(t) for t in payload.get("applied_tags") or ()]
            if set(tags) - channel.tag_ids():
                return form_error(["applied_tags: not tags of the forum"])
            thread = await self._open_thread(channel, name, snowflake(), owner_id=hook.id, tags=tags)
            return thread.id, True
        return channel.id, False

    def _hook_message(self, m: re.Match[str]) -> FakeMessage | web.Response:
        hook = self._hook(m)
        if isinstance(hook, web.Response):
            return hook
        msg = self._messages.get(int(m["mid"])) if m["mid"] != "@original" else None
        if msg is None or msg.deleted or msg.webhook_id != hook.id:
            return error_response(404, 10008, "Unknown Message")
        return msg

    async def _edit_hook_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        if self._is_interaction(m):
            return await self._edit_webhook_msg(request, m, body)
        self._validate_openapi("PATCH", "/" + request.match_info["tail"], body)
        msg = self._hook_message(m)
        if isinstance(msg, web.Response):
            return msg
        problems = check_message_payload(body, f"webhook message {msg.id} edit", partial=True)
        self.violations.extend(problems)
        if problems:
            return form_error(problems)
        msg.apply(body or {})
        msg.edited_at = time.time()
        msg.edits += 1
        await self._notify()
        return json_response(msg.to_json())

    async def _delete_hook_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        if self._is_interaction(m):
            return await self._delete_webhook_msg(request, m, body)
        msg = self._hook_message(m)
        if isinstance(msg, web.Response):
            return msg
        msg.deleted = True
        await self._notify()
        return web.Response(status=204)
