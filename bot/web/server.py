"""Running the web surface: inside the bot process (start/stop) or alone (``python -m bot web``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from aiohttp import web

from bot.config import Settings
from bot.services.container import Services
from bot.web.app import create_app
from bot.web.readiness import Readiness

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 5.0


def app_for(
    settings: Settings,
    services: Services,
    *,
    readiness: Readiness | None = None,
    gateway_latency: Callable[[], float | None] | None = None,
) -> web.Application:
    """The web surface as the settings describe it (PUBLIC_URL, TRUST_PROXY)."""
    return create_app(
        services,
        readiness=readiness,
        gateway_latency=gateway_latency,
        public_url=settings.public_base(),
        trust_proxy=settings.trust_proxy,
    )


async def start_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Bind and serve ``app``; port 0 picks a free one (see ``runner.addresses``)."""
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    for address in runner.addresses:
        log.info("web surface listening on %s", address)
    return runner


async def stop_web(runner: web.AppRunner) -> None:
    """Stop accepting connections, let in-flight requests finish, release the socket."""
    await runner.cleanup()


async def serve(settings: Settings) -> int:
    """Migrate, seed an empty database, then serve the web surface until SIGTERM or SIGINT."""
    from bot.runtime import runtime

    async with runtime(settings) as rt:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        runner = await start_web(app_for(settings, rt.services), settings.web_host, settings.web_port)
        try:
            await stop.wait()
            log.info("stopping the web surface")
        finally:
            await stop_web(runner)
    return 0
