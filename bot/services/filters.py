"""The event filter: what a list, the web API or a subscription narrows events to.

One type with two forms that must agree: :meth:`EventFilter.apply` narrows a query in SQL, and
:meth:`EventFilter.matches` decides for one event in memory (text-search results on the web, the
subscriptions an event is delivered to).

Visibility is one rule everywhere: a reader in guild G sees published global events and G's own
local events; a reader outside any guild (the web feed, the API) sees global events only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import Select, bindparam, exists, func, select
from sqlalchemy.sql.elements import ColumnElement

from bot import models
from bot.services.links import FACILITY, KINDS, PARTY, PROGRAM, SPARSE, SYSTEM, TRACK, LinkKind, Links

#: The name of the bound parameter :func:`visible` reads the scopes from, when asked to.
SCOPES = "scopes"
#: The scope of the global events (a local event's scope is its guild id; snowflakes are never 0).
GLOBAL_SCOPE = 0


def scopes(guild_id: int | None) -> list[int]:
    """The scopes of the events a reader in ``guild_id`` sees: the global one, and that guild's."""
    return [GLOBAL_SCOPE] if guild_id is None else [GLOBAL_SCOPE, guild_id]


def visible(guild_id: int | None, *, bound: bool = False) -> ColumnElement[bool]:
    """SQL: the event is global, or local to ``guild_id``. With ``bound``, the scopes are the bound
    parameter SCOPES (:func:`scopes`): the statement can run for any guild."""
    # Written over coalesce() on purpose: SQLite would otherwise pick ix_event_guild_id (95%+ of rows
    # are global) and sort every visible event instead of walking ix_event_occurred_on (76 ms → 1 ms
    # for a page at 100,000 events). Guild ids are snowflakes, never 0.
    scope = func.coalesce(models.Event.guild_id, GLOBAL_SCOPE)
    if bound:
        return scope.in_(bindparam(SCOPES, scopes(guild_id), type_=scope.type, expanding=True))
    if guild_id is None:
        return scope == GLOBAL_SCOPE
    return scope.in_(scopes(guild_id))


class _Event(Protocol):
    """What the filter reads of an event: an ``EventView`` or a ``models.Event`` with its links."""

    @property
    def status(self) -> str: ...
    @property
    def guild_id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def significance(self) -> int: ...
    @property
    def occurred_on(self) -> dt.date: ...


@dataclass(frozen=True)
class EventFacts:
    """What filters look at, taken once from an event (then checked against many filters)."""

    status: str
    guild_id: int | None
    kind: str
    significance: int
    occurred_on: dt.date
    links: Links[str]

    @classmethod
    def of(cls, event: _Event) -> EventFacts:
        slugs: Links[str] = Links.build(lambda k: (r.slug for r in getattr(event, k.field)))
        return cls(event.status, event.guild_id, event.kind, event.significance, event.occurred_on, slugs)


NO_LINKS: Links[str] = Links()


