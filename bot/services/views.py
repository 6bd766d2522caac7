"""Plain, immutable results the services return (no ORM objects leave a service)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import models
from bot.services.dates import format_date, parse_date
from bot.services.links import KINDS, Links

#: The ``details`` key naming the joint statement or declaration a summit adopted (an agreement).
AGREEMENT_DETAIL = "agreement"


@dataclass(frozen=True)
class Ref:
    """A named link to a catalog record, with the record's translations (its ``name`` in ko, ja and
    zh-CN, as on :class:`Record`)."""

    slug: str
    name: str
    i18n: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SourceView:
    publisher: str
    title: str
    published_on: dt.date | None = None
    published_precision: str = "day"
    url: str | None = None
    #: A dataset row merged into the event: the row's details (apogee, distance, outcome, ...).
    details: dict[str, Any] | None = None

    @property
    def date_label(self) -> str | None:
        return format_date(self.published_on, self.published_precision) if self.published_on else None

    @property
    def facts(self) -> str | None:
        """What a merged dataset row records, in a few words: ``apogee 2,800 km · success``."""
        d = self.details or {}
        parts: list[str] = []
        for key in ("apogee", "distance"):
            km, reported = d.get(f"{key}_km"), d.get(f"{key}_reported")
            if isinstance(km, int | float):
                parts.append(f"{key} {km:,.0f} km")
            elif reported:
                parts.append(f"{key} {reported}")
        parts += [str(d[k]) for k in ("outcome", "csis_type") if d.get(k)]
        return " · ".join(parts) or None


@dataclass(frozen=True)
class Record:
    """What every catalog record has: its id, slug, name, summary, the other names it goes by and
    its translations (``{"ko": {"name": ..., "aliases": [...], "summary": ...}, "ja": ..., "zh-CN": ...}``;
    a language or a field missing there falls back to the English one)."""

    id: int
    slug: str
    name: str
    summary: str
    aliases: tuple[str, ...]
    i18n: dict[str, Any]

    def names(self) -> tuple[str, ...]:
        """Its aliases and its names in other languages (what it is also found by)."""
        local = [
            v for entry in self.i18n.values() for v in (entry.get("name"), *entry.get("aliases", [])) if v
        ]
        return tuple(dict.fromkeys((*self.aliases, *local)))


@dataclass(frozen=True)
class ActorView(Record):
    kind: str


@dataclass(frozen=True)
class StatusRecord(Record):
    """A record whose status holds since a date (known to a precision): programs, talks tracks,
    systems and facilities."""

    status: str
    status_since: dt.date | None
    status_since_precision: str


@dataclass(frozen=True)
class KeyDate:
    """A dated turning point of a system or facility."""

    on: dt.date
    precision: str
    text: str

    @property
    def date_label(self) -> str:
        return format_date(self.on, self.precision)


@dataclass(frozen=True)
class PartView(StatusRecord):
    """A system or a facility: a record of its own, part of one program."""

    kind: str  # "system" | "facility"
    program: Ref
    key_dates: tuple[KeyDate, ...]
    location: str = ""


@dataclass(frozen=True)
class ProgramView(StatusRecord):
    category: str
    facilities: tuple[PartView, ...] = ()
    systems: tuple[PartView, ...] = ()

    @property
    def kind(self) -> str:
        """What a page of ``/program`` shows: a program (a system or facility says so too)."""
        return "program"


@dataclass(frozen=True)
class TrackView(StatusRecord):
    participants: tuple[Ref, ...]


@dataclass(frozen=True)
class TopicView(Record):
    """A topic the parties state positions on."""


@dataclass(frozen=True)
class PositionView:
    id: int
    party: Ref
    topic: Ref
    as_of: dt.date
    as_of_precision: str
    stance: str
    summary: str
    quote: str | None
    speaker: Ref | None
    source: SourceView


@dataclass(frozen=True)
class Statements:
    """A party's positions; for a person, the state they spoke for and its positions, labelled apart."""

    actor: ActorView
    own: list[PositionView]
    state: ActorView | None = None
    state_positions: list[PositionView] = field(default_factory=list)


@dataclass(frozen=True)
class Comparison:
    """Every state's positions on one topic (state, history newest first) and the other voices."""

    topic: TopicView
    states: list[tuple[ActorView, list[PositionView]]]
    voices: list[PositionView]


@dataclass(frozen=True)
class EventContent:
    """What an event says, as validated for writing (``CleanEvent``) and as read back (``EventView``)."""

    title: str
    summary: str
    occurred_on: dt.date
    precision: str
    kind: str
    significance: int

    @property
    def date_label(self) -> str:
        return format_date(self.occurred_on, self.precision)


