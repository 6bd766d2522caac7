"""What became of a channel's alerts: why a channel did or did not get one event's alert
(``/alerts why``), and its delivery history (``/alerts log``).

"Why" decides nothing of its own: an event fails a subscription's filter exactly where fan-out
decides it (:func:`~bot.services.filters.subscription_filter` and
:meth:`~bot.services.filters.EventFilter.excluded_by`, behind ``matching.matching_subscriptions``), and only
subscriptions in the state fan-out alerts (``ALERTED``) are alerted. Both answer for the caller's
guild only: another guild's local event is as unknown as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot import models
from bot.db import Sessionmaker
from bot.outbox.digests import DigestPlace, digest_place
from bot.services.access import Caller, Policy, require_manager
from bot.services.errors import NotFound
from bot.services.filters import EventFacts, EventFilter, Exclusion, subscription_filter
from bot.services.links import KINDS
from bot.services.matching import ALERTED
from bot.services.subscriptions import (
    SubscriptionView,
    failed_counts,
    subscription_view,
)
from bot.services.validation import require_id

DISCORD_MESSAGE_URL = "https://discord.com/channels/{guild}/{channel}/{message}"


@dataclass(frozen=True)
class DeliveryView:
    """One row of the outbox as a channel manager reads it."""

    id: int
    event_id: int | None  # None: a digest, its period below
    event_title: str | None
    subscription_id: int
    guild_id: int
    channel_id: int
    revision: int
    action: str  # post | edit | summary
    state: str  # pending | sending | sent | failed | cancelled
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    message_id: int | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    summary_count: int | None = None
    #: The edit that marked the alert retracted (the event's last revision, and it is retracted).
    retraction: bool = False
    #: A digest's period, [start, end) in UTC.
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    #: In an announcement channel: the crosspost ``done``, ``pending`` (tried again at
    #: ``crosspost_at``) or ``failed``; ``None`` elsewhere.
    crosspost: str | None = None
    crosspost_at: dt.datetime | None = None

    @property
    def jump_url(self) -> str | None:
        """The link to the message it posted or edited (``None`` before one exists)."""
        if self.message_id is None:
            return None
        return DISCORD_MESSAGE_URL.format(
            guild=self.guild_id, channel=self.channel_id, message=self.message_id
        )

    @property
    def label(self) -> str:
        """What happened, in one word: sent, edited, retracted, summary, digest, failed, pending,
        cancelled."""
        if self.state in ("pending", "sending"):
            return "pending"
        if self.state != "sent":
            return self.state
        if self.action == "edit":
            return "retracted" if self.retraction else "edited"
        return self.action if self.action in ("summary", "digest") else "sent"


@dataclass(frozen=True)
class Verdict:
    """What one subscription of the channel made of the event: the part of its filter the event
    fails (``None``: it matches), whether its state keeps it from alerts, and whether it was made,
    or its state last changed, after the event was published."""

    subscription: SubscriptionView
    exclusion: Exclusion | None
    made_after: bool
    changed_after: bool
    #: A digest subscription: where the event stands in it (``None``: not collected).
    digest: DigestPlace | None = None

    @property
    def alerted_state(self) -> bool:
        return self.subscription.state == ALERTED


@dataclass(frozen=True)
class WhyView:
    """Why a channel did or did not get an event's alert."""

    event_id: int
    event_title: str
    published_at: dt.datetime
    channel_id: int
    #: The event itself is not alerted (retracted): the status part of the filter every
    #: subscription applies.
    status: Exclusion | None
    #: The channel's deliveries of this event, oldest first (the post, then its edits).
    deliveries: list[DeliveryView]
    #: Each subscription of the channel, as made.
    verdicts: list[Verdict]


@dataclass(frozen=True)
class LogPage:
    """One page of a channel's delivery history, newest first, and how many there are in all."""

    entries: list[DeliveryView]
    total: int
    offset: int


