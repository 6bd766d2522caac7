"""The REST API: routing, authorization, faults, rate limits, commands, channels and guilds.

Every request is recorded (``requests``); the bot token is required except on the interaction
and webhook routes (``responses.py``), which authenticate by their token in the path. Bodies of
command sync and message create are checked against Discord's limits (``checks.py``) and its
OpenAPI description (``openapi.py``).
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .checks import check_allowed_mentions, check_command_definitions, check_message_payload
from .constants import JSON
from .gateway import Gateway
from .openapi import OpenAPIChecker
from .world import FakeAttachment, FakeChannel, FakeGuild, FakeMessage, snowflake


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


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # discord.py parses JSON only when Content-Type is exactly application/json (no charset).
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=hdrs)


def form_error(problems: list[str]) -> web.Response:
    errors = [{"code": "BASE_TYPE_INVALID", "message": p} for p in problems]
    return json_response({"message": "Invalid Form Body", "code": 50035, "errors": {"_errors": errors}}, 400)


def error_response(
    status: int, code: int, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return json_response({"message": message, "code": code}, status, headers)


Handler = Callable[[web.Request, "re.Match[str]", Any], Awaitable[web.Response]]


class Rest(Gateway):
    """The gateway plus Discord's REST routes under ``api_base``."""

    def __init__(self) -> None:
        super().__init__()
        self.rate_limits = RateLimitConfig()
        self.nonce_window = 300.0
        self.openapi: OpenAPIChecker | None = None
        self.requests: list[RequestRecord] = []
        self.mention_log: list[tuple[str, JSON | None]] = []
        self.rate_limited: Counter[str] = Counter()
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._nonces: dict[tuple[int, str], tuple[float, FakeMessage]] = {}
        self._global_window: deque[float] = deque()
        self._channel_windows: dict[int, deque[float]] = {}
        self._channel_faults: dict[int, int] = {}
        self._fail_next: list[list[Any]] = []  # [remaining, status, method, path-regex]
        self._delays: list[tuple[float, str | None, re.Pattern[str] | None]] = []
        self._routes = [(m, re.compile(f"^{p}$"), h) for m, p, h in self._route_table()]

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

    # -- routing ---------------------------------------------------------------------------------

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        """(method, path pattern, handler) of every route; a layer above adds its own."""
        return [
            ("GET", r"/gateway", self._get_gateway),
            ("GET", r"/gateway/bot", self._get_gateway),
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/applications/(?P<app>\d+)/commands", self._get_commands),
            ("PUT", r"/applications/(?P<app>\d+)/commands", self._put_commands),
            ("GET", r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands", self._get_commands),
            ("PUT", r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands", self._put_commands),
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

    async def _read_body(self, request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type == "multipart/form-data":
            form = await request.post()
            payload = form.get("payload_json")
            body: Any = json.loads(str(payload)) if payload is not None else {}
            files = [self._upload(v) for k, v in form.items() if k.startswith("files[")]
            if isinstance(body, dict) and files:
                body.setdefault("_files", [f for f in files if f is not None])
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

    def _upload(self, value: Any) -> JSON | None:
        """A file part of a multipart message, kept and served as Discord serves an attachment."""
        if not isinstance(value, web.FileField):
            self.violation(f"multipart part {value!r} is not a file")
            return None
        content_type = value.content_type or "application/octet-stream"
        if content_type == "application/octet-stream":  # as Discord does: the type of the file's name
            content_type = mimetypes.guess_type(value.filename)[0] or content_type
        attachment = FakeAttachment(value.filename, value.file.read(), content_type)
        attachment.url = f"{self.base_url}/attachments/{attachment.id}/{attachment.filename}"
        self._attachments[attachment.id] = attachment
        data = attachment.to_json()
        data.pop("ephemeral")
        return data

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
                return error_response(entry[1], 0, f"{entry[1]}: injected server error")
        token_route = path.startswith(("/interactions/", "/webhooks/"))
        if not token_route and request.headers.get("Authorization") != f"Bot {self.token}":
            return error_response(401, 0, "401: Unauthorized")
        if not token_route:
            limited = self._global_limit()
            if limited is not None:
                return limited
        for method, pattern, handler in self._routes:
            match = pattern.match(path)
            if match and method == request.method:
                return await handler(request, match, body)
        self.violation(f"unhandled route {request.method} {path} (the fake does not implement it)")
        return error_response(404, 0, "404: Not Found")

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
        return json_response(body, 429, headers)

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
            data["shards"] = self.shard_count
            data["session_start_limit"] = {
                "total": 1000,
                "remaining": 999,
                "reset_after": 0,
                "max_concurrency": 1,
            }
        return json_response(data)

    async def _get_me(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        data = self.bot_user.to_json()
        data.update(verified=True, mfa_enabled=False, flags=0)
        return json_response(data)

    async def _get_application(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        return json_response(
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
        return json_response(self._commands_for(m.groupdict().get("guild")))

    async def _put_commands(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        if m["app"] != str(self.application_id):
            self.violation(f"command sync for unknown application {m['app']}")
            return error_response(403, 50001, "Missing Access")
        path = request.match_info["tail"]
        self._validate_openapi("PUT", "/" + path, body)
        problems = check_command_definitions(body)
        if problems:
            self.violations.extend(problems)
            return form_error(problems)
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
        return json_response(stored)

    # -- checks shared by every message-creating route -------------------------------------------
    def _check_mentions(self, route: str, payload: Any) -> None:
        if not isinstance(payload, dict):
            return
        self.violations.extend(check_allowed_mentions(payload, route))
        self.mention_log.append((route, payload.get("allowed_mentions")))

    # -- REST handlers: channels and guilds ------------------------------------------------------

    def _channel_or_404(self, cid: str) -> FakeChannel | web.Response:
        channel = self._channels.get(int(cid))
        if channel is None:
            return error_response(404, 10003, "Unknown Channel")
        return channel

    async def _get_channel(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        channel = self._channel_or_404(m["cid"])
        return channel if isinstance(channel, web.Response) else json_response(channel.to_json())

    async def _list_messages(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        channel = self._channel_or_404(m["cid"])
        if isinstance(channel, web.Response):
            return channel
        # As Discord: newest first; ``after`` gives the oldest ``limit`` after that id, ``before``
        # the newest ``limit`` before it.
        limit = max(1, min(int(request.query.get("limit", "50")), 100))
        held = self.channel_messages(channel.id)
        if "after" in request.query:
            after = int(request.query["after"])
            page = [msg for msg in held if msg.id > after][:limit]
        else:
            before = int(request.query.get("before", 0)) or None
            page = [msg for msg in held if before is None or msg.id < before][-limit:]
        return json_response([msg.to_json() for msg in reversed(page)])

    def _channel_fault(self, channel_id: int) -> web.Response | None:
        status = self._channel_faults.get(channel_id)
        if status == 403:
            return error_response(403, 50013, "Missing Permissions")
        if status == 404:
            return error_response(404, 10003, "Unknown Channel")
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
            return form_error(problems)
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
                return json_response(hit[1].to_json(), 200, headers)
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
        return json_response(msg.to_json(), 200, headers)

    def _channel_message(self, m: re.Match[str]) -> FakeMessage | web.Response:
        channel = self._channel_or_404(m["cid"])
        if isinstance(channel, web.Response):
            return channel
        msg = self._messages.get(int(m["mid"]))
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            return error_response(404, 10008, "Unknown Message")
        return msg

    async def _get_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        msg = self._channel_message(m)
        return msg if isinstance(msg, web.Response) else json_response(msg.to_json())

    async def _edit_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        msg = self._channel_message(m)
        if isinstance(msg, web.Response):
            return msg
        fault = self._channel_fault(msg.channel_id)
        if fault is not None:
            return fault
        if msg.author.get("id") != str(self.bot_user.id):
            return error_response(403, 50005, "Cannot edit a message authored by another user")
        problems = check_message_payload(body, f"channel {msg.channel_id} message edit", partial=True)
        self.violations.extend(problems)
        if problems:
            return form_error(problems)
        msg.apply(body or {})
        msg.edited_at = time.time()
        msg.edits += 1
        return json_response(msg.to_json())

    async def _delete_message(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        msg = self._channel_message(m)
        if isinstance(msg, web.Response):
            return msg
        msg.deleted = True
        return web.Response(status=204)

    def _guild_or_404(self, gid: str) -> FakeGuild | web.Response:
        guild = self.guilds.get(int(gid))
        return guild if guild is not None else error_response(404, 10004, "Unknown Guild")

    async def _get_guild(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        guild = self._guild_or_404(m["guild"])
        return guild if isinstance(guild, web.Response) else json_response(guild.to_json())

    async def _get_guild_channels(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        guild = self._guild_or_404(m["guild"])
        if isinstance(guild, web.Response):
            return guild
        return json_response([c.to_json() for c in guild.channels.values()])

    async def _get_guild_roles(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        guild = self._guild_or_404(m["guild"])
        if isinstance(guild, web.Response):
            return guild
        return json_response([r.to_json() for r in guild.roles.values()])

    async def _get_guild_member(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        guild = self._guild_or_404(m["guild"])
        if isinstance(guild, web.Response):
            return guild
        member = guild.members.get(int(m["user"]))
        if member is None:
            return error_response(404, 10007, "Unknown Member")
        return json_response(member.to_json())

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        attachment = self._attachments.get(int(request.match_info["id"]))
        if attachment is None:
            return web.Response(status=404)
        return web.Response(body=attachment.content, headers={"Content-Type": attachment.content_type})
