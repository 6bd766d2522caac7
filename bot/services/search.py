"""Full-text search: SQLite FTS5 or PostgreSQL text search behind one interface, ranked.

Events are searched in the database; programs, talks tracks and positions are few and are matched in
memory from the catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from rapidfuzz import fuzz
from sqlalchemy import Select, column, func, literal_column, select, table
from sqlalchemy.sql.elements import ColumnElement

from bot import models
from bot.db import Sessionmaker
from bot.services.catalog import CatalogService, normalize
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.events import visible, with_links
from bot.services.views import EventView, event_view

WORD = re.compile(r"\w+", re.UNICODE)
QUERY_MAX = 200
CATALOG_CUTOFF = 75


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
    stmt: SelectT, dialect: str, terms: list[str], *, prefix: bool
) -> tuple[SelectT, ColumnElement[Any]]:
    """``stmt`` (over ``event``) narrowed to events matching every term, and a rank (lower is better)."""
    if dialect == "sqlite":
        expr = " ".join(f'"{t}"*' if prefix else f'"{t}"' for t in terms)
        stmt = stmt.join(FTS, FTS.c.rowid == models.Event.id).where(FTS.c.event_fts.op("MATCH")(expr))
        return stmt, func.bm25(literal_column("event_fts"), 4.0, 1.0)
    document = func.to_tsvector(literal_column("'english'"), models.Event.title + " " + models.Event.summary)
    # PostgreSQL's parser reads "Hwasong-15" as 'hwasong' and '-15': a number also matches its signed form.
    star = ":*" if prefix else ""
    parts = [f"({t}{star} | -{t}{star})" if t.isdigit() else f"{t}{star}" for t in terms]
    tsq = func.to_tsquery(literal_column("'english'"), " & ".join(parts))
    return stmt.where(document.op("@@")(tsq)), -func.ts_rank(document, tsq)


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
    ) -> tuple[list[EventView], int]:
        """Ranked events matching every word of ``query`` and the total count."""
        terms = words(query)
        if not terms:
            return [], 0
        stmt, rank = self._event_query(terms, guild_id, prefix=prefix)
        count_stmt = select(func.count()).select_from(stmt.subquery())
        page = with_links(stmt.order_by(rank, models.Event.occurred_on.desc()).limit(limit).offset(offset))
        async with self._sessionmaker() as session:
            total = int(await session.scalar(count_stmt) or 0)
            rows = (await session.scalars(page)).all() if total > offset else []
        return [event_view(r) for r in rows], total

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
        self, query: str, *, guild_id: int | None = None, limit: int = 5, offset: int = 0
    ) -> SearchPage:
        """Everything that matches: catalog hits (first page only) and a page of ranked events."""
        query = query.strip()
        if not query:
            raise ValidationFailed([FieldProblem("query", "is empty")])
        if len(query) > QUERY_MAX:
            raise ValidationFailed(
                [FieldProblem("query", f"is {len(query)} characters; at most {QUERY_MAX}")]
            )
        events, total = await self.search_events(query, guild_id=guild_id, limit=limit, offset=offset)
        catalog = tuple((await self.search_catalog(query))[:5]) if offset == 0 else ()
        return SearchPage(query, catalog, tuple(events), total, offset, limit)
