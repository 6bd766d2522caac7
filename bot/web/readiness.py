"""What ``/readyz`` means in each process.

- ``run`` (the bot): the database answers ``SELECT 1`` and the Discord gateway is connected.
- ``web`` (``python -m bot web``, no gateway): the database answers; nothing is said of Discord.

Every check of the mode runs on each request; the body names the mode and each check's result, and
the first failure is the ``reason`` of a 503.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import text

from bot.db import Sessionmaker

log = logging.getLogger(__name__)

READINESS_TIMEOUT = 5.0
OK = "ok"

#: One check: None when it passes, else why not.
Check = Callable[[], Awaitable[str | None]]


class Gateway(Protocol):
    """What readiness needs of the Discord client (``discord.Client`` fits)."""

    def is_ready(self) -> bool: ...

    def is_closed(self) -> bool: ...


@dataclass(frozen=True)
class Readiness:
    """The checks of one process mode, in order."""

    mode: str
    checks: tuple[tuple[str, Check], ...]

    async def report(self) -> dict[str, Any]:
        """The ``/readyz`` body: ``status``, ``mode``, ``checks`` (name → "ok" or why not), ``reason``."""
        results = {name: await check() for name, check in self.checks}
        failures = [reason for reason in results.values() if reason is not None]
        body: dict[str, Any] = {"status": "unavailable" if failures else "ready"}
        if failures:
            body["reason"] = failures[0]
        body["mode"] = self.mode
        body["checks"] = {name: reason or OK for name, reason in results.items()}
        return body

    async def __call__(self) -> str | None:
        """The first failure, or None when ready."""
        body = await self.report()
        reason: str | None = body.get("reason")
        return reason


def database_check(sessionmaker: Sessionmaker, *, timeout: float = READINESS_TIMEOUT) -> Check:
    """Passes when ``SELECT 1`` succeeds within ``timeout``."""

    async def check() -> str | None:
        try:
            async with asyncio.timeout(timeout), sessionmaker() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:  # any failure to reach the database means not ready
            log.warning("readiness: database unreachable: %s", type(exc).__name__)
            return f"database unreachable ({type(exc).__name__})"
        return None

    return check


def gateway_check(client: Gateway) -> Check:
    """Passes while the Discord client is connected and ready."""

    async def check() -> str | None:
        if client.is_closed():
            return "gateway closed"
        if not client.is_ready():
            return "gateway not connected"
        return None

    return check


def database_readiness(sessionmaker: Sessionmaker, *, timeout: float = READINESS_TIMEOUT) -> Readiness:
    """The ``web`` process: the database only (there is no gateway to speak of)."""
    return Readiness("web", (("database", database_check(sessionmaker, timeout=timeout)),))


def gateway_readiness(sessionmaker: Sessionmaker, client: Gateway) -> Readiness:
    """The bot process (``run``): the database and the Discord gateway."""
    return Readiness("run", (("database", database_check(sessionmaker)), ("gateway", gateway_check(client))))


def custom_readiness(check: Readiness | Check) -> Readiness:
    """A single check supplied by the caller (tests, embedders)."""
    return check if isinstance(check, Readiness) else Readiness("custom", (("check", check),))
