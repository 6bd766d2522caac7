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
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.db import Sessionmaker
from bot.i18n import N_, format_date, gettext, local, tr
from bot.services import data_version
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
SOURCE = N_("Peninsula Brief's event record: the curated corpus and the datasets imported into it")


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

    async def version(self, guild_id: int | None) -> str:
        """The data version of what ``guild_id`` sees (see :mod:`bot.services.data_version`)."""
        async with self._sessionmaker() as session:
            return await data_version.version(session, guild_id)

    async def _as_of(self, session: AsyncSession, guild_id: int | None) -> dt.date | None:
        """The date of the newest change among the events ``guild_id`` sees (a retraction too)."""
        newest = await session.scalar(select(func.max(models.Event.updated_at)).where(visible(guild_id)))
        if isinstance(newest, str):  # SQLite hands back the text of an aggregate
            newest = dt.datetime.fromisoformat(newest)
        return newest.date() if newest else None

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

    async def _bar_names(self, by: str, locale: str) -> dict[str, str]:
        """The names of the programs or systems in ``locale`` (a bar of ``by=program`` is named so)."""
        if locale == "en":
            return {}
        model: Any = (PROGRAM if by == "program" else SYSTEM).model
        async with self._sessionmaker() as session:
            rows = (await session.execute(select(model.slug, model.name, model.i18n))).all()
        return {slug: str(local(i18n, locale, "name", name)) for slug, name, i18n in rows}

    async def counts(self, query: ChartQuery, locale: str = "en") -> ChartData:
        """The bars of ``query`` and the total of the events counted (an event of two programs is one
        bar's count in each, but one in the total); a program's or system's bar is named in ``locale``."""
        version = await self.version(query.guild_id)
        total_stmt = select(func.count()).select_from(
            query.filter().apply(select(models.Event.id)).subquery()
        )
        async with self._sessionmaker() as session:
            rows = list((await session.execute(self._grouped(query))).all())
            total = int(await session.scalar(total_stmt) or 0)
            as_of = await self._as_of(session, query.guild_id)
        if query.by in ("year", "month"):
            bars = _period_bars(rows, query.by, query)
        else:
            local_names = await self._bar_names(query.by, locale)
            bars = tuple(Bar(slug, local_names.get(slug, name), int(n)) for slug, name, n in rows)
        return ChartData(query, bars, total, as_of, version)

    async def chart(
        self, query: ChartQuery, figure_of: Callable[[ChartData], Figure], locale: str = "en"
    ) -> Chart:
        """The counts and their PNG, drawn in a worker thread; the same query, locale and data
        version answer from the cache."""
        key = (query, locale, await self.version(query.guild_id))
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return replace(hit, cached=True)
        data = await self.counts(query, locale)
        png = await asyncio.to_thread(render_png, data.bars, figure_of(data))
        chart = Chart(data, png, cached=False)
        self._cache[(query, locale, data.version)] = chart
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return chart


# ---------------------------------------------------------------------------------------------
# The words of a chart, in one place, in the reader's language (English msgids, bot/i18n)
# ---------------------------------------------------------------------------------------------

#: What each metric counts, as a reader reads it (also the names of /chart's choices).
METRIC_TEXT = {
    "launches": N_("Launches"),
    "nuclear_tests": N_("Nuclear tests"),
    "sanctions": N_("Sanctions"),
    "events": N_("Events"),
}
#: What each metric counts, said in full under the chart's title.
COUNTED_TEXT = {
    "launches": N_("missile and satellite launches"),
    "nuclear_tests": N_("nuclear tests"),
    "sanctions": N_("sanctions measures"),
    "events": N_("events of every kind"),
}
BY_TEXT = {
    "year": N_("by year"),
    "month": N_("by month"),
    "program": N_("by program"),
    "system": N_("by system"),
}
LABELS = {
    "program": N_("program"),
    "system": N_("system"),
    "party": N_("party"),
    "since": N_("since {date}"),
    "until": N_("until {date}"),
    "source": N_("Source"),
    "as_of": N_("as of {date}"),
    "counted": N_("Counted"),
    "total": N_("total"),
    "empty": N_("No events counted"),
    "none": N_("no events yet"),
}
#: "Launches by year", in each language's order ("연도별 발사", "发射（按年份）").
TITLE = N_("{metric} {by}")


def label(key: str, locale: str = "en", **values: object) -> str:
    """One of :data:`LABELS` in ``locale``."""
    return tr(locale, LABELS[key], **values)


async def names_of(catalog: CatalogService, query: ChartQuery, locale: str = "en") -> dict[str, str]:
    """The names of the records a query narrows to (``program`` → "ICBM", "대륙간탄도미사일"), for
    its subtitle, in ``locale``."""
    names: dict[str, str] = {}
    for kind, slug in ((PROGRAM, query.program), (SYSTEM, query.system), (PARTY, query.party)):
        if slug:
            ref = await catalog.ref(kind, slug)
            names[kind.param] = str(local(ref.i18n, locale, "name", ref.name))
    return names


def title(query: ChartQuery, locale: str = "en") -> str:
    metric, by = gettext(locale, METRIC_TEXT[query.metric]), gettext(locale, BY_TEXT[query.by])
    return tr(locale, TITLE, metric=metric, by=by)


def counted_text(query: ChartQuery, locale: str = "en") -> str:
    """What the chart counts, in words: "missile and satellite launches"."""
    return gettext(locale, COUNTED_TEXT[query.metric])


def source_text(locale: str = "en") -> str:
    return gettext(locale, SOURCE)


def narrowed(query: ChartQuery, names: dict[str, str], locale: str = "en") -> list[str]:
    """The filters of ``query`` in words: ``program ICBM``, ``since 1 Jan 2017`` (``names`` maps a
    filter to the name of its record)."""
    records = ("program", "system", "party")
    parts = [f"{label(k, locale)} {names.get(k, v)}" for k in records if (v := getattr(query, k))]
    for k in ("since", "until"):
        if day := getattr(query, k):
            parts.append(label(k, locale, date=format_date(day, "day", locale)))
    return parts


def as_of_text(data: ChartData, locale: str = "en") -> str:
    """``as of 3 Dec 2026`` (the newest change counted), or "no events yet"."""
    if not data.as_of:
        return label("none", locale)
    return label("as_of", locale, date=format_date(data.as_of, "day", locale))


def figure_for(data: ChartData, names: dict[str, str], locale: str = "en") -> Figure:
    """The title, the filters, the source and the as-of date drawn around the bars."""
    q = data.query
    counted = f"{label('counted', locale)}: {counted_text(q, locale)}"
    subtitle = " · ".join([counted, *narrowed(q, names, locale)])
    footer = f"{label('source', locale)}: {source_text(locale)} · {as_of_text(data, locale)}"
    return Figure(
        title(q, locale), subtitle, footer, label("empty", locale), horizontal=q.by in ("program", "system")
    )
