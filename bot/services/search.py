"""Search: events ranked as a search engine ranks them, and the catalog records a query names.

A query is read into terms (``bot.services.search_query``): words, quoted phrases and named catalog
records. Events must match every term; when that finds few, any term will do, and the answer says
so. Named records rank first (an event linked to a party or track the query names, or with a named
system or site in its title), then title hits, then significance and recency.

Programs, systems, facilities, talks tracks and positions are few and are matched in memory.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Unpack

from rapidfuzz import fuzz
from sqlalchemy import (
    CompoundSelect,
    Select,
    and_,
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
from sqlalchemy.sql.elements import ColumnElement

from bot import models
from bot.db import Sessionmaker
from bot.i18n import N_
from bot.services.catalog import CatalogService, normalize, program_names
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.events import views_of
from bot.services.filters import visible
from bot.services.fts import FTS, Floor, TextMatch
from bot.services.links import KINDS, LinkKind
from bot.services.search_query import Entity, NameIndex, Term, catalog_entities, parse
from bot.services.views import EventView

QUERY_MAX = 200
CATALOG_CUTOFF = 75
CATALOG_HITS = 5
#: How many queries' catalog answers are remembered (per catalog snapshot).
CATALOG_MEMO = 256
#: How many built page statements are remembered (see SearchService._statement).
STATEMENT_MEMO = 512
#: Beyond this many matches, only the most recently added are ranked (see search_events).
RANK_WINDOW = 500
#: When fewer events than this hold every term, events holding any of them are ranked too.
FEW = 3
#: At most this many streams of matches are merged on SQLite (else one statement checks each match).
MAX_STREAMS = 8
#: A named record outranks any fuzzy catalog match.
NAMED_SCORE = 110.0
#: Link kinds with few events per record: a stream reads their links before the text index.
SPARSE = ("system", "facility")
Mode = Literal["all", "any"]
#: An event's id as a statement sees it: ``event.id``, or the text index's rowid.
Key = ColumnElement[Any] | QueryableAttribute[Any]
CATALOG_KINDS = ("program", "system", "facility", "track", "position")


@dataclass(frozen=True)
class CatalogHit:
    kind: str  # "program" | "system" | "facility" | "track" | "position"
    title: str
    summary: str
    ref: str  # slug (program, system, facility, track) or "party/topic" (position)
    score: float
    #: The record found (a program, system, facility, track or position view): its names and
    #: summary in other languages, for an answer in the reader's language.
    record: Any = field(default=None, compare=False)


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


@functools.lru_cache(maxsize=4096)
def _normalized(text: str) -> str:
    """A catalog text as it is compared (the same few hundred texts are scored for every query)."""
    return normalize(text)


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


def _link_kinds(entities: tuple[Entity, ...]) -> list[tuple[LinkKind, list[int]]]:
    """The link kinds ``entities`` are linked by, each with the ids of its records."""
    out = []
    for kind in KINDS:
        wanted = [e.record_id for e in entities if e.kind == kind.name and e.record_id is not None]
        if wanted:
            out.append((kind, wanted))
    return out


class _Plan:
    """The SQL pieces of one query's terms: which events match, and how they rank."""

    def __init__(self, dialect: str, terms: list[Term]) -> None:
        self.dialect, self.terms = dialect, terms
        #: Only events from this id on are ranked (the RANK_WINDOW newest matches), None for all.
        self.floor: Floor = None

    def _text(self, terms: list[Term], *, any_group: bool = False, title_only: bool = False) -> TextMatch:
        groups = tuple(t.alternatives for t in terms)
        return TextMatch(self.dialect, groups=groups, any_group=any_group, title_only=title_only)

    def _text_ids(self, terms: list[Term], *, any_group: bool = False) -> Select[Any]:
        return self._text(terms, any_group=any_group).ids(self.floor)

    def _linked_ids(self, entities: tuple[Entity, ...]) -> list[Select[Any]]:
        out: list[Select[Any]] = []
        for kind, wanted in _link_kinds(entities):
            if wanted:
                col = kind.table.c[kind.column]
                linked = select(kind.table.c.event_id.label("id")).where(col.in_(wanted))
                out.append(
                    linked if self.floor is None else linked.where(kind.table.c.event_id >= self.floor)
                )
        return out

    def _linked(
        self, term: Term, key: Key, records: tuple[Entity, ...] | None = None
    ) -> list[ColumnElement[bool]]:
        """SQL: the event with id ``key`` links to a record ``term`` names (one check per link kind);
        to one of ``records`` when given, else to one of the records it matches by. Each check reads
        the link table's (record, event) index once, from the window's floor on."""
        return [key.in_(ids) for ids in self._linked_ids(term.links if records is None else records)]

    def _matches(self, term: Term, key: Key) -> ColumnElement[bool]:
        """SQL: the event with id ``key`` matches ``term``, by its text or by a link. PostgreSQL tests
        the row's own vector (a self-join would hash every event the term's text matches)."""
        if self.dialect != "sqlite" and key is models.Event.id:
            return or_(self._text([term]).holds(), *self._linked(term, key))
        return or_(key.in_(self._text_ids([term])), *self._linked(term, key))

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
            return streams + [p for t in linked for p in (self._text([t]).ids(), *self._linked_ids(t.links))]
        choices = [[None, *_link_kinds(t.links)] for t in linked]  # None: by its text
        combos = list(itertools.product(*choices))
        if len(combos) > MAX_STREAMS:
            return []
        streams = []
        for combo in combos:
            texts = plain + [t for t, how in zip(linked, combo, strict=True) if how is None]
            streams.append(self._stream(texts, [how for how in combo if how is not None]))
        return streams

    def _stream(self, texts: list[Term], links: list[tuple[LinkKind, list[int]]]) -> Select[Any]:
        """The events whose text holds ``texts`` and that link to a wanted record of each of
        ``links``. On PostgreSQL the row's own vector is tested and the planner orders the joins. On
        SQLite the text index drives, unless a link is to a system or site: those have few events,
        read first, each then checking the text by its rowid (walking every match of a common word
        for the few a site links to would read them all)."""
        links = sorted(links, key=lambda link: link[0].name not in SPARSE)
        key: Any
        if texts and self.dialect != "sqlite":
            # PostgreSQL: the row's own vector; the planner orders the joins.
            stream = select(models.Event.id.label("id")).where(self._text(texts).holds())
            key = models.Event.id
        elif texts and not (links and links[0][0].name in SPARSE):
            fts = FTS.alias()
            stream = select(fts.c.rowid.label("id")).where(
                fts.c.event_fts.op("MATCH")(self._text(texts).fts5_query())
            )
            key = fts.c.rowid
        else:
            first, wanted = links.pop(0)
            table = first.table.alias()
            stream = select(table.c.event_id.label("id")).where(table.c[first.column].in_(wanted))
            key = table.c.event_id
            if texts:
                fts = FTS.alias()
                held = fts.c.event_fts.op("MATCH")(self._text(texts).fts5_query())
                stream = stream.where(exists().where(fts.c.rowid == key, held))
        for kind, wanted in links:
            table = kind.table.alias()
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
            parts = [_either([self._text_ids([t]), *self._linked_ids(t.links)]) for t in linked]
            return parts[0] if len(parts) == 1 else select(intersect(*parts).subquery().c.id)
        parts = ([self._text_ids(plain, any_group=True)] if plain else []) + [
            p for t in linked for p in (self._text_ids([t]), *self._linked_ids(t.links))
        ]
        return _either(parts)

    def _in_title(self, terms: list[Term]) -> ColumnElement[bool]:
        return self._text(terms, any_group=True, title_only=True).holds(self.floor)

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
        checks = self._linked(term, models.Event.id, term.records)
        if any(e.record_id is None for e in term.entities):
            checks.append(self._in_title([term]))
        return or_(*checks) if checks else literal(False)


