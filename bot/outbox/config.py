"""The outbox worker's tuning and its one backoff policy."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class DispatcherConfig:
    """Tuning; the defaults are for production, tests shrink the delays."""

    global_per_second: int = 50
    global_window: float = 1.0
    channel_messages: int = 5
    channel_window: float = 5.0
    concurrency: int = 10
    batch: int = 100
    first_batch: int = 10
    claim_interval: float = 0.25
    lease: float = 8.0
    poll_interval: float = 2.0
    request_timeout: float = 10.0
    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    rate_limit_retries: int = 10
    record_attempts: int = 5
    stop_grace: float = 5.0

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure, for a delivery (5xx, timeout) and for
        recording outcomes alike: exponential with "equal jitter", between half and all of
        base·2^(n-1), capped."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** max(attempts - 1, 0))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def for_shards(self, shard_ids: Sequence[int] | None, shard_count: int | None) -> DispatcherConfig:
        """The global limit is per bot token: a process running some shards takes their share."""
        if not shard_ids or not shard_count:
            return self
        share = self.global_per_second * len(shard_ids) // shard_count
        return replace(self, global_per_second=max(1, share))
