"""The review poster: posts each new draft in the review channels that asked for it
(``/settings review-channel``) with its Publish/Edit/Merge/Reject buttons, and edits the post once
the draft is decided (who decided what, buttons removed).

It is the alert outbox's small sibling (``bot/services/review_posts.py`` holds the rows): the same
pacer and REST transport as the outbox worker (so review posts count against the same global and
per-channel limits), a lease on each claimed post, ``attempts + 1`` before the request and a stable
nonce with ``enforce_nonce``, so a post is made once across restarts; a post that may have been
made longer ago than Discord keeps its nonce is first looked for in its channel by the reference
in its footer. One poster runs in the process that runs the source watcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.db import Sessionmaker
from bot.discord.render.text import truncate
from bot.discord.render.watch import draft_embed
from bot.discord.review import review_buttons
from bot.i18n import gettext, tr
from bot.models import utcnow
from bot.outbox.payload import carries_ref, delivery_ref
from bot.outbox.tasks import PAGE, default_worker_id, snowflake_at
from bot.outbox.transport import Outcome
from bot.outbox.worker import Dispatcher
from bot.services.review_posts import PostJob, PostResult, ReviewPostStore

log = logging.getLogger(__name__)

ReadyHook = Callable[[], Awaitable[object]]
NO_MENTIONS: dict[str, Any] = {"parse": []}


def decision_line(job: PostJob, locale: str) -> str:
    """What the edited post says: who decided the draft, and what."""
    draft = job.draft
    who = f"<@{job.decided_by}>" if job.decided_by else gettext(locale, "the operator")
    if draft.state == "published":
        return tr(locale, "**Published** as event #{event} by {who}.", event=draft.event_id, who=who)
    if draft.state == "merged":
        return tr(locale, "**Merged** into event #{event} by {who}.", event=draft.event_id, who=who)
    reason = truncate(job.reject_reason or "", 1500)
    return tr(locale, "**Rejected** by {who}: {reason}", who=who, reason=reason)


def post_payload(job: PostJob, locale: str) -> dict[str, Any]:
    """The message of a new draft in a review channel (or, once decided, what it is edited to)."""
    embed = draft_embed(job.draft, 1, 1, footer=delivery_ref(job.nonce), locale=locale).to_dict()
    if job.action == "edit":
        content = decision_line(job, locale)
        components: list[dict[str, Any]] = []
    else:
        content = tr(locale, "**New draft for review:** #{draft}", draft=job.draft.id)
        components = review_buttons(job.draft, locale).to_components()
    return {"content": content, "embeds": [embed], "components": components, "allowed_mentions": NO_MENTIONS}


class ReviewPoster:
    """Claims due review posts one at a time and posts or edits them; ``wake()`` after a draft or a
    decision was written, a poll as the fallback."""

    def __init__(
        self, sessionmaker: Sessionmaker, outbox: Dispatcher, *, worker_id: str | None = None
    ) -> None:
        self._outbox = outbox
        self.config = outbox.config
        self.store = ReviewPostStore(sessionmaker, worker_id or default_worker_id())
        #: Long enough for one post and the look-up before it; a crashed poster's post comes free then.
        self.lease = self.config.request_timeout * (self.config.lookup_pages + 2)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self, ready: ReadyHook | None = None) -> None:
        if self._task is None or self._task.done():
            self._stop.clear()
            self._task = asyncio.create_task(self._run(ready), name="review-poster")

    async def stop(self) -> None:
        """Stop after the post in flight (cancelled past the outbox's grace) and give back the rest."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, self.config.stop_grace)
            self._task = None
        try:
            await self.store.release()
        except Exception:
            log.exception("review poster: could not release its posts")

    async def _run(self, ready: ReadyHook | None) -> None:
        if ready is not None:
            await ready()
        while not self._stop.is_set():
            self._wake.clear()
            try:
                wait = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("review poster: a pass failed; retrying")
                wait = self.config.poll_interval
            if wait:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    async def run_once(self) -> float:
        """Post (or edit) one due post; 0 to go on at once, else how long to wait unless woken."""
        jobs = await self.store.claim(1, self.lease)
        if not jobs:
            due = await self.store.next_due()
            if due is None:
                return self.config.poll_interval
            return min(self.config.poll_interval, max((due - utcnow()).total_seconds(), 0.01))
        for job in jobs:
            try:
                result = await self._send(job)
            except Exception as exc:  # recorded as a retry: the watcher and the bot go on
                log.exception("review poster: post %s failed unexpectedly", job.post_id)
                result = PostResult(
                    job, "retry", error=repr(exc)[:300], retry_in=self.config.backoff(job.attempts)
                )
            await self.store.record([result])
        return 0.0

    async def _send(self, job: PostJob) -> PostResult:
        if job.action == "post":
            if job.draft.state != "pending":
                return PostResult(job, "cancelled", error="decided before it was posted")
            if job.current_channel_id != job.channel_id:
                return PostResult(job, "cancelled", error="the review channel changed before it was posted")
            if self._may_have_posted(job):
                found = await self._find_posted(job)
                if found is not None:
                    return self._result(job, found)
        elif job.message_id is None:
            return PostResult(job, "cancelled", error="no posted message to edit")
        pacer = self._outbox.pacer
        wait = pacer.channel_wait(job.channel_id)
        if wait:
            return PostResult(job, "retry", retry_in=wait, count_attempt=False, error="channel busy")
        payload = post_payload(job, await self._outbox.locale(job.guild_id))
        transport = self._outbox.transport
        async with pacer.slot(job.channel_id):
            if job.action == "post":
                payload.update(nonce=job.nonce, enforce_nonce=True)
                outcome = await transport.create_message(job.channel_id, payload)
            else:
                assert job.message_id is not None
                outcome = await transport.edit_message(job.channel_id, job.message_id, payload)
        return self._result(job, outcome)

    def _result(self, job: PostJob, outcome: Outcome) -> PostResult:
        cfg, pacer = self.config, self._outbox.pacer
        if outcome.kind == "ok":
            if outcome.bucket_empty_for > 0:
                pacer.channel(job.channel_id).block(outcome.bucket_empty_for)
            return PostResult(job, "sent", message_id=outcome.message_id or job.message_id)
        if outcome.kind == "rate_limited":
            window = pacer.global_window if outcome.is_global else pacer.channel(job.channel_id)
            window.block(outcome.retry_after)
            return PostResult(
                job, "retry", error=outcome.error, retry_in=outcome.retry_after, count_attempt=False
            )
        if outcome.kind == "transient":
            trying = (utcnow() - (job.first_attempt_at or utcnow())).total_seconds()
            if trying >= cfg.give_up_after:
                return PostResult(
                    job, "failed", error=f"gave up after {job.attempts} attempts: {outcome.error}"
                )
            return PostResult(job, "retry", error=outcome.error, retry_in=cfg.backoff(job.attempts))
        if outcome.kind in ("forbidden", "missing_channel"):
            what = "cannot post in the review channel" if outcome.kind == "forbidden" else "no such channel"
            log.warning(
                "review poster: post %s to channel %s: %s", job.post_id, job.channel_id, outcome.error
            )
            return PostResult(job, "failed", error=f"Discord answered {outcome.error}: {what}")
        if outcome.kind == "gone":
            return PostResult(job, "cancelled", error=f"the review message was deleted: {outcome.error}")
        log.error("review poster: Discord refused post %s: %s", job.post_id, outcome.error)
        return PostResult(job, "failed", error=outcome.error)

    def _may_have_posted(self, job: PostJob) -> bool:
        """An earlier attempt may have posted it, longer ago than Discord keeps its nonce."""
        return job.attempts > 1 and (utcnow() - job.created_at).total_seconds() > self.config.nonce_window

    async def _find_posted(self, job: PostJob) -> Outcome | None:
        """The post among the channel's messages since it was queued ("ok" with its id), None when
        it is not there, or the failed read's outcome."""
        after = snowflake_at(job.created_at - dt.timedelta(seconds=1))
        transport, pacer = self._outbox.transport, self._outbox.pacer
        for _ in range(self.config.lookup_pages):
            async with pacer.global_slot():
                outcome, messages = await transport.messages_after(job.channel_id, after, PAGE)
            if outcome.kind != "ok":
                return outcome
            for message in messages:
                if carries_ref(message, job.nonce):
                    return Outcome("ok", message_id=int(message["id"]))
            if len(messages) < PAGE:
                return None
            after = max(int(m["id"]) for m in messages)
        return None


__all__ = ["ReviewPoster", "decision_line", "post_payload"]
