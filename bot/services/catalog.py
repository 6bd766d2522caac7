"""Programs with their systems and facilities, talks tracks, actors, topics and positions: lookup by
slug or alias, lists, autocomplete.

A program is also found by the names of its systems and facilities (``/timeline program:Sohae``);
a *page* (``/program name:X``) is the record X names itself: a program, a system or a facility."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import models
from bot.db import Sessionmaker
from bot.services.errors import NotFound
from bot.services.links import FACILITY, PARTY, PROGRAM, SYSTEM, TRACK, LinkKind
from bot.services.views import (
    ActorView,
    Comparison,
    PartView,
    PositionView,
    ProgramView,
    Ref,
    Statements,
    TopicView,
    TrackView,
    actor_view,
    part_view,
    position_view,
    program_view,
    ref_of,
    topic_view,
    track_view,
)

Kind = Literal["program", "system", "facility", "track", "actor", "topic", "page"]
#: A page's value names its kind unless it is a program's: ``system:hwasong-17``, ``icbm``.
PAGE_PARTS = ("system", "facility")
MAX_CHOICES = 25
FUZZY_CUTOFF = 60
# A typed name that is no exact key still names a record when it is this long and starts one of its
# own keys, or is spelled this close to one (fuzz.ratio).
GUESS_MIN_LENGTH = 3
TYPO_SCORE = 85


@dataclass(frozen=True)
class Choice:
    """An autocomplete answer: what to show and the slug to send back."""

    name: str
    value: str


def normalize(text: str) -> str:
    return " ".join(text.casefold().replace("–", "-").replace("—", "-").split())


@dataclass
class _Entry:
    slug: str
    label: str
    keys: tuple[str, ...]  # normalized name, slug, aliases and ko/ja/zh-CN names, then those of its parts
    own: int  # how many of ``keys`` name the record itself (the rest name its systems and facilities)


@dataclass
class _Snapshot:
    programs: dict[str, ProgramView]
    systems: dict[str, PartView]
    facilities: dict[str, PartView]
    tracks: dict[str, TrackView]
    actors: dict[str, ActorView]
    topics: dict[str, TopicView]
    entries: dict[str, list[_Entry]]
    positions: list[PositionView]
    loaded: float

    def records(self, kind: Kind) -> Mapping[str, ActorView | PartView | ProgramView | TopicView | TrackView]:
        tables: dict[str, Mapping[str, ActorView | PartView | ProgramView | TopicView | TrackView]] = {
            "program": self.programs,
            "system": self.systems,
            "facility": self.facilities,
            "track": self.tracks,
            "actor": self.actors,
            "topic": self.topics,
        }
        return tables[kind]


def program_parts(p: ProgramView) -> list[str]:
    """The names and aliases of a program's systems and facilities (they name the program too)."""
    return [n for part in (*p.systems, *p.facilities) for n in (part.name, *part.aliases)]


def program_names(p: ProgramView) -> list[str]:
    """Every name a program is found by: its own, its aliases, its systems' and facilities'."""
    return [p.name, *p.aliases, *program_parts(p)]


def compact(text: str) -> str:
    """A name without its spaces and hyphens: "Hwasong17", "hwasong 17" and "Hwasong-17" are one."""
    return normalize(text).replace("-", "").replace(" ", "")


def _entry(slug: str, name: str, aliases: Iterable[str], extra: Iterable[str] = ()) -> _Entry:
    names = [k for k in (name, slug, slug.replace("-", " "), *aliases) if k]
    own = dict.fromkeys([*(normalize(k) for k in names), *(compact(k) for k in names)])
    keys = {**own, **dict.fromkeys(normalize(k) for k in extra if k)}
    return _Entry(slug, name, tuple(keys), len(own))


_NOT_WORD = re.compile(r"[^\w]+")
MENTION_MIN = 3  # shorter names ("UN", "US") are too often other words to count as a mention


def _words(text: str) -> str:
    """Normalized text as words between single spaces, hyphens and punctuation taken as spaces."""
    return " ".join(_NOT_WORD.sub(" ", normalize(text)).split())


def _appears(key: str, haystack: str) -> bool:
    words = _words(key)
    if len(words) < MENTION_MIN:
        return False
    if words.isascii():
        return f" {words} " in haystack
    return words in haystack  # Korean, Japanese and Chinese names are not spaced as words


