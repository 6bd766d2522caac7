"""Crossposts: an alert posted in an announcement channel is published to every channel following
it (Discord copies it there: one request whatever the number of followers).

* **Right after the post.** The sender that posted the alert crossposts it before the delivery is
  recorded; the delivery is recorded ``sent`` with its crosspost ``done``, ``pending`` or
  ``failed``. Our own message needs only Send Messages; the request is paced under the global
  limit like any other.
* **Beyond Discord's limit** (about 10 crossposts per hour per channel) Discord answers 429 with
  ``retry_after``: the alert stays posted and the crosspost waits, ``pending`` until
  ``crosspost_at`` (``/alerts list`` says so). A timeout or a 5xx waits too (``retry``
  seconds). The worker's crosspost loop claims due crossposts with a lease written in
  ``crosspost_at`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two workers never send one
  together.
* **Exactly once.** A crosspost is never made twice: Discord refuses a message crossposted
  already (code 40033), which counts as ``done``; so a worker killed between its request and its
  record, or a resent post that Discord recognised by its nonce, ends with one crosspost. The
  post itself is never repeated: a crosspost only ever reads the recorded message id.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select, update

from bot import models
from bot.models import utcnow
from bot.outbox.config import DispatcherConfig
from bot.outbox.pacing import Pacer
from bot.outbox.store import CrosspostMark, DeliveryStore, Job, aware
from bot.outbox.transport import Outcome, RestTransport

log = logging.getLogger(__name__)

ALREADY_CROSSPOSTED = "(code 40033)"
#: Seconds before a crosspost that met a timeout or a 5xx is tried again.
RETRY_AFTER_ERROR = 30.0

IsAnnouncement = Callable[[int], bool]
ReadyHook = Callable[[], Awaitable[object]]


def mark_for(outcome: Outcome, retry: float = RETRY_AFTER_ERROR) -> CrosspostMark:
    """What a crosspost's answer means for the delivery."""
    if outcome.kind == "ok" or ALREADY_CROSSPOSTED in outcome.error:
        return CrosspostMark("done")
    if outcome.kind == "rate_limited":
        return CrosspostMark("pending", retry_in=max(outcome.retry_after, 0.0))
    if outcome.kind == "transient":
        return CrosspostMark("pending", retry_in=retry, error=f"crosspost: {outcome.error}")
    return CrosspostMark("failed", error=f"crosspost refused: {outcome.error}")


class CrosspostStore(DeliveryStore):
    """The outbox's store with the crossposts waiting for their time."""

    async def claim_crossposts(self, limit: int, lease: float) -> list[tuple[int, int, int]]:
        """Claim up to ``limit`` due crossposts (their time pushed ``lease`` seconds on, so no one
        else takes them meanwhile): ``(delivery id, channel id, message id)`` each."""
        D = models.Delivery
        now = utcnow()
        picked: Any = self._in_shards(
            select(D.id)
            .where(D.crosspost == "pending", D.crosspost_at <= now, D.message_id.is_not(None))
            .order_by(D.crosspost_at, D.id)
            .limit(limit)
        )
        if self._postgres:
            picked = picked.with_for_update(skip_locked=True)
        stmt = (
            update(D)
            .where(D.id.in_(picked.scalar_subquery()))
            .values(crosspost_at=now + dt.timedelta(seconds=lease))
            .returning(D.id, D.channel_id, D.message_id)
            .execution_options(synchronize_session=False)
        )
        async with self._sessionmaker() as session, session.begin():
            rows = (await session.execute(stmt)).all()
        return [(int(i), int(c), int(m or 0)) for i, c, m in rows]

    async def record_crossposts(self, marks: list[tuple[int, CrosspostMark]]) -> None:
        if not marks:
            return
        now = utcnow()
        rows = [{"id": delivery_id, **mark.columns(now)} for delivery_id, mark in marks]
        async with self._sessionmaker() as session, session.begin():
            await session.execute(update(models.Delivery), rows)

    async def next_crosspost(self) -> dt.datetime | None:
        """When the earliest waiting crosspost is due (None: none waits)."""
        D = models.Delivery
        stmt = self._in_shards(select(func.min(D.crosspost_at)).where(D.crosspost == "pending"))
        async with self._sessionmaker() as session:
            value: Any = await session.scalar(stmt)
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return aware(value) if value is not None else None


class Crossposter:
    """Crossposts alerts of announcement channels: right after their post, and later the ones
    Discord's limit deferred (``run``)."""

    def __init__(
        self,
        store: CrosspostStore,
        transport: RestTransport,
        pacer: Pacer,
        config: DispatcherConfig,
        is_announcement: IsAnnouncement | None,
    ) -> None:
        self._store = store
        self._transport = transport
        self._pacer = pacer
        self._config = config
        self._is_announcement = is_announcement
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def applies(self, job: Job) -> bool:
        """Whether ``job``'s message is an alert (or a digest) in an announcement channel."""
        if job.action not in ("post", "digest") or self._is_announcement is None:
            return False
        return self._is_announcement(job.channel_id)

    async def after_post(self, job: Job, message_id: int | None) -> CrosspostMark | None:
        """Crosspost a just-posted alert (None: nothing to crosspost)."""
        if message_id is None or not self.applies(job):
            return None
        mark = await self.crosspost(job.channel_id, message_id)
        if mark.state == "pending":
            self._wake.set()
        return mark

    async def crosspost(self, channel_id: int, message_id: int) -> CrosspostMark:
        async with self._pacer.global_slot():
            outcome = await self._transport.crosspost(channel_id, message_id)
        if outcome.kind == "rate_limited" and outcome.is_global:
            self._pacer.global_window.block(outcome.retry_after)  # the token's limit, not the channel's
        mark = mark_for(outcome)
        if mark.state != "done":
            log.info(
                "crosspost of message %s in %s: %s (%s)", message_id, channel_id, mark.state, outcome.error
            )
        return mark

    async def _until_next(self) -> float:
        """Seconds until the next crosspost is due: at most ``poll_interval`` (another worker's
        lease may run out), ten times that when none waits (a post that meets the limit wakes
        this loop)."""
        when = await self._store.next_crosspost()
        if when is None:
            return self._config.poll_interval * 10
        return min(self._config.poll_interval, max((when - utcnow()).total_seconds(), 0.01))

    def start(self, ready: ReadyHook | None = None) -> None:
        """Run the crosspost loop (``run``) in a task of its own."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self.run(ready), name="dispatcher-crosspost")

    async def stop(self, grace: float) -> None:
        """End the loop at its next turn, waiting up to ``grace`` seconds for the turn in progress
        (a task cancelled inside a database call leaves its connection to be closed later), then
        cancelling it."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        await asyncio.wait([task], timeout=grace)
        while not task.done():  # on Python 3.11 ``wait_for`` can swallow one cancellation
            task.cancel()
            await asyncio.wait([task], timeout=0.5)

    async def run(self, ready: ReadyHook | None = None) -> None:
        """Crosspost what waited for its time, until stopped (nothing before ``ready`` returned)."""
        cfg = self._config
        if ready is not None:
            await ready()
        # Not ``while True``: on Python 3.11 ``wait_for`` can swallow a cancellation.
        while not self._stopping:
            try:
                due = await self._store.claim_crossposts(cfg.batch, cfg.lease)
                marks = [(d, await self.crosspost(c, m)) for d, c, m in due]
                await self._store.record_crossposts(marks)
                wait = 0.0 if len(due) >= cfg.batch else await self._until_next()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("crossposts: a round failed; trying again")
                wait = cfg.poll_interval
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