def _delivery_view(d: models.Delivery, event: models.Event | None) -> DeliveryView:
    retraction = (
        event is not None
        and d.action == "edit"
        and event.status == "retracted"
        and d.revision == event.revision
    )
    return DeliveryView(
        id=d.id,
        event_id=d.event_id,
        event_title=event.title if event is not None else None,
        subscription_id=d.subscription_id,
        guild_id=d.guild_id,
        channel_id=d.channel_id,
        revision=d.revision,
        action=d.action,
        state=d.state,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_error=d.last_error,
        message_id=d.message_id,
        created_at=d.created_at,
        sent_at=d.sent_at,
        summary_count=d.summary_count,
        retraction=retraction,
        period_start=d.period_start,
        period_end=d.period_end,
        crosspost=d.crosspost,
        crosspost_at=d.crosspost_at,
    )


def verdict(
    sub: SubscriptionView, facts: EventFacts, published_at: dt.datetime, digest: DigestPlace | None = None
) -> Verdict:
    """What ``sub`` makes of an event: through the same filter fan-out applies."""
    changed = sub.state_since is not None and sub.state_since > published_at
    made_after = sub.created_at is not None and sub.created_at > published_at
    return Verdict(sub, subscription_filter(sub).excluded_by(facts), made_after, changed, digest)


class DeliveryService:
    """``/alerts why`` and ``/alerts log``, for channel managers (Manage Channels, sight of the
    channel), in the caller's guild."""

    def __init__(self, sessionmaker: Sessionmaker, policy: Policy) -> None:
        self._sessionmaker = sessionmaker
        self._policy = policy

    async def why(self, caller: Caller, event_id: int, channel_id: int) -> WhyView:
        """Why ``channel_id`` did or did not get the alert of ``event_id``."""
        guild_id = require_manager(self._policy, caller, channel_id)
        require_id(event_id, "event")
        async with self._sessionmaker() as session:
            event = await _event(session, event_id, guild_id)
            facts = EventFacts.of(event)
            D, S = models.Delivery, models.Subscription
            rows = await session.scalars(
                select(D)
                .where(D.event_id == event.id, D.guild_id == guild_id, D.channel_id == channel_id)
                .order_by(D.id)
            )
            deliveries = [_delivery_view(d, event) for d in rows]
            subs = list(
                await session.scalars(
                    select(S).where(S.guild_id == guild_id, S.channel_id == channel_id).order_by(S.id)
                )
            )
            failed = await failed_counts(session, [s.id for s in subs])
            digests = {s.id: await digest_place(session, s.id, event.id) for s in subs if s.mode == "digest"}
        views = [subscription_view(s, failed.get(s.id, 0)) for s in subs]
        return WhyView(
            event_id=event.id,
            event_title=event.title,
            published_at=event.created_at,
            channel_id=channel_id,
            status=EventFilter(guild_id=guild_id).excluded_by(facts),
            deliveries=deliveries,
            verdicts=[verdict(v, facts, event.created_at, digests.get(v.id)) for v in views],
        )

    async def log(self, caller: Caller, channel_id: int, *, offset: int = 0, limit: int = 6) -> LogPage:
        """A page of the channel's deliveries, newest first."""
        guild_id = require_manager(self._policy, caller, channel_id)
        D, E = models.Delivery, models.Event
        where = (D.guild_id == guild_id, D.channel_id == channel_id)
        async with self._sessionmaker() as session:
            total = int(await session.scalar(select(func.count()).select_from(D).where(*where)) or 0)
            stmt = (
                select(D, E)
                .outerjoin(E, E.id == D.event_id)
                .where(*where)
                .order_by(D.created_at.desc(), D.id.desc())
                .offset(max(offset, 0))
                .limit(limit)
            )
            entries = [_delivery_view(d, e) for d, e in (await session.execute(stmt)).all()]
        return LogPage(entries, total, max(offset, 0))


async def _event(session: AsyncSession, event_id: int, guild_id: int) -> models.Event:
    """The event with its links, if the guild may see it (global, or its own local event)."""
    E = models.Event
    stmt = select(E).where(E.id == event_id).options(*(selectinload(getattr(E, k.field)) for k in KINDS))
    event = (await session.scalars(stmt)).first()
    if event is None or event.guild_id not in (None, guild_id):
        raise NotFound("event", f"#{event_id}")
    return event
