"""Alert subscriptions: one per channel, with filters; which subscriptions an event is for."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.db import Sessionmaker
from bot.models import EVENT_KINDS, utcnow
from bot.services.access import VIEW_CHANNEL, Caller, Policy
from bot.services.audit import audit_row
from bot.services.catalog import CatalogService
from bot.services.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from bot.services.filters import EventFacts, EventFilter
from bot.services.links import KINDS, Links
from bot.services.validation import check_slugs, normalize_kind

MANAGE_CHANNELS = ("manage_channels", "Manage Channels")


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    guild_id: int
    channel_id: int
    kinds: tuple[str, ...]
    programs: tuple[str, ...]
    tracks: tuple[str, ...]
    actors: tuple[str, ...]
    min_significance: int
    mention_role_id: int | None
    state: str
    disabled_reason: str | None
    last_delivery_at: dt.datetime | None
    systems: tuple[str, ...] = ()
    facilities: tuple[str, ...] = ()
    #: Alerts that Discord kept refusing until the retry time ran out; ``/alerts resume`` retries them.
    failed: int = 0


@dataclass(frozen=True)
class Filters:
    """A subscription's filters as a channel manager gives them (slugs not yet checked); the link
    fields are named by ``LinkKind.field``."""

    kinds: Sequence[str] = ()
    programs: Sequence[str] = ()
    tracks: Sequence[str] = ()
    actors: Sequence[str] = ()
    min_significance: int = 1
    systems: Sequence[str] = ()
    facilities: Sequence[str] = ()

    @property
    def links(self) -> Links[str]:
        return Links[str].from_fields(self)


def subscription_view(s: models.Subscription, failed: int = 0) -> SubscriptionView:
    links: dict[str, Any] = {k.field: tuple(getattr(s, k.field) or ()) for k in KINDS}
    return SubscriptionView(
        id=s.id,
        guild_id=s.guild_id,
        channel_id=s.channel_id,
        kinds=tuple(s.kinds or ()),
        min_significance=s.min_significance,
        mention_role_id=s.mention_role_id,
        state=s.state,
        disabled_reason=s.disabled_reason,
        last_delivery_at=s.last_delivery_at,
        failed=failed,
        **links,
    )


async def failed_counts(session: AsyncSession, subscription_ids: Sequence[int]) -> dict[int, int]:
    """How many failed deliveries each of ``subscription_ids`` has (absent: none)."""
    if not subscription_ids:
        return {}
    D = models.Delivery
    stmt = (
        select(D.subscription_id, func.count())
        .where(D.subscription_id.in_(list(subscription_ids)), D.state == "failed")
        .group_by(D.subscription_id)
    )
    return {sid: int(n) for sid, n in (await session.execute(stmt)).all()}


async def requeue_failed(session: AsyncSession, subscription_id: int) -> int:
    """Queue a subscription's failed deliveries again, in the caller's transaction, with the full
    retry time ahead of them (the outbox worker takes them when woken). Their attempts are kept:
    a resend of one that may have reached Discord long ago looks for it in the channel first."""
    D = models.Delivery
    stmt = (
        update(D)
        .where(D.subscription_id == subscription_id, D.state == "failed")
        .values(
            state="pending",
            next_attempt_at=utcnow(),
            first_attempt_at=None,
            claimed_by=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


def _decoded(raw: str | None) -> tuple[str, ...]:
    # Stored filters are JSON lists, nearly always empty: "[]" is not worth decoding.
    if raw is None or raw.replace(" ", "") in ("", "[]", "null"):
        return ()
    value = json.loads(raw)
    return tuple(value) if isinstance(value, list) else ()


async def matching_subscriptions(session: AsyncSession, event: models.Event) -> list[Any]:
    """The active subscriptions ``event`` (with its links loaded) is for, as rows of ``id``,
    ``guild_id`` and ``channel_id``."""
    S = models.Subscription
    # Plain rows, not ORM objects: a publish may fan out to thousands of subscriptions. The filters
    # come as JSON text and are decoded only when not empty (most are): decoding thousands of "[]"
    # cost more than the rest of the publish.
    stmt = select(
        S.id,
        S.guild_id,
        S.channel_id,
        S.min_significance,
        cast(S.kinds, Text).label("kinds"),
        *(cast(getattr(S, k.field), Text).label(k.field) for k in KINDS),
    ).where(S.state == "active")
    if event.guild_id is not None:
        stmt = stmt.where(S.guild_id == event.guild_id)
    facts = EventFacts.of(event)
    decided: dict[tuple[Any, ...], bool] = {}
    targets = []
    for row in (await session.execute(stmt)).all():
        # Channels mostly share their filters (most have none): each distinct one is decided once. The
        # row's guild cannot change the answer: for a local event the query kept only its guild's rows.
        key = tuple(row[3:])
        wanted = decided.get(key)
        if wanted is None:
            wanted = decided[key] = _stored_filter(row).matches(facts)
        if wanted:
            targets.append(row)
    return targets


def _stored_filter(row: Any) -> EventFilter:
    return EventFilter(
        links=Links(**{k.field: _decoded(getattr(row, k.field)) for k in KINDS}),
        kinds=_decoded(row.kinds),
        min_significance=row.min_significance,
        guild_id=row.guild_id,
    )


def split_slugs(text: str | None) -> list[str]:
    """``"icbm, slbm"`` → ``["icbm", "slbm"]``."""
    if not text:
        return []
    return [p.strip().lower() for p in text.replace(";", ",").split(",") if p.strip()]


class SubscriptionService:
    def __init__(
        self,
        sessionmaker: Sessionmaker,
        catalog: CatalogService,
        policy: Policy,
        *,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._catalog = catalog
        self._policy = policy
        self._on_enqueue = on_enqueue

    async def _validate(self, filters: Filters, guild_id: int, mention_role_id: int | None) -> Filters:
        problems: list[FieldProblem] = []
        kinds = tuple(normalize_kind(k) for k in filters.kinds)
        for k in kinds:
            if k not in EVENT_KINDS:
                problems.append(FieldProblem("kinds", f"“{k[:40]}” is not a kind of event"))
        checked = {}
        for kind, values in filters.links.items():
            slugs = check_slugs(values, kind.plural, problems)
            for unknown in await self._catalog.unknown_slugs(kind.name, slugs):
                problems.append(FieldProblem(kind.plural, f"“{unknown}” is not known"))
            checked[kind.field] = slugs
        if not 1 <= filters.min_significance <= 5:
            problems.append(FieldProblem("min_significance", "must be from 1 to 5"))
        if mention_role_id is not None and mention_role_id == guild_id:
            problems.append(FieldProblem("mention", "@everyone cannot be the mention role"))
        if problems:
            raise ValidationFailed(problems)
        return Filters(kinds, min_significance=filters.min_significance, **checked)

    def _require(self, caller: Caller, channel_id: int | None = None) -> int:
        """Guild-level Manage Channels, and sight of the channel asked about; the caller's guild."""
        self._policy.require(caller, *MANAGE_CHANNELS)
        if caller.guild_id is None:
            raise ValidationFailed([FieldProblem("channel", "subscriptions belong to a server")])
        if channel_id is not None:
            self._policy.require_in(caller, channel_id, *VIEW_CHANNEL)
        return caller.guild_id

    async def _get(self, session: AsyncSession, guild_id: int, channel_id: int) -> models.Subscription:
        sub = await session.scalar(
            select(models.Subscription).where(
                models.Subscription.guild_id == guild_id, models.Subscription.channel_id == channel_id
            )
        )
        if sub is None:
            raise NotFound("subscription", f"channel {channel_id}")
        return sub

    async def subscribe(
        self,
        caller: Caller,
        channel_id: int,
        filters: Filters = Filters(),
        *,
        mention_role_id: int | None = None,
        replace: bool = True,
    ) -> SubscriptionView:
        """Create the channel's subscription, or replace its filters when it already has one."""
        guild_id = self._require(caller, channel_id)
        clean = await self._validate(filters, guild_id, mention_role_id)
        async with self._sessionmaker() as session, session.begin():
            sub = await session.scalar(
                select(models.Subscription).where(
                    models.Subscription.guild_id == caller.guild_id,
                    models.Subscription.channel_id == channel_id,
                )
            )
            action = "subscription.update"
            if sub is None:
                sub = models.Subscription(
                    guild_id=caller.guild_id, channel_id=channel_id, created_by=caller.user_id
                )
                session.add(sub)
                action = "subscription.create"
            elif not replace:
                raise Conflict("This channel already has a subscription.")
            sub.kinds = list(clean.kinds)
            for kind, slugs in clean.links.items():
                setattr(sub, kind.field, list(slugs))
            sub.min_significance = clean.min_significance
            sub.mention_role_id = mention_role_id
            sub.state, sub.disabled_reason = "active", None
            await session.flush()
            session.add(
                audit_row(
                    action,
                    "subscription",
                    channel_id,
                    {"kinds": sub.kinds, **{k.field: getattr(sub, k.field) for k in KINDS}},
                    caller=caller,
                )
            )
            return subscription_view(sub)

    async def unsubscribe(self, caller: Caller, channel_id: int) -> None:
        guild_id = self._require(caller, channel_id)
        async with self._sessionmaker() as session, session.begin():
            sub = await self._get(session, guild_id, channel_id)
            await session.delete(sub)
            session.add(audit_row("subscription.remove", "subscription", channel_id, caller=caller))

    async def set_state(
        self, caller: Caller, channel_id: int, state: str, reason: str | None = None
    ) -> SubscriptionView:
        """Pause or resume (``paused`` / ``active``) a channel's subscription."""
        guild_id = self._require(caller, channel_id)
        if state not in ("active", "paused"):
            raise ValidationFailed([FieldProblem("state", "must be active or paused")])
        async with self._sessionmaker() as session, session.begin():
            sub = await self._get(session, guild_id, channel_id)
            sub.state, sub.disabled_reason = state, reason
            session.add(
                audit_row(
                    f"subscription.{'resume' if state == 'active' else 'pause'}",
                    "subscription",
                    channel_id,
                    caller=caller,
                )
            )
            return subscription_view(sub)

    async def resume(self, caller: Caller, channel_id: int) -> tuple[SubscriptionView, int]:
        """Make a channel's subscription active again (from paused or disabled) and retry its
        failed deliveries; returns the subscription and how many are retried."""
        guild_id = self._require(caller, channel_id)
        async with self._sessionmaker() as session, session.begin():
            sub = await self._get(session, guild_id, channel_id)
            sub.state, sub.disabled_reason = "active", None
            retried = await requeue_failed(session, sub.id)
            details = {"retried": retried} if retried else {}
            session.add(audit_row("subscription.resume", "subscription", channel_id, details, caller=caller))
            view = subscription_view(sub)
        if retried and self._on_enqueue is not None:
            self._on_enqueue()
        return view, retried

    async def disable(self, subscription_id: int, reason: str) -> None:
        """Turn a subscription off for a reason found while delivering (403/404); audited."""
        async with self._sessionmaker() as session, session.begin():
            sub = await session.get(models.Subscription, subscription_id)
            if sub is None:
                return
            sub.state, sub.disabled_reason = "disabled", reason[:500]
            session.add(
                audit_row(
                    "subscription.disable",
                    "subscription",
                    sub.channel_id,
                    {"reason": reason[:500]},
                    guild_id=sub.guild_id,
                )
            )

    async def list(self, caller: Caller) -> list[SubscriptionView]:
        """The subscriptions of the caller's guild (Manage Channels), by channel."""
        guild_id = self._require(caller)
        async with self._sessionmaker() as session:
            rows = list(
                await session.scalars(
                    select(models.Subscription)
                    .where(models.Subscription.guild_id == guild_id)
                    .order_by(models.Subscription.channel_id)
                )
            )
            failed = await failed_counts(session, [s.id for s in rows])
            return [subscription_view(s, failed.get(s.id, 0)) for s in rows]

    async def get(self, caller: Caller, channel_id: int) -> SubscriptionView:
        """The subscription of one channel of the caller's guild (Manage Channels, and sight of it)."""
        guild_id = self._require(caller, channel_id)
        async with self._sessionmaker() as session:
            sub = await self._get(session, guild_id, channel_id)
            failed = await failed_counts(session, [sub.id])
            return subscription_view(sub, failed.get(sub.id, 0))
