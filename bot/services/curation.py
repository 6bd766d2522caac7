"""Writing events: create, edit (revision counter), retract. Each write is one transaction with its
audit row and, when alerts are wanted, its outbox rows (``delivery``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.db import Sessionmaker
from bot.models import utcnow
from bot.services.access import Caller, Policy
from bot.services.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from bot.services.events import with_links
from bot.services.subscriptions import matching_subscriptions
from bot.services.validation import CleanEvent, EventInput, check_text, validate_event
from bot.services.views import EventView, event_view

REASON_MAX = 500
# The Core table: a bulk insert through it skips the ORM's per-row bookkeeping (2× faster here).
DELIVERY: Table = models.Delivery.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    guild_id: int | None
    user_id: int | None
    action: str
    record_type: str
    record_id: str | None
    details: dict[str, Any]


LINKS: tuple[tuple[str, Any, str], ...] = (
    ("programs", models.Program, "programs"),
    ("actors", models.Actor, "parties"),
    ("tracks", models.TalksTrack, "tracks"),
)


class LinkResolver:
    """The catalog rows of one session, loaded once, for linking many events (imports, seed)."""

    def __init__(self, rows: dict[str, dict[str, Any]]) -> None:
        self._rows = rows

    @classmethod
    async def load(cls, session: AsyncSession) -> LinkResolver:
        rows = {
            key: {r.slug: r for r in (await session.scalars(select(model))).all()} for key, model, _ in LINKS
        }
        return cls(rows)

    def resolve(self, clean: CleanEvent, row: int | None = None) -> dict[str, list[Any]]:
        """Catalog rows for the event's slugs; unknown slugs are a validation failure."""
        problems: list[FieldProblem] = []
        out: dict[str, list[Any]] = {}
        for key, _model, label in LINKS:
            found = self._rows[key]
            slugs: tuple[str, ...] = getattr(clean, key)
            problems.extend(FieldProblem(label, f"“{s}” is not known", row) for s in slugs if s not in found)
            out[key] = [found[s] for s in slugs if s in found]
        if problems:
            raise ValidationFailed(problems)
        return out


async def resolve_links(
    session: AsyncSession, clean: CleanEvent, row: int | None = None
) -> dict[str, list[Any]]:
    """Catalog rows for one event's slugs; unknown slugs are a validation failure."""
    return (await LinkResolver.load(session)).resolve(clean, row)


def apply_clean(event: models.Event, clean: CleanEvent, links: dict[str, list[Any]]) -> None:
    event.title, event.summary = clean.title, clean.summary
    event.occurred_on, event.precision = clean.occurred_on, clean.precision
    event.kind, event.significance = clean.kind, clean.significance
    event.details = dict(clean.details)
    event.programs, event.actors, event.tracks = links["programs"], links["actors"], links["tracks"]
    event.milestone = clean.milestone
    event.primary_track = next((t for t in links["tracks"] if t.slug == clean.primary_track), None)
    # Update sources in place: replacing the list would insert before deleting and clash on position.
    existing = list(event.sources)
    for i, src in enumerate(clean.sources):
        row = existing[i] if i < len(existing) else models.Source(position=i)
        row.publisher, row.title, row.url = src.publisher, src.title, src.url
        row.published_on, row.published_precision = src.published_on, src.published_precision
        if i >= len(existing):
            event.sources.append(row)
    for row in existing[len(clean.sources) :]:
        event.sources.remove(row)


def same_content(event: models.Event, clean: CleanEvent, links: dict[str, list[Any]]) -> bool:
    sources = [(s.publisher, s.title, s.published_on, s.published_precision, s.url) for s in event.sources]
    return (
        event.title == clean.title
        and event.summary == clean.summary
        and event.occurred_on == clean.occurred_on
        and event.precision == clean.precision
        and event.kind == clean.kind
        and event.significance == clean.significance
        and event.milestone == clean.milestone
        and (event.primary_track.slug if event.primary_track else None) == clean.primary_track
        and (event.details or {}) == clean.details
        and {p.slug for p in event.programs} == {p.slug for p in links["programs"]}
        and {a.slug for a in event.actors} == {a.slug for a in links["actors"]}
        and {t.slug for t in event.tracks} == {t.slug for t in links["tracks"]}
        and sources
        == [(s.publisher, s.title, s.published_on, s.published_precision, s.url) for s in clean.sources]
    )


