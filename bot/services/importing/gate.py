"""How often a server may import: one import at a time per guild, and a pause between two.

An import is heavy (a 10 MB file is tens of thousands of rows), so a guild that starts a second
one while its first still runs is told to wait for the first's report, and after an import ends
the guild waits ``cooldown`` seconds before the next (its curators are told how long). The
operator's imports (no guild) are not limited. The gate lives in the process that answers the
guild's interactions (each guild belongs to one shard), so a set in memory is enough.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.i18n import N_
from bot.services.errors import Conflict

#: Seconds between the end of a guild's import and the start of its next (``IMPORT_COOLDOWN``).
DEFAULT_COOLDOWN = 30.0
#: Alerts one import may queue per channel (``IMPORT_ALERT_CAP``); the rest are summed up.
DEFAULT_ALERT_CAP = 20


@dataclass(frozen=True)
class ImportLimits:
    cooldown: float = DEFAULT_COOLDOWN
    alert_cap: int = DEFAULT_ALERT_CAP


class ImportBusy(Conflict):
    """The guild's previous import has not finished."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "An import is already running in this server: wait for its report, then try again. "
                "Nothing was changed."
            )
        )


class ImportCoolingDown(Conflict):
    """The guild's previous import ended less than the cooldown ago."""

    def __init__(self, retry_after: float, cooldown: float) -> None:
        self.retry_after = retry_after
        wait = max(1, math.ceil(retry_after))
        super().__init__(
            N_(
                "This server can start one import every {cooldown} s; try again in {wait} s. "
                "Nothing was changed."
            ),
            cooldown=f"{cooldown:g}",
            wait=wait,
        )


class ImportGate:
    """Admits one import per guild at a time, ``limits.cooldown`` seconds apart."""

    def __init__(
        self, limits: ImportLimits | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or ImportLimits()
        self._clock = clock
        self._running: set[int] = set()
        self._ended: dict[int, float] = {}

    def check(self, guild_id: int | None) -> None:
        """Raise :class:`ImportBusy` or :class:`ImportCoolingDown` when ``guild_id`` must wait."""
        if guild_id is None:
            return
        if guild_id in self._running:
            raise ImportBusy
        now = self._clock()
        cooldown = self.limits.cooldown
        for gid in [g for g, ended in self._ended.items() if now - ended >= cooldown]:
            del self._ended[gid]  # keep only the guilds still cooling down
        ended = self._ended.get(guild_id)
        if ended is not None:
            raise ImportCoolingDown(ended + cooldown - now, cooldown)

    @contextmanager
    def hold(self, guild_id: int | None) -> Iterator[None]:
        """The guild's import slot for the ``with`` block (checked first, see :meth:`check`)."""
        self.check(guild_id)
        if guild_id is None:
            yield
            return
        self._running.add(guild_id)
        try:
            yield
        finally:
            self._running.discard(guild_id)
            self._ended[guild_id] = self._clock()
