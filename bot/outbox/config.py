"""The outbox worker's tuning and its one backoff policy."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.config import Settings


@dataclass(frozen=True)
class DispatcherConfig:
    """Tuning; the defaults are for production, tests shrink the delays."""

    #: The bot token's limit: the processes sharing the token share it (see ``pacing.Share``).
    global_per_second: int = 50
    global_window: float = 1.0
    #: Sharded processes take turns at the remainder of the token's limit (50 = 4 × 12 + 2)
    #: for this long each; ``clock_skew`` bounds how far apart their clocks may be.
    share_epoch: float = 60.0
    clock_skew: float = 0.5
    #: This process's shards and the shard count (``for_shards``); None: the whole limit.
    shards: tuple[tuple[int, ...], int] | None = None
    channel_messages: int = 5
    channel_window: float = 5.0
    concurrency: int = 10
    batch: int = 100
    first_batch: int = 10
    claim_interval: float = 0.25
    lease: float = 8.0
    poll_interval: float = 2.0
    request_timeout: float = 10.0
    #: Retries (5xx, timeouts) go on, backing off up to ``backoff_max``, until this many seconds
    #: after the first attempt; then the delivery is failed, counted, and resumable.
    give_up_after: float = 24 * 3600.0
    #: Discord drops an enforced nonce after a few minutes: a delivery that may have been posted
    #: longer ago than this is looked for in its channel before it is posted again.
    nonce_window: float = 120.0
    #: Pages of 100 recent messages read when looking for a delivery already posted.
    lookup_pages: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    rate_limit_retries: int = 10
    record_attempts: int = 5
    stop_grace: float = 5.0

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure, for a delivery (5xx, timeout) and for
        recording outcomes alike: exponential with "equal jitter", between half and all of
        base·2^(n-1), capped."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** min(max(attempts - 1, 0), 60))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    @classmethod
    def from_settings(cls, settings: Settings) -> DispatcherConfig:
        """The production tuning with the operator's delivery settings."""
        return cls(
            give_up_after=settings.delivery_retry_hours * 3600.0,
            nonce_window=settings.delivery_nonce_window,
        )

    def for_shards(self, shard_ids: Sequence[int] | None, shard_count: int | None) -> DispatcherConfig:
        """The global limit is per bot token: a process running some shards paces to their
        share of it (``pacing.Share``)."""
        if not shard_ids or not shard_count or len(set(shard_ids)) >= shard_count:
            return self
        return replace(self, shards=(tuple(sorted(set(shard_ids))), shard_count))
