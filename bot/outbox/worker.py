"""The outbox worker: drains the ``delivery`` outbox into Discord, exactly once per revision.

How the guarantees are kept:

* **Claiming** is the store's (``bot.outbox.store``): fair across channels and guilds, short
  leases renewed here while the worker lives, so a killed worker's deliveries resume within
  seconds. A claim excludes what this worker holds; a renewal that finds a delivery claimed by
  another worker (after a stall longer than the lease) drops it here, unsent. Claims are spaced
  by ``claim_interval`` and made when fewer than half a batch is left to send (sent but
  unrecorded deliveries do not count) or a channel holding its whole allowance recorded a send;
  only a worker coming out of idleness claims a small ``first_batch``.
* **Exactly once.** A claimed row is ``sending`` with ``attempts + 1`` before its POST, and the
  POST carries ``nonce = pb{delivery}r{revision}`` with ``enforce_nonce``: a resend after a crash
  (or after a 5xx that did create the message) returns the message already created, and its id is
  what the row records as ``sent``.
* **Pacing** is the pacer's (``bot.outbox.pacing``); a 429 is still honoured (``retry_after``)
  should another client share the token.
* **Long after.** Discord forgets a nonce after a few minutes: before posting again a delivery
  (an alert or an import's summary) that had an attempt and is older than ``nonce_window``, the
  worker reads the channel's messages since the delivery was queued and, when one carries the
  delivery's reference in its footer (``ref pb{delivery}r{revision}``), records that message as
  sent instead of posting.
* **Failures.** 5xx, timeouts and connection errors are retried with the config's backoff (up to
  ``backoff_max``) until ``give_up_after`` has passed since the first attempt; then the delivery
  is ``failed``, counted in ``/alerts list`` and ``/metrics``, and ``/alerts resume`` retries it.
  403 and 404 (unknown channel) disable the subscription with the reason at once (Discord bans
  clients that make too many invalid requests), and cancel its other open deliveries.

An alert posted in an announcement channel is crossposted after its post, or later when Discord's
crosspost limit defers it (``bot.outbox.crosspost``).

Every outcome is counted in the ``peninsula_deliveries`` metric: ``sent``, ``edited``,
``retry``, ``rate_limited``, ``failed``, ``disabled``, ``skipped`` (nothing to send any more),
``cancelled`` (the posted alert was deleted) and ``found`` (already posted, found in the channel).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot import metrics
from bot.db import Sessionmaker
from bot.models import utcnow
from bot.outbox.config import DispatcherConfig
from bot.outbox.crosspost import Crossposter, CrosspostStore, IsAnnouncement
from bot.outbox.digests import digest_goes_on, digest_message, digest_skip_reason
from bot.outbox.forms import FormSender
from bot.outbox.pacing import Pacer
from bot.outbox.payload import (
    alert_payload,
    carries_ref,
    delivery_ref,
    marker_for,
    sample_event,
    summary_payload,
)
from bot.outbox.store import Job, Result
from bot.outbox.tasks import PAGE, cancel_all, default_worker_id, snowflake_at
from bot.outbox.transport import Outcome, RestTransport
from bot.services.permissions import needed_text

log = logging.getLogger(__name__)

DisableHook = Callable[[int, str], Awaitable[None]]
LocaleOf = Callable[[int], Awaitable[str]]
ReadyHook = Callable[[], Awaitable[object]]


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
        locale_of: LocaleOf | None = None,
        is_announcement: IsAnnouncement | None = None,
    ) -> None:
        self.config = config or DispatcherConfig()
        #: The language of a guild's alerts (the client's rule: ``/settings locale``, else the
        #: guild's Discord language); English without one.
        self._locale_of = locale_of
        self._locales: dict[int, str] = {}  # guild → language, read again at every claim
        self.transport = transport
        self.store = CrosspostStore(
            sessionmaker, worker_id or default_worker_id(), shard_ids=shard_ids, shard_count=shard_count
        )
        self.pacer = Pacer(self.config)
        #: Alerts in announcement channels (``is_announcement``) are crossposted after their post.
        self.crossposts = Crossposter(self.store, transport, self.pacer, self.config, is_announcement)
        self.forms = FormSender(transport, self.store.save_webhook)
        self.stats = Stats()
        self._on_disable = on_disable
        self._wake = asyncio.Event()
        self._ready: asyncio.Queue[Job] = asyncio.Queue()
        self._results: asyncio.Queue[Result] = asyncio.Queue()
        self._held: dict[int, Job] = {}  # claimed and not yet recorded
        self._full: set[int] = set()  # channels holding their whole allowance (more may wait)
        self._finished: set[int] = set()  # held, outcome known, waiting to be recorded
        self._draining = False  # the last claim found work
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # Subscriptions found unreachable, each with the task that disables it in the database.
        self._disabled: dict[int, asyncio.Task[None]] = {}
        self._deferred: dict[int, asyncio.TimerHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def worker_id(self) -> str:
        return self.store.worker_id

    def wake(self) -> None:
        """Look for work now (called when a publish enqueued deliveries)."""
        self._wake.set()

    def start(self, ready: ReadyHook | None = None) -> None:
        """Start the worker's tasks; with ``ready``, claim nothing until it has returned (the bot
        passes ``wait_until_ready``: alerts go out once the gateway is connected)."""
        if self._tasks:
            return
        self._stopping = False
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._claim_loop(ready), name="dispatcher-claim"),
            loop.create_task(self._record_loop(), name="dispatcher-record"),
            loop.create_task(self._renew_loop(), name="dispatcher-renew"),
        ]
        self._tasks += [
            loop.create_task(self._send_loop(), name=f"dispatcher-send-{i}")
            for i in range(self.config.concurrency)
        ]
        self.crossposts.start(ready)

    async def stop(self) -> None:
        """Stop claiming, let requests in flight finish (up to ``stop_grace``), record what is
        known and give every other claimed delivery back."""
        if not self._tasks or self._stopping:
            return
        self._stopping = True
        claim, _record, _renew, *senders = self._tasks
        claim.cancel()
        await self.crossposts.stop(self.config.stop_grace)
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
        await cancel_all(self._tasks)
        await asyncio.gather(*self._disabled.values(), return_exceptions=True)
        self._tasks = []
        try:
            released = await self.store.release()
        except Exception:
            log.exception("dispatcher %s could not release its deliveries", self.worker_id)
        else:
            if released:
                log.info("dispatcher %s released %d deliveries", self.worker_id, released)
        self._held.clear()
        self._finished.clear()
        await self.transport.close()

    # -- claiming --------------------------------------------------------------------------------

    async def _claim_loop(self, ready: ReadyHook | None) -> None:
        if ready is not None:
            await ready()
        log.info("dispatcher %s started", self.worker_id)
        # Not ``while True``: on Python 3.11 ``wait_for`` can swallow the cancellation ``stop()``
        # sends when the wake-up lands at the same moment, and ``stop()`` would wait forever.
        loop = asyncio.get_running_loop()
        last = -self.config.claim_interval
        while not self._stopping:
            # Claims are spaced: every recorded send wakes this loop (it may free its channel).
            await asyncio.sleep(max(0.0, last + self.config.claim_interval - loop.time()))
            self._wake.clear()
            last = loop.time()
            try:
                wait = await self._claim_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher %s: claiming failed; retrying", self.worker_id)
                wait = self.config.poll_interval
            if wait:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    async def _claim_once(self) -> float:
        """Claim what there is room for; 0 to claim again (after the spacing) when the senders
        still have room, else how long to sleep (until the next delivery may become claimable,
        at most ``poll_interval``) unless woken."""
        cfg = self.config
        room = cfg.batch - self._unsent
        if not self._held and not self._draining:
            # Idle until now: a small first claim gets the first alerts out sooner. Not while
            # draining a backlog: ``first_batch`` every ``claim_interval`` would cap the rate.
            room = min(room, cfg.first_batch)
        if room <= 0:
            return cfg.poll_interval  # woken when the backlog drains
        jobs = await self.store.claim(
            room, cfg.lease, per_channel=cfg.channel_messages, exclude=set(self._held)
        )
        self._draining = bool(jobs)
        if jobs:
            # Read before the jobs are queued: an await between claim and send would reorder a
            # channel's alerts.
            for guild_id in {j.guild_id for j in jobs}:
                self._locales[guild_id] = await self.locale(guild_id)
            for job in jobs:
                disabling = self._disabled.get(job.subscription_id)
                if disabling is not None and disabling.done() and job.subscription_state == "active":
                    del self._disabled[job.subscription_id]  # resumed since it was disabled here
                self._held[job.delivery_id] = job
                self._ready.put_nowait(job)
            per_channel = Counter(j.channel_id for j in self._held.values())
            self._full = {c for c, n in per_channel.items() if n >= cfg.channel_messages}
            # With half a batch or more still to send, wait to be woken (a send brought it
            # below half, a full channel sent one, a publish): claims stay big and rare.
            return 0.0 if self._unsent <= cfg.batch // 2 else cfg.poll_interval
        due = await self.store.next_due()
        if due is None:
            return cfg.poll_interval
        return min(cfg.poll_interval, max((due - utcnow()).total_seconds(), 0.01))

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.lease / 3)
            if self._held:
                held = set(self._held)
                try:
                    kept = await self.store.renew(self.config.lease, held)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("dispatcher %s: lease renewal failed", self.worker_id)
                    continue
                self._lose(held - kept)

    @property
    def _unsent(self) -> int:
        """Held deliveries still to be sent (queued, deferred or in flight): what keeps the
        senders busy. Those sent and waiting to be recorded do not count."""
        return len(self._held) - len(self._finished)

    def _lose(self, ids: set[int]) -> None:
        """Forget deliveries another worker claimed (or that were recorded) while this one stalled:
        whoever holds a delivery now sends it."""
        lost = ids & self._held.keys()
        if not lost:
            return
        log.warning(
            "dispatcher %s: %d deliveries are no longer its own (claimed elsewhere after a stall)",
            self.worker_id,
            len(lost),
        )
        for delivery_id in lost:
            del self._held[delivery_id]
            self._finished.discard(delivery_id)
            handle = self._deferred.pop(delivery_id, None)
            if handle is not None:
                handle.cancel()

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
        if job.digest is not None:
            return digest_skip_reason(job)
        if event is None:
            return "its event no longer exists"
        if job.action in ("post", "summary"):
            if job.action == "post" and event.status != "published":
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
                retry_in = self.config.backoff(job.attempts)
                self._finish(Result(job, "retry", error=repr(exc)[:300], retry_in=retry_in), "retry")
            finally:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle.set()

    async def _send(self, job: Job) -> None:
        if self._held.get(job.delivery_id) is not job:
            return  # lost to another worker, or a stale copy: whoever holds it now sends it
        reason = self._skip_reason(job)
        if reason is not None:
            disabling = self._disabled.get(job.subscription_id)
            if disabling is not None:
                await asyncio.shield(disabling)  # the skip is recorded after the disable is
            self._finish(Result(job, "cancelled", error=reason), "skipped")
            return
        if job.action != "edit" and job.form.plain and self._may_have_posted(job):
            found = await self._find_posted(job)
            if found is not None:
                if found.kind == "ok":
                    crosspost = await self.crossposts.after_post(job, found.message_id)
                    more = digest_goes_on(job, self._locales.get(job.guild_id, "en"))
                    result = Result(
                        job, "sent", message_id=found.message_id, crosspost=crosspost, next_part=more
                    )
                    self._finish(result, "found")
                else:
                    await self._handle(job, found)
                return
        wait = self.pacer.channel_wait(job.channel_id)
        if wait:
            self._defer(job, wait)
            return
        locale = self._locales.get(job.guild_id, "en")
        ref = delivery_ref(job.nonce) if job.action != "edit" else None
        more = False
        if job.digest is not None:
            payload, more = digest_message(job, ref, locale)
            if payload is None:
                self._finish(Result(job, "cancelled", error="the digest has fewer parts now"), "skipped")
                return
        elif job.action == "summary":
            payload = summary_payload(job.summary_count or 0, ref, locale)
        else:
            assert job.event is not None
            payload = alert_payload(
                job.event,
                mention_role_ids=job.mention_role_ids,
                marker=marker_for(job.event.status, job.action),
                ref=ref,
                locale=locale,
            )
        async with self.pacer.slot(job.channel_id):
            if job.action == "edit" and job.posted is not None:
                outcome = await self.forms.edit(job, payload)  # where the post is, in its form
            elif job.action != "edit" and not job.form.plain:
                outcome = await self.forms.post(job, payload, locale)
            elif job.action != "edit":
                payload.update(nonce=job.nonce, enforce_nonce=True)
                outcome = await self.transport.create_message(job.channel_id, payload)
            else:
                assert job.target_message_id is not None
                outcome = await self.transport.edit_message(job.channel_id, job.target_message_id, payload)
        await self._handle(job, outcome, next_part=more)

    async def _handle(self, job: Job, outcome: Outcome, *, next_part: bool = False) -> None:
        cfg = self.config
        if outcome.kind == "ok":
            if outcome.bucket_empty_for > 0:
                self.pacer.channel(job.channel_id).block(outcome.bucket_empty_for)
            message_id = outcome.message_id or job.target_message_id
            crosspost = await self.crossposts.after_post(job, message_id)
            result = Result(
                job,
                "sent",
                message_id=message_id,
                crosspost=crosspost,
                next_part=next_part,
                thread_id=outcome.thread_id,
                webhook_id=outcome.webhook_id,
            )
            self._finish(result, "edited" if job.action == "edit" else "sent")
        elif outcome.kind == "rate_limited":
            self._rate_limited(job, outcome)
        elif outcome.kind == "transient":
            trying = (utcnow() - (job.first_attempt_at or utcnow())).total_seconds()
            if trying >= cfg.give_up_after:
                error = f"gave up after {job.attempts} attempts over {trying:.0f} s: {outcome.error}"
                self._finish(Result(job, "failed", error=error), "failed")
            else:
                retry_in = cfg.backoff(job.attempts)
                self._finish(Result(job, "retry", error=outcome.error, retry_in=retry_in), "retry")
        elif outcome.kind in ("forbidden", "missing_channel", "disable"):
            await self._disable(job, outcome)
        elif outcome.kind == "gone":
            error = f"the alert message was deleted: {outcome.error}"
            self._finish(Result(job, "cancelled", error=error), "cancelled")
        else:
            log.error("dispatcher: Discord refused delivery %s: %s", job.delivery_id, outcome.error)
            self._finish(Result(job, "failed", error=outcome.error), "failed")

    def _may_have_posted(self, job: Job) -> bool:
        """An earlier attempt may have created the message, and longer ago than Discord keeps
        its nonce (the delivery was queued before it: a lower bound on that attempt)."""
        if job.attempts <= 1 or job.created_at is None:
            return False
        return (utcnow() - job.created_at).total_seconds() > self.config.nonce_window

    async def _find_posted(self, job: Job) -> Outcome | None:
        """The delivery's message among those posted in its channel since it was queued: an "ok"
        outcome with its id; None when it is not there; the failed read's outcome otherwise."""
        assert job.created_at is not None
        after = snowflake_at(job.created_at - dt.timedelta(seconds=1))
        for _ in range(self.config.lookup_pages):
            async with self.pacer.global_slot():
                outcome, messages = await self.transport.messages_after(job.channel_id, after, PAGE)
            if outcome.kind != "ok":
                return outcome
            for message in messages:
                if carries_ref(message, job.nonce):
                    log.info("dispatcher: delivery %s was already posted; recording it", job.delivery_id)
                    return Outcome("ok", message_id=int(message["id"]))
            if len(messages) < PAGE:
                return None
            after = max(int(m["id"]) for m in messages)
        return None

    def _rate_limited(self, job: Job, outcome: Outcome) -> None:
        self.stats.rate_limited += 1
        if outcome.is_global:
            self.pacer.global_window.block(outcome.retry_after)
        else:
            self.pacer.channel(job.channel_id).block(outcome.retry_after)
        job.rate_limited += 1
        if job.rate_limited <= self.config.rate_limit_retries:
            metrics.count_delivery("rate_limited")
            self._defer(job, outcome.retry_after)
            return
        # Handed back without counting an attempt: a 429 is not the delivery's failure.
        retry_in = outcome.retry_after
        result = Result(job, "retry", error=outcome.error, retry_in=retry_in, count_attempt=False)
        self._finish(result, "rate_limited")

    async def _disable(self, job: Job, outcome: Outcome) -> None:
        """Disable the subscription once (the first 403/404 of it), then record this delivery as
        failed: whoever reads the delivery reads a disabled subscription too."""
        forbidden = f"cannot post in this channel (alerts need {needed_text()})"
        what = forbidden if outcome.kind == "forbidden" else "the channel no longer exists"
        reason = outcome.error if outcome.kind == "disable" else f"Discord answered {outcome.error}: {what}"
        disabling = self._disabled.get(job.subscription_id)
        if disabling is None:
            disabling = asyncio.create_task(self._disable_subscription(job, reason))
            self._disabled[job.subscription_id] = disabling
        await asyncio.shield(disabling)
        self._finish(Result(job, "failed", error=reason), "disabled")

    async def _disable_subscription(self, job: Job, reason: str) -> None:
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

    def _finish(self, result: Result, outcome: str) -> None:
        """Queue ``result`` for recording; ``outcome`` is its label in the deliveries metric."""
        kind = result.kind
        if kind == "sent":
            self.stats.sent += 1
        elif kind == "retry":
            self.stats.retried += 1
        elif kind == "failed":
            self.stats.failed += 1
        else:
            self.stats.cancelled += 1
        metrics.count_delivery(outcome)
        self._results.put_nowait(result)
        if self._held.get(result.job.delivery_id) is result.job:
            self._finished.add(result.job.delivery_id)
            # Claim again while the senders still have half a batch ahead of them, so a slow
            # claim (or a recording that waits for the database) never leaves them idle.
            if self._unsent <= self.config.batch // 2:
                self._wake.set()

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
                    if self._held.get(result.job.delivery_id) is result.job:
                        del self._held[result.job.delivery_id]
                        self._finished.discard(result.job.delivery_id)
                    self._results.task_done()
            # Claim again when a channel that had its whole allowance sent one (its backlog's
            # next row may go now) or a retry was recorded; claims are spaced either way.
            if any(r.kind == "retry" or r.job.channel_id in self._full for r in batch):
                self._wake.set()

    async def _record_with_retry(self, batch: list[Result]) -> None:
        tries = self.config.record_attempts
        for attempt in range(1, tries + 1):
            try:
                await self.store.record(batch)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher: recording %d outcomes failed (try %d)", len(batch), attempt)
                if attempt < tries:
                    await asyncio.sleep(self.config.backoff(attempt))
        # Unrecorded sends are safe: the lease runs out and the resend reuses the nonce.

    # -- one-off messages ------------------------------------------------------------------------

    async def locale(self, guild_id: int) -> str:
        """The language of ``guild_id``'s alerts; English when it cannot be told (never an error)."""
        if self._locale_of is None:
            return "en"
        try:
            return await self._locale_of(guild_id)
        except Exception:
            log.warning("dispatcher: the language of guild %s could not be read; English", guild_id)
            return "en"

    async def send_sample(
        self, channel_id: int, mention_role_id: int | None, *, guild_id: int | None = None
    ) -> Outcome:
        """Post ``/alerts test``'s sample alert through the same pacing (not the outbox)."""
        wait = self.pacer.channel_wait(channel_id)
        if wait:
            return Outcome("rate_limited", retry_after=wait, error="channel busy")
        locale = await self.locale(guild_id) if guild_id is not None else "en"
        roles = () if mention_role_id is None else (mention_role_id,)
        payload = alert_payload(sample_event(locale), mention_role_ids=roles, marker=None, locale=locale)
        payload.update(nonce=f"pbt{secrets.token_hex(8)}", enforce_nonce=True)
        async with self.pacer.slot(channel_id):
            return await self.transport.create_message(channel_id, payload)
