"""A clock the test moves by hand (``bot.clock.Clock``'s stand-in)."""

from __future__ import annotations

import datetime as dt

from bot.clock import Clock


class ManualClock(Clock):
    """Stands still at ``at`` until ``set`` or ``advance`` moves it."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.at

    def set(self, at: dt.datetime) -> None:
        self.at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)

    def advance(self, **delta: float) -> dt.datetime:
        self.at += dt.timedelta(**delta)
        return self.at
