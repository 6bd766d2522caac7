"""Search: events ranked as a search engine ranks them, and the catalog records a query names.

A query is read into terms (``bot.services.search_query``): words, quoted phrases and named catalog
records. Events must match every term; when that finds few, any term will do, and the answer says
so. Named records rank first (an event linked to a party or track the query names, or with a named
system or site in its title), then title hits, then significance and recency.

Programs, systems, facilities, talks tracks and positions are few and are matched in memory.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Unpack, cast

from sqlalchemy import (
    CompoundSelect,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    intersect,
    literal,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from bot import models
from bot.db import Sessionmaker
from bot.i18n import N_
from bot.services.catalog import CatalogService
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.events import views_of
from bot.services.filters import SCOPES, scopes, visible
from bot.services.fts import FTS, Floor, TextMatch
from bot.services.links import KINDS, SPARSE, LinkKind
from bot.services.search_catalog import CATALOG_HITS, CatalogHit, CatalogMatcher
from bot.services.search_query import Entity, NameIndex, Term, catalog_entities, parse
from bot.services.views import EventView

QUERY_MAX = 200
#: How many queries' catalog answers are remembered (per catalog snapshot).
CATALOG_MEMO = 256
#: How many built page statements are remembered (see SearchService._statement).
STATEMENT_MEMO = 512
#: Beyond this many matches, only the most recently added are ranked (see search_events).
RANK_WINDOW = 500
#: A window of this many matches or fewer has its text matches checked row by row (see _Plan._held):
#: a lookup of the text index by rowid costs SQLite about 40 µs.
PER_ROW = 40
#: When fewer events than this hold every term, events holding any of them are ranked too.
FEW = 3
#: At most this many streams of matches are merged on SQLite (else one statement checks each match).
MAX_STREAMS = 8
Mode = Literal["all", "any"]
#: An event's id as a statement sees it: ``event.id``, or the text index's rowid.
Key = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class EventHits:
    """A page of ranked events: ``mode`` says whether they hold every term or only some."""

    events: list[EventView]
    total: int
    mode: Mode = "all"
    complete: int = 0  # how many events hold every term (when mode is "any")


@dataclass(frozen=True)
class SearchPage:
    query: str
    catalog: tuple[CatalogHit, ...]
    events: tuple[EventView, ...]
    total_events: int
    offset: int
    limit: int
    mode: Mode = "all"
    complete: int = 0

    def next_offset(self, shown: int) -> int | None:
        """Where the next page starts when this one showed ``shown`` events (None: this is the last)."""
        nxt = self.offset + shown
        return nxt if nxt < self.total_events else None


def _either(parts: list[Select[Any]]) -> Select[Any]:
    """The ids any of ``parts`` selects, as one plain select (SQLite nests no bare compounds)."""
    return parts[0] if len(parts) == 1 else select(union(*parts).subquery().c.id)


class PageOptions(TypedDict, total=False):
    guild_id: int | None
    limit: int
    offset: int
    links: bool


@dataclass(frozen=True)
class _PageArgs:
    guild_id: int | None
    limit: int
    offset: int


def _wanted(entities: tuple[Entity, ...], kind: LinkKind) -> list[int]:
    """The ids of the records of ``kind`` among ``entities``."""
    return [e.record_id for e in entities if e.kind == kind.name and e.record_id is not None]


def _link_kinds(entities: tuple[Entity, ...]) -> list[LinkKind]:
    """The link kinds ``entities`` are linked by."""
    return [kind for kind in KINDS if _wanted(entities, kind)]


Shape = tuple[tuple[str, ...], tuple[str, ...], bool, bool]


def _shape(term: Term) -> Shape:
    """What a term's SQL depends on: the kinds of the records it matches by and of those it names,
    whether it names a record events do not link to, whether it names any. Its words and ids are
    bound values: every query of one shape runs the same statement."""
    return (
        tuple(k.name for k in _link_kinds(term.links)),
        tuple(k.name for k in _link_kinds(term.records)),
        any(e.record_id is None for e in term.entities),
        bool(term.entities),
    )


@dataclass(frozen=True)
class _TextValue:
    """A bound text query: the words of these terms (by position), as a TextMatch reads them."""

    terms: tuple[int, ...]
    any_group: bool
    title_only: bool

    def value(self, dialect: str, terms: list[Term]) -> Any:
        groups = tuple(terms[i].alternatives for i in self.terms)
        return TextMatch(dialect, groups=groups, any_group=self.any_group, title_only=self.title_only).text()


@dataclass(frozen=True)
class _IdsValue:
    """Bound record ids: those of one link kind that a term matches by (or, ``named``, names)."""

    term: int
    kind: LinkKind
    named: bool

    def value(self, dialect: str, terms: list[Term]) -> Any:
        term = terms[self.term]
        return _wanted(term.records if self.named else term.links, self.kind)


class _Plan:
    """The SQL pieces of one query's terms: which events match, and how they rank.

    Every word and id goes in as a bound parameter, recorded in ``values``: a plan's statement is
    the same for every query of its terms' shapes (see :func:`_shape`), and runs for another such
    query with the parameters its ``values`` give for that query's terms (``q1``, ``q2``, …)."""

    def __init__(self, dialect: str, terms: list[Term]) -> None:
        self.dialect, self.terms = dialect, terms
        #: Only events from this id on are ranked (the RANK_WINDOW newest matches), None for all.
        self.floor: Floor = None
        #: How many matches the window holds (SQL), None before the window is made.
        self.found: ColumnElement[Any] | None = None
        self.values: list[_TextValue | _IdsValue] = []

    def _bind(self, value: _TextValue | _IdsValue) -> BindParameter[Any]:
        self.values.append(value)
        name = f"q{len(self.values)}"
        return bindparam(name, value.value(self.dialect, self.terms), expanding=isinstance(value, _IdsValue))

    def _text(self, terms: list[Term], *, any_group: bool = False, title_only: bool = False) -> TextMatch:
        groups = tuple(t.alternatives for t in terms)
        bound = self._bind(_TextValue(tuple(self.terms.index(t) for t in terms), any_group, title_only))
        return TextMatch(self.dialect, groups=groups, any_group=any_group, title_only=title_only, bound=bound)

    def _ids(self, term: Term, kind: LinkKind, *, named: bool = False) -> BindParameter[Any]:
        return self._bind(_IdsValue(self.terms.index(term), kind, named))

    def _text_ids(self, terms: list[Term], *, any_group: bool = False) -> Select[Any]:
        return self._text(terms, any_group=any_group).ids(self.floor)

    def _linked_ids(self, term: Term, *, named: bool = False) -> list[Select[Any]]:
        out: list[Select[Any]] = []
        for kind in _link_kinds(term.records if named else term.links):
            col = kind.table.c[kind.column]
            linked = select(kind.table.c.event_id.label("id")).where(
                col.in_(self._ids(term, kind, named=named))
            )
            out.append(linked if self.floor is None else linked.where(kind.table.c.event_id >= self.floor))
        return out

    def _linked(self, term: Term, key: Key, *, named: bool = False) -> list[ColumnElement[bool]]:
        """SQL: the event with id ``key`` links to a record ``term`` matches by (one check per link
        kind); with ``named``, to one it names. Each check reads the link table's (record, event)
        index once, from the window's floor on."""
        return [key.in_(ids) for ids in self._linked_ids(term, named=named)]

    def _matches(self, term: Term, key: Key) -> ColumnElement[bool]:
        """SQL: the event with id ``key`` matches ``term``, by its text or by a link. PostgreSQL tests
        the row's own vector (a self-join would hash every event the term's text matches)."""
        if self.dialect != "sqlite" and key is models.Event.id:
            return or_(self._text([term]).holds(), *self._linked(term, key))
        if key is models.Event.id:
            return or_(self._held(self._text([term])), *self._linked(term, key))
        return or_(key.in_(self._text_ids([term])), *self._linked(term, key))

    def _held(self, match: TextMatch) -> ColumnElement[bool]:
        """SQL over ``event`` (a ranked row): its text holds ``match``. SQLite reads the matches from
        the window's oldest id on, once; a window of PER_ROW rows or fewer is checked row by row: its
        oldest match may be old, and from there on would read nearly the whole index."""
        if self.dialect != "sqlite" or self.found is None:
            return match.holds(self.floor)
        fts = FTS.alias()
        one = exists().where(fts.c.rowid == models.Event.id, fts.c.event_fts.op("MATCH")(match.query()))
        return cast(ColumnElement[bool], case((self.found <= PER_ROW, one), else_=match.holds(self.floor)))

    def newest(self, mode: Mode) -> Select[Any] | CompoundSelect[Any]:
        """The ids of every match, newest first (scope not applied). Every match comes from streams
        (see _streams). On SQLite they are already in id order — the text index in its rowid order, a
        link table's (record, event) index — and merged: the newest are read first and the rest never
        (a text match wrapped in a condition over ``event`` would list every match first)."""
        streams = self._streams(mode)
        if not streams:
            ids = self.ids(mode).subquery()
            return select(ids.c[0]).order_by(ids.c[0].desc())
        if self.dialect != "sqlite":
            # PostgreSQL hashes a union whole: each stream keeps only its own newest matches, so a
            # common word's stream walks the primary key backwards and stops, and a rare one's reads
            # the text index (the planner picks per stream, for its actual words).
            streams = [
                select(s.order_by(s.selected_columns[0].desc()).limit(RANK_WINDOW + 1).subquery().c.id)
                for s in streams
            ]
        if len(streams) == 1:
            return streams[0].order_by(streams[0].selected_columns[0].desc())
        return union(*streams).order_by(literal_column("id").desc())

    def _streams(self, mode: Mode) -> list[Select[Any]]:
        """Selects whose union is every match. Each named term matches by its text or by one of its
        link kinds; all-terms mode takes every combination of those (at most MAX_STREAMS)."""
        plain = [t for t in self.terms if not t.links]
        linked = [t for t in self.terms if t.links]
        if mode == "any":
            streams = [self._text(plain, any_group=True).ids()] if plain else []
            return streams + [p for t in linked for p in (self._text([t]).ids(), *self._linked_ids(t))]
        choices = [[None, *((t, k) for k in _link_kinds(t.links))] for t in linked]  # None: by its text
        combos = list(itertools.product(*choices))
        if len(combos) > MAX_STREAMS:
            return []
        streams = []
        for combo in combos:
            texts = plain + [t for t, how in zip(linked, combo, strict=True) if how is None]
            streams.append(self._stream(texts, [how for how in combo if how is not None]))
        return streams

    def _stream(self, texts: list[Term], links: list[tuple[Term, LinkKind]]) -> Select[Any]:
        """The events whose text holds ``texts`` and that link to a wanted record of each of
        ``links``. On PostgreSQL the row's own vector is tested and the planner orders the joins. On
        SQLite the text index drives, unless a link is to a system or site: those have few events,
        read first, each then checking the text by its rowid (walking every match of a common word
        for the few a site links to would read them all)."""
        links = sorted(links, key=lambda link: link[1].name not in SPARSE)
        key: Any
        if texts and self.dialect != "sqlite":
            # PostgreSQL: the row's own vector; the planner orders the joins.
            stream = select(models.Event.id.label("id")).where(self._text(texts).holds())
            key = models.Event.id
        elif texts and not (links and links[0][1].name in SPARSE):
            fts = FTS.alias()
            stream = select(fts.c.rowid.label("id")).where(
                fts.c.event_fts.op("MATCH")(self._text(texts).query())
            )
            key = fts.c.rowid
        else:
            term, first = links.pop(0)
            table = first.table.alias()
            stream = select(table.c.event_id.label("id")).where(
                table.c[first.column].in_(self._ids(term, first))
            )
            key = table.c.event_id
            if texts:
                fts = FTS.alias()
                held = fts.c.event_fts.op("MATCH")(self._text(texts).query())
                stream = stream.where(exists().where(fts.c.rowid == key, held))
        for term, kind in links:
            table = kind.table.alias()
            wanted = self._ids(term, kind)
            stream = stream.join(table, and_(table.c.event_id == key, table.c[kind.column].in_(wanted)))
        return stream

    def ids(self, mode: Mode) -> Select[Any]:
        """The ids of every event matching the terms (all of them, or any), scope not applied."""
        plain = [t for t in self.terms if not t.links]
        linked = [t for t in self.terms if t.links]
        if mode == "all" and plain:
            # The plain words drive (one text-index lookup); each named term is checked per match.
            # (Over ``event``: SQLite cannot use a text match beside OR-ed conditions on its rows.)
            E = models.Event
            driver = select(E.id).where(self._text(plain).holds(self.floor))
            if self.floor is not None:
                driver = driver.where(E.id >= self.floor)
            return driver.where(*(self._matches(t, E.id) for t in linked))
        if mode == "all":
            parts = [_either([self._text_ids([t]), *self._linked_ids(t)]) for t in linked]
            return parts[0] if len(parts) == 1 else select(intersect(*parts).subquery().c.id)
        parts = ([self._text_ids(plain, any_group=True)] if plain else []) + [
            p for t in linked for p in (self._text_ids([t]), *self._linked_ids(t))
        ]
        return _either(parts)

    def _in_title(self, terms: list[Term]) -> ColumnElement[bool]:
        return self._held(self._text(terms, any_group=True, title_only=True))

    def order(self, mode: Mode) -> list[ColumnElement[Any]]:
        """Best first: more terms held (any-term mode), named records, title hits, significance, date."""
        E = models.Event
        keys: list[ColumnElement[Any]] = []
        if mode == "any" and len(self.terms) > 1:
            held = [case((self._matches(t, E.id), 1), else_=0) for t in self.terms]
            keys.append(sum(held[1:], held[0]).desc())
        named = [t for t in self.terms if t.entities]
        if named:
            hits = [case((self._named(t), 1), else_=0) for t in named]
            keys.append(sum(hits[1:], hits[0]).desc())
        keys.append(case((self._in_title(self.terms), 1), else_=0).desc())
        return [*keys, E.significance.desc(), E.occurred_on.desc(), E.id.desc()]

    def _named(self, term: Term) -> ColumnElement[bool]:
        """An event is about a named record: it links to it, or a named system or site is in its title."""
        checks = self._linked(term, models.Event.id, named=True)
        if any(e.record_id is None for e in term.entities):
            checks.append(self._in_title([term]))
        return or_(*checks) if checks else literal(False)


