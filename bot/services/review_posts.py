"""Review posts on the database side (no Discord): which review channels a new draft is offered in,
and the small outbox that posts it there exactly once and edits it once the draft is decided.

A draft's posts are written in the transaction that writes the draft (:func:`offer`): one row per
guild whose curators may review it and that chose a review channel (``/settings review-channel``).
The shared corpus's drafts go to the home guilds' review channels; a guild's local drafts to its own
alone, never another guild's. A decision (publish, merge, reject) marks the draft's posts
``edit_due`` in the decision's transaction (:func:`mark_decided`), so the posted message is edited
whoever decided it and wherever.

The poster (``bot/discord/review_posts.py``) claims due rows with a lease, like the alert outbox:
a claimed post is ``sending`` with ``attempts + 1`` before its request, and the request carries the
row's stable nonce, so a resend after a crash returns the message already created.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.db import Sessionmaker, dialect_of
from bot.models import utcnow

if TYPE_CHECKING:
    from bot.services.watch import DraftView

OPEN_STATES = ("pending", "sending")


def nonce_of(post_id: int) -> str:
    """The stable nonce (and footer reference) of a review post: at most 25 characters."""
    return f"pbv{post_id}"


async def offer(session: AsyncSession, drafts: Sequence[models.Draft], home_guild_ids: Iterable[int]) -> int:
    """Queue each new draft (flushed, with its id) for the review channels of the guilds whose
    curators review its scope: the home guilds for the shared corpus, the draft's own guild for its
    local drafts. Returns how many posts were queued; every draft is marked ``announced``."""
    homes = set(home_guild_ids)
    local = {d.guild_id for d in drafts if d.guild_id is not None}
    wanted = local | (homes if any(d.guild_id is None for d in drafts) else set())
    channels: dict[int, int] = {}
    if wanted:
        rows = await session.execute(
            select(models.GuildSettings.guild_id, models.GuildSettings.review_channel_id).where(
                models.GuildSettings.guild_id.in_(sorted(wanted)),
                models.GuildSettings.review_channel_id.is_not(None),
            )
        )
        channels = {g: c for g, c in rows.all() if c is not None}
    queued = 0
    for draft in drafts:
        draft.announced = True
        guilds = sorted(homes) if draft.guild_id is None else [draft.guild_id]
        for guild_id in guilds:
            if guild_id in channels and (draft.guild_id is None) == (guild_id in homes):
                session.add(
                    models.ReviewPost(draft_id=draft.id, guild_id=guild_id, channel_id=channels[guild_id])
                )
                queued += 1
    return queued


@dataclass(frozen=True)
class Trouble:
    """Drafts that could not be posted in a server's review channel since its last post there
    (Discord refused: the bot lost a permission, or the channel is gone)."""

    channel_id: int
    failed: int


async def posting_trouble(session: AsyncSession, guild_id: int | None) -> Trouble | None:
    """What went wrong in ``guild_id``'s review channel since its last good post, if anything."""
    if guild_id is None:
        return None
    G, P = models.GuildSettings, models.ReviewPost
    channel = await session.scalar(select(G.review_channel_id).where(G.guild_id == guild_id))
    if channel is None:
        return None
    here = (P.guild_id == guild_id, P.channel_id == channel)
    last_sent = select(func.coalesce(func.max(P.id), 0)).where(*here, P.state == "sent").scalar_subquery()
    failed = await session.scalar(
        select(func.count()).select_from(P).where(*here, P.state == "failed", P.id > last_sent)
    )
    return Trouble(channel, int(failed)) if failed else None


