"""Alert subscriptions: several per channel, each with its own filters, mention role, mode and
form (which subscriptions an event is for: ``bot.services.matching``)."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.clock import SYSTEM_CLOCK, Clock
from bot.db import Sessionmaker
from bot.i18n import N_
from bot.models import EVENT_KINDS, utcnow
from bot.services.access import MANAGE_CHANNELS, Caller, Policy, require_manager
from bot.services.audit import audit_row
from bot.services.catalog import CatalogService
from bot.services.digests import DigestOptions, Schedule, check_schedule, server_zone
from bot.services.errors import (
    Conflict,
    FieldProblem,
    NotFound,
    ServiceError,
    Translate,
    ValidationFailed,
    english,
)
from bot.services.links import KINDS, Links
from bot.services.permissions import require_bot
from bot.services.targets import AS_MESSAGES, MANAGE_WEBHOOKS, Placement, check
from bot.services.validation import check_slugs, normalize_kind


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
    #: When the state last changed (``None``: as created), and when the subscription was made.
    state_since: dt.datetime | None = None
    created_at: dt.datetime | None = None
    #: Alerts posted in an announcement channel whose crosspost Discord's limit deferred, and
    #: when the next is tried.
    crosspost_pending: int = 0
    crosspost_retry_at: dt.datetime | None = None
    #: ``alert`` or ``digest``; a digest's schedule (``digest_timezone`` None: the server's zone)
    #: and the end of the period it is collecting.
    mode: str = "alert"
    digest_frequency: str | None = None
    digest_at: str | None = None
    digest_weekday: int | None = None
    digest_timezone: str | None = None
    digest_empty: bool = False
    digest_next_at: dt.datetime | None = None
    #: Where and how its alerts are posted (a forum's posts, a thread, a webhook's name).
    placement: Placement = AS_MESSAGES


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


def subscription_view(
    s: models.Subscription, failed: int = 0, crossposts: tuple[int, dt.datetime | None] = (0, None)
) -> SubscriptionView:
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
        state_since=s.state_since,
        created_at=s.created_at,
        crosspost_pending=crossposts[0],
        crosspost_retry_at=crossposts[1],
        mode=s.mode or "alert",
        digest_frequency=s.digest_frequency,
        digest_at=s.digest_at,
        digest_weekday=s.digest_weekday,
        digest_timezone=s.digest_timezone,
        digest_empty=bool(s.digest_empty),
        digest_next_at=s.digest_next_at,
        placement=placement_of(s),
        **links,
    )


def placement_of(s: models.Subscription) -> Placement:
    return Placement(
        target=s.target or "channel",
        parent_id=s.parent_id,
        thread=bool(s.thread),
        thread_min=s.thread_min if s.thread_min is not None else 4,
        forum_tags=s.forum_tags,
        identity=s.identity or "bot",
        webhook_name=s.webhook_name,
        webhook_avatar_url=s.webhook_avatar_url,
    )


class DuplicateSubscription(Conflict):
    """A subscribe identical to a subscription the channel already has (same filters and mention)."""

    def __init__(self, existing: SubscriptionView) -> None:
        self.existing = existing
        super().__init__(
            N_(
                "Subscription #{id} in <#{channel}> already has these filters and this mention. "
                "Nothing was added."
            ),
            id=existing.id,
            channel=existing.channel_id,
        )


class NoSubscription(NotFound):
    """A channel with no subscription, where a command needs one."""

    def __init__(self, channel_id: int) -> None:
        self.channel_id = channel_id
        super().__init__("subscription", f"channel {channel_id}")

    def text(self, echo: Callable[[str], str] = str, translate: Translate = english) -> str:
        return translate(N_("<#{channel}> has no subscription."), {"channel": self.channel_id})


class SeveralSubscriptions(ServiceError):
    """A channel holds several subscriptions and the command named none of them."""

    def __init__(self, channel_id: int, subscriptions: Sequence[SubscriptionView]) -> None:
        self.channel_id = channel_id
        self.subscriptions = list(subscriptions)
        ids = ", ".join(f"#{s.id}" for s in self.subscriptions)
        super().__init__(
            N_("<#{channel}> has {count} subscriptions ({ids}): pick one with the `subscription` option."),
            channel=channel_id,
            count=len(self.subscriptions),
            ids=ids,
        )


def signature(
    s: SubscriptionView | Filters, mention_role_id: int | None, mode: tuple[Any, ...] = ("alert",)
) -> tuple[Any, ...]:
    """What makes two subscriptions of a channel the same: their filters (as sets), mention and
    mode (a digest with its schedule)."""
    links = tuple(frozenset(getattr(s, k.field)) for k in KINDS)
    return (frozenset(s.kinds), links, s.min_significance, mention_role_id, mode)


def mode_key(view: SubscriptionView) -> tuple[Any, ...]:
    if view.mode != "digest":
        return ("alert",)
    return ("digest", view.digest_frequency, view.digest_at, view.digest_weekday, view.digest_timezone)


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


async def pending_crossposts(
    session: AsyncSession, subscription_ids: Sequence[int]
) -> dict[int, tuple[int, dt.datetime | None]]:
    """Each subscription's alerts waiting for their crosspost, and the earliest retry (absent: none)."""
    if not subscription_ids:
        return {}
    D = models.Delivery
    stmt = (
        select(D.subscription_id, func.count(), func.min(D.crosspost_at))
        .where(D.subscription_id.in_(list(subscription_ids)), D.crosspost == "pending")
        .group_by(D.subscription_id)
    )
    out: dict[int, tuple[int, dt.datetime | None]] = {}
    for sid, n, at in (await session.execute(stmt)).all():
        if isinstance(at, str):  # SQLite gives an aggregate's time back as text
            at = dt.datetime.fromisoformat(at)
        out[sid] = (int(n), at.replace(tzinfo=at.tzinfo or dt.UTC) if at is not None else None)
    return out


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


