"""The alert dispatcher: drains the ``delivery`` outbox into Discord, exactly once per revision.

How the guarantees are kept:

* **Claiming.** A worker claims a batch with one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE
  SKIP LOCKED) RETURNING`` (PostgreSQL; SQLite has a single writer and no row locks), only for
  the guilds of its shards, and holds a short lease (``claimed_until``) that it renews while it
  lives. A killed worker's rows come free when the lease runs out, so a restart resumes them
  within seconds.
* **Exactly once.** A claimed row is marked ``sending`` with ``attempts + 1`` before its POST, and
  the POST carries ``nonce = pb{delivery}r{revision}`` with ``enforce_nonce``: a resend after a
  crash (or after a 5xx that did create the message) returns the message already created, and
  its id is what the row records as ``sent``.
* **Pacing.** Requests are admitted by sliding windows: 50 per rolling second overall and 5 per
  5 s per channel. A slot stays taken from the start of a request until its response arrived plus
  the window, so Discord (which counts on arrival) never sees more than the limit, whatever the
  latency, and nothing drifts. A 429 is still honoured (``retry_after``) should another client
  share the token.
* **Failures.** 5xx, timeouts and connection errors are retried with exponential backoff and
  jitter, up to ``max_attempts``; 403 and 404 (unknown channel) disable the subscription with the
  reason at once (Discord bans clients that make too many invalid requests), and cancel its other
  open deliveries.

The HTTP requests are made here rather than through ``discord.http.HTTPClient.request``: that
loop sleeps 1–7 s between its own five retries of a 5xx and waits out 429s invisibly, which would
hide failures from the pacer and make backoff impossible to bound or to configure.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import secrets
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import aiohttp
from discord.http import Route
from sqlalchemy import case, func, literal_column, or_, select, update

from bot import models
from bot.db import Sessionmaker
from bot.discord.render import event_embed, truncate
from bot.models import utcnow
from bot.services.events import read_views
from bot.services.views import EventView, SourceView

log = logging.getLogger(__name__)

OPEN_STATES = ("pending", "sending")
DISCORD_EPOCH_SHIFT = 22
CONTENT_MAX = 2000


@dataclass(frozen=True)
class DispatcherConfig:
    """Tuning; the defaults are for production, tests shrink the delays."""

    global_per_second: int = 50
    global_window: float = 1.0
    channel_messages: int = 5
    channel_window: float = 5.0
    concurrency: int = 10
    batch: int = 100
    first_batch: int = 10
    lease: float = 8.0
    poll_interval: float = 2.0
    request_timeout: float = 10.0
    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    rate_limit_retries: int = 10
    stop_grace: float = 5.0

    def backoff(self, attempts: int) -> float:
        """Exponential backoff with "equal jitter": between half and all of base·2^(n-1), capped."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** max(attempts - 1, 0))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


# ---------------------------------------------------------------------------------------------
# Pacing
# ---------------------------------------------------------------------------------------------


class SlidingWindow:
    """At most ``limit`` requests in any rolling ``window`` seconds, counted conservatively.

    A request holds its slot from its start until ``window`` seconds after its response: the
    server counts it at arrival, which lies between the two, so the server's count never
    exceeds ours. Bursts up to the limit pass at once; there is no fixed spacing to drift.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._expiries: deque[float] = deque()  # completion + window, in completion order
        self._busy = 0
        self._blocked_until = 0.0

    def delay(self) -> float | None:
        """0 when a request may start now, else seconds to wait; None while only requests in
        flight fill the window (they free a slot no earlier than ``window`` after they end)."""
        now = self._clock()
        while self._expiries and self._expiries[0] <= now:
            self._expiries.popleft()
        if now < self._blocked_until:
            return self._blocked_until - now
        if self._busy + len(self._expiries) < self.limit:
            return 0.0
        if self._expiries:
            return self._expiries[0] - now
        return None

    def take(self) -> None:
        self._busy += 1

    def release(self) -> None:
        self._busy -= 1
        self._expiries.append(self._clock() + self.window)

    def block(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (a 429's ``retry_after``, or a bucket reported empty)."""
        self._blocked_until = max(self._blocked_until, self._clock() + max(seconds, 0.0))

    @property
    def idle(self) -> bool:
        return self._busy == 0 and not self._expiries and self._clock() >= self._blocked_until


