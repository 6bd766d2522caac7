"""Reading events: by id, filtered lists with keyset pagination, latest, title autocomplete.

What a list is narrowed to, and who sees which event, is ``bot.services.filters``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import time
from collections import defaultdict
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import models
from bot.db import Sessionmaker
from bot.i18n import N_
from bot.services.audit import AuditEntry
from bot.services.catalog import Choice
from bot.services.dates import format_date
from bot.services.errors import FieldProblem, NotFound, ValidationFailed
from bot.services.filters import EventFilter, visible
from bot.services.fts import TextMatch, words
from bot.services.links import KINDS
from bot.services.validation import id_in_range, parse_id, require_id
from bot.services.views import AGREEMENT_DETAIL, EventView, Page, Ref, SourceView, event_view, source_view

MAX_PAGE = 100
#: The kinds of event that are a session of a talks track (its "last session").
SESSION_KINDS = ("talks_session", "summit")
COUNT_TTL = 30.0
AUTOCOMPLETE_WINDOW = 200


def encode_cursor(event: EventView) -> str:
    raw = f"{event.occurred_on.isoformat()}|{event.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.date, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, ident = raw.split("|")
        value = parse_id(ident)
        if value is None or not id_in_range(value):
            raise ValueError(ident)
        return dt.date.fromisoformat(day), value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            [FieldProblem("cursor", N_("is not a cursor this service gave out"))]
        ) from None


def with_links(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` (ORM events) loading each event's links and sources with it."""
    return stmt.options(
        *(selectinload(getattr(models.Event, k.field)) for k in KINDS),
        selectinload(models.Event.sources),
        selectinload(models.Event.primary_track),
    )


async def read_views(session: AsyncSession, stmt: Select[Any], *, links: bool = True) -> list[EventView]:
    """Events selected by ``stmt`` as views; with ``links``, their catalog links and sources too, in
    two more queries (not four). Lists that show one line per event need neither."""
    return await views_of(session, list((await session.scalars(stmt)).all()), links=links)


async def views_of(
    session: AsyncSession, events: list[models.Event], *, links: bool = True
) -> list[EventView]:
    """``events`` as views (see :func:`read_views`)."""
    if not events or not links:
        return [event_view(e, with_links=False) for e in events]
    ids = [e.id for e in events]
    found: dict[tuple[int, str], list[Ref]] = defaultdict(list)
    for event_id, key, slug, name, i18n in (await session.execute(_links_of(), {"ids": ids})).all():
        found[(event_id, key)].append(Ref(slug, name, dict(i18n or {})))
    sources: dict[int, list[SourceView]] = defaultdict(list)
    rows = await session.scalars(_sources_of(), {"ids": ids})
    for src in rows:
        sources[src.event_id].append(source_view(src))

    def refs(event_id: int, key: str) -> tuple[Ref, ...]:
        return tuple(sorted(found[(event_id, key)], key=lambda r: r.name))

    views = []
    for e in events:
        linked: dict[str, Any] = {k.field: refs(e.id, k.field) for k in KINDS}
        views.append(replace(event_view(e, with_links=False), **linked, sources=tuple(sources[e.id])))
    return views


@functools.cache
def _links_of() -> CompoundSelect[Any]:
    """Every catalog link of the events ``:ids``, one statement for all kinds (built once: building it
    costs about a millisecond, more than running it)."""
    ids: Any = bindparam("ids", expanding=True)
    link_queries = []
    for kind in KINDS:
        model: Any = kind.model
        link = kind.table.c
        link_queries.append(
            select(link.event_id, literal(kind.field), model.slug, model.name, model.i18n)
            .join(model, model.id == link[kind.column])
            .where(link.event_id.in_(ids))
        )
    return union_all(*link_queries)


@functools.cache
def _sources_of() -> Select[Any]:
    """The sources of the events ``:ids``, in their order."""
    S = models.Source
    return select(S).where(S.event_id.in_(bindparam("ids", expanding=True))).order_by(S.position)