@dataclass(frozen=True)
class EventView(EventContent):
    id: int
    external_id: str | None
    status: str
    guild_id: int | None
    revision: int
    programs: tuple[Ref, ...] = ()
    systems: tuple[Ref, ...] = ()
    facilities: tuple[Ref, ...] = ()
    actors: tuple[Ref, ...] = ()
    tracks: tuple[Ref, ...] = ()
    sources: tuple[SourceView, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    retract_reason: str | None = None
    created_by: int | None = None
    updated_at: dt.datetime | None = None
    milestone: bool = False
    #: Title and summary in other languages: ``{"ko": {"title": ..., "summary": ...}, ...}``.
    i18n: dict[str, Any] = field(default_factory=dict)

    @property
    def agreement(self) -> str | None:
        """The document the event adopted: an agreement's own title, or a summit's joint statement."""
        if self.kind == "agreement":
            return self.title
        named = self.details.get(AGREEMENT_DETAIL)
        return str(named) if named else None

    @property
    def is_global(self) -> bool:
        return self.guild_id is None

    @property
    def links(self) -> Links[Ref]:
        return Links[Ref].from_fields(self)


@dataclass(frozen=True)
class Page:
    """One page of a keyset-paginated list; ``next_cursor`` is None on the last page."""

    items: tuple[EventView, ...]
    next_cursor: str | None


def _refs(rows: list[Any]) -> tuple[Ref, ...]:
    return tuple(ref_of(r) for r in rows)


def ref_of(r: Any) -> Ref:
    """A link to the catalog row ``r`` (any record with a slug, a name and translations)."""
    return Ref(r.slug, r.name, dict(r.i18n or {}))


def source_view(s: models.Source) -> SourceView:
    return SourceView(s.publisher, s.title, s.published_on, s.published_precision, s.url, s.details)


def event_view(e: models.Event, *, with_links: bool = True) -> EventView:
    links: dict[str, Any] = {k.field: _refs(getattr(e, k.field)) if with_links else () for k in KINDS}
    return EventView(
        id=e.id,
        external_id=e.external_id,
        title=e.title,
        summary=e.summary,
        occurred_on=e.occurred_on,
        precision=e.precision,
        kind=e.kind,
        significance=e.significance,
        status=e.status,
        guild_id=e.guild_id,
        revision=e.revision,
        sources=tuple(source_view(s) for s in e.sources) if with_links else (),
        details=dict(e.details or {}),
        retract_reason=e.retract_reason,
        created_by=e.created_by,
        updated_at=e.updated_at,
        milestone=bool(e.milestone),
        i18n=dict(e.i18n or {}),
        **links,
    )


def _record(
    r: models.Actor | models.Program | models.TalksTrack | models.Topic | models.System | models.Facility,
) -> dict[str, Any]:
    aliases = tuple(r.aliases or ())
    return {
        "id": r.id,
        "slug": r.slug,
        "name": r.name,
        "summary": r.summary or "",
        "aliases": aliases,
        "i18n": dict(r.i18n or {}),
    }


def _status(r: models.Program | models.TalksTrack | models.System | models.Facility) -> dict[str, Any]:
    return {
        **_record(r),
        "status": r.status,
        "status_since": r.status_since,
        "status_since_precision": r.status_since_precision,
    }


def actor_view(a: models.Actor) -> ActorView:
    return ActorView(**_record(a), kind=a.kind)


def program_view(p: models.Program, parts: Sequence[PartView] = ()) -> ProgramView:
    return ProgramView(
        **_status(p),
        category=p.category,
        facilities=tuple(x for x in parts if x.kind == "facility"),
        systems=tuple(x for x in parts if x.kind == "system"),
    )


def part_view(row: models.System | models.Facility, program: Ref) -> PartView:
    """A system or facility row as a view; its key dates read oldest first."""
    dates: list[KeyDate] = []
    for item in row.key_dates or ():
        on, precision = parse_date(str(item["date"]), "key date")
        dates.append(KeyDate(on, precision, str(item["text"])))
    return PartView(
        **_status(row),
        kind="facility" if isinstance(row, models.Facility) else "system",
        program=program,
        key_dates=tuple(sorted(dates, key=lambda d: d.on)),
        location=getattr(row, "location", "") or "",
    )


def track_view(t: models.TalksTrack) -> TrackView:
    return TrackView(**_status(t), participants=_refs(t.participants))


def topic_view(t: models.Topic) -> TopicView:
    return TopicView(**_record(t))


def position_view(p: models.Position) -> PositionView:
    return PositionView(
        id=p.id,
        party=ref_of(p.actor),
        topic=ref_of(p.topic),
        as_of=p.as_of,
        as_of_precision=p.as_of_precision,
        stance=p.stance,
        summary=p.summary,
        quote=p.quote,
        speaker=ref_of(p.speaker) if p.speaker else None,
        source=SourceView(
            p.source_publisher, p.source_title, p.source_date, p.source_date_precision, p.source_url
        ),
    )
