"""Digests in the outbox: a period is a delivery like any other.

An event published for a digest subscription is recorded as a ``digest_item`` (in the publish's
transaction, ``bot.outbox.enqueue``). When a period ends (``subscription.digest_next_at`` has
passed, by the :class:`~bot.clock.Clock`), the :class:`DigestScheduler` closes it in one
transaction: the subscription's items not yet in a period are given this one, a ``digest``
delivery is written for (subscription, period start, part 1), unique, and ``digest_next_at``
moves to the next boundary. A period nothing was collected in gets no delivery unless the
subscription asked for empty digests. The outbox worker claims, leases and posts the delivery
with its stable nonce like an alert, so a crash before or after the post neither repeats nor
loses it; a restart after a boundary (or several) closes each period it missed, in order.

A digest longer than one message (``render/digest.py`` pages it) is posted part after part: when
part *k* is recorded as sent and the digest has more, part *k + 1* is written in the same
transaction (``revision`` numbers the parts, so each part has its own nonce).

One scheduler per deployment (the process holding shard 0, as the source watcher), and each pass
under the ``digests`` lock (``bot.db.exclusive``, not waiting); the unique period keeps two from
writing a period twice all the same.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.background import BackgroundLoop
from bot.clock import SYSTEM_CLOCK, Clock
from bot.db import Sessionmaker, dialect_of, engine_of, exclusive
from bot.models import utcnow
from bot.services.digests import Schedule, stored_schedule
from bot.services.events import read_views
from bot.services.views import EventView

log = logging.getLogger(__name__)

LOCK = "digests"


@dataclass(frozen=True)
class Digest:
    """What a ``digest`` delivery sends: its period and the events collected for it, as they are
    now (edits shown, retracted ones left out)."""

    frequency: str
    period_start: dt.datetime
    period_end: dt.datetime
    timezone: str
    empty: bool
    events: tuple[EventView, ...]


def schedule_of(sub: models.Subscription, server_zone: str | None) -> Schedule:
    """A stored digest subscription's schedule, in its own zone or else the server's."""
    return stored_schedule(
        sub.digest_frequency, sub.digest_at, sub.digest_weekday, sub.digest_timezone, server_zone
    )


async def server_zones(session: AsyncSession, guild_ids: Sequence[int]) -> dict[int, str]:
    """Each guild's ``/settings timezone`` (absent: none set)."""
    if not guild_ids:
        return {}
    G = models.GuildSettings
    rows = await session.execute(select(G.guild_id, G.timezone).where(G.guild_id.in_(list(guild_ids))))
    return {gid: tz for gid, tz in rows.all() if tz}


async def load_digests(
    session: AsyncSession, rows: Sequence[tuple[models.Delivery, models.Subscription]]
) -> dict[int, Digest]:
    """The period and current events of each ``digest`` delivery of ``rows`` (by delivery id)."""
    if not rows:
        return {}
    Item = models.DigestItem
    zones = await server_zones(session, sorted({d.guild_id for d, _ in rows}))
    found: dict[int, Digest] = {}
    for d, sub in rows:
        assert d.period_start is not None and d.period_end is not None
        ids = select(Item.event_id).where(
            Item.subscription_id == d.subscription_id, Item.period_start == d.period_start
        )
        stmt = select(models.Event).where(models.Event.id.in_(ids), models.Event.status == "published")
        events = tuple(await read_views(session, stmt))
        found[d.id] = Digest(
            frequency=sub.digest_frequency or "daily",
            period_start=d.period_start,
            period_end=d.period_end,
            timezone=schedule_of(sub, zones.get(d.guild_id)).timezone,
            empty=sub.digest_empty,
            events=events,
        )
    return found


def _delivery(sub: models.Subscription, start: dt.datetime, end: dt.datetime, part: int) -> models.Delivery:
    now = utcnow()  # the worker's time, not the schedule's: claimable at once
    return models.Delivery(
        event_id=None,
        subscription_id=sub.id,
        guild_id=sub.guild_id,
        channel_id=sub.channel_id,
        revision=part,
        action="digest",
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        period_start=start,
        period_end=end,
    )


