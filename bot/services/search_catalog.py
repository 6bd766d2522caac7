"""The catalog records a search names or comes close to: programs, systems, facilities, tracks and
positions, few enough to be matched in memory.

A record the query names (see ``bot.services.search_query``) comes first, a system or site before its
program. Every other record is scored by its closest text: its names, else its summary (less 10), for a
position its topic (less 5) or its summary, stance and quote (less 10). The texts are normalized once
per catalog snapshot and scored in batches (one rapidfuzz call per kind of text), not one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from bot.services.catalog import normalize, program_names
from bot.services.search_query import Term
from bot.services.views import PositionView, ProgramView, TrackView

CATALOG_CUTOFF = 75
CATALOG_HITS = 5
#: A named record outranks any fuzzy catalog match.
NAMED_SCORE = 110.0
CATALOG_KINDS = ("program", "system", "facility", "track", "position")
#: A text this long is compared by its best-matching part (a summary), a shorter one by its words.
LONG_TEXT = 200


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


#: A record's hit for a score.
HitOf = Callable[[float], CatalogHit]


@dataclass
class _Texts:
    """The normalized texts of one kind (short or long) and penalty, with the record each is of."""

    texts: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)


class CatalogMatcher:
    """One catalog snapshot's records, ready to score queries against."""

    def __init__(
        self, programs: Sequence[ProgramView], tracks: Sequence[TrackView], positions: Sequence[PositionView]
    ) -> None:
        self.hits: list[HitOf] = []
        self._groups: dict[tuple[float, bool], _Texts] = {}
        for p in programs:
            self._record(
                _hit_of("program", p.name, p.summary, p.slug, p), [(program_names(p), 0), ([p.summary], 10)]
            )
        for t in tracks:
            self._record(
                _hit_of("track", t.name, t.summary, t.slug, t), [([t.name, *t.names()], 0), ([t.summary], 10)]
            )
        for pos in positions:
            title = f"{pos.party.name} on {pos.topic.name} ({pos.as_of.year})"
            ref = f"{pos.party.slug}/{pos.topic.slug}"
            texts = [([pos.topic.name], 5), ([pos.summary, pos.stance, pos.quote or ""], 10)]
            self._record(_hit_of("position", title, pos.summary, ref, pos), texts)
        self.parent_of = {(x.kind, x.slug): p for p in programs for x in (*p.systems, *p.facilities)}
        record_of: dict[tuple[str, str], Any] = {("program", p.slug): p for p in programs}
        record_of |= {(x.kind, x.slug): x for p in programs for x in (*p.systems, *p.facilities)}
        self.record_of = record_of | {("track", t.slug): t for t in tracks}

    def _record(self, hit: HitOf, texts: Sequence[tuple[Sequence[str], float]]) -> None:
        owner = len(self.hits)
        self.hits.append(hit)
        for group, penalty in texts:
            for text in group:
                if normalized := normalize(text):
                    entry = self._groups.setdefault((penalty, len(normalized) >= LONG_TEXT), _Texts())
                    entry.texts.append(normalized)
                    entry.owners.append(owner)

    def scores(self, query: str) -> list[float]:
        """Each record's score for ``query``: its best text's, less that text's penalty. A text holding
        the query scores 100 when it starts with it, else 90; any text, its fuzzy ratio."""
        q = normalize(query)
        best = [0.0] * len(self.hits)
        for (penalty, long), entry in self._groups.items():
            scorer = fuzz.partial_ratio if long else fuzz.token_set_ratio
            found = process.extract(
                q,
                entry.texts,
                scorer=scorer,
                processor=None,
                limit=None,
                score_cutoff=CATALOG_CUTOFF + penalty,
            )
            for _text, score, i in found:
                owner = entry.owners[i]
                best[owner] = max(best[owner], score - penalty)
            for i, text in enumerate(entry.texts):
                if q in text:
                    owner = entry.owners[i]
                    best[owner] = max(best[owner], (100.0 if text.startswith(q) else 90.0) - penalty)
        return best

    def match(self, query: str, terms: Sequence[Term]) -> list[CatalogHit]:
        """The records ``terms`` name, then every record scoring at least CATALOG_CUTOFF, best first."""
        hits: dict[tuple[str, str], CatalogHit] = {}

        def add(hit: CatalogHit) -> None:
            key = (hit.kind, hit.title)
            if hit.score >= CATALOG_CUTOFF and (key not in hits or hits[key].score < hit.score):
                hits[key] = hit

        for term in terms:
            for e in term.entities:
                if (
                    parent := self.parent_of.get((e.kind, e.ref))
                ) is not None:  # a system's page, then its program
                    add(
                        CatalogHit(
                            "program", parent.name, parent.summary, parent.slug, NAMED_SCORE - 1, parent
                        )
                    )
                if e.kind != "actor":  # parties answer through their positions
                    add(
                        CatalogHit(
                            e.kind, e.name, e.summary, e.ref, NAMED_SCORE, self.record_of.get((e.kind, e.ref))
                        )
                    )
        for hit_of, score in zip(self.hits, self.scores(query), strict=True):
            add(hit_of(score))
        return sorted(hits.values(), key=lambda h: (-h.score, CATALOG_KINDS.index(h.kind), h.title))


def _hit_of(kind: str, title: str, summary: str, ref: str, record: Any) -> HitOf:
    return lambda score: CatalogHit(kind, title, summary, ref, score, record)