async def enqueue(session: AsyncSession, event: models.Event, action: str) -> int:
    """Outbox rows for ``event`` in the caller's transaction; returns how many.

    ``post``: every active subscription the event matches. ``edit``: every channel that already
    holds a posted alert of this event (so an edit or a retraction reaches it).
    """
    now = utcnow()
    S = models.Subscription
    targets: list[Any]
    if action == "post":
        targets = await matching_subscriptions(session, event)
    else:
        posted = select(models.Delivery.subscription_id).where(
            models.Delivery.event_id == event.id,
            models.Delivery.action == "post",
            models.Delivery.state == "sent",
            models.Delivery.message_id.is_not(None),
        )
        targets = list(
            (await session.execute(select(S.id, S.guild_id, S.channel_id).where(S.id.in_(posted)))).all()
        )
    if targets:
        # One executemany: a publish to thousands of channels stays one quick transaction.
        await session.execute(
            insert(DELIVERY),
            [
                {
                    "event_id": event.id,
                    "subscription_id": sub.id,
                    "guild_id": sub.guild_id,
                    "channel_id": sub.channel_id,
                    "revision": event.revision,
                    "action": action,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for sub in targets
            ],
        )
    return len(targets)


def audit(session: AsyncSession, caller: Caller, action: str, event: models.Event, **details: Any) -> None:
    session.add(
        models.AuditLog(
            guild_id=caller.guild_id,
            user_id=caller.user_id or None,
            action=action,
            record_type="event",
            record_id=str(event.id),
            details={"title": event.title, "revision": event.revision, **details},
        )
    )


class CurationService:
    def __init__(
        self, sessionmaker: Sessionmaker, policy: Policy, *, on_enqueue: Callable[[], None] | None = None
    ) -> None:
        self._sessionmaker = sessionmaker
        self._policy = policy
        self._on_enqueue = on_enqueue

    def _wake(self, count: int) -> None:
        if count and self._on_enqueue is not None:
            self._on_enqueue()

    async def _load(self, session: AsyncSession, caller: Caller, event_id: int) -> models.Event:
        event: models.Event | None = await session.scalar(
            with_links(select(models.Event).where(models.Event.id == event_id))
        )
        if event is None or (event.guild_id is not None and event.guild_id != caller.guild_id):
            raise NotFound("event", f"#{event_id}")
        if (
            event.guild_id is None
            and caller.guild_id is not None
            and caller.guild_id not in self._policy.home_guild_ids
        ):
            raise PermissionDenied("to be a curator in a home server to change a shared event")
        return event

    async def create(self, caller: Caller, data: EventInput, *, alert: bool = True) -> EventView:
        """Validate and publish a new event, with its outbox rows, in one transaction."""
        clean = validate_event(data)
        async with self._sessionmaker() as session, session.begin():
            await self._policy.require_curator(session, caller)
            links = await resolve_links(session, clean)
            event = models.Event(
                external_id=clean.external_id,
                status="published",
                guild_id=self._policy.scope_for(caller),
                revision=1,
                created_by=caller.user_id or None,
                updated_by=caller.user_id or None,
            )
            apply_clean(event, clean, links)
            session.add(event)
            await session.flush()
            audit(
                session, caller, "event.create", event, scope="global" if event.guild_id is None else "local"
            )
            count = await enqueue(session, event, "post") if alert else 0
            view = event_view(event)
        self._wake(count)
        return view

    async def edit(self, caller: Caller, event_id: int, data: EventInput) -> EventView:
        """Replace an event's content; bumps the revision and updates alerts already posted."""
        clean = validate_event(data)
        async with self._sessionmaker() as session, session.begin():
            await self._policy.require_curator(session, caller)
            event = await self._load(session, caller, event_id)
            if event.status != "published":
                raise ValidationFailed([FieldProblem("id", f"event #{event_id} is retracted")])
            links = await resolve_links(session, clean)
            if same_content(event, clean, links):
                return event_view(event)
            apply_clean(event, clean, links)
            event.revision += 1
            event.updated_by = caller.user_id or None
            event.updated_at = utcnow()
            await session.flush()
            audit(session, caller, "event.edit", event)
            count = await enqueue(session, event, "edit")
            view = event_view(event)
        self._wake(count)
        return view

    async def retract(self, caller: Caller, event_id: int, reason: str) -> EventView:
        """Withdraw an event: hidden from lists, posted alerts marked retracted."""
        problems: list[FieldProblem] = []
        reason = check_text(reason, "reason", problems, low=3, high=REASON_MAX)
        if problems:
            raise ValidationFailed(problems)
        async with self._sessionmaker() as session, session.begin():
            await self._policy.require_curator(session, caller)
            event = await self._load(session, caller, event_id)
            if event.status == "retracted":
                raise ValidationFailed([FieldProblem("id", f"event #{event_id} is already retracted")])
            event.status, event.retract_reason = "retracted", reason
            event.revision += 1
            event.updated_by = caller.user_id or None
            event.updated_at = utcnow()
            await session.flush()
            audit(session, caller, "event.retract", event, reason=reason)
            count = await enqueue(session, event, "edit")
            view = event_view(event)
        self._wake(count)
        return view

    async def edit_input(self, caller: Caller, event_id: int) -> EventInput:
        """The event as an editable input (for a prefilled form)."""
        from bot.services.dates import iso_with_precision
        from bot.services.validation import SourceInput

        async with self._sessionmaker() as session:
            event = await self._load(session, caller, event_id)
            return EventInput(
                title=event.title,
                summary=event.summary,
                date=iso_with_precision(event.occurred_on, event.precision),
                kind=event.kind,
                significance=event.significance,
                programs=[p.slug for p in event.programs],
                actors=[a.slug for a in event.actors],
                tracks=[t.slug for t in event.tracks],
                sources=[
                    SourceInput(
                        s.publisher,
                        s.title,
                        iso_with_precision(s.published_on, s.published_precision) if s.published_on else None,
                        s.url,
                    )
                    for s in event.sources
                ],
                external_id=event.external_id,
                details=dict(event.details or {}),
                milestone=event.milestone,
                primary_track=event.primary_track.slug if event.primary_track else None,
            )

    async def log(
        self, caller: Caller, *, limit: int = 10, before_id: int | None = None, after_id: int | None = None
    ) -> list[AuditEntry]:
        """This guild's audit log, newest first (``before_id`` pages back; ``after_id`` forward: the
        ``limit`` entries just newer than it)."""
        async with self._sessionmaker() as session:
            await self._policy.require_curator(session, caller)
            forward = after_id is not None and before_id is None
            order = models.AuditLog.id.asc() if forward else models.AuditLog.id.desc()
            stmt = select(models.AuditLog).order_by(order).limit(limit)
            stmt = stmt.where(models.AuditLog.guild_id == caller.guild_id)
            if before_id is not None:
                stmt = stmt.where(models.AuditLog.id < before_id)
            if after_id is not None:
                stmt = stmt.where(models.AuditLog.id > after_id)
            rows = list((await session.scalars(stmt)).all())
        if forward:
            rows.reverse()
        return [
            AuditEntry(
                r.id, r.at, r.guild_id, r.user_id, r.action, r.record_type, r.record_id, dict(r.details or {})
            )
            for r in rows
        ]
