"""Full-text search: SQLite FTS5 or PostgreSQL text search behind one interface, ranked.

Events are searched in the database; programs, talks tracks and positions are few and are matched in
memory from the catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from rapidfuzz import fuzz
from sqlalchemy import Select, column, func, literal_column, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot import models
from bot.db import Sessionmaker
from bot.services.catalog import CatalogService, normalize
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.events import read_views, visible
from bot.services.views import EventView

WORD = re.compile(r"\w+", re.UNICODE)
QUERY_MAX = 200
CATALOG_CUTOFF = 75
#: Beyond this many matches, only the most recently added are ranked (see search_events).
RANK_WINDOW = 1000


@dataclass(frozen=True)
class CatalogHit:
    kind: str  # "program" | "track" | "position"
    title: str
    summary: str
    ref: str  # slug (program, track) or "party/topic" (position)
    score: float


@dataclass(frozen=True)
class SearchPage:
    query: str
    catalog: tuple[CatalogHit, ...]
    events: tuple[EventView, ...]
    total_events: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        nxt = self.offset + self.limit
        return nxt if nxt < self.total_events else None


def words(query: str) -> list[str]:
    return WORD.findall(query.casefold())[:12]


SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])
FTS = table("event_fts", column("rowid"), column("event_fts"))


def fts_match(
    stmt: SelectT, dialect: str, terms: list[str], *, prefix: bool, title_only: bool = False
) -> tuple[SelectT, ColumnElement[Any]]:
    """``stmt`` (over ``event``) narrowed to events matching every term, and a rank (lower is better)."""
    if dialect == "sqlite":
        expr = " ".join(f'"{t}"*' if prefix else f'"{t}"' for t in terms)
        if title_only:
            expr = f"title : ({expr})"
        stmt = stmt.join(FTS, FTS.c.rowid == models.Event.id).where(FTS.c.event_fts.op("MATCH")(expr))
        return stmt, func.bm25(literal_column("event_fts"), 4.0, 1.0)
    # The stored, weighted vector of migration 0002 (title above summary), indexed with GIN.
    document: ColumnElement[Any] = literal_column("event.search_vector")
    # PostgreSQL's parser reads "Hwasong-15" as 'hwasong' and '-15': a number also matches its signed form.
    star = (":*" if prefix else "") + ("A" if title_only else "")
    if title_only and not prefix:
        star = ":A"
    parts = [f"({t}{star} | -{t}{star})" if t.isdigit() else f"{t}{star}" for t in terms]
    tsq = func.to_tsquery(literal_column("'english'"), " & ".join(parts))
    return stmt.where(document.op("@@")(tsq)), -func.ts_rank(document, tsq)


async def custom_plans(session: AsyncSession) -> None:
    """On PostgreSQL, plan this transaction's statements for their actual values.

    How many rows a text query matches swings from a handful to half the table, and a prepared
    statement's generic plan cannot know which: it would scan every match where walking the primary
    key finds the newest ones at once (or the other way round).
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def matching_ids(dialect: str, terms: list[str], *, prefix: bool, title_only: bool = False) -> Select[Any]:
    """The ids of every event matching every term, straight from the text index (scope not applied)."""
    if dialect == "sqlite":
        expr = " ".join(f'"{t}"*' if prefix else f'"{t}"' for t in terms)
        if title_only:
            expr = f"title : ({expr})"
        return select(FTS.c.rowid.label("id")).where(FTS.c.event_fts.op("MATCH")(expr))
    stmt, _ = fts_match(select(models.Event.id), dialect, terms, prefix=prefix, title_only=title_only)
    return stmt


def newest_matches(
    dialect: str, terms: list[str], *, limit: int, prefix: bool, title_only: bool = False
) -> Any:
    """A subquery of the ids of the ``limit`` most recently added events matching every term."""
    ids = matching_ids(dialect, terms, prefix=prefix, title_only=title_only)
    return ids.order_by(ids.selected_columns[0].desc()).limit(limit).subquery()


