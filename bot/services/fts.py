"""The full-text match over events, for both dialects: SQLite FTS5 and PostgreSQL text search.

Migration 0001 keeps the FTS5 table ``event_fts`` (title, summary) in step with ``event``; migration
0002 stores a weighted ``search_vector`` (title above summary) on PostgreSQL, indexed with GIN;
migration 0007 indexes the title's own vector for title autocomplete; migration 0017 adds the
event's translations (``search_local``, Korean, Japanese and Chinese cut into bigrams by
``bot.services.cjk``) to both, below the summary. A query word in those scripts is matched as the
phrase of its bigrams (:func:`bot.services.cjk.grams`), so ``热核武器`` finds the event whose Chinese
summary holds it, through the index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, column, func, literal_column, select, table, union_all
from sqlalchemy.sql.elements import ColumnElement

from bot import models
from bot.services.cjk import grams, has_cjk

WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Where letters meet digits inside a word: "hwasong17" is "hwasong" and "17", as "Hwasong-17" is.
_CODE = re.compile(r"\d+|[^\W\d_]+", re.UNICODE)
MAX_TERMS = 12
FTS = table("event_fts", column("rowid"), column("event_fts"))
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])
#: The expression of the PostgreSQL index over titles alone (migration 0007).
TITLE_VECTOR = "to_tsvector('english'::regconfig, coalesce(event.title, ''))"
#: How many of the newest events a PostgreSQL prefix lookup checks one by one before the index.
RECENT_SCAN = 10_000
#: The lowest event id a lookup reads: a number, an SQL expression (a subquery), or None for all.
Floor = int | ColumnElement[Any] | None


def words(query: str) -> list[str]:
    """The terms of a query as the index sees them: casefolded words, at most MAX_TERMS."""
    return WORD.findall(query.casefold())[:MAX_TERMS]


def code_parts(word: str) -> list[str]:
    """A word split where letters meet digits: "hwasong17" → ["hwasong", "17"]; "2397" → ["2397"]."""
    return _CODE.findall(word)


def tokens(text: str) -> list[str]:
    """The words of ``text`` with codes split, the form names are compared in ("kn 08", "hwasong 17")."""
    return [part for word in words(text) for part in code_parts(word)]


@dataclass(frozen=True)
class Words:
    """Words an event's text must hold: all of them, and adjacent and in order when ``phrase``."""

    terms: tuple[str, ...]
    phrase: bool = False


#: Any of several :class:`Words` (a term, or every name of a catalog record).
Group = tuple[Words, ...]


def absorbed(group: Group) -> Group:
    """``group`` without the alternatives another one already covers: any text holding every word
    of "sohae satellite launching station" holds "sohae", so ``sohae OR (sohae AND …)`` is ``sohae``.
    The same events match; the index reads fewer lists (a record's names often repeat its short name)."""
    kept: list[Words] = []
    for i, w in enumerate(group):
        terms = set(w.terms)
        covered = any(
            not other.phrase and set(other.terms) <= terms and (set(other.terms) < terms or w.phrase or j < i)
            for j, other in enumerate(group)
            if j != i
        )
        if not covered:
            kept.append(w)
    return tuple(kept)