async def queue_next_part(session: AsyncSession, job: Any) -> None:
    """Write part ``job.revision + 1`` of a digest whose part ``job.revision`` was just sent
    (unless it exists: a resent part finds its successor written)."""
    digest: Digest | None = job.digest
    if digest is None:
        return
    D = models.Delivery
    part = job.revision + 1
    exists = await session.scalar(
        select(D.id).where(
            D.subscription_id == job.subscription_id,
            D.period_start == digest.period_start,
            D.revision == part,
        )
    )
    if exists is not None:
        return
    sub = await session.get(models.Subscription, job.subscription_id)
    if sub is not None:
        session.add(_delivery(sub, digest.period_start, digest.period_end, part))


async def collect(session: AsyncSession, event_id: int, subscription_ids: Sequence[int]) -> int:
    """Record ``event_id`` for each digest subscription of ``subscription_ids`` that does not hold
    it yet (in the publish's transaction); returns how many were recorded."""
    if not subscription_ids:
        return 0
    Item = models.DigestItem
    held = set(
        (
            await session.scalars(
                select(Item.subscription_id).where(
                    Item.event_id == event_id, Item.subscription_id.in_(subscription_ids)
                )
            )
        ).all()
    )
    new = [sid for sid in subscription_ids if sid not in held]
    session.add_all(Item(subscription_id=sid, event_id=event_id, collected_at=utcnow()) for sid in new)
    return len(new)


async def close_period(session: AsyncSession, sub: models.Subscription, zone: str | None) -> bool:
    """Close the period of ``sub`` that ended at ``digest_next_at`` (in the caller's transaction):
    its items assigned, its delivery written when there is something to send (or empty digests
    are wanted) and the subscription active; the next boundary set. True when a delivery was
    written."""
    schedule = schedule_of(sub, zone)
    end = sub.digest_next_at
    assert end is not None
    start = schedule.previous(end)
    sub.digest_next_at = schedule.next_after(end)
    if sub.state != "active":
        return False  # nothing is collected while paused; what was stays for the next period
    Item = models.DigestItem
    pending = await session.scalar(
        select(func.count()).where(Item.subscription_id == sub.id, Item.period_start.is_(None))
    )
    if not pending and not sub.digest_empty:
        return False
    await session.execute(
        update(Item)
        .where(Item.subscription_id == sub.id, Item.period_start.is_(None))
        .values(period_start=start)
        .execution_options(synchronize_session=False)
    )
    session.add(_delivery(sub, start, end, 1))
    return True


class DigestScheduler(BackgroundLoop):
    """Closes the digest periods that have ended (owned by the bot, like the outbox worker): a
    pass at each boundary, at most ``tick`` seconds apart, or at once after :meth:`wake` (the
    clock moved)."""

    task_name = "digests"

    def __init__(
        self,
        sessionmaker: Sessionmaker,
        *,
        clock: Clock = SYSTEM_CLOCK,
        on_enqueue: Callable[[], None] | None = None,
        tick: float = 60.0,
    ) -> None:
        super().__init__()
        self._sessionmaker = sessionmaker
        self._postgres = dialect_of(sessionmaker) == "postgresql"
        self.clock = clock
        self._on_enqueue = on_enqueue
        self._tick = tick

    async def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            pause = self._tick  # after a failed pass: not again at once
            try:
                await self.run_once()
                pause = await self._wait()
            except Exception:
                log.exception("digests: a pass failed")
            self.passes += 1
            await self._pause(pause)

    async def _wait(self) -> float:
        """Seconds until the next boundary, at most ``tick``."""
        S = models.Subscription
        try:
            async with self._sessionmaker() as session:
                nearest = await session.scalar(select(func.min(S.digest_next_at)).where(S.mode == "digest"))
        except Exception:
            return self._tick
        if nearest is None:
            return self._tick
        if nearest.tzinfo is None:
            nearest = nearest.replace(tzinfo=dt.UTC)
        return min(self._tick, max((nearest - self.clock.now()).total_seconds(), 0.05))

    async def run_once(self) -> int:
        """Close every period that has ended; returns how many deliveries were written. Another
        process making a pass makes this one do nothing."""
        written = 0
        async with exclusive(engine_of(self._sessionmaker), LOCK, wait=False) as mine:
            if not mine:
                return 0
            while True:
                due = await self._due()
                if not due:
                    break
                for sub_id in due:
                    written += await self._close(sub_id)
        if written and self._on_enqueue is not None:
            self._on_enqueue()
        return written

    async def _due(self) -> list[int]:
        S = models.Subscription
        stmt = (
            select(S.id)
            .where(S.mode == "digest", S.digest_next_at <= self.clock.now())
            .order_by(S.digest_next_at, S.id)
            .limit(200)
        )
        async with self._sessionmaker() as session:
            return list((await session.scalars(stmt)).all())

    async def _close(self, sub_id: int) -> int:
        """One period of one subscription, in a transaction of its own."""
        end: dt.datetime | None = None
        try:
            async with self._sessionmaker() as session, session.begin():
                sub = await session.get(models.Subscription, sub_id, with_for_update=self._postgres)
                if sub is None or sub.digest_next_at is None or sub.digest_next_at > self.clock.now():
                    return 0
                end = sub.digest_next_at
                zones = await server_zones(session, [sub.guild_id])
                return int(await close_period(session, sub, zones.get(sub.guild_id)))
        except IntegrityError:
            # The period's delivery exists already: written by another process despite the lock
            # (which moved the boundary on), or else closed before; either way only the boundary
            # is left to move, unless it moved already.
            log.warning("digests: the period of subscription %s ending %s was closed already", sub_id, end)
            async with self._sessionmaker() as session, session.begin():
                sub = await session.get(models.Subscription, sub_id, with_for_update=self._postgres)
                if sub is not None and end is not None and sub.digest_next_at == end:
                    zones = await server_zones(session, [sub.guild_id])
                    sub.digest_next_at = schedule_of(sub, zones.get(sub.guild_id)).next_after(end)
            return 0


