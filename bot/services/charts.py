"""Charts: counts of events by year, month, program or system, and their image, cached.

The counts come from the event table through :class:`~bot.services.filters.EventFilter` (so a
guild's local events are counted for that guild only, and retracted events never); the image is
drawn by :mod:`bot.services.plot` in a worker thread and kept per (query, locale, data version), so a
chart is drawn again only after an event was added, revised or retracted where the reader can see.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from sqlalchemy import Select, extract, func, literal, select

from bot import models
from bot.db import Sessionmaker
from bot.i18n import N_
from bot.services.catalog import CatalogService
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.filters import EventFilter, visible
from bot.services.links import PARTY, PROGRAM, SYSTEM, LinkKind
from bot.services.plot import Bar, Figure, render_png

Metric = Literal["launches", "nuclear_tests", "sanctions", "events"]
GroupBy = Literal["year", "month", "program", "system"]
METRICS: tuple[str, ...] = get_args(Metric)
GROUPS: tuple[str, ...] = get_args(GroupBy)
#: The event kinds each metric counts (none: every kind). A satellite launch is counted as a launch:
#: it uses the same rockets, and the Security Council's resolutions treat it as one.
METRIC_KINDS: dict[str, tuple[str, ...]] = {
    "launches": ("missile_launch", "satellite_launch"),
    "nuclear_tests": ("nuclear_test",),
    "sanctions": ("sanctions",),
    "events": (),
}
#: Months shown one bar each at most; a longer span by month is refused (ask by year instead).
MONTHS_MAX = 240
CACHE_SIZE = 256
#: Where the counts come from, said under every chart.
SOURCE = "Peninsula Brief's event record: the curated corpus and the datasets imported into it"


@dataclass(frozen=True)
class ChartQuery:
    """What a chart counts: a metric grouped ``by`` something, narrowed by slugs and dates; the
    reader's guild decides which local events are counted too."""

    metric: str = "launches"
    by: str = "year"
    program: str | None = None
    system: str | None = None
    party: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    guild_id: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.metric not in METRICS:
            known = {"value": self.metric[:40], "known": ", ".join(METRICS)}
            problems.append(FieldProblem("metric", N_("“{value}” is not one of {known}"), params=known))
        if self.by not in GROUPS:
            known = {"value": self.by[:40], "known": ", ".join(GROUPS)}
            problems.append(FieldProblem("by", N_("“{value}” is not one of {known}"), params=known))
        if self.since and self.until and self.until < self.since:
            problems.append(FieldProblem("until", N_("is before since")))
        if problems:
            raise ValidationFailed(problems)

    def filter(self) -> EventFilter:
        f = EventFilter.of(
            program=self.program,
            system=self.system,
            party=self.party,
            since=self.since,
            until=self.until,
            guild_id=self.guild_id,
        )
        return replace(f, kinds=METRIC_KINDS[self.metric])


@dataclass(frozen=True)
class ChartData:
    """The counts of a chart: one bar per year, month, program or system, in order."""

    query: ChartQuery
    bars: tuple[Bar, ...]
    total: int
    #: The newest change among the events the reader can see (None: there are none).
    as_of: dt.date | None
    version: str


@dataclass(frozen=True)
class Chart:
    data: ChartData
    png: bytes
    cached: bool


def _period_bars(rows: list[Any], by: str, query: ChartQuery) -> tuple[Bar, ...]:
    """Every year (or month) from the first counted to the last, none left out: a year without a
    launch is a bar of 0, not a gap the eye skips."""
    counts = {(int(y), int(m or 1)): int(n) for y, m, n in rows}
    if not counts:
        return ()
    first, last = min(counts), max(counts)
    if query.since:
        first = min(first, (query.since.year, query.since.month if by == "month" else 1))
    if query.until:
        last = max(last, (query.until.year, query.until.month if by == "month" else 1))
    bars = []
    year, month = first
    while (year, month) <= last:
        n = counts.get((year, month), 0)
        if by == "year":
            bars.append(Bar(str(year), str(year), n))
            year += 1
        else:
            key = f"{year}-{month:02d}"
            bars.append(Bar(key, key, n))
            year, month = (year + month // 12, month % 12 + 1)
        if len(bars) > MONTHS_MAX:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "by",
                        N_("month gives more than {most} bars here: narrow since/until, or use year"),
                        params={"most": MONTHS_MAX},
                    )
                ]
            )
    return tuple(bars)


