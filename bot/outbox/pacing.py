"""Pacing under Discord's limits: 50 requests per rolling second overall, 5 messages per 5 s per
channel.

A slot stays taken from the start of a request until its response arrived plus the window, so
Discord (which counts on arrival) never sees more than the limit, whatever the latency, and
nothing drifts. A 429 or an empty bucket blocks a window for the time Discord names.

The global limit belongs to the bot token: shard processes share it without talking to each
other (``Share``). Each shard has ``limit // shard_count`` of it, and the remainder goes to
``limit % shard_count`` shards at a time, in turns of ``share_epoch`` seconds by the wall clock
(4 shards of 50/s: 12 each, two of them 13, the other two next turn, 12.5/s each on average),
so the shares add up to the whole limit at every moment instead of losing the rounding.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bot.outbox.config import DispatcherConfig


class SlidingWindow:
    """At most ``limit`` requests in any rolling ``window`` seconds, counted conservatively.

    A request holds its slot from its start until ``window`` seconds after its response: the
    server counts it at arrival, which lies between the two, so the server's count never
    exceeds ours. Bursts up to the limit pass at once; there is no fixed spacing to drift.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._expiries: deque[float] = deque()  # completion + window, in completion order
        self._busy = 0
        self._blocked_until = 0.0

    def delay(self) -> float | None:
        """0 when a request may start now, else seconds to wait; None while only requests in
        flight fill the window (they free a slot no earlier than ``window`` after they end)."""
        now = self._clock()
        while self._expiries and self._expiries[0] <= now:
            self._expiries.popleft()
        if now < self._blocked_until:
            return self._blocked_until - now
        if self._busy + len(self._expiries) < self.limit:
            return 0.0
        if self._expiries:
            return self._expiries[0] - now
        return None

    def take(self) -> None:
        self._busy += 1

    def release(self) -> None:
        self._busy -= 1
        self._expiries.append(self._clock() + self.window)

    def block(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (a 429's ``retry_after``, or a bucket reported empty)."""
        self._blocked_until = max(self._blocked_until, self._clock() + max(seconds, 0.0))

    @property
    def idle(self) -> bool:
        return self._busy == 0 and not self._expiries and self._clock() >= self._blocked_until


@dataclass(frozen=True)
class Share:
    """The part of the token's global limit a process running ``shard_ids`` may use at a time.

    In turn ``k`` (``epoch`` seconds of the wall clock each) shard ``s`` has ``total // count``,
    plus one when ``(s - k·rem) mod count < rem`` (``rem = total % count``): exactly ``rem``
    shards have the extra one in each turn, so every turn's shares add up to ``total``.

    Why the processes together never exceed ``total`` in any rolling window, as Discord counts
    at arrival: within a turn each keeps its own share (its sliding window). At a change of
    turn a share that grows grows at the boundary, and a share that shrinks has already shrunk
    ``guard`` before it: a request admitted under the larger share started before the boundary
    less the guard, so (its client giving up after the request timeout, and its slot held for
    the window after its response) it has arrived and left every window by the boundary less
    the clock skew allowed between the processes.
    """

    total: int
    shard_ids: tuple[int, ...]
    count: int
    epoch: float
    guard: float

    def _at(self, turn: int) -> int:
        base, rem = divmod(self.total, self.count)
        return sum(base + ((s - turn * rem) % self.count < rem) for s in self.shard_ids)

    def limit(self, when: float) -> int:
        """The share at wall-clock time ``when`` (seconds since the epoch)."""
        turn = int(when // self.epoch)
        share = self._at(turn)
        if when >= (turn + 1) * self.epoch - self.guard:
            share = min(share, self._at(turn + 1))
        return max(1, share)

    @classmethod
    def of(cls, config: DispatcherConfig) -> Share | None:
        if config.shards is None:
            return None
        shard_ids, count = config.shards
        guard = config.request_timeout + config.global_window + config.clock_skew
        return cls(config.global_per_second, shard_ids, count, max(config.share_epoch, 2 * guard), guard)


class Pacer:
    """The global window (awaited) and one window per channel (checked, never awaited)."""

    def __init__(
        self,
        config: DispatcherConfig,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._clock = clock
        self._wall = wall
        self.share = Share.of(config)
        self.global_window = SlidingWindow(config.global_per_second, config.global_window, clock)
        self._channels: dict[int, SlidingWindow] = {}
        self._changed = asyncio.Condition()

    def channel(self, channel_id: int) -> SlidingWindow:
        window = self._channels.get(channel_id)
        if window is None:
            if len(self._channels) > 10_000:
                self._channels = {k: w for k, w in self._channels.items() if not w.idle}
            window = SlidingWindow(self.config.channel_messages, self.config.channel_window, self._clock)
            self._channels[channel_id] = window
        return window

    def channel_wait(self, channel_id: int) -> float:
        """0 when ``channel_id`` may take a request now, else the seconds until it may (a whole
        window while only requests in flight fill it)."""
        window = self.channel(channel_id)
        wait = window.delay()
        if wait == 0:
            return 0.0
        return wait if wait is not None else window.window

    @contextlib.asynccontextmanager
    async def slot(self, channel_id: int) -> AsyncIterator[None]:
        """Hold a channel slot and a global slot around one request (after ``channel_wait`` said 0)."""
        window = self.channel(channel_id)
        window.take()
        await self.acquire_global()
        try:
            yield
        finally:
            await self.release_global()
            window.release()

    @contextlib.asynccontextmanager
    async def global_slot(self) -> AsyncIterator[None]:
        """Hold a global slot around one request that is not a channel message (a read)."""
        await self.acquire_global()
        try:
            yield
        finally:
            await self.release_global()

    def _global_delay(self) -> float | None:
        if self.share is not None:
            self.global_window.limit = self.share.limit(self._wall())
        return self.global_window.delay()

    async def acquire_global(self) -> None:
        async with self._changed:
            while (wait := self._global_delay()) != 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
            self.global_window.take()

    async def release_global(self) -> None:
        async with self._changed:
            self.global_window.release()
            self._changed.notify_all()
