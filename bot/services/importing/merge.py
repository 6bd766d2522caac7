"""Dataset rows that record an event the timeline already has merge into it.

A CNS or CSIS row (a *dataset row*: ``ImportRow.merge`` is set) that no event holds yet by its
external id is matched against the curated events — those not themselves created from a dataset
row — before it may become an event of its own. It merges into a curated event that

- is published and is one the import may write: a shared event for the operator's import (the
  home guilds'), the guild's own local events for a guild's import. Another guild's events are
  never read. A guild's import never writes a shared event: a row matching one is skipped, and the
  report says which event already records it;
- is dated within a day of the row (a date known to the month is the whole month; an event dated
  to a year only is never matched);
- is of the row's kind family (:data:`FAMILIES`): launches (``missile_launch`` and
  ``satellite_launch``: the CNS database counts space launches among its tests, and a launch's kind
  is what its makers claimed), nuclear tests (``nuclear_test`` alone), and activity on the ground
  (``facility_activity``, ``military_action``, ``military_parade``). Other kinds never merge;
- shares a program, system or facility with the row. A row that names none (a launch of an unknown
  type, artillery fire) merges only into an event that names none either, and only when it is the
  one such event of its family within the day.

Of several, the nearest in date wins, then the one sharing more links, then the lowest id. The row
then attaches to the event as a further source: the dataset's record, with the row's dataset
details (apogee, distance, outcome, ...) kept on the source and shown with it. The source carries
the row's external id, so importing the same file again finds it and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.services.dates import period_end
from bot.services.events import with_links
from bot.services.lifecycle import Links
from bot.services.links import KINDS
from bot.services.validation import SOURCE_TITLE_MAX, CleanEvent
from bot.services.views import SourceView

_FETCH_CHUNK = 500

#: The kind family of each kind that merges; a row merges only into an event of its family.
FAMILIES: dict[str, str] = {
    "missile_launch": "launch",
    "satellite_launch": "launch",
    "nuclear_test": "nuclear test",
    "facility_activity": "activity",
    "military_action": "activity",
    "military_parade": "activity",
}
#: The links a row must share one of with the event it merges into.
SHARED = tuple(k for k in KINDS if k.name in ("program", "system", "facility"))
_DATASET_ID = re.compile(r"(?:g\d{1,20}:)?(?:cns|csis):")
_LONGEST_PERIOD = dt.timedelta(days=31)  # a month: events dated to a year only are not matched
_DAY = dt.timedelta(days=1)


def _period(day: dt.date, precision: str) -> tuple[dt.date, dt.date] | None:
    return None if precision == "year" else (day, period_end(day, precision))


def _gap(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> int:
    """Days between two periods (0 when they overlap)."""
    return max((b[0] - a[1]).days, (a[0] - b[1]).days, 0)


def _links(record: object) -> set[tuple[str, int]]:
    return {(k.field, r.id) for k in SHARED for r in getattr(record, k.field, ())}


def curated(event: models.Event) -> bool:
    """An event not itself created from a dataset row."""
    return _DATASET_ID.match(event.external_id or "") is None


def merged_source(clean: CleanEvent, title: str) -> SourceView:
    """The source a dataset row becomes on the event it merges into: the dataset's record (the
    row's first source, named ``title``) with the row's dataset details."""
    first = clean.sources[0]
    return SourceView(
        first.publisher,
        title[:SOURCE_TITLE_MAX],
        first.published_on,
        first.published_precision,
        first.url,
        dict(clean.details),
    )


@dataclass(frozen=True)
class Match:
    event: models.Event
    #: False for a shared event seen from a guild's import: that import does not write it.
    writable: bool


class Curated:
    """The curated events a batch of dataset rows may merge into, read in one query."""

    def __init__(self, events: Sequence[models.Event], scope: int | None) -> None:
        self._scope = scope
        self._by_family: dict[str, list[models.Event]] = {}
        for event in events:
            if curated(event) and _period(event.occurred_on, event.precision) is not None:
                self._by_family.setdefault(FAMILIES[event.kind], []).append(event)

    @classmethod
    async def load(cls, session: AsyncSession, rows: Sequence[CleanEvent], scope: int | None) -> Curated:
        """The published events in the rows' families and dates that the import may see: shared
        events, and the guild's own for a guild's import."""
        wanted = [c for c in rows if c.kind in FAMILIES and c.precision != "year"]
        if not wanted:
            return cls([], scope)
        families = {FAMILIES[c.kind] for c in wanted}
        start = min(c.occurred_on for c in wanted) - _LONGEST_PERIOD - _DAY
        end = max(period_end(c.occurred_on, c.precision) for c in wanted) + _DAY
        visible: ColumnElement[bool] = models.Event.guild_id.is_(None)
        if scope is not None:
            visible = or_(visible, models.Event.guild_id == scope)
        stmt = with_links(
            select(models.Event).where(
                models.Event.status == "published",
                models.Event.kind.in_([k for k, f in FAMILIES.items() if f in families]),
                models.Event.occurred_on.between(start, end),
                visible,
            )
        )
        return cls(list((await session.scalars(stmt)).all()), scope)

    def match(self, clean: CleanEvent, links: Links) -> Match | None:
        """The event a row records already: nearest in date, then most shared links, then first;
        for a row that names no link, the one event of its family within the day naming none."""
        family = FAMILIES.get(clean.kind)
        period = _period(clean.occurred_on, clean.precision)
        if family is None or period is None:
            return None
        wanted = {(k.field, r.id) for k in SHARED for r in links.get(k.field, ())}
        near: list[tuple[tuple[int, int, int], models.Event]] = []
        for event in self._by_family.get(family, ()):
            event_period = _period(event.occurred_on, event.precision)
            assert event_period is not None
            gap = _gap(period, event_period)
            named = _links(event)
            if gap > 1 or (wanted and not wanted & named) or (not wanted and named):
                continue
            near.append(((gap, -len(wanted & named), event.id), event))
        if not near or (not wanted and len(near) > 1):
            return None
        event = min(near, key=lambda pair: pair[0])[1]
        return Match(event, writable=event.guild_id == self._scope)


@dataclass(frozen=True)
class Recorded:
    """A row the shared timeline records already as ``event``, which this import may not write."""

    event: models.Event


async def _merged_before(session: AsyncSession, ids: Sequence[str]) -> dict[str, models.Event]:
    """The events that rows of an earlier import merged into, by the rows' external ids."""
    found: dict[str, int] = {}
    for i in range(0, len(ids), _FETCH_CHUNK):
        stmt = select(models.Source.external_id, models.Source.event_id).where(
            models.Source.external_id.in_(ids[i : i + _FETCH_CHUNK])
        )
        found.update({str(ext): event_id for ext, event_id in (await session.execute(stmt)).all()})
    wanted = sorted(set(found.values()))
    events: dict[int, models.Event] = {}
    for i in range(0, len(wanted), _FETCH_CHUNK):
        stmt = with_links(select(models.Event).where(models.Event.id.in_(wanted[i : i + _FETCH_CHUNK])))
        events.update({e.id: e for e in (await session.scalars(stmt)).all()})
    return {ext: events[event_id] for ext, event_id in found.items()}


@dataclass
class Merging:
    """Where the dataset rows of one batch go: the events earlier imports merged them into, and the
    curated events they may merge into now."""

    earlier: dict[str, models.Event]
    curated: Curated

    @classmethod
    async def load(cls, session: AsyncSession, rows: Sequence[CleanEvent], scope: int | None) -> Merging:
        ids = [c.external_id for c in rows if c.external_id]
        return cls(await _merged_before(session, ids), await Curated.load(session, rows, scope))

    def into(self, clean: CleanEvent, links: Links) -> models.Event | Recorded | None:
        """The event the row merges into; :class:`Recorded` when a shared event records it but the
        import may not write that; None when the row is an event of its own."""
        earlier = self.earlier.get(clean.external_id or "")
        if earlier is not None:
            return earlier
        match = self.curated.match(clean, links)
        if match is None:
            return None
        if not match.writable:
            return Recorded(match.event)
        return match.event