@dataclass(frozen=True)
class EventFilter:
    """Events narrowed to: for each link kind, any of ``links`` (none given: no narrowing); any of
    ``kinds``; a date range; a minimum significance; what the reader's guild can see. Slugs must
    already be resolved."""

    links: Links[str] = NO_LINKS
    kinds: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    min_significance: int | None = None
    guild_id: int | None = None  # the reader's guild: its local events are visible too
    include_retracted: bool = False
    order: Literal["asc", "desc"] = "desc"

    @classmethod
    def of(
        cls,
        *,
        program: str | None = None,
        party: str | None = None,
        track: str | None = None,
        system: str | None = None,
        facility: str | None = None,
        kind: str | None = None,
        **rest: Any,
    ) -> EventFilter:
        """The filter of a reader's choices: at most one program, system, facility, party, track
        and kind."""
        chosen = {PROGRAM: program, SYSTEM: system, FACILITY: facility, PARTY: party, TRACK: track}
        links = Links[str].build(lambda k: (slug,) if (slug := chosen[k]) else ())
        return cls(links=links, kinds=(kind,) if kind else (), **rest)

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` (over ``event``) narrowed to the events this filter lets through."""
        E = models.Event
        stmt = stmt.where(visible(self.guild_id))
        if not self.include_retracted:
            stmt = stmt.where(E.status == "published")
        if self.kinds:
            stmt = stmt.where(E.kind == self.kinds[0] if len(self.kinds) == 1 else E.kind.in_(self.kinds))
        if self.since:
            stmt = stmt.where(E.occurred_on >= self.since)
        if self.until:
            stmt = stmt.where(E.occurred_on <= self.until)
        if self.min_significance:
            stmt = stmt.where(E.significance >= self.min_significance)
        for kind, slugs in self.links.items():
            if slugs:
                stmt = stmt.where(_linked(kind, slugs))
        return stmt

    def matches(self, event: EventFacts) -> bool:
        """Whether ``event`` passes, exactly as :meth:`apply` would decide it in SQL."""
        return self.excluded_by(event) is None

    def excluded_by(self, event: EventFacts) -> Exclusion | None:
        """The first part of this filter that ``event`` fails (``None``: it passes): what decides
        :meth:`matches`, and what ``/alerts why`` says."""
        if not self.include_retracted and event.status != "published":
            return Exclusion("status", (event.status,), ("published",))
        if event.guild_id is not None and event.guild_id != self.guild_id:
            return Exclusion("scope", (str(event.guild_id),), (str(self.guild_id),))
        if self.min_significance and event.significance < self.min_significance:
            return Exclusion("significance", (str(event.significance),), (str(self.min_significance),))
        if self.kinds and event.kind not in self.kinds:
            return Exclusion("kind", (event.kind,), self.kinds)
        if self.since and event.occurred_on < self.since:
            return Exclusion("since", (event.occurred_on.isoformat(),), (self.since.isoformat(),))
        if self.until and event.occurred_on > self.until:
            return Exclusion("until", (event.occurred_on.isoformat(),), (self.until.isoformat(),))
        for kind in KINDS:
            wanted = self.links.of(kind)
            if wanted and not any(slug in wanted for slug in event.links.of(kind)):
                return Exclusion(kind.param, event.links.of(kind), wanted)
        return None


@dataclass(frozen=True)
class Exclusion:
    """Why an event fails a filter: which part (``status``, ``scope``, ``significance``, ``kind``,
    ``since``, ``until``, or a link kind's boundary name: ``program``, ``party``, …), the event's
    values there and the values the filter wants."""

    part: str
    event: tuple[str, ...]
    wanted: tuple[str, ...]


def _linked(kind: LinkKind, slugs: tuple[str, ...]) -> ColumnElement[bool]:
    # A program, party or track has many events: a correlated EXISTS lets the planner walk the date
    # index and probe the link's primary key, instead of collecting every linked event and sorting
    # it (29 ms → 0.5 ms at 100k). A system or site has few: its linked events are read first, and
    # sorted (walking every event for the twenty a site has took 186 ms at 100k; this, 0.03 ms).
    model: Any = kind.model
    link = kind.table.c
    ids = select(model.id)
    if len(slugs) == 1:
        target: ColumnElement[bool] = link[kind.column] == ids.where(model.slug == slugs[0]).scalar_subquery()
    else:
        target = link[kind.column].in_(ids.where(model.slug.in_(slugs)))
    if kind.name in SPARSE:
        return models.Event.id.in_(select(link.event_id).where(target))
    return exists().where(link.event_id == models.Event.id, target)


def subscription_filter(sub: Any) -> EventFilter:
    """The filter of a subscription (its kinds, links per kind, minimum significance and guild): the
    one fan-out decides with (``matching.matching_subscriptions``) and ``/alerts why`` explains."""
    links: Links[str] = Links(**{k.field: tuple(getattr(sub, k.field)) for k in KINDS})
    return EventFilter(
        links=links, kinds=tuple(sub.kinds), min_significance=sub.min_significance, guild_id=sub.guild_id
    )
