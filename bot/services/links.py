"""The kinds of catalog record an event links to, and the one shape of "links per kind".

A party is stored as an ``actor`` (table, ORM relationship, subscription column, export key) but is
called ``party`` / ``parties`` wherever a user meets it (command options, API parameters and JSON,
feed categories, problem labels). Each kind carries both names, so no caller spells them out again.
Systems and facilities join as two more kinds once they are records of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Table

from bot import models

T = TypeVar("T")


@dataclass(frozen=True)
class LinkKind:
    """One kind of link from an event to a catalog record."""

    name: Literal["program", "actor", "track"]  # stored singular, also the catalog's kind: "actor"
    field: str  # stored plural: the attribute on events, views, subscriptions and exports: "actors"
    param: str  # boundary singular: API parameter, feed category scheme, timeline option: "party"
    plural: str  # boundary plural: command option, API field, problem label: "parties"
    label: str  # what a user is told was not found: "party"
    model: type[models.Base]
    table: Table
    column: str  # the link table's column naming the record: "actor_id"


PROGRAM = LinkKind(
    name="program",
    field="programs",
    param="program",
    plural="programs",
    label="program",
    model=models.Program,
    table=models.event_program,
    column="program_id",
)
PARTY = LinkKind(
    name="actor",
    field="actors",
    param="party",
    plural="parties",
    label="party",
    model=models.Actor,
    table=models.event_actor,
    column="actor_id",
)
TRACK = LinkKind(
    name="track",
    field="tracks",
    param="track",
    plural="tracks",
    label="talks track",
    model=models.TalksTrack,
    table=models.event_track,
    column="track_id",
)
#: Every link kind, in the order events show them.
KINDS: tuple[LinkKind, ...] = (PROGRAM, PARTY, TRACK)


@dataclass(frozen=True)
class Links(Generic[T]):
    """Something per link kind: an event's links (slugs or refs), or a filter's wanted slugs.

    The fields are named by :attr:`LinkKind.field`; read them generically with :meth:`of`.
    """

    programs: tuple[T, ...] = ()
    actors: tuple[T, ...] = ()
    tracks: tuple[T, ...] = ()

    @classmethod
    def build(cls, values: Callable[[LinkKind], Iterable[T]]) -> Links[T]:
        """Links whose values for each kind are ``values(kind)``."""
        return cls(**{k.field: tuple(values(k)) for k in KINDS})

    @classmethod
    def from_fields(cls, record: Any) -> Links[T]:
        """Links read from any object with one attribute per kind's ``field``."""
        return cls.build(lambda k: getattr(record, k.field) or ())

    def of(self, kind: LinkKind) -> tuple[T, ...]:
        value: tuple[T, ...] = getattr(self, kind.field)
        return value

    def items(self) -> Iterator[tuple[LinkKind, tuple[T, ...]]]:
        return ((k, self.of(k)) for k in KINDS)


# The dataclass and the registry must name the same fields.
assert [f.name for f in fields(Links)] == [k.field for k in KINDS]
