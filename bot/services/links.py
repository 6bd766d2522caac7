"""The kinds of catalog record an event links to, and the one shape of "links per kind".

A party is stored as an ``actor`` (table, ORM relationship, subscription column, export key) but is
called ``party`` / ``parties`` wherever a user meets it (command options, API parameters and JSON,
feed categories, problem labels). Each kind carries both names, so no caller spells them out again.
Systems (Hwasong-17) and facilities (Punggye-ri) are records of their own, each part of one program.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Table

from bot import models

T = TypeVar("T")
KindName = Literal["program", "system", "facility", "actor", "track"]


@dataclass(frozen=True)
class LinkKind:
    """One kind of link from an event to a catalog record."""

    name: KindName  # stored singular, also the catalog's kind: "actor"
    field: str  # stored plural: the attribute on events, views, subscriptions and exports: "actors"
    param: str  # boundary singular: API parameter, feed category scheme, timeline option: "party"
    plural: str  # boundary plural: command option, API field, problem label: "parties"
    label: str  # what a user is told was not found: "party"
    model: type[models.Base]
    table: Table
    column: str  # the link table's column naming the record: "actor_id"


def _kind(
    name: KindName, model: type[models.Base], table: Table, *, param: str = "", **names: str
) -> LinkKind:
    """A kind stored as ``name`` (plural ``name + "s"`` unless given); the boundary names default to
    the stored ones."""
    field_ = names.get("field", name + "s")
    return LinkKind(
        name=name,
        field=field_,
        param=param or name,
        plural=names.get("plural", field_),
        label=names.get("label", param or name),
        model=model,
        table=table,
        column=f"{name}_id",
    )


PROGRAM = _kind("program", models.Program, models.event_program)
PARTY = _kind("actor", models.Actor, models.event_actor, param="party", plural="parties")
TRACK = _kind("track", models.TalksTrack, models.event_track, label="talks track")
SYSTEM = _kind("system", models.System, models.event_system)
FACILITY = _kind("facility", models.Facility, models.event_facility, field="facilities")
#: Every link kind, in the order events show them.
KINDS: tuple[LinkKind, ...] = (PROGRAM, SYSTEM, FACILITY, PARTY, TRACK)
#: The kinds with few events per record (a system, a site): a statement reads their links first and
#: then the events, where for a program, party or track it walks the events and checks each one.
SPARSE = frozenset({SYSTEM.name, FACILITY.name})
#: The stored plural of every kind: the list fields of an event record (export, import).
LINK_FIELDS = frozenset(k.field for k in KINDS)


@dataclass(frozen=True)
class Links(Generic[T]):
    """Something per link kind: an event's links (slugs or refs), or a filter's wanted slugs.

    The fields are named by :attr:`LinkKind.field`; read them generically with :meth:`of`.
    """

    programs: tuple[T, ...] = ()
    systems: tuple[T, ...] = ()
    facilities: tuple[T, ...] = ()
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
