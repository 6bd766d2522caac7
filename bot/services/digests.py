"""Digest schedules (no Discord): a digest subscription's periods, in its time zone.

A period ends at the schedule's time of day (``at``, "HH:MM"), every day or on one weekday, in
an IANA zone: the server's ``/settings timezone`` unless the subscription names its own. The
boundaries are wall-clock times, so they follow daylight saving time: a daily digest at 08:00 in
Europe/Berlin is sent at 07:00 UTC in winter and 06:00 UTC in summer. A time that does not exist
on a day (skipped by a clock change) is the same wall-clock time after the change, and one that
happens twice is the first of them (``zoneinfo``'s ``fold=0``).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.i18n import N_
from bot.models import DIGEST_FREQUENCIES
from bot.services.errors import FieldProblem, ValidationFailed

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Schedule:
    """When a digest's periods end: ``at`` every day, or every week on ``weekday`` (0 = Monday)."""

    frequency: str
    at: dt.time
    weekday: int | None
    timezone: str

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def at_text(self) -> str:
        return f"{self.at:%H:%M}"

    def _on(self, day: dt.date) -> dt.datetime:
        """The boundary on local ``day``, in UTC."""
        local = dt.datetime.combine(day, self.at, tzinfo=self.zone)
        # Through UTC and back: a wall-clock time skipped by a clock change becomes a real one.
        return local.astimezone(dt.UTC)

    def _is_day(self, day: dt.date) -> bool:
        return self.frequency == "daily" or day.weekday() == self.weekday

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first boundary strictly after ``moment`` (UTC)."""
        day = moment.astimezone(self.zone).date() - dt.timedelta(days=1)
        for _ in range(10):
            if self._is_day(day) and self._on(day) > moment:
                return self._on(day)
            day += dt.timedelta(days=1)
        raise AssertionError("a boundary exists within a week")  # pragma: no cover

    def previous(self, boundary: dt.datetime) -> dt.datetime:
        """The boundary before ``boundary``: where the period ending at ``boundary`` starts."""
        step = dt.timedelta(days=1 if self.frequency == "daily" else 7)
        return self._on(boundary.astimezone(self.zone).date() - step)


@dataclass(frozen=True)
class DigestOptions:
    """A digest's options as a channel manager typed them (checked by ``check_schedule``)."""

    frequency: str | None = None
    at: str | None = None
    weekday: str | None = None
    timezone: str | None = None
    empty: bool = False


def digest_options(
    mode: str,
    frequency: str | None,
    at: str | None,
    weekday: str | None,
    timezone: str | None,
    empty: bool | None,
) -> DigestOptions | None:
    """The digest options of a subscribe (None: an alert subscription); a digest option given
    without ``mode:digest`` is refused, naming it."""
    given = {"frequency": frequency, "at": at, "weekday": weekday, "timezone": timezone, "empty": empty}
    if mode != "digest":
        stray = [name for name, value in given.items() if value is not None]
        if stray:
            raise ValidationFailed([FieldProblem(name, N_("goes with mode:digest only")) for name in stray])
        return None
    return DigestOptions(frequency, at, weekday, timezone, bool(empty))


def parse_time(text: str | None) -> dt.time | None:
    """``"08:00"`` → 08:00; ``None`` when it is not a time of day (``"25:00"``, ``"8am"``)."""
    match = _TIME.match((text or "").strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def known_zone(name: str) -> str | None:
    """The IANA zone called ``name`` (any case), as spelled in the database; else None."""
    wanted = name.strip().casefold()
    if not wanted:
        return None
    return next((z for z in sorted(zoneinfo.available_timezones()) if z.casefold() == wanted), None)


def check_schedule(
    frequency: str | None, at: str | None, weekday: str | None, timezone: str | None, server_zone: str
) -> Schedule:
    """A digest's options checked, each bad one named (nothing is written when any is wrong).

    ``timezone`` None: the server's zone (``server_zone``), which the schedule then follows."""
    problems: list[FieldProblem] = []
    freq = (frequency or "daily").strip().lower()
    if freq not in DIGEST_FREQUENCIES:
        problems.append(FieldProblem("frequency", N_("must be daily or weekly")))
    when = parse_time(at) if at is not None else dt.time(8, 0)
    if when is None:
        problems.append(
            FieldProblem(
                "at",
                N_("“{value}” is not a time of day: write HH:MM from 00:00 to 23:59"),
                params={"value": (at or "")[:20]},
            )
        )
    day: int | None = None
    if freq == "weekly":
        name = (weekday or "").strip().lower()[:3]
        if not weekday:
            problems.append(FieldProblem("weekday", N_("a weekly digest needs a weekday (mon to sun)")))
        elif name not in WEEKDAYS:
            problems.append(
                FieldProblem(
                    "weekday", N_("“{value}” is not a weekday (mon to sun)"), params={"value": weekday[:20]}
                )
            )
        else:
            day = WEEKDAYS.index(name)
    elif weekday:
        problems.append(FieldProblem("weekday", N_("only a weekly digest takes a weekday")))
    zone = server_zone
    if timezone is not None:
        found = known_zone(timezone)
        if found is None:
            problems.append(
                FieldProblem(
                    "timezone",
                    N_("“{value}” is not an IANA time zone (for example Asia/Seoul)"),
                    params={"value": timezone.strip()[:40]},
                )
            )
        else:
            zone = found
    if problems:
        raise ValidationFailed(problems)
    assert when is not None
    return Schedule(freq, when, day, zone)


def stored_schedule(
    frequency: str | None, at: str | None, weekday: int | None, own_zone: str | None, server_zone: str | None
) -> Schedule:
    """A stored digest's schedule: in its own zone, else the server's (else UTC)."""
    when = parse_time(at) or dt.time(8, 0)
    freq = frequency if frequency in DIGEST_FREQUENCIES else "daily"
    zone = known_zone(own_zone or "") or known_zone(server_zone or "") or "UTC"
    return Schedule(freq, when, weekday if freq == "weekly" else None, zone)


async def server_zone(session: AsyncSession, guild_id: int) -> str:
    """The server's ``/settings timezone`` (UTC when it set none)."""
    G = models.GuildSettings
    zone = await session.scalar(select(G.timezone).where(G.guild_id == guild_id))
    return zone or "UTC"


async def follow_zone(session: AsyncSession, guild_id: int, zone: str, now: dt.datetime) -> int:
    """After the server's time zone changed to ``zone``: each digest of the guild that follows it
    is due at its next boundary in that zone (in the caller's transaction); returns how many.
    What they collected stays for that digest."""
    S = models.Subscription
    subs = await session.scalars(
        select(S).where(S.guild_id == guild_id, S.mode == "digest", S.digest_timezone.is_(None))
    )
    count = 0
    for sub in subs:
        schedule = stored_schedule(sub.digest_frequency, sub.digest_at, sub.digest_weekday, None, zone)
        sub.digest_next_at = schedule.next_after(now)
        count += 1
    return count