class Pacer:
    """The global window (awaited) and one window per channel (checked, never awaited)."""

    def __init__(self, config: DispatcherConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self.global_window = SlidingWindow(config.global_per_second, config.global_window, clock)
        self._channels: dict[int, SlidingWindow] = {}
        self._changed = asyncio.Condition()

    def channel(self, channel_id: int) -> SlidingWindow:
        window = self._channels.get(channel_id)
        if window is None:
            if len(self._channels) > 10_000:
                self._channels = {k: w for k, w in self._channels.items() if not w.idle}
            window = SlidingWindow(self.config.channel_messages, self.config.channel_window, self._clock)
            self._channels[channel_id] = window
        return window

    async def acquire_global(self) -> None:
        async with self._changed:
            while (wait := self.global_window.delay()) != 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
            self.global_window.take()

    async def release_global(self) -> None:
        async with self._changed:
            self.global_window.release()
            self._changed.notify_all()


# ---------------------------------------------------------------------------------------------
# Transport
# ---------------------------------------------------------------------------------------------

OutcomeKind = Literal["ok", "rate_limited", "transient", "forbidden", "missing_channel", "gone", "invalid"]


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    message_id: int | None = None
    retry_after: float = 0.0
    is_global: bool = False
    error: str = ""
    bucket_empty_for: float = 0.0  # the channel bucket reported 0 remaining for this long


class RestTransport:
    """Message create/edit against ``Route.BASE`` (read per call, so a test's fake applies)."""

    def __init__(self, token: str, *, timeout: float = 10.0, user_agent: str | None = None) -> None:
        self._token = token
        self._timeout = timeout
        self._user_agent = user_agent or "DiscordBot (https://github.com/Rapptz/discord.py, peninsula-brief)"
        self._session: aiohttp.ClientSession | None = None

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bot {self._token}", "User-Agent": self._user_agent},
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def create_message(self, channel_id: int, payload: dict[str, Any]) -> Outcome:
        return await self._request("POST", f"/channels/{channel_id}/messages", payload)

    async def edit_message(self, channel_id: int, message_id: int, payload: dict[str, Any]) -> Outcome:
        return await self._request("PATCH", f"/channels/{channel_id}/messages/{message_id}", payload)

    async def _request(self, method: str, path: str, payload: dict[str, Any]) -> Outcome:
        http = await self._http()
        try:
            async with http.request(method, Route.BASE + path, json=payload) as resp:
                data: Any = None
                if resp.content_type == "application/json":
                    data = await resp.json()
                return classify(resp.status, resp.headers, data)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return Outcome("transient", error=f"{type(exc).__name__}: {exc}"[:300])


def classify(status: int, headers: Any, data: Any) -> Outcome:
    """Map a Discord response to what the dispatcher does next."""
    body = data if isinstance(data, dict) else {}
    code = body.get("code")
    text = f"{status} {body.get('message', '')}".strip()
    if code is not None:
        text += f" (code {code})"
    if 200 <= status < 300:
        empty_for = 0.0
        if headers.get("X-RateLimit-Remaining") == "0":
            with contextlib.suppress(TypeError, ValueError):
                empty_for = float(headers.get("X-RateLimit-Reset-After", 0))
        mid = body.get("id")
        return Outcome("ok", message_id=int(mid) if mid else None, bucket_empty_for=empty_for)
    if status == 429:
        retry_after = body.get("retry_after")
        if retry_after is None:
            retry_after = headers.get("Retry-After", 1)
        is_global = bool(body.get("global")) or headers.get("X-RateLimit-Global") == "true"
        try:
            seconds = float(retry_after)
        except (TypeError, ValueError):
            seconds = 1.0
        return Outcome("rate_limited", retry_after=seconds, is_global=is_global, error=text)
    if status == 403:
        return Outcome("forbidden", error=text)
    if status == 404:
        return Outcome("gone" if code == 10008 else "missing_channel", error=text)
    if status >= 500 or status in (408, 401):
        return Outcome("transient", error=text)
    return Outcome("invalid", error=text)


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def nonce_for(delivery_id: int, revision: int) -> str:
    """Discord nonces are at most 25 characters; this one is stable across restarts."""
    return f"pb{delivery_id}r{revision}"


def alert_payload(event: EventView, *, mention_role_id: int | None, marker: str | None) -> dict[str, Any]:
    """Content (the role mention, then one short line) and the event's embed (``marker``:
    None, "Updated" or "Retracted")."""
    line = f"**{marker or 'New event'}:** {event.title}"
    mention = f"<@&{mention_role_id}> " if mention_role_id else ""
    content = mention + truncate(line, CONTENT_MAX - len(mention))
    # Only the subscription's role may be pinged: no @everyone, no users, no other role.
    allowed: dict[str, Any] = {"parse": []}
    if mention_role_id:
        allowed["roles"] = [str(mention_role_id)]
    embed = event_embed(event, marker=marker)
    return {"content": content, "embeds": [embed.to_dict()], "allowed_mentions": allowed}


def sample_event() -> EventView:
    """What ``/alerts test`` posts: clearly a test, in the shape of a real alert."""
    return EventView(
        id=0,
        external_id=None,
        title="Test alert from Peninsula Brief",
        summary="This is a sample alert. Real alerts look like this when a matching event is published.",
        occurred_on=dt.datetime.now(dt.UTC).date(),
        precision="day",
        kind="other",
        significance=1,
        status="published",
        guild_id=None,
        revision=1,
        sources=(SourceView("Peninsula Brief", "Sample alert"),),
    )


# ---------------------------------------------------------------------------------------------
# The outbox store (database side; no Discord)
# ---------------------------------------------------------------------------------------------


@dataclass
class Job:
    delivery_id: int
    event_id: int
    subscription_id: int
    guild_id: int
    channel_id: int
    revision: int
    action: str
    attempts: int
    mention_role_id: int | None
    subscription_state: str
    event: EventView
    target_message_id: int | None = None
    rate_limited: int = 0

    @property
    def nonce(self) -> str:
        return nonce_for(self.delivery_id, self.revision)


ResultKind = Literal["sent", "retry", "failed", "cancelled"]


@dataclass(frozen=True)
class Result:
    job: Job
    kind: ResultKind
    message_id: int | None = None
    error: str | None = None
    retry_in: float = 0.0
    count_attempt: bool = True


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> DISCORD_EPOCH_SHIFT) % shard_count


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
        bind = sessionmaker.kw.get("bind")
        self._postgres = bind is not None and bind.dialect.name == "postgresql"

    def _in_shards(self, stmt: Any) -> Any:
        if self._shards is None or not self._shard_count:
            return stmt
        D = models.Delivery
        # PostgreSQL has bigint >> integer only: the shift is written inline, not bound as a bigint.
        shifted = D.guild_id.op(">>")(literal_column(str(DISCORD_EPOCH_SHIFT)))
        return stmt.where((shifted % self._shard_count).in_(self._shards))

    async def claim(self, limit: int, lease: float) -> list[Job]:
        """Claim up to ``limit`` due deliveries (free, or whose lease expired) and load them."""
        D = models.Delivery
        now = utcnow()
        due = (
            select(D.id)
            .where(
                D.state.in_(OPEN_STATES),
                D.next_attempt_at <= now,
                or_(D.claimed_until.is_(None), D.claimed_until < now),
            )
            .order_by(D.next_attempt_at, D.id)
            .limit(limit)
        )
        due = self._in_shards(due)
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(D)
            .where(D.id.in_(due.scalar_subquery()))
            .values(
                claimed_by=self.worker_id,
                claimed_until=now + dt.timedelta(seconds=lease),
                state="sending",
                attempts=D.attempts + 1,
            )
            .returning(D.id)
            .execution_options(synchronize_session=False)
        )
        async with self._sessionmaker() as session, session.begin():
            ids = list((await session.scalars(stmt)).all())
        if not ids:
            return []
        return await self._load(ids)

    async def _load(self, ids: list[int]) -> list[Job]:
        D, S = models.Delivery, models.Subscription
        async with self._sessionmaker() as session:
            rows = (
                await session.execute(
                    select(D, S).join(S, S.id == D.subscription_id).where(D.id.in_(ids)).order_by(D.id)
                )
            ).all()
            event_ids = {d.event_id for d, _ in rows}
            events = {
                e.id: e
                for e in await read_views(session, select(models.Event).where(models.Event.id.in_(event_ids)))
            }
            posted: dict[tuple[int, int], int] = {}
            if any(d.action == "edit" for d, _ in rows):
                for event_id, sub_id, message_id in (
                    await session.execute(
                        select(D.event_id, D.subscription_id, D.message_id)
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
                        posted[(event_id, sub_id)] = message_id
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
                mention_role_id=s.mention_role_id,
                subscription_state=s.state,
                event=events[d.event_id],
                target_message_id=posted.get((d.event_id, d.subscription_id)),
            )
            for d, s in rows
            if d.event_id in events
        ]

    async def renew(self, lease: float) -> int:
        D = models.Delivery
        stmt = (
            update(D)
            .where(D.claimed_by == self.worker_id, D.state.in_(OPEN_STATES))
            .values(claimed_until=utcnow() + dt.timedelta(seconds=lease))
            .execution_options(synchronize_session=False)
        )
        async with self._sessionmaker() as session, session.begin():
            result = await session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

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
        for r in results:
            row: dict[str, Any] = {"id": r.job.delivery_id, "claimed_by": None, "claimed_until": None}
            if r.kind == "sent":
                row.update(state="sent", message_id=r.message_id, sent_at=now, last_error=None)
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
            if delivered:
                await session.execute(
                    update(models.Subscription),
                    [{"id": sid, "last_delivery_at": at} for sid, at in delivered.items()],
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
        """When the next delivery this worker could claim becomes due (None: nothing open)."""
        D = models.Delivery
        when = case(
            (D.claimed_until.is_(None), D.next_attempt_at),
            (D.claimed_until > D.next_attempt_at, D.claimed_until),
            else_=D.next_attempt_at,
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
        when_due: dt.datetime = value
        return when_due if when_due.tzinfo is not None else when_due.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------------
# The worker
# ---------------------------------------------------------------------------------------------


def default_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


DisableHook = Callable[[int, str], Awaitable[None]]


@dataclass
class Stats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    rate_limited: int = 0
    disabled: list[int] = field(default_factory=list)


class Dispatcher:
    """Claims deliveries and sends them; ``wake()`` on publish, polls as a fallback."""

    def __init__(
        self,
        sessionmaker: Sessionmaker,
        transport: RestTransport,
        *,
        config: DispatcherConfig | None = None,
        on_disable: DisableHook | None = None,
        shard_ids: Sequence[int] | None = None,
        shard_count: int | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.config = config or DispatcherConfig()
        self.transport = transport
        self.store = DeliveryStore(
            sessionmaker, worker_id or default_worker_id(), shard_ids=shard_ids, shard_count=shard_count
        )
        self.pacer = Pacer(self.config)
        self.stats = Stats()
        self._on_disable = on_disable
        self._wake = asyncio.Event()
        self._ready: asyncio.Queue[Job] = asyncio.Queue()
        self._results: asyncio.Queue[Result] = asyncio.Queue()
        self._held: set[int] = set()  # claimed and not yet recorded
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._disabled: set[int] = set()
        self._deferred: dict[int, asyncio.TimerHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def worker_id(self) -> str:
        return self.store.worker_id

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._stopping

    def wake(self) -> None:
        """Look for work now (called when a publish enqueued deliveries)."""
        self._wake.set()

    def start(self) -> None:
        if self._tasks:
            return
        self._stopping = False
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._claim_loop(), name="dispatcher-claim"),
            loop.create_task(self._record_loop(), name="dispatcher-record"),
            loop.create_task(self._renew_loop(), name="dispatcher-renew"),
        ]
        self._tasks += [
            loop.create_task(self._send_loop(), name=f"dispatcher-send-{i}")
            for i in range(self.config.concurrency)
        ]
        log.info("dispatcher %s started", self.worker_id)

    async def stop(self) -> None:
        """Stop claiming, let requests in flight finish (up to ``stop_grace``), record what is
        known and give every other claimed delivery back."""
        if not self._tasks or self._stopping:
            return
        self._stopping = True
        claim, record, renew, *senders = self._tasks
        claim.cancel()
        for handle in self._deferred.values():
            handle.cancel()
        self._deferred.clear()
        while not self._ready.empty():
            self._ready.get_nowait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self.config.stop_grace)
        for task in senders:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._results.join(), self.config.stop_grace)
        record.cancel()
        renew.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        try:
            released = await self.store.release()
        except Exception:
            log.exception("dispatcher %s could not release its deliveries", self.worker_id)
        else:
            if released:
                log.info("dispatcher %s released %d deliveries", self.worker_id, released)
        self._held.clear()
        await self.transport.close()

    # -- claiming --------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        cfg = self.config
        while True:
            self._wake.clear()
            try:
                room = cfg.batch - len(self._held)
                if not self._held:
                    # Idle until now: a small first claim gets the first alerts out sooner.
                    room = min(room, cfg.first_batch)
                if room > 0:
                    jobs = await self.store.claim(room, cfg.lease)
                    if jobs:
                        for job in jobs:
                            self._held.add(job.delivery_id)
                            self._ready.put_nowait(job)
                        continue
                    due = await self.store.next_due()
                    wait = cfg.poll_interval
                    if due is not None:
                        wait = min(wait, max((due - utcnow()).total_seconds(), 0.01))
                else:
                    wait = cfg.poll_interval  # woken when the backlog drains
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher %s: claiming failed; retrying", self.worker_id)
                wait = cfg.poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.lease / 3)
            if self._held:
                try:
                    await self.store.renew(self.config.lease)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("dispatcher %s: lease renewal failed", self.worker_id)

    # -- sending ---------------------------------------------------------------------------------

    def _defer(self, job: Job, seconds: float) -> None:
        if self._stopping:
            return
        loop = asyncio.get_running_loop()

        def ready() -> None:
            self._deferred.pop(job.delivery_id, None)
            self._ready.put_nowait(job)

        self._deferred[job.delivery_id] = loop.call_later(seconds, ready)

    def _skip_reason(self, job: Job) -> str | None:
        event = job.event
        if job.subscription_id in self._disabled or job.subscription_state == "disabled":
            return "subscription disabled"
        if job.action == "post":
            if event.status != "published":
                return "event retracted before its alert was sent"
            if job.subscription_state != "active":
                return f"subscription {job.subscription_state}"
        else:
            if job.target_message_id is None:
                return "no posted alert to edit"
            if job.revision < event.revision:
                return f"superseded by revision {event.revision}"
        return None

    async def _send_loop(self) -> None:
        while True:
            job = await self._ready.get()
            self._in_flight += 1
            self._idle.clear()
            try:
                await self._send(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("dispatcher: delivery %s failed unexpectedly", job.delivery_id)
                self._finish(
                    Result(job, "retry", error=repr(exc)[:300], retry_in=self.config.backoff(job.attempts))
                )
            finally:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle.set()

    async def _send(self, job: Job) -> None:
        reason = self._skip_reason(job)
        if reason is not None:
            self._finish(Result(job, "cancelled", error=reason))
            return
        window = self.pacer.channel(job.channel_id)
        wait = window.delay()
        if wait != 0:
            self._defer(job, wait if wait is not None else window.window)
            return
        window.take()
        await self.pacer.acquire_global()
        try:
            marker = (
                "Retracted"
                if job.event.status == "retracted"
                else "Updated"
                if job.action == "edit"
                else None
            )
            payload = alert_payload(job.event, mention_role_id=job.mention_role_id, marker=marker)
            if job.action == "post":
                payload.update(nonce=job.nonce, enforce_nonce=True)
                outcome = await self.transport.create_message(job.channel_id, payload)
            else:
                assert job.target_message_id is not None
                outcome = await self.transport.edit_message(job.channel_id, job.target_message_id, payload)
        finally:
            await self.pacer.release_global()
            window.release()
        await self._handle(job, outcome)

    async def _handle(self, job: Job, outcome: Outcome) -> None:
        cfg = self.config
        if outcome.kind == "ok":
            if outcome.bucket_empty_for > 0:
                self.pacer.channel(job.channel_id).block(outcome.bucket_empty_for)
            self._finish(Result(job, "sent", message_id=outcome.message_id or job.target_message_id))
        elif outcome.kind == "rate_limited":
            self.stats.rate_limited += 1
            if outcome.is_global:
                self.pacer.global_window.block(outcome.retry_after)
            else:
                self.pacer.channel(job.channel_id).block(outcome.retry_after)
            job.rate_limited += 1
            if job.rate_limited <= cfg.rate_limit_retries:
                self._defer(job, outcome.retry_after)
            else:
                self._finish(
                    Result(
                        job, "retry", error=outcome.error, retry_in=outcome.retry_after, count_attempt=False
                    )
                )
        elif outcome.kind == "transient":
            if job.attempts >= cfg.max_attempts:
                self._finish(
                    Result(job, "failed", error=f"gave up after {job.attempts} attempts: {outcome.error}")
                )
            else:
                self._finish(Result(job, "retry", error=outcome.error, retry_in=cfg.backoff(job.attempts)))
        elif outcome.kind in ("forbidden", "missing_channel"):
            await self._disable(job, outcome)
        elif outcome.kind == "gone":
            self._finish(Result(job, "cancelled", error=f"the alert message was deleted: {outcome.error}"))
        else:
            log.error("dispatcher: Discord refused delivery %s: %s", job.delivery_id, outcome.error)
            self._finish(Result(job, "failed", error=outcome.error))

    async def _disable(self, job: Job, outcome: Outcome) -> None:
        what = (
            "cannot post in this channel" if outcome.kind == "forbidden" else "the channel no longer exists"
        )
        reason = f"Discord answered {outcome.error}: {what}"
        first = job.subscription_id not in self._disabled
        self._disabled.add(job.subscription_id)
        self._finish(Result(job, "failed", error=reason))
        if not first:
            return
        self.stats.disabled.append(job.subscription_id)
        log.warning(
            "dispatcher: disabling subscription %s (channel %s): %s",
            job.subscription_id,
            job.channel_id,
            reason,
        )
        try:
            if self._on_disable is not None:
                await self._on_disable(job.subscription_id, reason)
            await self.store.cancel_open(job.subscription_id, reason)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("dispatcher: could not disable subscription %s", job.subscription_id)

    def _finish(self, result: Result) -> None:
        kind = result.kind
        if kind == "sent":
            self.stats.sent += 1
        elif kind == "retry":
            self.stats.retried += 1
        elif kind == "failed":
            self.stats.failed += 1
        else:
            self.stats.cancelled += 1
        self._results.put_nowait(result)

    # -- recording -------------------------------------------------------------------------------

    async def _record_loop(self) -> None:
        while True:
            batch = [await self._results.get()]
            while not self._results.empty() and len(batch) < 500:
                batch.append(self._results.get_nowait())
            try:
                await self._record_with_retry(batch)
            finally:
                for result in batch:
                    self._held.discard(result.job.delivery_id)
                    self._results.task_done()
            if any(r.kind == "retry" for r in batch) or len(self._held) <= self.config.batch // 2:
                self._wake.set()

    async def _record_with_retry(self, batch: list[Result]) -> None:
        for attempt in range(5):
            try:
                await self.store.record(batch)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher: recording %d outcomes failed (try %d)", len(batch), attempt + 1)
                await asyncio.sleep(0.2 * 2**attempt)
        # Unrecorded sends are safe: the lease runs out and the resend reuses the nonce.

    # -- one-off messages ------------------------------------------------------------------------

    async def send_sample(self, channel_id: int, mention_role_id: int | None) -> Outcome:
        """Post ``/alerts test``'s sample alert through the same pacing (not the outbox)."""
        window = self.pacer.channel(channel_id)
        wait = window.delay()
        if wait != 0:
            return Outcome("rate_limited", retry_after=wait or window.window, error="channel busy")
        payload = alert_payload(sample_event(), mention_role_id=mention_role_id, marker=None)
        payload.update(nonce=f"pbt{secrets.token_hex(8)}", enforce_nonce=True)
        window.take()
        await self.pacer.acquire_global()
        try:
            outcome = await self.transport.create_message(channel_id, payload)
        finally:
            await self.pacer.release_global()
            window.release()
        return outcome


def with_overrides(config: DispatcherConfig, **changes: Any) -> DispatcherConfig:
    return replace(config, **changes)