def rank(entries: Sequence[_Entry], text: str, limit: int = MAX_CHOICES) -> list[_Entry]:
    """Prefix matches first (name before alias), then fuzzy matches, best first."""
    query = normalize(text)
    if not query:
        return sorted(entries, key=lambda e: e.label)[:limit]
    prefix: list[tuple[int, int, str, _Entry]] = []
    for e in entries:
        best = None
        for i, key in enumerate(e.keys):
            if key == query:  # an exact name or alias comes first, as it is what the name resolves to
                best = (-1, 0)
                break
            if key.startswith(query):
                best = (0 if i == 0 else 1, len(key))
                break
            if any(word.startswith(query) for word in key.split()):
                best = (2, len(key)) if best is None else best
        if best is not None:
            prefix.append((best[0], best[1], e.label, e))
    prefix.sort(key=lambda t: (t[0], t[1], t[2]))
    chosen = [t[3] for t in prefix]
    if len(chosen) < limit:
        seen = {e.slug for e in chosen}
        choices = {(n, k): k for n, e in enumerate(entries) if e.slug not in seen for k in e.keys}
        scored = process.extract(query, choices, scorer=fuzz.WRatio, limit=None, score_cutoff=FUZZY_CUTOFF)
        for _, _score, (n, _) in scored:
            e = entries[n]
            if e.slug not in seen:
                seen.add(e.slug)
                chosen.append(e)
    return chosen[:limit]


def guess(entries: Sequence[_Entry], query: str) -> str | None:
    """The one record a normalized ``query`` that is no exact key names, if any: it starts one of
    that record's own keys and no key of another record ("denuc"), or it is a near spelling of one of
    its own keys and of no other record's key ("Nroth Korea"). Systems and facilities are named
    exactly: "Hwasong-1" may be Hwasong-13 or Hwasong-15, so it names neither."""
    if len(query) < GUESS_MIN_LENGTH:
        return None
    starting = [e for e in entries if any(k.startswith(query) for k in e.keys)]
    if starting:
        one = starting[0]
        own = len(starting) == 1 and any(k.startswith(query) for k in one.keys[: one.own])
        return one.slug if own else None
    close = [e for e in entries if any(fuzz.ratio(query, k) >= TYPO_SCORE for k in e.keys)]
    if len(close) == 1 and any(fuzz.ratio(query, k) >= TYPO_SCORE for k in close[0].keys[: close[0].own]):
        return close[0].slug
    return None