def split_slugs(text: str | None) -> list[str]:
    """``"icbm, slbm"`` → ``["icbm", "slbm"]``."""
    if not text:
        return []
    return [p.strip().lower() for p in text.replace(";", ",").split(",") if p.strip()]


def _created(sub: models.Subscription, caller: Caller) -> models.AuditLog:
    """The audit row of a new subscription."""
    details = {
        "subscription": sub.id,
        "mode": sub.mode or "alert",
        "kinds": sub.kinds,
        "target": sub.target,
        "identity": sub.identity,
        **{k.field: getattr(sub, k.field) for k in KINDS},
    }
    return audit_row("subscription.create", "subscription", sub.channel_id, details, caller=caller)


class SubscriptionService:
    def __init__(
        self,
        sessionmaker: Sessionmaker,
        catalog: CatalogService,
        policy: Policy,
        *,
        on_enqueue: Callable[[], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._catalog = catalog
        self._policy = policy
        self._on_enqueue = on_enqueue
        self.clock = clock

    async def _schedule(self, guild_id: int, digest: DigestOptions) -> Schedule:
        """A digest's options checked against the server's time zone (refused naming the option)."""
        async with self._sessionmaker() as session:
            zone = await server_zone(session, guild_id)
        return check_schedule(digest.frequency, digest.at, digest.weekday, digest.timezone, zone)

    async def _validate(self, filters: Filters, guild_id: int, mention_role_id: int | None) -> Filters:
        problems: list[FieldProblem] = []
        kinds = tuple(normalize_kind(k) for k in filters.kinds)
        for k in kinds:
            if k not in EVENT_KINDS:
                problems.append(
                    FieldProblem("kinds", N_("“{value}” is not a kind of event"), params={"value": k[:40]})
                )
        checked = {}
        for kind, values in filters.links.items():
            slugs = check_slugs(values, kind.plural, problems)
            for unknown in await self._catalog.unknown_slugs(kind.name, slugs):
                problems.append(
                    FieldProblem(kind.plural, N_("“{value}” is not known"), params={"value": unknown})
                )
            checked[kind.field] = slugs
        if not 1 <= filters.min_significance <= 5:
            problems.append(
                FieldProblem(
                    "min_significance", N_("must be from {low} to {high}"), params={"low": 1, "high": 5}
                )
            )
        if mention_role_id is not None and mention_role_id == guild_id:
            problems.append(FieldProblem("mention", N_("@everyone cannot be the mention role")))
        if problems:
            raise ValidationFailed(problems)
        return Filters(kinds, min_significance=filters.min_significance, **checked)

    def _require(self, caller: Caller, channel_id: int | None = None) -> int:
        return require_manager(self._policy, caller, channel_id)

    async def _pick(
        self, session: AsyncSession, guild_id: int, channel_id: int, subscription_id: int | None
    ) -> models.Subscription:
        """The subscription a command is about: ``subscription_id`` (of this guild, in that channel),
        else the channel's only one; several and none named is :class:`SeveralSubscriptions`."""
        S = models.Subscription
        if subscription_id is not None:
            sub = await session.get(S, subscription_id)
            if sub is None or sub.guild_id != guild_id:  # another guild's: as unknown as none
                raise NotFound("subscription", f"#{subscription_id}")
            if sub.channel_id != channel_id:
                raise ValidationFailed(
                    [
                        FieldProblem(
                            "subscription",
                            N_("#{id} is in <#{channel}>, not <#{asked}>"),
                            params={"id": subscription_id, "channel": sub.channel_id, "asked": channel_id},
                        )
                    ]
                )
            return sub
        subs = list(
            await session.scalars(
                select(S).where(S.guild_id == guild_id, S.channel_id == channel_id).order_by(S.id)
            )
        )
        if not subs:
            raise NoSubscription(channel_id)
        if len(subs) > 1:
            failed = await failed_counts(session, [s.id for s in subs])
            raise SeveralSubscriptions(channel_id, [subscription_view(s, failed.get(s.id, 0)) for s in subs])
        return subs[0]

    async def subscribe(
        self,
        caller: Caller,
        channel_id: int,
        filters: Filters = Filters(),
        *,
        mention_role_id: int | None = None,
        digest: DigestOptions | None = None,
        placement: Placement = AS_MESSAGES,
        bot_permissions: Collection[str] | None = None,
    ) -> SubscriptionView:
        """Add a subscription to the channel (a channel may hold several); one identical to a
        subscription it has (same filters, mention, mode and form) is refused with
        :class:`DuplicateSubscription`. With ``digest``, its events are collected into one message
        per period (``bot.services.digests``) instead of one alert each. Posting through a webhook
        needs Manage Webhooks. Where the bot lacks a permission that form needs (``bot_permissions``,
        its permissions in the channel), refused naming each, before anything is written."""
        guild_id = self._require(caller, channel_id)
        require_bot(placement, bot_permissions, channel_id)
        if placement.identity == "webhook":
            self._policy.require(caller, *MANAGE_WEBHOOKS)
        where, problems = check(placement)
        if problems:
            raise ValidationFailed(problems)
        clean = await self._validate(filters, guild_id, mention_role_id)
        schedule = await self._schedule(guild_id, digest) if digest is not None else None
        own_zone = (digest.timezone and schedule.timezone) if digest and schedule else None
        mode: tuple[Any, ...] = ("alert",)
        if schedule is not None:
            mode = ("digest", schedule.frequency, schedule.at_text, schedule.weekday, own_zone)
        wanted = (*signature(clean, mention_role_id, mode), where)
        S = models.Subscription
        async with self._sessionmaker() as session, session.begin():
            existing = await session.scalars(
                select(S).where(S.guild_id == guild_id, S.channel_id == channel_id).order_by(S.id)
            )
            for other in existing:
                view = subscription_view(other)
                if (*signature(view, view.mention_role_id, mode_key(view)), view.placement) == wanted:
                    raise DuplicateSubscription(view)
            sub = S(
                guild_id=guild_id,
                channel_id=channel_id,
                created_by=caller.user_id,
                kinds=list(clean.kinds),
                min_significance=clean.min_significance,
                mention_role_id=mention_role_id,
                state="active",
                target=where.target,
                parent_id=where.parent_id,
                thread=where.thread,
                thread_min=where.thread_min,
                forum_tags=where.forum_tags,
                identity=where.identity,
                webhook_name=where.webhook_name,
                webhook_avatar_url=where.webhook_avatar_url,
                **{kind.field: list(slugs) for kind, slugs in clean.links.items()},
            )
            if schedule is not None and digest is not None:
                sub.mode = "digest"
                sub.digest_frequency, sub.digest_at = schedule.frequency, schedule.at_text
                sub.digest_weekday, sub.digest_timezone = schedule.weekday, own_zone
                sub.digest_empty = digest.empty
                sub.digest_next_at = schedule.next_after(self.clock.now())
            session.add(sub)
            await session.flush()
            session.add(_created(sub, caller))
            return subscription_view(sub)

    async def unsubscribe(
        self, caller: Caller, channel_id: int, subscription_id: int | None = None
    ) -> SubscriptionView:
        """Remove one subscription of the channel (the only one, or ``subscription_id``)."""
        guild_id = self._require(caller, channel_id)
        async with self._sessionmaker() as session, session.begin():
            sub = await self._pick(session, guild_id, channel_id, subscription_id)
            view = subscription_view(sub)
            await session.delete(sub)
            session.add(
                audit_row(
                    "subscription.remove", "subscription", channel_id, {"subscription": sub.id}, caller=caller
                )
            )
            return view

    async def set_state(
        self,
        caller: Caller,
        channel_id: int,
        state: str,
        reason: str | None = None,
        *,
        subscription_id: int | None = None,
    ) -> SubscriptionView:
        """Pause or resume (``paused`` / ``active``) one subscription of the channel."""
        guild_id = self._require(caller, channel_id)
        if state not in ("active", "paused"):
            raise ValidationFailed([FieldProblem("state", N_("must be active or paused"))])
        async with self._sessionmaker() as session, session.begin():
            sub = await self._pick(session, guild_id, channel_id, subscription_id)
            if sub.state != state:
                sub.state_since = utcnow()
            sub.state, sub.disabled_reason = state, reason
            session.add(
                audit_row(
                    f"subscription.{'resume' if state == 'active' else 'pause'}",
                    "subscription",
                    channel_id,
                    {"subscription": sub.id},
                    caller=caller,
                )
            )
            return subscription_view(sub)

    async def resume(
        self, caller: Caller, channel_id: int, subscription_id: int | None = None
    ) -> tuple[SubscriptionView, int]:
        """Make one subscription of the channel active again (from paused or disabled) and retry its
        failed deliveries; returns the subscription and how many are retried."""
        guild_id = self._require(caller, channel_id)
        async with self._sessionmaker() as session, session.begin():
            sub = await self._pick(session, guild_id, channel_id, subscription_id)
            if sub.state != "active":
                sub.state_since = utcnow()
            sub.state, sub.disabled_reason = "active", None
            sub.webhook_recreated = False  # a webhook deleted again may be made once more
            retried = await requeue_failed(session, sub.id)
            details: dict[str, Any] = {"subscription": sub.id}
            if retried:
                details["retried"] = retried
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
            if sub.state != "disabled":
                sub.state_since = utcnow()
            sub.state, sub.disabled_reason = "disabled", reason[:500]
            session.add(
                audit_row(
                    "subscription.disable",
                    "subscription",
                    sub.channel_id,
                    {"subscription": sub.id, "reason": reason[:500]},
                    guild_id=sub.guild_id,
                )
            )

    async def list(self, caller: Caller) -> builtins.list[SubscriptionView]:
        """The subscriptions of the caller's guild (Manage Channels), by channel, then as made."""
        guild_id = self._require(caller)
        S = models.Subscription
        async with self._sessionmaker() as session:
            rows = list(
                await session.scalars(select(S).where(S.guild_id == guild_id).order_by(S.channel_id, S.id))
            )
            failed = await failed_counts(session, [s.id for s in rows])
            crossposts = await pending_crossposts(session, [s.id for s in rows])
            return [subscription_view(s, failed.get(s.id, 0), crossposts.get(s.id, (0, None))) for s in rows]

    async def get(
        self, caller: Caller, channel_id: int, subscription_id: int | None = None
    ) -> SubscriptionView:
        """One subscription of a channel of the caller's guild (Manage Channels, and sight of it):
        the channel's only one, or ``subscription_id``."""
        guild_id = self._require(caller, channel_id)
        async with self._sessionmaker() as session:
            sub = await self._pick(session, guild_id, channel_id, subscription_id)
            failed = await failed_counts(session, [sub.id])
            return subscription_view(sub, failed.get(sub.id, 0))

    async def of_channel(self, caller: Caller, channel_id: int) -> builtins.list[SubscriptionView]:
        """Every subscription of one channel of the caller's guild, as made (Manage Channels, sight)."""
        guild_id = self._require(caller, channel_id)
        S = models.Subscription
        async with self._sessionmaker() as session:
            rows = list(
                await session.scalars(
                    select(S).where(S.guild_id == guild_id, S.channel_id == channel_id).order_by(S.id)
                )
            )
            failed = await failed_counts(session, [s.id for s in rows])
            crossposts = await pending_crossposts(session, [s.id for s in rows])
            return [subscription_view(s, failed.get(s.id, 0), crossposts.get(s.id, (0, None))) for s in rows]

    async def choices(
        self, caller: Caller, text: str, channel_id: int | None = None, limit: int = 25
    ) -> builtins.list[SubscriptionView]:
        """Subscriptions of the caller's guild for autocomplete (none without Manage Channels):
        those of ``channel_id`` when given, whose number starts with the digits typed."""
        if caller.guild_id is None or not caller.has(MANAGE_CHANNELS[0]):
            return []
        S = models.Subscription
        stmt = select(S).where(S.guild_id == caller.guild_id).order_by(S.channel_id, S.id)
        if channel_id is not None:
            stmt = stmt.where(S.channel_id == channel_id)
        digits = text.strip().lstrip("#")
        async with self._sessionmaker() as session:
            rows = list(await session.scalars(stmt))
        found = [subscription_view(s) for s in rows if not digits.isdigit() or str(s.id).startswith(digits)]
        return found[:limit]
