"""The outbox on the database side (no Discord): claiming, leases, recording outcomes.

A worker claims a batch with one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
RETURNING`` (PostgreSQL; SQLite has a single writer and no row locks), only for the guilds of its
shards, and holds a short lease (``claimed_until``) that it renews while it lives. A killed
worker's rows come free when the lease runs out, so a restart resumes them within seconds. A
claimed row is marked ``sending`` with ``attempts + 1`` before its request is made.

Claims are fair: each channel gets at most what it may send in its window (5 per 5 s) less what
it already has leased, ranked with ``row_number() over (partition by channel_id …)``, and the
rows are taken round-robin across guilds, then across a guild's channels; so one channel's
backlog never holds back another channel's alert. A claim never returns what the claiming
worker still holds (``exclude``), even when a stall let its leases run out.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import case, func, literal_column, or_, select, update

from bot import models
from bot.db import Sessionmaker, dialect_of
from bot.models import utcnow
from bot.outbox.digests import Digest, load_digests, queue_next_part
from bot.outbox.forms import PLAIN, Form, Posted
from bot.outbox.payload import nonce_for
from bot.services.events import read_views
from bot.services.views import EventView

#: Delivery states still waiting to reach Discord.
OPEN_STATES = ("pending", "sending")
DISCORD_EPOCH_SHIFT = 22


@dataclass
class Job:
    delivery_id: int
    event_id: int | None  # None: a digest
    subscription_id: int
    guild_id: int
    channel_id: int
    revision: int
    action: str
    attempts: int
    #: The roles the alert mentions: those of every matching subscription of the channel, or the
    #: subscription's own.
    mention_role_ids: tuple[int, ...]
    subscription_state: str
    #: The event alerted (``None`` for a ``digest``, whose events are in ``digest``).
    event: EventView | None
    target_message_id: int | None = None
    created_at: dt.datetime | None = None
    first_attempt_at: dt.datetime | None = None
    rate_limited: int = 0
    summary_count: int | None = None  # a ``summary`` delivery: how many events it stands for
    digest: Digest | None = None  # a ``digest`` delivery: its period and events (part = revision)
    form: Form = PLAIN  # how the subscription's alerts are posted
    posted: Posted | None = None  # an edit: where the alert it edits is

    @property
    def nonce(self) -> str:
        return nonce_for(self.delivery_id, self.revision)


ResultKind = Literal["sent", "retry", "failed", "cancelled"]


@dataclass(frozen=True)
class CrosspostMark:
    """What became of a posted alert's crosspost (``bot.outbox.crosspost``): ``done``, ``pending``
    (again in ``retry_in`` seconds) or ``failed`` (``error`` says why)."""

    state: Literal["done", "pending", "failed"]
    retry_in: float = 0.0
    error: str | None = None

    def columns(self, now: dt.datetime) -> dict[str, Any]:
        """The delivery's crosspost columns for this mark."""
        row: dict[str, Any] = {"crosspost": self.state, "crosspost_at": None}
        if self.state == "pending":
            row["crosspost_at"] = now + dt.timedelta(seconds=self.retry_in)
        if self.error:
            row["last_error"] = self.error[:1000]
        return row


@dataclass(frozen=True)
class Result:
    job: Job
    kind: ResultKind
    message_id: int | None = None
    error: str | None = None
    retry_in: float = 0.0
    count_attempt: bool = True
    crosspost: CrosspostMark | None = None  # a post in an announcement channel
    #: A digest part was sent and the digest has more: queue the next part with the record.
    next_part: bool = False
    thread_id: int | None = None
    webhook_id: int | None = None


def mentions_of(
    delivery: models.Delivery, sub: models.Subscription, post_mentions: Any = None
) -> tuple[int, ...]:
    """The roles an alert mentions: those its delivery (or, for an edit, the post it edits) names
    when several subscriptions of the channel matched, else its subscription's own role."""
    named = delivery.mention_role_ids if delivery.mention_role_ids is not None else post_mentions
    if named is not None:
        return tuple(int(r) for r in named)
    return () if sub.mention_role_id is None else (sub.mention_role_id,)