def _of_primary_track(track: str, guild_id: int | None) -> Select[Any]:
    """Published events visible to ``guild_id`` whose primary track is ``track`` (a slug)."""
    E, link = models.Event, models.event_primary_track.c
    track_id = select(models.TalksTrack.id).where(models.TalksTrack.slug == track).scalar_subquery()
    return (
        select(E)
        .join(models.event_primary_track, link.event_id == E.id)
        .where(link.track_id == track_id, visible(guild_id), E.status == "published")
    )


@functools.lru_cache(maxsize=512)
def _autocomplete_statement(
    dialect: str, text: str, guild_id: int | None, limit: int
) -> Select[int, str, dt.date, str]:
    """The statement of one autocomplete answer, built once per text, scope and size (building it
    costs more than running it; only the statement is kept, never its rows)."""
    E = models.Event
    stmt = select(E.id, E.title, E.occurred_on, E.precision).where(visible(guild_id), E.status == "published")
    if (ident := parse_id(text)) is not None:
        stmt = stmt.where(E.id == ident) if id_in_range(ident) else stmt.where(false())
    elif terms := words(text):
        match = TextMatch(dialect, tuple(terms), prefix=True, title_only=True)
        # Candidates straight from the text index, newest additions first: ordering every
        # match of a short prefix by date would read them all.
        window = match.newest(AUTOCOMPLETE_WINDOW)
        stmt = stmt.where(E.id.in_(select(window.c.id)))
    return stmt.order_by(E.occurred_on.desc(), E.id.desc()).limit(limit)