def _window(plan: _Plan, mode: Mode) -> tuple[Any, Key, ColumnElement[Any]]:
    """The RANK_WINDOW + 1 newest matches (a CTE), its id column, and how many it holds; the plan's
    text, link and title lookups then read from the window's oldest id on."""
    window = plan.newest(mode).limit(RANK_WINDOW + 1).cte("search_window")
    key = window.c[0]
    plan.floor = select(func.min(key)).scalar_subquery()
    return window, key, select(func.count()).select_from(window).scalar_subquery()


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
        .where(visible(page.guild_id), E.status == "published")
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
        self._statements: dict[tuple[tuple[Term, ...], Mode, _PageArgs], Select[Any]] = {}

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
        return parse(query, await self.names())

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
        rows = (await session.execute(self._statement(terms, mode, page))).all()
        if rows:
            matches = RANK_WINDOW + 1 if rows[0][1] > RANK_WINDOW else int(rows[0][2])
            return [row[0] for row in rows], matches
        if page.offset == 0:
            return [], 0
        # Past the last page: count them alone (a press on an old button).
        many, shown = (await session.execute(_count_statement(_Plan(self._dialect, terms), mode, page))).one()
        return [], RANK_WINDOW + 1 if many > RANK_WINDOW else int(shown)

    def _statement(self, terms: list[Term], mode: Mode, page: _PageArgs) -> Select[Any]:
        """The page's statement, built once per terms, mode and page: building and keying a statement
        this size costs more than SQLite's run of it. Only the statement is kept, never its rows."""
        key = (tuple(terms), mode, page)
        if (stmt := self._statements.get(key)) is None:
            stmt = _page_statement(_Plan(self._dialect, terms), mode, page)
            if len(self._statements) >= STATEMENT_MEMO:
                del self._statements[next(iter(self._statements))]
            self._statements[key] = stmt
        return stmt

    async def search_catalog(self, query: str) -> list[CatalogHit]:
        """Catalog records for ``query``: the ones it names first, then close matches, best first.

        The answer depends on the query and the catalog alone: the last CATALOG_MEMO answers are kept
        until the catalog's snapshot changes (a page button re-runs the query; scoring every record
        fuzzily costs more than the event search)."""
        index = await self.names()
        snapshot = (id(index), *(id(p) for p in await self._catalog.positions()))
        if self._memo_key != snapshot:
            self._memo_key, self._memo = snapshot, {}
        if (known := self._memo.get(query)) is not None:
            return list(known)
        hits = await self._match_catalog(query)
        if len(self._memo) >= CATALOG_MEMO:
            del self._memo[next(iter(self._memo))]
        self._memo[query] = tuple(hits)
        return hits

    async def _match_catalog(self, query: str) -> list[CatalogHit]:
        q = normalize(query)
        hits: dict[tuple[str, str], CatalogHit] = {}

        def add(hit: CatalogHit) -> None:
            key = (hit.kind, hit.title)
            if hit.score >= CATALOG_CUTOFF and (key not in hits or hits[key].score < hit.score):
                hits[key] = hit

        def score(*fields: str) -> float:
            best = 0.0
            for f in fields:
                nf = _normalized(f)
                if not nf:
                    continue
                if q in nf:
                    best = max(best, 100.0 if nf.startswith(q) else 90.0)
                best = max(best, fuzz.token_set_ratio(q, nf) if len(nf) < 200 else fuzz.partial_ratio(q, nf))
            return best

        programs = await self._catalog.programs()
        tracks = await self._catalog.tracks()
        parent_of = {(x.kind, x.slug): p for p in programs for x in (*p.systems, *p.facilities)}
        record_of: dict[tuple[str, str], Any] = {("program", p.slug): p for p in programs}
        record_of |= {(x.kind, x.slug): x for p in programs for x in (*p.systems, *p.facilities)}
        record_of |= {("track", t.slug): t for t in tracks}
        for term in await self.terms(query):
            for e in term.entities:
                if (
                    parent := parent_of.get((e.kind, e.ref))
                ) is not None:  # a system's page, then its program
                    add(
                        CatalogHit(
                            "program", parent.name, parent.summary, parent.slug, NAMED_SCORE - 1, parent
                        )
                    )
                if e.kind != "actor":  # parties answer through their positions
                    add(
                        CatalogHit(
                            e.kind, e.name, e.summary, e.ref, NAMED_SCORE, record_of.get((e.kind, e.ref))
                        )
                    )
        for p in programs:
            names = program_names(p)
            add(
                CatalogHit("program", p.name, p.summary, p.slug, max(score(*names), score(p.summary) - 10), p)
            )
        for t in tracks:
            s = max(score(t.name, *t.names()), score(t.summary) - 10)
            add(CatalogHit("track", t.name, t.summary, t.slug, s, t))
        for pos in await self._catalog.positions():
            s = max(score(pos.topic.name) - 5, score(pos.summary, pos.stance, pos.quote or "") - 10)
            title = f"{pos.party.name} on {pos.topic.name} ({pos.as_of.year})"
            add(CatalogHit("position", title, pos.summary, f"{pos.party.slug}/{pos.topic.slug}", s, pos))
        return sorted(hits.values(), key=lambda h: (-h.score, CATALOG_KINDS.index(h.kind), h.title))

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
