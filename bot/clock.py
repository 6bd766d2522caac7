"""What time it is, injectable: the digest scheduler and subscriptions read it, tests set it."""

from __future__ import annotations

import datetime as dt

from bot.models import utcnow


class Clock:
    """The wall clock (UTC, aware). Tests pass a subclass whose ``now`` they move."""

    def now(self) -> dt.datetime:
        return utcnow()


#: The real clock, shared (it holds no state).
SYSTEM_CLOCK = Clock()
