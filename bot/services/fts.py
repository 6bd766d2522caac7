"""The full-text match over events, for both dialects: SQLite FTS5 and PostgreSQL text search.

Migration 0001 keeps the FTS5 table ``event_fts`` (title, summary) in step with ``event``; migration
0002 stores a weighted ``search_vector`` (title above summary) on PostgreSQL, indexed with GIN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, column, func, literal_column, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot import models

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12
FTS = table("event_fts", column("rowid"), column("event_fts"))
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def words(query: str) -> list[str]:
    """The terms of a query as the index sees them: casefolded words, at most MAX_TERMS."""
    return WORD.findall(query.casefold())[:MAX_TERMS]


@dataclass(frozen=True)
class TextMatch:
    """Events whose text holds every term (as a prefix when ``prefix``; in the title when ``title_only``)."""

    dialect: str
    terms: tuple[str, ...]
    prefix: bool = False
    title_only: bool = False

    @property
    def _sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _fts5_query(self) -> str:
        expr = " ".join(f'"{t}"*' if self.prefix else f'"{t}"' for t in self.terms)
        return f"title : ({expr})" if self.title_only else expr

    def _tsquery(self) -> ColumnElement[Any]:
        # PostgreSQL's parser reads "Hwasong-15" as 'hwasong' and '-15': a number also matches its
        # signed form. ``A`` is the title's weight.
        star = (":*" if self.prefix else "") + ("A" if self.title_only else "")
        if self.title_only and not self.prefix:
            star = ":A"
        parts = [f"({t}{star} | -{t}{star})" if t.isdigit() else f"{t}{star}" for t in self.terms]
        return func.to_tsquery(literal_column("'english'"), " & ".join(parts))

    def narrow(self, stmt: SelectT) -> tuple[SelectT, ColumnElement[Any]]:
        """``stmt`` (over ``event``) narrowed to the matching events, and a rank (lower is better)."""
        if self._sqlite:
            matched = stmt.join(FTS, FTS.c.rowid == models.Event.id).where(
                FTS.c.event_fts.op("MATCH")(self._fts5_query())
            )
            return matched, func.bm25(literal_column("event_fts"), 4.0, 1.0)
        document: ColumnElement[Any] = literal_column("event.search_vector")
        tsq = self._tsquery()
        return stmt.where(document.op("@@")(tsq)), -func.ts_rank(document, tsq)

    @property
    def key(self) -> ColumnElement[Any]:
        """The event id as a statement from :meth:`narrow` sees it in the index (cheapest to compare)."""
        return FTS.c.rowid if self._sqlite else models.Event.id  # type: ignore[return-value]

    def ids(self) -> Select[Any]:
        """The ids of every matching event, straight from the text index (scope not applied)."""
        if self._sqlite:
            return select(FTS.c.rowid.label("id")).where(FTS.c.event_fts.op("MATCH")(self._fts5_query()))
        stmt, _rank = self.narrow(select(models.Event.id))
        return stmt

    def newest(self, limit: int) -> Any:
        """A subquery of the ids of the ``limit`` most recently added matching events."""
        ids = self.ids()
        return ids.order_by(ids.selected_columns[0].desc()).limit(limit).subquery()


async def custom_plans(session: AsyncSession, dialect: str) -> None:
    """On PostgreSQL, plan this transaction's statements for their actual values.

    How many rows a text query matches swings from a handful to half the table, and a prepared
    statement's generic plan cannot know which: it would scan every match where walking the primary
    key finds the newest ones at once (or the other way round).
    """
    if dialect == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
