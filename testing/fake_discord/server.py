"""The fake Discord as one aiohttp server on ``127.0.0.1``, and :func:`connect_bot`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator

import discord
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.discord_endpoints import configure_endpoints

from .announcements import Announcements
from .openapi import OpenAPIChecker, load_default
from .rest import RateLimitConfig
from .webhooks import Webhooks


class FakeDiscord(Announcements, Webhooks):
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
        super().__init__()
        self.token = token
        self.rate_limits = rate_limits or RateLimitConfig()
        self.response_deadline = response_deadline
        self.heartbeat_interval = heartbeat_interval
        self.nonce_window = nonce_window
        self.openapi = load_default() if openapi is True else (openapi or None)
        self._runner: web.AppRunner | None = None

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
        await self._close_gateways()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


@contextlib.asynccontextmanager
async def connect_bot(
    fake: FakeDiscord, bot: discord.Client, *, ready_timeout: float = 5.0, guild_ready_timeout: float = 0.05
) -> AsyncIterator[discord.Client]:
    """Point discord.py at ``fake``, start ``bot`` and wait until it is ready; close it after.

    discord.py waits ``guild_ready_timeout`` (2 s by default) after the last GUILD_CREATE before
    READY fires; the fake sends every guild at once, so a short wait keeps tests fast.
    """
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