class ChartService:
    """Counts for charts, and their images drawn off the event loop and cached."""

    def __init__(self, sessionmaker: Sessionmaker, *, cache_size: int = CACHE_SIZE) -> None:
        self._sessionmaker = sessionmaker
        self._cache: OrderedDict[tuple[ChartQuery, str, str], Chart] = OrderedDict()
        self._cache_size = cache_size

    async def version(self, guild_id: int | None) -> tuple[str, dt.date | None]:
        """The data version of what ``guild_id`` sees: events, revisions and the newest change (a
        retraction bumps the revision too), and the date of that change."""
        E = models.Event
        stmt = select(func.count(), func.coalesce(func.sum(E.revision), 0), func.max(E.updated_at)).where(
            visible(guild_id)
        )
        async with self._sessionmaker() as session:
            count, revisions, newest = (await session.execute(stmt)).one()
        if isinstance(newest, str):  # SQLite hands back the text of an aggregate
            newest = dt.datetime.fromisoformat(newest)
        stamp = newest.isoformat() if newest else "-"
        return f"{count}.{revisions}.{stamp}", newest.date() if newest else None

    def _grouped(self, query: ChartQuery) -> Select[Any]:
        E = models.Event
        f = query.filter()
        if query.by in ("year", "month"):
            year = extract("year", E.occurred_on)
            periods: Any
            if query.by == "year":
                periods = select(year, literal(0), func.count())
                return f.apply(periods).group_by(year).order_by(year)
            month = extract("month", E.occurred_on)
            periods = select(year, month, func.count())
            return f.apply(periods).group_by(year, month).order_by(year, month)
        kind: LinkKind = PROGRAM if query.by == "program" else SYSTEM
        model: Any = kind.model
        table = kind.table.alias()  # the filter's own link test reads kind.table: not correlated to this
        link = table.c
        stmt = select(model.slug, model.name, func.count()).select_from(E)
        stmt = stmt.join(table, link.event_id == E.id).join(model, model.id == link[kind.column])
        stmt = f.apply(stmt).group_by(model.slug, model.name)
        return stmt.order_by(func.count().desc(), model.name)

    async def counts(self, query: ChartQuery) -> ChartData:
        """The bars of ``query`` and the total of the events counted (an event of two programs is one
        bar's count in each, but one in the total)."""
        version, as_of = await self.version(query.guild_id)
        total_stmt = select(func.count()).select_from(
            query.filter().apply(select(models.Event.id)).subquery()
        )
        async with self._sessionmaker() as session:
            rows = list((await session.execute(self._grouped(query))).all())
            total = int(await session.scalar(total_stmt) or 0)
        if query.by in ("year", "month"):
            bars = _period_bars(rows, query.by, query)
        else:
            bars = tuple(Bar(slug, name, int(n)) for slug, name, n in rows)
        return ChartData(query, bars, total, as_of, version)

    async def chart(
        self, query: ChartQuery, figure_of: Callable[[ChartData], Figure], locale: str = "en"
    ) -> Chart:
        """The counts and their PNG, drawn in a worker thread; the same query, locale and data
        version answer from the cache."""
        version, _ = await self.version(query.guild_id)
        key = (query, locale, version)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return replace(hit, cached=True)
        data = await self.counts(query)
        png = await asyncio.to_thread(render_png, data.bars, figure_of(data))
        chart = Chart(data, png, cached=False)
        self._cache[(query, locale, data.version)] = chart
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return chart


# ---------------------------------------------------------------------------------------------
# The words of a chart, in one place (English until the reader's language is routed here)
# ---------------------------------------------------------------------------------------------

#: What each metric counts, as a reader reads it.
METRIC_TEXT = {
    "launches": "Launches",
    "nuclear_tests": "Nuclear tests",
    "sanctions": "Sanctions",
    "events": "Events",
}
#: What each metric counts, said in full under the chart's title.
COUNTED_TEXT = {
    "launches": "missile and satellite launches",
    "nuclear_tests": "nuclear tests",
    "sanctions": "sanctions measures",
    "events": "events of every kind",
}
BY_TEXT = {"year": "by year", "month": "by month", "program": "by program", "system": "by system"}
LABELS = {
    "program": "program",
    "system": "system",
    "party": "party",
    "since": "since",
    "until": "until",
    "source": "Source",
    "as_of": "as of",
    "counted": "Counted",
    "total": "total",
    "empty": "No events counted",
    "none": "no events yet",
}


async def names_of(catalog: CatalogService, query: ChartQuery) -> dict[str, str]:
    """The names of the records a query narrows to (``program`` → "ICBM"), for its subtitle."""
    names: dict[str, str] = {}
    for kind, slug in ((PROGRAM, query.program), (SYSTEM, query.system), (PARTY, query.party)):
        if slug:
            names[kind.param] = (await catalog.ref(kind, slug)).name
    return names


def title(query: ChartQuery, locale: str = "en") -> str:
    return f"{METRIC_TEXT[query.metric]} {BY_TEXT[query.by]}"


def narrowed(query: ChartQuery, names: dict[str, str], locale: str = "en") -> list[str]:
    """The filters of ``query`` in words: ``program ICBM``, ``since 2017-01-01`` (``names`` maps a
    filter to the name of its record)."""
    parts = [
        f"{LABELS[k]} {names.get(k, v)}" for k in ("program", "system", "party") if (v := getattr(query, k))
    ]
    parts += [f"{LABELS[k]} {d.isoformat()}" for k in ("since", "until") if (d := getattr(query, k))]
    return parts


def as_of_text(data: ChartData, locale: str = "en") -> str:
    return data.as_of.isoformat() if data.as_of else LABELS["none"]


def figure_for(data: ChartData, names: dict[str, str], locale: str = "en") -> Figure:
    """The title, the filters, the source and the as-of date drawn around the bars."""
    q = data.query
    counted = f"{LABELS['counted']}: {COUNTED_TEXT[q.metric]}"
    subtitle = " · ".join([counted, *narrowed(q, names, locale)])
    footer = f"{LABELS['source']}: {SOURCE} · {LABELS['as_of']} {as_of_text(data, locale)}"
    return Figure(
        title(q, locale), subtitle, footer, LABELS["empty"], horizontal=q.by in ("program", "system")
    )