def _window(plan: _Plan, mode: Mode) -> tuple[Any, Key, ColumnElement[Any]]:
    """The RANK_WINDOW + 1 newest matches (a CTE), its id column, and how many it holds; the plan's
    text, link and title lookups then read from the window's oldest id on."""
    window = plan.newest(mode).limit(RANK_WINDOW + 1).cte("search_window")
    key = window.c[0]
    plan.floor = select(func.min(key)).scalar_subquery()
    plan.found = select(func.count()).select_from(window).scalar_subquery()
    return window, key, plan.found


def _page_statement(plan: _Plan, mode: Mode, page: _PageArgs) -> Select[Any]:
    """A page of the ranked matches, with how many the window holds and how many of them are visible.

    The window is the RANK_WINDOW + 1 newest matches regardless of scope and status, straight from
    the text index: cheap to read and to cut (the planners misjudge the scope filter and would rank
    every match). More than RANK_WINDOW: the newest RANK_WINDOW are ranked. Fewer: they are every
    match, and the visible ones are counted over the ranked rows themselves.
    """
    E = models.Event
    window, key, found = _window(plan, mode)
    return (
        select(E, found, func.count().over())
        .join(window, key == E.id)
        .where(visible(page.guild_id, bound=True), E.status == "published")
        .where(or_(found <= RANK_WINDOW, E.id > plan.floor))
        .order_by(*plan.order(mode))
        .limit(page.limit)
        .offset(page.offset)
    )


