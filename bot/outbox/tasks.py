"""What the outbox's workers share beside their queue: their tasks' ending, their ids, and where an
earlier attempt's message is looked for (the first id of a time, the page of a channel read)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Sequence

log = logging.getLogger(__name__)

__all__ = ["PAGE", "cancel_all", "default_worker_id", "snowflake_at"]

PAGE = 100  # messages per read of a channel (Discord's maximum)
DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_at(when: dt.datetime) -> int:
    """The smallest Discord id of a message created at ``when``."""
    return max(int(when.timestamp() * 1000) - DISCORD_EPOCH_MS, 0) << 22


async def cancel_all(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait until each has ended, cancelling again those that have not: on
    Python 3.11 ``asyncio.wait_for`` can swallow a cancellation that meets its own timeout."""
    pending = [t for t in tasks if not t.done()]
    while pending:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=0.5)
        pending = [t for t in pending if not t.done()]
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            log.error("dispatcher task %s ended with %r", task.get_name(), task.exception())


def default_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
