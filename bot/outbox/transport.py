"""Message create and edit against Discord's REST API, each response mapped to an ``Outcome``.

The requests are made here rather than through ``discord.http.HTTPClient.request``: that loop
sleeps 1–7 s between its own five retries of a 5xx and waits out 429s invisibly, which would hide
failures from the pacer and make backoff impossible to bound or to configure.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from discord.http import Route

OutcomeKind = Literal[
    "ok", "rate_limited", "transient", "forbidden", "missing_channel", "gone", "invalid", "disable"
]


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    message_id: int | None = None
    retry_after: float = 0.0
    is_global: bool = False
    error: str = ""
    bucket_empty_for: float = 0.0  # the channel bucket reported 0 remaining for this long
    #: The thread a post opened (a forum post; a discussion thread) and the webhook it went through.
    thread_id: int | None = None
    webhook_id: int | None = None
    code: int | None = None  # Discord's error code, when it gave one


class RestTransport:
    """Message create/edit against ``Route.BASE`` (read per call, so a test's fake applies)."""

    def __init__(self, token: str, *, timeout: float = 10.0, user_agent: str | None = None) -> None:
        self._token = token
        self._timeout = timeout
        self._user_agent = user_agent or "DiscordBot (https://github.com/Rapptz/discord.py, peninsula-brief)"
        self._session: aiohttp.ClientSession | None = None

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bot {self._token}", "User-Agent": self._user_agent},
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def create_message(self, channel_id: int, payload: dict[str, Any]) -> Outcome:
        return await self._request("POST", f"/channels/{channel_id}/messages", payload)

    async def edit_message(self, channel_id: int, message_id: int, payload: dict[str, Any]) -> Outcome:
        return await self._request("PATCH", f"/channels/{channel_id}/messages/{message_id}", payload)

    async def crosspost(self, channel_id: int, message_id: int) -> Outcome:
        """Publish a message of an announcement channel to the channels following it."""
        return await self._request("POST", f"/channels/{channel_id}/messages/{message_id}/crosspost", None)

    async def messages_after(
        self, channel_id: int, after: int, limit: int = 100
    ) -> tuple[Outcome, list[dict[str, Any]]]:
        """Up to ``limit`` of a channel's messages with ids after ``after`` (newest first, as
        Discord returns them)."""
        params = {"after": str(after), "limit": str(limit)}
        outcome, data = await self._call("GET", f"/channels/{channel_id}/messages", None, params)
        messages = [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []
        return outcome, messages

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None) -> Outcome:
        return (await self._call(method, path, payload))[0]

    async def call(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[Outcome, Any]:
        """Any request, with its outcome and the JSON it answered."""
        return await self._call(method, path, payload, params)

    async def _call(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None,
        params: dict[str, str] | None = None,
    ) -> tuple[Outcome, Any]:
        http = await self._http()
        try:
            async with http.request(method, Route.BASE + path, json=payload, params=params) as resp:
                data: Any = None
                if resp.content_type == "application/json":
                    data = await resp.json()
                return classify(resp.status, resp.headers, data), data
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return Outcome("transient", error=f"{type(exc).__name__}: {exc}"[:300]), None


def classify(status: int, headers: Any, data: Any) -> Outcome:
    """Map a Discord response to what the dispatcher does next."""
    body = data if isinstance(data, dict) else {}
    code = body.get("code")
    text = f"{status} {body.get('message', '')}".strip()
    if code is not None:
        text += f" (code {code})"
    if 200 <= status < 300:
        empty_for = 0.0
        if headers.get("X-RateLimit-Remaining") == "0":
            with contextlib.suppress(TypeError, ValueError):
                empty_for = float(headers.get("X-RateLimit-Reset-After", 0))
        mid = body.get("id")
        return Outcome("ok", message_id=int(mid) if mid else None, bucket_empty_for=empty_for)
    code_of = int(code) if isinstance(code, int) else None
    if status == 429:
        retry_after = body.get("retry_after")
        if retry_after is None:
            retry_after = headers.get("Retry-After", 1)
        is_global = bool(body.get("global")) or headers.get("X-RateLimit-Global") == "true"
        try:
            seconds = float(retry_after)
        except (TypeError, ValueError):
            seconds = 1.0
        return Outcome("rate_limited", retry_after=seconds, is_global=is_global, error=text, code=code_of)
    if status == 403:
        return Outcome("forbidden", error=text, code=code_of)
    if status == 404:
        return Outcome("gone" if code == 10008 else "missing_channel", error=text, code=code_of)
    if status >= 500 or status in (408, 401):
        return Outcome("transient", error=text, code=code_of)
    return Outcome("invalid", error=text, code=code_of)