def _count_statement(plan: _Plan, mode: Mode, page: _PageArgs) -> Select[Any]:
    """How many the window holds, and how many of them are visible."""
    E = models.Event
    window, key, found = _window(plan, mode)
    shown = (
        select(func.count())
        .select_from(window)
        .join(E, key == E.id)
        .where(visible(page.guild_id), E.status == "published")
        .scalar_subquery()
    )
    return select(found, shown)


class SearchService:
    def __init__(self, sessionmaker: Sessionmaker, catalog: CatalogService, *, dialect: str) -> None:
        self._sessionmaker = sessionmaker
        self._catalog = catalog
        self._dialect = dialect
        self._index: tuple[tuple[int, ...], NameIndex] | None = None
        self._memo_key: tuple[int, ...] = ()
        self._memo: dict[str, tuple[CatalogHit, ...]] = {}
        self._matcher: CatalogMatcher | None = None
        self._statements: dict[
            tuple[tuple[Shape, ...], Mode, int, int], tuple[Select[Any], tuple[_TextValue | _IdsValue, ...]]
        ] = {}

    async def names(self) -> NameIndex:
        """The catalog's names, rebuilt when the catalog's snapshot changes."""
        programs, actors, tracks = (
            await self._catalog.programs(),
            await self._catalog.actors(),
            await self._catalog.tracks(),
        )
        key = tuple(id(r) for r in (*programs, *actors, *tracks))
        if self._index is None or self._index[0] != key:
            self._index = (key, NameIndex(catalog_entities(programs, actors, tracks)))
        return self._index[1]

    async def terms(self, query: str) -> list[Term]:
        """The query's terms, ordered by shape (an order that changes no match and no rank): "launch
        sohae" and "sohae launch" run one statement."""
        return sorted(parse(query, await self.names()), key=_shape)

    async def search_events(self, query: str, **page: Unpack[PageOptions]) -> tuple[list[EventView], int]:
        """Ranked events matching every term of ``query``, and how many match (at most RANK_WINDOW + 1);
        never the closest matches (the web API narrows by them)."""
        hits = await self.rank_events(query, fallback=False, **page)
        return hits.events, hits.total

    async def rank_events(
        self,
        query: str,
        *,
        guild_id: int | None = None,
        limit: int = 10,
        offset: int = 0,
        links: bool = True,
        fallback: bool = True,
    ) -> EventHits:
        """Events holding every term; with ``fallback``, any term when fewer than FEW hold all.

        When more than RANK_WINDOW events match, only the RANK_WINDOW most recently added are ranked:
        a query that broad says little, and ranking every match costs time linear in the matches.
        """
        terms = await self.terms(query)
        if not terms:
            return EventHits([], 0)
        page = _PageArgs(guild_id, limit, offset)
        async with self._sessionmaker() as session:
            events, complete = await self._ranked(session, terms, "all", page)
            mode: Mode = "all"
            total = complete
            if fallback and complete < FEW and len(terms) > 1:
                mode = "any"
                events, total = await self._ranked(session, terms, "any", page)
            views = await views_of(session, events, links=links)
        return EventHits(views, total, mode, complete)

    async def _ranked(
        self, session: AsyncSession, terms: list[Term], mode: Mode, page: _PageArgs
    ) -> tuple[list[models.Event], int]:
        """One statement: a page of the ranked matches, and how many visible events match
        (RANK_WINDOW + 1 for more). See :func:`_page_statement`."""
        stmt, values = self._statement(terms, mode, page)
        params = {f"q{n}": v.value(self._dialect, terms) for n, v in enumerate(values, 1)}
        params[SCOPES] = scopes(page.guild_id)
        rows = (await session.execute(stmt, params)).all()
        if rows:
            matches = RANK_WINDOW + 1 if rows[0][1] > RANK_WINDOW else int(rows[0][2])
            return [row[0] for row in rows], matches
        if page.offset == 0:
            return [], 0
        # Past the last page: count them alone (a press on an old button).
        many, shown = (await session.execute(_count_statement(_Plan(self._dialect, terms), mode, page))).one()
        return [], RANK_WINDOW + 1 if many > RANK_WINDOW else int(shown)

    def _statement(
        self, terms: list[Term], mode: Mode, page: _PageArgs
    ) -> tuple[Select[Any], tuple[_TextValue | _IdsValue, ...]]:
        """The page's statement and what its parameters hold, built once per shape of the terms (see
        :func:`_shape`), mode and page, for every guild (the scopes are a parameter too): building,
        keying and compiling a statement this size costs more than SQLite's run of it. Only the
        statement is kept, never its rows."""
        key = (tuple(_shape(t) for t in terms), mode, page.limit, page.offset)
        if (known := self._statements.get(key)) is None:
            plan = _Plan(self._dialect, terms)
            known = (_page_statement(plan, mode, page), tuple(plan.values))
            if len(self._statements) >= STATEMENT_MEMO:
                del self._statements[next(iter(self._statements))]
            self._statements[key] = known
        return known

    async def search_catalog(self, query: str) -> list[CatalogHit]:
        """Catalog records for ``query``: the ones it names first, then close matches, best first.

        The answer depends on the query and the catalog alone: the last CATALOG_MEMO answers are kept
        until the catalog's snapshot changes (a page button re-runs the query)."""
        index = await self.names()
        positions = await self._catalog.positions()
        snapshot = (id(index), *(id(p) for p in positions))
        if self._matcher is None or self._memo_key != snapshot:
            programs, tracks = await self._catalog.programs(), await self._catalog.tracks()
            self._memo_key, self._memo = snapshot, {}
            self._matcher = CatalogMatcher(programs, tracks, positions)
        if (known := self._memo.get(query)) is not None:
            return list(known)
        hits = self._matcher.match(query, await self.terms(query))
        if len(self._memo) >= CATALOG_MEMO:
            del self._memo[next(iter(self._memo))]
        self._memo[query] = tuple(hits)
        return hits

    async def search(
        self, query: str, *, guild_id: int | None = None, limit: int = 5, offset: int = 0, links: bool = True
    ) -> SearchPage:
        """Everything that matches: catalog hits (first page only) and a page of ranked events."""
        query = query.strip()
        if not query:
            raise ValidationFailed([FieldProblem("query", N_("is empty"))])
        if len(query) > QUERY_MAX:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "query",
                        N_("is {length} characters; at most {most}"),
                        params={"length": len(query), "most": QUERY_MAX},
                    )
                ]
            )
        hits = await self.rank_events(query, guild_id=guild_id, limit=limit, offset=offset, links=links)
        catalog = tuple((await self.search_catalog(query))[:CATALOG_HITS]) if offset == 0 else ()
        return SearchPage(
            query, catalog, tuple(hits.events), hits.total, offset, limit, hits.mode, hits.complete
        )