class SearchService:
    def __init__(self, sessionmaker: Sessionmaker, catalog: CatalogService) -> None:
        self._sessionmaker = sessionmaker
        self._catalog = catalog

    def _dialect(self) -> str:
        bind = self._sessionmaker.kw.get("bind")
        return bind.dialect.name if bind is not None else "sqlite"

    def _event_query(
        self, terms: list[str], guild_id: int | None, *, prefix: bool
    ) -> tuple[Select[Any], ColumnElement[float]]:
        stmt = select(models.Event).where(visible(guild_id), models.Event.status == "published")
        return fts_match(stmt, self._dialect(), terms, prefix=prefix)

    async def search_events(
        self,
        query: str,
        *,
        guild_id: int | None = None,
        limit: int = 10,
        offset: int = 0,
        prefix: bool = False,
        links: bool = True,
    ) -> tuple[list[EventView], int]:
        """Ranked events matching every word of ``query``, and how many match (at most RANK_WINDOW + 1).

        When more than RANK_WINDOW events match, only the RANK_WINDOW most recently added are ranked:
        a query that broad says little, and ranking every match costs time linear in the matches.
        """
        terms = words(query)
        if not terms:
            return [], 0
        stmt, rank = self._event_query(terms, guild_id, prefix=prefix)
        E = models.Event
        # Matches regardless of scope and status: cheap to count and to cut, and close enough for a
        # recency window. The planners misjudge the scope filter and would rank every match.
        matching = matching_ids(self._dialect(), terms, prefix=prefix)
        key = matching.selected_columns[0]
        async with self._sessionmaker() as session:
            await custom_plans(session)
            # The RANK_WINDOW-th and the next newest match: two rows mean the query is broad, and the
            # first is where the window starts. One statement answers both questions.
            window = matching.order_by(key.desc()).offset(RANK_WINDOW - 1).limit(2)
            edge = list((await session.scalars(window)).all())
            if len(edge) == 2:
                total = RANK_WINDOW + 1
                stmt = stmt.where((FTS.c.rowid if self._dialect() == "sqlite" else E.id) >= int(edge[0]))
            else:
                total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
            page = stmt.order_by(rank, E.occurred_on.desc(), E.id.desc()).limit(limit).offset(offset)
            views = await read_views(session, page, links=links) if total > offset else []
        return views, total

    async def search_catalog(self, query: str) -> list[CatalogHit]:
        q = normalize(query)
        hits: list[CatalogHit] = []

        def score(*fields: str) -> float:
            best = 0.0
            for f in fields:
                nf = normalize(f)
                if not nf:
                    continue
                if q in nf:
                    best = max(best, 100.0 if nf.startswith(q) else 90.0)
                best = max(best, fuzz.token_set_ratio(q, nf) if len(nf) < 200 else fuzz.partial_ratio(q, nf))
            return best

        for p in await self._catalog.programs():
            names = [
                p.name,
                *p.aliases,
                *(s.get("name", "") for s in p.systems),
                *(f.get("name", "") for f in p.facilities),
            ]
            names += [a for s in p.systems for a in s.get("aliases", [])]
            s = max(score(*names), score(p.summary) - 10)
            if s >= CATALOG_CUTOFF:
                hits.append(CatalogHit("program", p.name, p.summary, p.slug, s))
        for t in await self._catalog.tracks():
            s = max(score(t.name, *t.aliases), score(t.summary) - 10)
            if s >= CATALOG_CUTOFF:
                hits.append(CatalogHit("track", t.name, t.summary, t.slug, s))
        for pos in await self._catalog.positions():
            s = max(score(pos.topic.name) - 5, score(pos.summary, pos.stance, pos.quote or "") - 10)
            if s >= CATALOG_CUTOFF:
                hits.append(
                    CatalogHit(
                        "position",
                        f"{pos.party.name} on {pos.topic.name} ({pos.as_of.year})",
                        pos.summary,
                        f"{pos.party.slug}/{pos.topic.slug}",
                        s,
                    )
                )
        hits.sort(key=lambda h: (-h.score, h.title))
        return hits

    async def search(
        self, query: str, *, guild_id: int | None = None, limit: int = 5, offset: int = 0, links: bool = True
    ) -> SearchPage:
        """Everything that matches: catalog hits (first page only) and a page of ranked events."""
        query = query.strip()
        if not query:
            raise ValidationFailed([FieldProblem("query", "is empty")])
        if len(query) > QUERY_MAX:
            raise ValidationFailed(
                [FieldProblem("query", f"is {len(query)} characters; at most {QUERY_MAX}")]
            )
        events, total = await self.search_events(
            query, guild_id=guild_id, limit=limit, offset=offset, links=links
        )
        catalog = tuple((await self.search_catalog(query))[:5]) if offset == 0 else ()
        return SearchPage(query, catalog, tuple(events), total, offset, limit)
