"""Curators' writes: create, edit and retract an event, each one transaction through the event
lifecycle (its audit row and outbox rows included), with the curator's permissions checked; and
the guild's audit log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.db import Sessionmaker
from bot.i18n import N_
from bot.services.access import Caller, Policy
from bot.services.audit import AuditEntry
from bot.services.dates import iso_with_precision
from bot.services.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from bot.services.events import with_links
from bot.services.lifecycle import Author, EventWriter, LinkResolver, own_sources
from bot.services.validation import EventInput, SourceInput, check_text, require_id, validate_event
from bot.services.views import EventView, event_view

__all__ = ["REASON_MAX", "AuditEntry", "CurationService", "EditForm"]

REASON_MAX = 500


@dataclass(frozen=True)
class EditForm:
    """An event as an editable input, and the revision it was read at (a form sends it back)."""

    data: EventInput
    revision: int


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

    async def _load(
        self, session: AsyncSession, caller: Caller, event_id: int, *, for_update: bool = False
    ) -> models.Event:
        stmt = with_links(select(models.Event).where(models.Event.id == require_id(event_id, "event")))
        if for_update:  # two curators saving at once: the second waits, then sees the new revision
            stmt = stmt.with_for_update(of=models.Event)
        event: models.Event | None = await session.scalar(stmt)
        if event is None or (event.guild_id is not None and event.guild_id != caller.guild_id):
            raise NotFound("event", f"#{event_id}")
        if (
            event.guild_id is None
            and caller.guild_id is not None
            and caller.guild_id not in self._policy.home_guild_ids
        ):
            raise PermissionDenied(N_("to be a curator in a home server to change a shared event"))
        return event

    async def create(self, caller: Caller, data: EventInput, *, alert: bool = True) -> EventView:
        """Validate and publish a new event, with its outbox rows, in one transaction."""
        clean = validate_event(data)
        async with self._sessionmaker() as session, session.begin():
            await self._policy.require_curator(session, caller)
            links = (await LinkResolver.load(session)).resolve(clean)
            writer = EventWriter(session, Author.of(caller))
            event = writer.create(clean, links, scope=self._policy.scope_for(caller), alert=alert)
            count = await writer.flush()
            view = event_view(event)
        self._wake(count)
        return view

    async def edit(
        self, caller: Caller, event_id: int, data: EventInput, *, seen_revision: int | None = None
    ) -> EventView:
        """Replace an event's content; bumps the revision and updates alerts already posted. With
        ``seen_revision`` (the revision a form showed), an event changed since is left alone."""
        clean = validate_event(data)
        async with self._sessionmaker() as session, session.begin():
            await self._policy.require_curator(session, caller)
            event = await self._load(session, caller, event_id, for_update=seen_revision is not None)
            if seen_revision is not None and event.revision != seen_revision:
                raise Conflict(
                    N_(
                        "Event #{id} changed while your form was open (it is now at revision "
                        "{revision}); nothing was written. Open the form again to edit the new version."
                    ),
                    id=event_id,
                    revision=event.revision,
                )
            if event.status != "published":
                raise ValidationFailed(
                    [FieldProblem("id", N_("event #{id} is retracted"), params={"id": event_id})]
                )
            links = (await LinkResolver.load(session)).resolve(clean)
            writer = EventWriter(session, Author.of(caller))
            if not writer.revise(event, clean, links):
                return event_view(event)
            count = await writer.flush()
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
                raise ValidationFailed(
                    [FieldProblem("id", N_("event #{id} is already retracted"), params={"id": event_id})]
                )
            writer = EventWriter(session, Author.of(caller))
            writer.retract(event, reason)
            count = await writer.flush()
            view = event_view(event)
        self._wake(count)
        return view

    async def edit_input(self, caller: Caller, event_id: int) -> EditForm:
        """The event as an editable input (for a prefilled form), for a curator who may edit it."""
        async with self._sessionmaker() as session:
            await self._policy.require_curator(session, caller)
            event = await self._load(session, caller, event_id)
            data = EventInput(
                title=event.title,
                summary=event.summary,
                date=iso_with_precision(event.occurred_on, event.precision),
                kind=event.kind,
                significance=event.significance,
                programs=[p.slug for p in event.programs],
                actors=[a.slug for a in event.actors],
                tracks=[t.slug for t in event.tracks],
                systems=[s.slug for s in event.systems],
                facilities=[f.slug for f in event.facilities],
                sources=[
                    SourceInput(
                        s.publisher,
                        s.title,
                        iso_with_precision(s.published_on, s.published_precision) if s.published_on else None,
                        s.url,
                    )
                    for s in own_sources(event)
                ],
                external_id=event.external_id,
                details=dict(event.details or {}),
                milestone=event.milestone,
                primary_track=event.primary_track.slug if event.primary_track else None,
            )
            return EditForm(data, event.revision)

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
        return [AuditEntry.of(r) for r in rows]