async def mark_decided(session: AsyncSession, draft_id: int) -> int:
    """The draft was decided: its posted messages are to be edited (those not posted yet are
    not posted at all). Returns how many posts that touches."""
    stmt = (
        update(models.ReviewPost)
        .where(models.ReviewPost.draft_id == draft_id, models.ReviewPost.state.in_((*OPEN_STATES, "sent")))
        .values(edit_due=True, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass
class PostJob:
    """One claimed review post: a first post (``action`` "post") or the edit after a decision."""

    post_id: int
    guild_id: int
    channel_id: int
    action: str
    attempts: int
    draft: DraftView
    #: The guild's review channel now (a post for a channel no longer chosen is not made).
    current_channel_id: int | None
    message_id: int | None
    created_at: dt.datetime
    first_attempt_at: dt.datetime | None
    decided_by: int | None = None
    reject_reason: str | None = None

    @property
    def nonce(self) -> str:
        return nonce_of(self.post_id)


@dataclass(frozen=True)
class PostResult:
    """What became of a claimed post: ``sent`` (posted or edited), ``retry`` in some seconds,
    ``failed`` or ``cancelled`` (nothing to post any more), with the reason."""

    job: PostJob
    kind: str
    message_id: int | None = None
    error: str | None = None
    retry_in: float = 0.0
    count_attempt: bool = True


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class ReviewPostStore:
    """Claims, records and releases review posts for one poster."""

    def __init__(self, sessionmaker: Sessionmaker, worker_id: str) -> None:
        self._sessionmaker = sessionmaker
        self.worker_id = worker_id
        self._postgres = dialect_of(sessionmaker) == "postgresql"

    @staticmethod
    def _due(now: dt.datetime) -> Any:
        P = models.ReviewPost
        return and_(
            or_(P.state.in_(OPEN_STATES), and_(P.state == "sent", P.edit_due.is_(True))),
            P.next_attempt_at <= now,
            or_(P.claimed_until.is_(None), P.claimed_until < now),
        )

    async def claim(self, limit: int, lease: float) -> list[PostJob]:
        """Up to ``limit`` due posts (free, or whose lease ran out), the oldest first."""
        P = models.ReviewPost
        now = utcnow()
        picked = select(P.id).where(self._due(now)).order_by(P.next_attempt_at, P.id).limit(limit)
        if self._postgres:
            picked = picked.with_for_update(skip_locked=True)
        stmt = (
            update(P)
            .where(P.id.in_(picked.scalar_subquery()))
            .values(
                claimed_by=self.worker_id,
                claimed_until=now + dt.timedelta(seconds=lease),
                # A claimed first post becomes ``sending``; a claimed edit stays ``sent``.
                state=case((P.state == "sent", "sent"), else_="sending"),
                attempts=P.attempts + 1,
            )
            .returning(P.id)
            .execution_options(synchronize_session=False)
        )
        async with self._sessionmaker() as session, session.begin():
            ids = list((await session.scalars(stmt)).all())
        return await self._load(ids) if ids else []

    async def _load(self, ids: list[int]) -> list[PostJob]:
        from bot.services.watch import draft_view  # the watch service queues posts: imported late

        P, D, G = models.ReviewPost, models.Draft, models.GuildSettings
        async with self._sessionmaker() as session:
            rows = (
                await session.execute(
                    select(P, D, G.review_channel_id)
                    .join(D, D.id == P.draft_id)
                    .outerjoin(G, G.guild_id == P.guild_id)
                    .where(P.id.in_(ids))
                    .order_by(P.id)
                )
            ).all()
        return [
            PostJob(
                post_id=p.id,
                guild_id=p.guild_id,
                channel_id=p.channel_id,
                action="edit" if p.state == "sent" else "post",
                attempts=p.attempts,
                draft=draft_view(d),
                current_channel_id=channel,
                message_id=p.message_id,
                created_at=_aware(p.created_at),
                first_attempt_at=_aware(p.first_attempt_at) if p.first_attempt_at else None,
                decided_by=d.decided_by,
                reject_reason=d.reject_reason,
            )
            for p, d, channel in rows
        ]

    async def record(self, results: Sequence[PostResult]) -> None:
        """Write the outcomes (one transaction); a post whose claim this poster lost is left alone."""
        if not results:
            return
        P = models.ReviewPost
        now = utcnow()
        async with self._sessionmaker() as session, session.begin():
            for r in results:
                values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
                edit = r.job.action == "edit"
                if r.kind == "sent":
                    values.update(state="sent", last_error=None, attempts=0, first_attempt_at=None)
                    if edit:
                        values["edit_due"] = False
                    else:
                        values["message_id"] = r.message_id
                        # Decided while it was being posted: the edit follows at once.
                        values["next_attempt_at"] = now
                elif r.kind == "retry":
                    values.update(
                        next_attempt_at=now + dt.timedelta(seconds=r.retry_in),
                        last_error=(r.error or "")[:1000],
                        first_attempt_at=r.job.first_attempt_at or now,
                    )
                    if not r.count_attempt:
                        values["attempts"] = max(r.job.attempts - 1, 0)
                elif edit:  # an edit that cannot be made: the post stays as it is
                    values.update(edit_due=False, last_error=(r.error or "")[:1000])
                else:
                    values.update(state=r.kind, edit_due=False, last_error=(r.error or "")[:1000])
                await session.execute(
                    update(P)
                    .where(P.id == r.job.post_id, P.claimed_by == self.worker_id)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )

    async def release(self) -> None:
        """Give back every post this poster holds (on stop)."""
        P = models.ReviewPost
        stmt = (
            update(P)
            .where(P.claimed_by == self.worker_id)
            .values(claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        async with self._sessionmaker() as session, session.begin():
            await session.execute(stmt)

    async def next_due(self) -> dt.datetime | None:
        """The earliest time a waiting post becomes due (None: nothing waits)."""
        P = models.ReviewPost
        stmt = select(P.next_attempt_at, P.claimed_until).where(
            or_(P.state.in_(OPEN_STATES), and_(P.state == "sent", P.edit_due.is_(True)))
        )
        async with self._sessionmaker() as session:
            rows = (await session.execute(stmt.order_by(P.next_attempt_at).limit(50))).all()
        times = [max(_aware(n), _aware(c)) if c is not None else _aware(n) for n, c in rows]
        return min(times) if times else None


__all__ = [
    "PostJob",
    "PostResult",
    "ReviewPostStore",
    "mark_decided",
    "nonce_of",
    "offer",
]
