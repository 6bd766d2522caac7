"""Search: events ranked by the full-text match (``bot.services.fts``), and catalog records.

Events are searched in the database; programs, talks tracks and positions are few and are matched in
memory from the catalog, under the same names the catalog resolves.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import func, select

from bot import models
from bot.db import Sessionmaker
from bot.services.catalog import CatalogService, normalize, program_names
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.events import read_views
from bot.services.filters import visible
from bot.services.fts import TextMatch, custom_plans, words
from bot.services.views import EventView

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


class SearchService:
    def __init__(self, sessionmaker: Sessionmaker, catalog: CatalogService, *, dialect: str) -> None:
        self._sessionmaker = sessionmaker
        self._catalog = catalog
        self._dialect = dialect

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
        E = models.Event
        match = TextMatch(self._dialect, tuple(terms), prefix=prefix)
        stmt, rank = match.narrow(select(E).where(visible(guild_id), E.status == "published"))
        # Matches regardless of scope and status: cheap to count and to cut, and close enough for a
        # recency window. The planners misjudge the scope filter and would rank every match.
        matching = match.ids()
        key = matching.selected_columns[0]
        async with self._sessionmaker() as session:
            await custom_plans(session, self._dialect)
            # The RANK_WINDOW-th and the next newest match: two rows mean the query is broad, and the
            # first is where the window starts. One statement answers both questions.
            window = matching.order_by(key.desc()).offset(RANK_WINDOW - 1).limit(2)
            edge = list((await session.scalars(window)).all())
            if len(edge) == 2:
                total = RANK_WINDOW + 1
                stmt = stmt.where(match.key >= int(edge[0]))
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
            s = max(score(*program_names(p)), score(p.summary) - 10)
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