@dataclass(frozen=True)
class TextMatch:
    """Events whose text holds every term (as a prefix when ``prefix``; in the title when ``title_only``).

    ``groups`` generalises ``terms``: each group is matched by any of its :class:`Words`, and an event
    must match every group, or any group when ``any_group``.
    """

    dialect: str
    terms: tuple[str, ...] = ()
    prefix: bool = False
    title_only: bool = False
    groups: tuple[Group, ...] = ()
    any_group: bool = False
    #: The query text as a bound parameter of a statement kept for every query of its shape (see
    #: ``bot.services.search``); None: the text itself, from :meth:`text`.
    bound: ColumnElement[Any] | None = field(default=None, compare=False)

    @property
    def _sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def _groups(self) -> tuple[Group, ...]:
        return tuple(absorbed(g) for g in self.groups) or tuple((Words((t,)),) for t in self.terms)

    def fts5_query(self) -> str:
        star = "*" if self.prefix else ""

        def one(t: str) -> str:
            # A CJK word is the phrase of its bigrams; a lone CJK character, any bigram it starts.
            parts = grams(t)
            lone = len(parts) == 1 and len(t) == 1 and has_cjk(t)
            return f'"{" ".join(parts)}"{"*" if lone else star}'

        def alternative(w: Words) -> str:
            if w.phrase:
                return f'"{" ".join(g for t in w.terms for g in grams(t))}"{star}'
            return "(" + " AND ".join(one(t) for t in w.terms) + ")"

        glue = " OR " if self.any_group else " AND "
        expr = glue.join("(" + " OR ".join(alternative(w) for w in g) + ")" for g in self._groups)
        return f"title : ({expr})" if self.title_only else expr

    def text(self) -> str:
        """The query as the dialect's index reads it: an FTS5 query, or a ``to_tsquery`` text."""
        return self.fts5_query() if self._sqlite else self.tsquery_text()

    def query(self) -> ColumnElement[Any] | str:
        """What a statement matches against: the bound parameter when there is one, else the text."""
        return self.bound if self.bound is not None else self.text()

    def tsquery_text(self) -> str:
        # PostgreSQL's parser reads "Hwasong-15" as 'hwasong' and '-15': a number also matches its
        # signed form. ``A`` is the title's weight.
        star = (":*" if self.prefix else "") + ("A" if self.title_only else "")
        if self.title_only and not self.prefix:
            star = ":A"

        def term(t: str) -> str:
            if t.isdigit():
                return f"({t}{star} | -{t}{star})"
            if not has_cjk(t):
                return f"{t}{star}"
            # A CJK word: the phrase of its bigrams (a lone character: any bigram it starts).
            parts = grams(t)
            if len(parts) == 1 and len(t) == 1:
                return f"{t}:*{'A' if self.title_only else ''}"
            return "(" + " <-> ".join([*parts[:-1], f"{parts[-1]}{star}"]) + ")"

        def alternative(w: Words) -> str:
            return "(" + (" <-> " if w.phrase else " & ").join(term(t) for t in w.terms) + ")"

        glue = " | " if self.any_group else " & "
        return glue.join("(" + " | ".join(alternative(w) for w in g) + ")" for g in self._groups)

    def _tsquery(self) -> ColumnElement[Any]:
        return func.to_tsquery(literal_column("'english'"), self.query())

    def narrow(self, stmt: SelectT) -> tuple[SelectT, ColumnElement[Any]]:
        """``stmt`` (over ``event``) narrowed to the matching events, and a rank (lower is better)."""
        if self._sqlite:
            matched = stmt.join(FTS, FTS.c.rowid == models.Event.id).where(
                FTS.c.event_fts.op("MATCH")(self.query())
            )
            return matched, func.bm25(literal_column("event_fts"), 4.0, 1.0)
        document: ColumnElement[Any] = literal_column("event.search_vector")
        tsq = self._tsquery()
        return stmt.where(document.op("@@")(tsq)), -func.ts_rank(document, tsq)

    def holds(self, floor: Floor = None) -> ColumnElement[bool]:
        """SQL over ``event``: this event matches; on SQLite, only events from id ``floor`` on are
        looked up in the text index."""
        if self._sqlite:
            return models.Event.id.in_(self.ids(floor))
        return literal_column("event.search_vector").op("@@")(self._tsquery())

    @property
    def key(self) -> ColumnElement[Any]:
        """The event id as a statement from :meth:`narrow` sees it in the index (cheapest to compare)."""
        return FTS.c.rowid if self._sqlite else models.Event.id  # type: ignore[return-value]

    def ids(self, floor: Floor = None) -> Select[Any]:
        """The ids of every matching event (from id ``floor`` on), straight from the text index
        (scope not applied). FTS5 reads a rowid floor from the index: only the newest are read."""
        if self._sqlite:
            # An alias of its own: a match may be nested in another match's conditions.
            fts = FTS.alias()
            stmt = select(fts.c.rowid.label("id")).where(fts.c.event_fts.op("MATCH")(self.query()))
            return stmt if floor is None else stmt.where(fts.c.rowid >= floor)
        stmt, _rank = self.narrow(select(models.Event.id))
        return stmt if floor is None else stmt.where(models.Event.id >= floor)

    def newest(self, limit: int) -> Any:
        """A subquery of the ids of the ``limit`` most recently added matching events."""
        if self._sqlite:  # FTS5 reads its index in rowid order: the newest come first, the rest never
            ids = self.ids()
            return ids.order_by(ids.selected_columns[0].desc()).limit(limit).subquery()
        return self._newest_postgres(limit)

    def _newest_postgres(self, limit: int) -> Any:
        """PostgreSQL: the newest RECENT_SCAN events, newest first, checked one by one — enough when
        the words are common; only when those hold fewer than ``limit`` matches, the text index
        (for a title match, the index over titles alone: it returns title matches only). One
        statement: the second branch runs only when the first came up short."""
        E = models.Event
        vector: ColumnElement[Any] = literal_column("search_vector")
        recent = select(E.id, vector).order_by(E.id.desc()).limit(RECENT_SCAN).subquery()
        near = select(recent.c.id).where(recent.c.search_vector.op("@@")(self._tsquery())).limit(limit)
        near_cte = near.cte("recent_matches")
        enough = select(func.count()).select_from(near_cte).scalar_subquery() >= limit
        if self.title_only:
            anywhere = TextMatch(self.dialect, self.terms, prefix=self.prefix, groups=self.groups)
            found = literal_column(TITLE_VECTOR).op("@@")(anywhere._tsquery())
        else:
            found = vector.op("@@")(self._tsquery())
        far = select(E.id).where(found).order_by(E.id.desc()).limit(limit).subquery()
        both = union_all(select(near_cte.c.id).where(enough), select(far.c.id).where(~enough)).subquery()
        return select(both.c.id.label("id")).subquery()