class EventService:
    def __init__(self, sessionmaker: Sessionmaker, *, dialect: str) -> None:
        self._sessionmaker = sessionmaker
        self._dialect = dialect
        self._counts: dict[EventFilter, tuple[float, int]] = {}

    async def get(self, event_id: int, *, guild_id: int | None = None) -> EventView:
        """One event with its links and sources; retracted events are returned, marked as such."""
        stmt = select(models.Event).where(models.Event.id == require_id(event_id, "event"), visible(guild_id))
        async with self._sessionmaker() as session:
            views = await read_views(session, stmt)
        if not views:
            raise NotFound("event", f"#{event_id}")
        return views[0]

    async def history(self, event_id: int, *, guild_id: int | None = None) -> list[AuditEntry]:
        """The audited writes of one event visible from ``guild_id`` (else NotFound), oldest first;
        each says what it changed, field by field."""
        await self.get(event_id, guild_id=guild_id)
        stmt = (
            select(models.AuditLog)
            .where(models.AuditLog.record_type == "event", models.AuditLog.record_id == str(event_id))
            .order_by(models.AuditLog.id)
        )
        async with self._sessionmaker() as session:
            return [AuditEntry.of(r) for r in (await session.scalars(stmt)).all()]

    async def page(
        self, f: EventFilter, *, limit: int = 10, cursor: str | None = None, links: bool = True
    ) -> Page:
        """A page of events in date order, newest first unless ``f.order`` is ``asc``."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed(
                [FieldProblem("limit", N_("must be from 1 to {most}"), params={"most": MAX_PAGE})]
            )
        E = models.Event
        stmt = f.apply(select(E))
        if cursor:
            day, ident = decode_cursor(cursor)
            if f.order == "desc":
                stmt = stmt.where(or_(E.occurred_on < day, and_(E.occurred_on == day, E.id < ident)))
            else:
                stmt = stmt.where(or_(E.occurred_on > day, and_(E.occurred_on == day, E.id > ident)))
        order = (E.occurred_on.desc(), E.id.desc()) if f.order == "desc" else (E.occurred_on, E.id)
        stmt = stmt.order_by(*order).limit(limit + 1)
        async with self._sessionmaker() as session:
            rows = await read_views(session, stmt, links=links)
        items = tuple(rows[:limit])
        next_cursor = encode_cursor(items[-1]) if len(rows) > limit else None
        return Page(items, next_cursor)

    async def latest(
        self, *, guild_id: int | None = None, since: dt.date | None = None, limit: int = 5, links: bool = True
    ) -> list[EventView]:
        page = await self.page(EventFilter(guild_id=guild_id, since=since), limit=limit, links=links)
        return list(page.items)

    async def count(self, f: EventFilter) -> int:
        """How many events match; cached for COUNT_TTL seconds (it feeds /help, not decisions)."""
        cached = self._counts.get(f)
        if cached is not None and time.monotonic() - cached[0] < COUNT_TTL:
            return cached[1]
        stmt = select(func.count()).select_from(f.apply(select(models.Event.id)).subquery())
        async with self._sessionmaker() as session:
            value = int(await session.scalar(stmt) or 0)
        self._counts[f] = (time.monotonic(), value)
        return value

    async def milestones(
        self, f: EventFilter, *, limit: int = 8, fallback_significance: int = 4, links: bool = True
    ) -> list[EventView]:
        """The turning points among ``f``'s events, in date order: every event flagged ``milestone``
        (the rubric is in data/README.md); only where none is flagged, the ``limit`` most significant
        (at least ``fallback_significance``, most recent first among equals)."""
        E = models.Event
        flagged = f.apply(select(E)).where(E.milestone.is_(True)).order_by(E.occurred_on, E.id)
        async with self._sessionmaker() as session:
            views = await read_views(session, flagged.limit(MAX_PAGE), links=links)
            if views:
                return views
            floor = max(f.min_significance or 0, fallback_significance)
            ranked = replace(f, min_significance=floor).apply(select(E))
            ranked = ranked.order_by(E.significance.desc(), E.occurred_on.desc(), E.id.desc()).limit(limit)
            views = await read_views(session, ranked, links=links)
        return sorted(views, key=lambda e: (e.occurred_on, e.id))

    async def last_session(self, track: str, *, guild_id: int | None = None) -> EventView | None:
        """The latest talks session or summit whose primary track is ``track`` (other events only
        relate to it: a Putin-Kim summit tagged six-party is no six-party session)."""
        stmt = (
            _of_primary_track(track, guild_id)
            .where(models.Event.kind.in_(SESSION_KINDS))
            .order_by(models.Event.occurred_on.desc(), models.Event.id.desc())
            .limit(1)
        )
        async with self._sessionmaker() as session:
            views = await read_views(session, stmt, links=False)
        return views[0] if views else None

    async def track_latest(
        self, track: str, *, guild_id: int | None = None, limit: int = 6
    ) -> list[EventView]:
        """The newest events of ``track``: linked to it, save those whose primary track is another
        (a Putin-Kim summit tagged six-party belongs to the Russia track)."""
        E, link = models.Event, models.event_primary_track.c
        own = select(models.TalksTrack.id).where(models.TalksTrack.slug == track).scalar_subquery()
        elsewhere = exists().where(link.event_id == E.id, link.track_id != own)
        stmt = EventFilter.of(track=track, guild_id=guild_id).apply(select(E)).where(~elsewhere)
        stmt = stmt.order_by(E.occurred_on.desc(), E.id.desc()).limit(limit)
        async with self._sessionmaker() as session:
            return await read_views(session, stmt, links=False)

    async def agreements(self, track: str, *, guild_id: int | None = None) -> list[EventView]:
        """Every agreement of ``track`` (its primary track) in date order: agreements, and summits
        that adopted a joint statement or declaration (``details.agreement``)."""
        E = models.Event
        summit_text = E.details[AGREEMENT_DETAIL].as_string()
        stmt = (
            _of_primary_track(track, guild_id)
            .where(or_(E.kind == "agreement", and_(E.kind == "summit", summit_text.is_not(None))))
            .order_by(E.occurred_on, E.id)
        )
        async with self._sessionmaker() as session:
            return await read_views(session, stmt, links=False)

    async def autocomplete(self, text: str, *, guild_id: int | None = None, limit: int = 25) -> list[Choice]:
        """Events by id (digits) or by words of their title; among the most recently added matches,
        newest first by date."""
        stmt = _autocomplete_statement(self._dialect, text.strip().lstrip("#"), guild_id, limit)
        async with self._sessionmaker() as session:
            rows = (await session.execute(stmt)).all()
        out = []
        for ident, title, day, precision in rows:
            label = f"#{ident} · {format_date(day, precision)} · {title}"
            out.append(Choice(label[:100], str(ident)))
        return out