def form_of(sub: models.Subscription) -> Form:
    """How ``sub``'s alerts are posted."""
    return Form(
        target=sub.target,
        parent_id=sub.parent_id,
        thread=sub.thread,
        thread_min=sub.thread_min,
        forum_tags=sub.forum_tags,
        identity=sub.identity,
        webhook_name=sub.webhook_name,
        webhook_avatar_url=sub.webhook_avatar_url,
        webhook_id=sub.webhook_id,
        webhook_token=sub.webhook_token,
        webhook_recreated=sub.webhook_recreated,
    )


def _message_of(posted: Posted | None) -> int | None:
    return posted.message_id if posted is not None else None


def aware(value: dt.datetime) -> dt.datetime:
    """A stored UTC time with its zone (SQLite gives them back naive)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> DISCORD_EPOCH_SHIFT) % shard_count


def fair_order(jobs: Sequence[Job]) -> list[Job]:
    """``jobs`` round-robin across guilds and, within a guild, across channels (each channel's
    oldest first), so a big claim sends the lone guild's alert as early as the busy one's."""
    channels: dict[int, dict[int, list[Job]]] = {}
    for job in sorted(jobs, key=lambda j: j.delivery_id):
        channels.setdefault(job.guild_id, {}).setdefault(job.channel_id, []).append(job)
    per_guild = [
        [j for turn in itertools.zip_longest(*chans.values()) for j in turn if j is not None]
        for chans in channels.values()
    ]
    return [j for turn in itertools.zip_longest(*per_guild) for j in turn if j is not None]


class DeliveryStore:
    """Claims, renews, records and releases deliveries for one worker."""

    def __init__(
        self,
        sessionmaker: Sessionmaker,
        worker_id: str,
        *,
        shard_ids: Sequence[int] | None = None,
        shard_count: int | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.worker_id = worker_id
        self._shards = tuple(shard_ids) if shard_ids and shard_count else None
        self._shard_count = shard_count
        self._postgres = dialect_of(sessionmaker) == "postgresql"

    def _in_shards(self, stmt: Any) -> Any:
        if self._shards is None or not self._shard_count:
            return stmt
        D = models.Delivery
        # PostgreSQL has bigint >> integer only: the shift is written inline, not bound as a bigint.
        shifted = D.guild_id.op(">>")(literal_column(str(DISCORD_EPOCH_SHIFT)))
        return stmt.where((shifted % self._shard_count).in_(self._shards))

    def _fair_pick(self, now: dt.datetime, limit: int, per_channel: int, exclude: Collection[int]) -> Any:
        """The ids a fair claim takes: due, unleased rows ranked within their channel (at most
        ``per_channel`` minus what the channel already has leased or held), then round-robin
        across guilds and, within a guild, across its channels; the oldest first at each turn."""
        D = models.Delivery
        due = [
            D.state.in_(OPEN_STATES),
            D.next_attempt_at <= now,
            or_(D.claimed_until.is_(None), D.claimed_until < now),
        ]
        held: Any = D.claimed_until >= now
        if exclude:
            due.append(D.id.not_in(list(exclude)))
            held = or_(held, D.id.in_(list(exclude)))
        in_channel = func.row_number().over(partition_by=D.channel_id, order_by=(D.next_attempt_at, D.id))
        ranked = self._in_shards(
            select(D.id, D.guild_id, D.channel_id, D.next_attempt_at, in_channel.label("rn")).where(*due)
        ).subquery("ranked")
        busy = self._in_shards(
            select(D.channel_id, func.count().label("n"))
            .where(D.state.in_(OPEN_STATES), held)
            .group_by(D.channel_id)
        ).subquery("busy")
        # Each channel cut to its allowance before the join and the second ranking: a backlog of
        # thousands in one channel costs its first few rows from here on.
        head = select(ranked).where(ranked.c.rn <= per_channel).subquery("head")
        allowed = (
            select(head)
            .outerjoin(busy, busy.c.channel_id == head.c.channel_id)
            .where(head.c.rn + func.coalesce(busy.c.n, 0) <= per_channel)
            .subquery("allowed")
        )
        in_guild = func.row_number().over(
            partition_by=allowed.c.guild_id, order_by=(allowed.c.rn, allowed.c.next_attempt_at, allowed.c.id)
        )
        turns = select(
            allowed.c.id, allowed.c.rn, allowed.c.next_attempt_at, in_guild.label("turn")
        ).subquery("turns")
        return (
            select(turns.c.id)
            .order_by(turns.c.turn, turns.c.rn, turns.c.next_attempt_at, turns.c.id)
            .limit(limit)
        )

    async def claim(
        self, limit: int, lease: float, *, per_channel: int = 5, exclude: Collection[int] = ()
    ) -> list[Job]:
        """Claim up to ``limit`` due deliveries (free, or whose lease expired), fairly (see
        ``_fair_pick``), never one of ``exclude`` (those this worker still holds, whatever their
        lease says), and load them in the order they should be sent."""
        D = models.Delivery
        now = utcnow()
        picked = self._fair_pick(now, limit, per_channel, exclude)
        if self._postgres:
            # Window functions cannot be locked: lock the picked rows, re-checked as they are now.
            picked = (
                select(D.id)
                .where(
                    D.id.in_(picked.scalar_subquery()),
                    D.state.in_(OPEN_STATES),
                    or_(D.claimed_until.is_(None), D.claimed_until < now),
                )
                .with_for_update(skip_locked=True)
            )
        stmt = (
            update(D)
            .where(D.id.in_(picked.scalar_subquery()))
            .values(
                claimed_by=self.worker_id,
                claimed_until=now + dt.timedelta(seconds=lease),
                state="sending",
                attempts=D.attempts + 1,
                first_attempt_at=func.coalesce(D.first_attempt_at, now),
            )
            .returning(D.id)
            .execution_options(synchronize_session=False)
        )
        async with self._sessionmaker() as session, session.begin():
            ids = list((await session.scalars(stmt)).all())
        if not ids:
            return []
        return fair_order(await self._load(ids))

    async def _load(self, ids: list[int]) -> list[Job]:
        D, S = models.Delivery, models.Subscription
        async with self._sessionmaker() as session:
            rows = (
                await session.execute(
                    select(D, S).join(S, S.id == D.subscription_id).where(D.id.in_(ids)).order_by(D.id)
                )
            ).all()
            event_ids = {d.event_id for d, _ in rows if d.event_id is not None}
            digests = await load_digests(session, [(d, s) for d, s in rows if d.action == "digest"])
            events = {
                e.id: e
                for e in await read_views(session, select(models.Event).where(models.Event.id.in_(event_ids)))
            }
            posted: dict[tuple[int | None, int], Posted] = {}
            post_mentions: dict[tuple[int | None, int], Any] = {}
            if any(d.action == "edit" for d, _ in rows):
                for event_id, sub_id, message_id, mentions, thread_id, webhook_id in (
                    await session.execute(
                        select(
                            D.event_id,
                            D.subscription_id,
                            D.message_id,
                            D.mention_role_ids,
                            D.thread_id,
                            D.webhook_id,
                        )
                        .where(
                            D.event_id.in_(event_ids),
                            D.action == "post",
                            D.state == "sent",
                            D.message_id.is_not(None),
                        )
                        .order_by(D.id)
                    )
                ).all():
                    if message_id is not None:
                        posted[(event_id, sub_id)] = Posted(message_id, thread_id, webhook_id)
                        post_mentions[(event_id, sub_id)] = mentions
        return [
            Job(
                delivery_id=d.id,
                event_id=d.event_id,
                subscription_id=d.subscription_id,
                guild_id=d.guild_id,
                channel_id=d.channel_id,
                revision=d.revision,
                action=d.action,
                attempts=d.attempts,
                mention_role_ids=mentions_of(d, s, post_mentions.get((d.event_id, d.subscription_id))),
                subscription_state=s.state,
                event=events.get(d.event_id) if d.event_id is not None else None,
                target_message_id=_message_of(posted.get((d.event_id, d.subscription_id))),
                posted=posted.get((d.event_id, d.subscription_id)),
                form=form_of(s),
                summary_count=d.summary_count,
                digest=digests.get(d.id),
                created_at=aware(d.created_at),
                first_attempt_at=aware(d.first_attempt_at) if d.first_attempt_at else None,
            )
            for d, s in rows
            if d.event_id in events or d.id in digests
        ]

    async def renew(self, lease: float, ids: Collection[int]) -> set[int]:
        """Extend the lease of ``ids`` (the deliveries this worker holds) and return those still
        its own: one another worker claimed after a stall longer than the lease is lost."""
        if not ids:
            return set()
        D = models.Delivery
        stmt = (
            update(D)
            .where(D.id.in_(list(ids)), D.claimed_by == self.worker_id, D.state.in_(OPEN_STATES))
            .values(claimed_until=utcnow() + dt.timedelta(seconds=lease))
            .returning(D.id)
            .execution_options(synchronize_session=False)
        )
        async with self._sessionmaker() as session, session.begin():
            return set((await session.scalars(stmt)).all())

    async def release(self, ids: Sequence[int] | None = None) -> int:
        """Give back open deliveries this worker holds (all of them, or ``ids``)."""
        D = models.Delivery
        stmt = update(D).where(D.claimed_by == self.worker_id, D.state.in_(OPEN_STATES))
        if ids is not None:
            stmt = stmt.where(D.id.in_(list(ids)))
        stmt = stmt.values(claimed_by=None, claimed_until=None).execution_options(synchronize_session=False)
        async with self._sessionmaker() as session, session.begin():
            result = await session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def record(self, results: Sequence[Result]) -> None:
        """Write a batch of outcomes in one transaction."""
        if not results:
            return
        now = utcnow()
        rows: list[dict[str, Any]] = []
        delivered: dict[int, dt.datetime] = {}
        parts = [r.job for r in results if r.kind == "sent" and r.next_part]
        for r in results:
            row: dict[str, Any] = {"id": r.job.delivery_id, "claimed_by": None, "claimed_until": None}
            if r.kind == "sent":
                row.update(state="sent", message_id=r.message_id, sent_at=now, last_error=None)
                if r.crosspost is not None:
                    row.update(r.crosspost.columns(now))
                if r.job.action != "edit":
                    row.update(thread_id=r.thread_id, webhook_id=r.webhook_id)
                delivered[r.job.subscription_id] = now
            elif r.kind == "retry":
                # Stays "sending": a POST may have reached Discord; the resend reuses the nonce.
                row.update(
                    next_attempt_at=now + dt.timedelta(seconds=r.retry_in),
                    last_error=(r.error or "")[:1000],
                )
                if not r.count_attempt:
                    row["attempts"] = max(r.job.attempts - 1, 0)
            else:
                row.update(state=r.kind, last_error=(r.error or "")[:1000])
            rows.append(row)
        async with self._sessionmaker() as session, session.begin():
            await session.execute(update(models.Delivery), rows)
            for job in parts:
                await queue_next_part(session, job)
            if delivered:
                await session.execute(
                    update(models.Subscription),
                    [{"id": sid, "last_delivery_at": at} for sid, at in delivered.items()],
                )

    async def save_webhook(self, subscription_id: int, webhook_id: int, token: str, recreated: bool) -> None:
        """Keep the channel webhook a subscription posts through (made, found, or made again)."""
        values = {"webhook_id": webhook_id, "webhook_token": token, "webhook_recreated": recreated}
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                update(models.Subscription).where(models.Subscription.id == subscription_id).values(**values)
            )

    async def cancel_open(self, subscription_id: int, reason: str) -> int:
        """Cancel every open delivery of a subscription (after it was disabled)."""
        D = models.Delivery
        stmt = (
            update(D)
            .where(D.subscription_id == subscription_id, D.state.in_(OPEN_STATES))
            .values(state="cancelled", last_error=reason[:1000], claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        async with self._sessionmaker() as session, session.begin():
            result = await session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def next_due(self) -> dt.datetime | None:
        """When a delivery this worker could claim may become claimable (None: none is waiting
        for a time): the earliest future ``next_attempt_at`` of a free row, or the end of
        another worker's lease. A due row held back by its channel's allowance becomes
        claimable when this worker records a send, which wakes it anyway."""
        D = models.Delivery
        now = utcnow()
        when = case(
            (D.claimed_until > now, D.claimed_until),
            (D.next_attempt_at > now, D.next_attempt_at),
            else_=None,
        )
        stmt = select(func.min(when)).where(
            D.state.in_(OPEN_STATES), or_(D.claimed_by.is_(None), D.claimed_by != self.worker_id)
        )
        stmt = self._in_shards(stmt)
        async with self._sessionmaker() as session:
            value: Any = await session.scalar(stmt)
        if value is None:
            return None
        if isinstance(value, str):  # SQLite returns CASE results untyped
            value = dt.datetime.fromisoformat(value)
        return aware(value)