def digest_skip_reason(job: Any) -> str | None:
    """Why a digest delivery sends nothing (None: it sends)."""
    digest: Digest = job.digest
    if job.subscription_state != "active":
        return f"subscription {job.subscription_state}"
    if not digest.events and not digest.empty and job.revision == 1:
        return "every event collected for the period was retracted"
    return None


def digest_message(job: Any, ref: str | None, locale: str) -> tuple[dict[str, Any] | None, bool]:
    """The message of the digest part ``job`` sends (None: the digest, as it is now, has fewer
    parts), and whether more parts follow it."""
    from bot.discord.render.digest import Period
    from bot.outbox.payload import digest_payload

    digest: Digest = job.digest
    period = Period(digest.frequency, digest.period_start, digest.period_end, digest.timezone)
    payload, parts = digest_payload(
        digest.events, period, job.revision, mention_role_ids=job.mention_role_ids, ref=ref, locale=locale
    )
    if job.revision > parts:
        return None, False
    return payload, job.revision < parts


def digest_goes_on(job: Any, locale: str) -> bool:
    """Whether parts follow the digest part ``job`` (False for any other delivery)."""
    return job.digest is not None and digest_message(job, None, locale)[1]


@dataclass(frozen=True)
class DigestPlace:
    """Where an event stands in a digest subscription (for "why"): the period it was collected
    for (``start`` None: the period still open, which ends at ``end``), and that period's first
    message once written (``state``, ``message_id``)."""

    start: dt.datetime | None
    end: dt.datetime | None
    state: str | None = None
    message_id: int | None = None


async def digest_place(session: AsyncSession, subscription_id: int, event_id: int) -> DigestPlace | None:
    """The digest period ``event_id`` was collected for by ``subscription_id`` (None: not collected)."""
    Item, D = models.DigestItem, models.Delivery
    item = await session.scalar(
        select(Item).where(Item.subscription_id == subscription_id, Item.event_id == event_id)
    )
    if item is None:
        return None
    if item.period_start is None:
        sub = await session.get(models.Subscription, subscription_id)
        return DigestPlace(None, sub.digest_next_at if sub is not None else None)
    first = await session.scalar(
        select(D).where(
            D.subscription_id == subscription_id, D.period_start == item.period_start, D.revision == 1
        )
    )
    if first is None:
        return DigestPlace(item.period_start, None)
    return DigestPlace(item.period_start, first.period_end, first.state, first.message_id)
