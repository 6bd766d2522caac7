"""A background loop the bot owns (the source watcher, the digest scheduler): started once,
woken early on demand, stopped after the pass in flight."""

from __future__ import annotations

import asyncio
import contextlib


class BackgroundLoop:
    """``start``, ``wake`` and ``stop`` around a subclass's ``_run`` (a loop of passes, each
    counted in ``passes``, that sleeps with :meth:`_pause` between them)."""

    task_name = "background"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self.passes = 0

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name=self.task_name)

    def wake(self) -> None:
        """Make the next pass now."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop after the pass in flight (cancelled if it takes longer than a few seconds)."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError):  # wait_for cancels it after that
                await asyncio.wait_for(self._task, 5.0)
            self._task = None

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` between passes, or until woken."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _run(self) -> None:
        raise NotImplementedError