class CatalogService:
    """Reads the catalog; caches it in memory for ``ttl`` seconds (it changes only on seed or import)."""

    def __init__(self, sessionmaker: Sessionmaker, *, ttl: float = 30.0) -> None:
        self._sessionmaker = sessionmaker
        self._ttl = ttl
        self._snapshot: _Snapshot | None = None

    async def _load(self) -> _Snapshot:
        snap = self._snapshot
        if snap is not None and time.monotonic() - snap.loaded < self._ttl:
            return snap
        async with self._sessionmaker() as session:
            programs = await _programs(session)
            tracks = [
                track_view(t)
                for t in (
                    await session.scalars(
                        select(models.TalksTrack).options(selectinload(models.TalksTrack.participants))
                    )
                ).all()
            ]
            actors = [actor_view(a) for a in (await session.scalars(select(models.Actor))).all()]
            topics = [topic_view(t) for t in (await session.scalars(select(models.Topic))).all()]
            positions = [
                position_view(p)
                for p in (
                    await session.scalars(
                        select(models.Position)
                        .join(models.Position.actor)
                        .join(models.Position.topic)
                        .options(
                            selectinload(models.Position.actor),
                            selectinload(models.Position.topic),
                            selectinload(models.Position.speaker),
                        )
                        .order_by(models.Actor.name, models.Topic.name, models.Position.as_of.desc())
                    )
                ).all()
            ]
        parts = [x for p in programs for x in (*p.systems, *p.facilities)]
        part_entries = {
            k: [_entry(x.slug, x.name, x.names()) for x in parts if x.kind == k] for k in PAGE_PARTS
        }
        entries = {
            "program": [_entry(p.slug, p.name, p.names(), program_parts(p)) for p in programs],
            **part_entries,
            # A system or site before a program: "Yongbyon" is the site, "Nodong" the missile.
            "page": [_entry(f"{x.kind}:{x.slug}", x.name, (x.slug, *x.names())) for x in parts]
            + [_entry(p.slug, p.name, p.names()) for p in programs],
            "track": [_entry(t.slug, t.name, t.names()) for t in tracks],
            "actor": [_entry(a.slug, a.name, a.names()) for a in actors],
            "topic": [_entry(t.slug, t.name, t.names()) for t in topics],
        }
        snap = _Snapshot(
            programs={p.slug: p for p in programs},
            systems={x.slug: x for x in parts if x.kind == "system"},
            facilities={x.slug: x for x in parts if x.kind == "facility"},
            tracks={t.slug: t for t in tracks},
            actors={a.slug: a for a in actors},
            topics={t.slug: t for t in topics},
            entries=entries,
            positions=positions,
            loaded=time.monotonic(),
        )
        self._snapshot = snap
        return snap

    async def autocomplete(self, kind: Kind, text: str, *, parties_only: bool = False) -> list[Choice]:
        snap = await self._load()
        entries = snap.entries[kind]
        if parties_only and kind == "actor":
            entries = [e for e in entries if snap.actors[e.slug].kind != "person"]
        return [Choice(e.label[:100], e.slug) for e in rank(entries, text)]

    async def mentioned(self, text: str) -> dict[str, list[str]]:
        """The slugs of the programs, systems, facilities, parties and tracks whose own names or
        aliases (in any language the catalog holds) appear in ``text``, by each kind's field."""
        snap = await self._load()
        haystack = f" {_words(text)} "
        return {
            kind.field: [
                e.slug for e in snap.entries[kind.name] if any(_appears(k, haystack) for k in e.keys[: e.own])
            ]
            for kind in (PROGRAM, SYSTEM, FACILITY, PARTY, TRACK)
        }

    async def _resolve(self, kind: Kind, text: str, what: str) -> str:
        snap = await self._load()
        query = normalize(text)
        for key in (query, compact(text)):
            for e in snap.entries[kind]:
                if key in e.keys:
                    return e.slug
        # A whole word of one record's name or alias ("sohae" for the Sohae station) names it too.
        by_word = {e.slug for e in snap.entries[kind] if any(query in key.split() for key in e.keys)}
        if len(by_word) == 1:
            return by_word.pop()
        # Otherwise a confident guess, and only the one autocomplete offers first for the same text.
        ranked = rank(snap.entries[kind], text, limit=5)
        slug = guess(snap.entries[kind], query)
        if slug is not None and ranked and ranked[0].slug == slug:
            return slug
        raise NotFound(what, text, [e.label for e in ranked], values=[e.slug for e in ranked])

    async def ref(self, kind: LinkKind, name: str) -> Ref:
        """The record of ``kind`` that ``name`` names (slug, name or alias)."""
        slug = await self._resolve(kind.name, name, kind.label)
        record = (await self._load()).records(kind.name)[slug]
        return Ref(record.slug, record.name, record.i18n)

    async def program(self, name: str) -> ProgramView:
        return (await self._load()).programs[await self._resolve("program", name, PROGRAM.label)]

    async def page(self, name: str) -> ProgramView | PartView:
        """The record ``name`` names for ``/program``: a system or facility by its own names first
        (``Punggye-ri``, ``KN-08``, ``풍계리``), else a program (``ICBM``)."""
        snap = await self._load()
        try:
            value = await self._resolve("page", name, PROGRAM.label)
        except NotFound as exc:
            # The closest programs first (found by their parts' names too), then systems and sites.
            close = [
                *rank(snap.entries["program"], name, limit=5),
                *rank(snap.entries["page"], name, limit=5),
            ]
            slug_of: dict[str, str] = {}
            for e in close:
                slug_of.setdefault(e.label, e.slug)
            labels = list(slug_of)[:5]
            raise NotFound(PROGRAM.label, name, labels, values=[slug_of[x] for x in labels]) from exc
        kind, _, slug = value.rpartition(":")
        if kind in PAGE_PARTS:
            return snap.systems[slug] if kind == "system" else snap.facilities[slug]
        return snap.programs[value]

    async def system(self, name: str) -> PartView:
        return (await self._load()).systems[await self._resolve("system", name, SYSTEM.label)]

    async def facility(self, name: str) -> PartView:
        return (await self._load()).facilities[await self._resolve("facility", name, FACILITY.label)]

    async def parts(self) -> list[PartView]:
        """Every system and facility, by program, in their catalog order."""
        snap = await self._load()
        return [
            x
            for p in sorted(snap.programs.values(), key=lambda p: p.name)
            for x in (*p.systems, *p.facilities)
        ]

    async def track(self, name: str) -> TrackView:
        return (await self._load()).tracks[await self._resolve("track", name, TRACK.label)]

    async def actor(self, name: str) -> ActorView:
        return (await self._load()).actors[await self._resolve("actor", name, PARTY.label)]

    async def topic(self, name: str) -> TopicView:
        """The topic ``name`` names; when none, the failure lists every topic, the closest first."""
        snap = await self._load()
        try:
            return snap.topics[await self._resolve("topic", name, "topic")]
        except NotFound as exc:
            close = list(zip(exc.suggestions, exc.values, strict=True))
            shown = {slug for _, slug in close}
            rest = sorted((t.name, t.slug) for t in snap.topics.values() if t.slug not in shown)
            every = close + rest
            raise NotFound("topic", name, [n for n, _ in every], values=[s for _, s in every]) from None

    async def programs(self) -> list[ProgramView]:
        return sorted((await self._load()).programs.values(), key=lambda p: p.name)

    async def tracks(self) -> list[TrackView]:
        return sorted((await self._load()).tracks.values(), key=lambda t: t.name)

    async def actors(self, *, parties_only: bool = False) -> list[ActorView]:
        items = (await self._load()).actors.values()
        return sorted((a for a in items if not parties_only or a.kind != "person"), key=lambda a: a.name)

    async def topics(self) -> list[TopicView]:
        return sorted((await self._load()).topics.values(), key=lambda t: t.name)

    async def unknown_slugs(self, kind: Kind, slugs: Iterable[str]) -> list[str]:
        records = (await self._load()).records(kind)
        return [s for s in slugs if s not in records]

    async def positions(self, party: str | None = None, topic: str | None = None) -> list[PositionView]:
        """Stated positions, newest first within each party and topic (the full dated history)."""
        party_slug = (await self.actor(party)).slug if party else None
        topic_slug = (await self.topic(topic)).slug if topic else None
        return [
            p
            for p in (await self._load()).positions
            if (party_slug is None or p.party.slug == party_slug)
            and (topic_slug is None or p.topic.slug == topic_slug)
        ]

    async def statements(self, party: str, topic: str | None = None) -> Statements:
        """What ``party`` has stated. A person: their own statements (positions they spoke, or held
        as a party of their own), then the positions of the state they spoke for. A state or an
        organization: its positions."""
        snap = await self._load()
        actor = await self.actor(party)
        topic_slug = (await self.topic(topic)).slug if topic else None
        on_topic = [p for p in snap.positions if topic_slug is None or p.topic.slug == topic_slug]
        if actor.kind != "person":
            return Statements(actor, [p for p in on_topic if p.party.slug == actor.slug])
        own = [p for p in on_topic if actor.slug in (p.party.slug, p.speaker.slug if p.speaker else None)]
        state = _state_of(actor.slug, snap)
        if state is None:
            return Statements(actor, own)
        mine = {p.id for p in own}
        theirs = [p for p in on_topic if p.party.slug == state.slug and p.id not in mine]
        return Statements(actor, own, state, theirs)

    async def compare(self, topic: str) -> dict[str, list[PositionView]]:
        """Every party's positions on one topic: party name → history, newest first."""
        out: dict[str, list[PositionView]] = {}
        for p in await self.positions(topic=topic):
            out.setdefault(p.party.name, []).append(p)
        return out

    async def comparison(self, topic: str) -> Comparison:
        """One topic across the states (one block each, a state with no position too, its history
        newest first), and apart from them the people and organizations quoted on it."""
        snap = await self._load()
        chosen = await self.topic(topic)
        on_topic = [p for p in snap.positions if p.topic.slug == chosen.slug]
        states = sorted((a for a in snap.actors.values() if a.kind == "state"), key=lambda a: a.name)
        by_state = [(a, [p for p in on_topic if p.party.slug == a.slug]) for a in states]
        kinds = {a.slug: a.kind for a in states}
        voices = sorted(
            (p for p in on_topic if p.party.slug not in kinds), key=lambda p: (p.as_of, p.id), reverse=True
        )
        return Comparison(chosen, by_state, voices)


async def _programs(session: AsyncSession) -> list[ProgramView]:
    """Every program with its systems and facilities (each in its catalog order)."""
    rows = (await session.scalars(select(models.Program))).all()
    refs = {p.id: ref_of(p) for p in rows}
    parts: dict[int, list[PartView]] = {}
    systems = select(models.System).order_by(models.System.program_id, models.System.position)
    facilities = select(models.Facility).order_by(models.Facility.program_id, models.Facility.position)
    rows_of: list[models.System | models.Facility] = [
        *(await session.scalars(systems)).all(),
        *(await session.scalars(facilities)).all(),
    ]
    for part in rows_of:
        parts.setdefault(part.program_id, []).append(part_view(part, refs[part.program_id]))
    return [program_view(p, parts.get(p.id, ())) for p in rows]


def _state_of(person: str, snap: _Snapshot) -> ActorView | None:
    """The state a person spoke for most often in the positions (the record names no nationality)."""
    spoken = Counter(
        p.party.slug
        for p in snap.positions
        if p.speaker and p.speaker.slug == person and snap.actors[p.party.slug].kind == "state"
    )
    return snap.actors[spoken.most_common(1)[0][0]] if spoken else None
