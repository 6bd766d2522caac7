"""The forms an alert takes beyond a plain channel message: a forum post, a discussion thread on a
channel's alert, a message through a channel webhook (with its own name and avatar). Each is posted
exactly once, like a plain alert:

* a plain message carries the delivery's nonce (``worker``); a forum post and a webhook message
  cannot (Discord's thread create and webhook execute take none), so a delivery that had an
  earlier attempt looks first for what that attempt may have posted: the forum's active threads
  since the delivery was queued, each starter message read for the delivery's reference, or the
  channel's messages for a webhook's; found, it is recorded instead of posted again;
* a discussion thread is started from the posted message; a second start answers "already
  created" (160004) and the message then names its thread, which is recorded;
* edits and retractions reach the message where it is: a forum post's starter message in its
  thread, a webhook's message through the webhook (one the bot has since had to replace cannot
  edit it any more: the edit is cancelled, saying so).

A webhook is the bot's own, made in the channel (a thread's: its parent) the first time it is
needed, or one the bot made before found there again; its token is a secret, never logged nor
kept in an error. Deleted, it is made again once; deleted again, the subscription is disabled.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.discord.render.events import title_of
from bot.discord.render.text import truncate
from bot.outbox.payload import carries_ref
from bot.outbox.tasks import PAGE, snowflake_at
from bot.outbox.transport import Outcome, RestTransport
from bot.services.targets import Placement

log = logging.getLogger(__name__)

THREAD_NAME_MAX = 100
ALREADY_THREADED = 160004
UNKNOWN_WEBHOOK = 10015
DEFAULT_WEBHOOK_NAME = "Peninsula Brief"
TAGS_FOR = 300.0  # seconds a forum's tags are trusted before they are read again

#: Keeps a subscription's webhook (id, token, made again) in the database.
SaveWebhook = Callable[[int, int, str, bool], Awaitable[None]]


@dataclass(frozen=True, repr=False)
class Form(Placement):
    """How a subscription's alerts are posted: its placement, and the webhook the bot made for it."""

    webhook_id: int | None = None
    webhook_token: str | None = None
    webhook_recreated: bool = False

    @property
    def plain(self) -> bool:
        """A bot message in a channel or thread, with no discussion thread: the worker's own path."""
        return self.target != "forum" and self.identity == "bot" and not self.thread

    def __repr__(self) -> str:  # the token never reaches a log line
        return f"Form(target={self.target!r}, identity={self.identity!r}, thread={self.thread!r})"


#: A plain bot message.
PLAIN = Form()


@dataclass(frozen=True)
class Posted:
    """Where a delivery's alert is: its message, the thread it opened, the webhook it went through."""

    message_id: int
    thread_id: int | None = None
    webhook_id: int | None = None


def thread_name(event: Any, locale: str) -> str:
    """A forum post's or discussion thread's name: the event's title, cut at a word to 100."""
    return truncate(" ".join(title_of(event, locale).split()), THREAD_NAME_MAX) or "Alert"


def message_name(payload: dict[str, Any]) -> str:
    """A thread's name for a message that is no event's alert: its first embed's title, else its
    text, cut at a word to 100."""
    embeds = payload.get("embeds") or [{}]
    text = str(embeds[0].get("title") or payload.get("content") or "").replace("**", "")
    return truncate(" ".join(text.split()), THREAD_NAME_MAX) or "Peninsula Brief"


def _norm(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").lower().split())


def matching_tags(event: Any, by: str | None, available: list[dict[str, Any]]) -> list[str]:
    """The ids of the forum's tags named as the event's kind (``by="kind"``) or as one of its
    programs (``"program"``: slug or name), in the forum's order, at most 5."""
    if by == "kind":
        names = {_norm(event.kind)}
    elif by == "program":
        names = {_norm(p.slug) for p in event.programs} | {_norm(p.name) for p in event.programs}
    else:
        return []
    return [str(t["id"]) for t in available if _norm(str(t.get("name", ""))) in names][:5]


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


class FormSender:
    """Posts and edits the alerts of subscriptions whose form is not a plain bot message."""

    def __init__(self, transport: RestTransport, save_webhook: SaveWebhook | None = None) -> None:
        self.transport = transport
        self._save_webhook = save_webhook
        self._tags: dict[int, tuple[float, list[dict[str, Any]]]] = {}
        #: Webhooks made or found while the subscription's claimed form still lacks them.
        self._hooks: dict[int, tuple[int, str, bool]] = {}
        self._me: int | None = None
        self._locks: dict[int, asyncio.Lock] = {}

    # -- posting ---------------------------------------------------------------------------------

    async def post(self, job: Any, payload: dict[str, Any], locale: str) -> Outcome:
        """Post ``job``'s alert in its form (the recovery of an earlier attempt first)."""
        form: Form = job.form
        if job.attempts > 1:
            found = await self.find_posted(job, locale)
            if found is not None:
                return found
        payload = {k: v for k, v in payload.items() if k not in ("nonce", "enforce_nonce")}
        if job.action == "post" and job.event is not None:
            name = thread_name(job.event, locale)
        else:  # an import's summary, a digest: named by what it says
            name = message_name(payload)
        if form.identity == "webhook":
            outcome = await self._through_webhook(job, payload, name)
        elif form.target == "forum":
            outcome = await self._forum_post(job, payload, name)
        else:
            outcome = await self.transport.create_message(
                job.channel_id, {**payload, "nonce": job.nonce, "enforce_nonce": True}
            )
        if outcome.kind == "ok" and self._wants_thread(job) and outcome.thread_id is None:
            return await self.open_thread(job, outcome, name)
        return outcome

    def _wants_thread(self, job: Any) -> bool:
        form: Form = job.form
        if job.action != "post" or form.target != "channel" or not form.thread:
            return False
        return bool(job.event.significance >= form.thread_min)

    async def open_thread(self, job: Any, posted: Outcome, name: str) -> Outcome:
        """Start the discussion thread of a posted alert (or find the one already started)."""
        assert posted.message_id is not None
        path = f"/channels/{job.channel_id}/messages/{posted.message_id}/threads"
        outcome, data = await self.transport.call("POST", path, {"name": name, "auto_archive_duration": 1440})
        thread_id: int | None = None
        if outcome.kind == "ok" and isinstance(data, dict):
            thread_id = int(data["id"])
        elif outcome.code == ALREADY_THREADED:
            got, message = await self.transport.call(
                "GET", f"/channels/{job.channel_id}/messages/{posted.message_id}"
            )
            thread = (message or {}).get("thread") if isinstance(message, dict) else None
            if got.kind != "ok" or not thread:
                return got if got.kind != "ok" else Outcome("transient", error="thread not found")
            thread_id = int(thread["id"])
        else:
            # The alert is posted: its thread is retried with it (the nonce finds the message).
            return outcome
        return Outcome("ok", message_id=posted.message_id, thread_id=thread_id, webhook_id=posted.webhook_id)

    async def _forum_tags(self, forum_id: int) -> list[dict[str, Any]]:
        cached = self._tags.get(forum_id)
        if cached is not None and time.monotonic() - cached[0] < TAGS_FOR:
            return cached[1]
        outcome, data = await self.transport.call("GET", f"/channels/{forum_id}")
        tags = (
            list(data.get("available_tags") or []) if outcome.kind == "ok" and isinstance(data, dict) else []
        )
        self._tags[forum_id] = (time.monotonic(), tags)
        return tags

    async def _forum_post(self, job: Any, payload: dict[str, Any], name: str) -> Outcome:
        body: dict[str, Any] = {"name": name, "message": payload}
        tags = matching_tags(job.event, job.form.forum_tags, await self._forum_tags(job.channel_id))
        if tags:
            body["applied_tags"] = tags
        outcome, data = await self.transport.call("POST", f"/channels/{job.channel_id}/threads", body)
        if outcome.kind != "ok" or not isinstance(data, dict):
            return outcome
        thread_id = int(data["id"])
        starter = (data.get("message") or {}).get("id", thread_id)
        return Outcome("ok", message_id=int(starter), thread_id=thread_id)

    # -- finding what an earlier attempt posted --------------------------------------------------

    async def find_posted(self, job: Any, locale: str = "en") -> Outcome | None:
        """The alert an earlier attempt of ``job`` posted ("ok" with its ids), None when there is
        none, or the outcome of a read that failed."""
        if job.form.target == "forum":
            return await self._find_forum_post(job)
        after = snowflake_at(job.created_at - dt.timedelta(seconds=1))
        outcome, messages = await self.transport.messages_after(job.channel_id, after, PAGE)
        if outcome.kind != "ok":
            return outcome
        for message in messages:
            if carries_ref(message, job.nonce):
                thread = message.get("thread") or {}
                hook = message.get("webhook_id")
                found = Outcome(
                    "ok",
                    message_id=int(message["id"]),
                    thread_id=int(thread["id"]) if thread.get("id") else None,
                    webhook_id=int(hook) if hook else None,
                )
                if self._wants_thread(job) and found.thread_id is None:
                    return await self.open_thread(job, found, thread_name(job.event, locale))
                return found
        return None

    async def _find_forum_post(self, job: Any) -> Outcome | None:
        outcome, data = await self.transport.call("GET", f"/guilds/{job.guild_id}/threads/active")
        if outcome.kind != "ok" or not isinstance(data, dict):
            return outcome
        after = snowflake_at(job.created_at - dt.timedelta(seconds=1))
        for thread in data.get("threads") or ():
            thread_id = int(thread["id"])
            if str(thread.get("parent_id")) != str(job.channel_id) or thread_id < after:
                continue
            got, starter = await self.transport.call("GET", f"/channels/{thread_id}/messages/{thread_id}")
            if got.kind == "ok" and isinstance(starter, dict) and carries_ref(starter, job.nonce):
                hook = starter.get("webhook_id")
                log.info(
                    "dispatcher: delivery %s was already posted in a forum; recording it", job.delivery_id
                )
                return Outcome(
                    "ok", message_id=thread_id, thread_id=thread_id, webhook_id=int(hook) if hook else None
                )
        return None

    # -- editing ---------------------------------------------------------------------------------

    async def edit(self, job: Any, payload: dict[str, Any]) -> Outcome:
        """Edit a posted alert where it is (its thread's starter message, or through its webhook)."""
        posted: Posted = job.posted
        form: Form = job.form
        where = posted.thread_id if form.target == "forum" and posted.thread_id else job.channel_id
        if posted.webhook_id is None:
            return await self.transport.edit_message(where, posted.message_id, payload)
        hook = self._hook_of(job)
        if hook is None or hook[0] != posted.webhook_id:
            return Outcome("gone", error="the webhook this alert was posted through was deleted")
        params = {"thread_id": str(where)} if where != self._hook_channel(job) else None
        path = f"/webhooks/{hook[0]}/{hook[1]}/messages/{posted.message_id}"
        outcome, _ = await self.transport.call("PATCH", path, payload, params)
        if outcome.code == UNKNOWN_WEBHOOK:
            return Outcome("gone", error="the webhook this alert was posted through was deleted")
        return self._clean(outcome, hook[1])

    # -- webhooks --------------------------------------------------------------------------------

    def _hook_channel(self, job: Any) -> int:
        form: Form = job.form
        return form.parent_id if form.target == "thread" and form.parent_id else int(job.channel_id)

    def _hook_of(self, job: Any) -> tuple[int, str, bool] | None:
        form: Form = job.form
        cached = self._hooks.get(job.subscription_id)
        if cached is not None:
            return cached
        if form.webhook_id is not None and form.webhook_token:
            return form.webhook_id, form.webhook_token, form.webhook_recreated
        return None

    @staticmethod
    def _clean(outcome: Outcome, token: str | None) -> Outcome:
        if not outcome.error or not token or token not in outcome.error:
            return outcome
        return Outcome(
            outcome.kind,
            outcome.message_id,
            outcome.retry_after,
            outcome.is_global,
            _scrub(outcome.error, token),
            outcome.bucket_empty_for,
            outcome.thread_id,
            outcome.webhook_id,
            outcome.code,
        )

    async def _through_webhook(self, job: Any, payload: dict[str, Any], name: str) -> Outcome:
        hook = self._hook_of(job)
        if hook is None:
            made = await self._make_webhook(job, recreated=False)
            if isinstance(made, Outcome):
                return made
            hook = made
        outcome = await self._execute(job, hook, payload, name)
        if outcome.code != UNKNOWN_WEBHOOK:
            return outcome
        if hook[2]:
            self._hooks.pop(job.subscription_id, None)  # resumed, it starts from the stored form
            return Outcome(
                "disable",
                error="its webhook was deleted again after I had made it once more; "
                "/alerts resume makes a new one",
            )
        log.warning(
            "dispatcher: the webhook of subscription %s was deleted; making it again", job.subscription_id
        )
        made = await self._make_webhook(job, recreated=True, stale=hook[0])
        if isinstance(made, Outcome):
            return made
        return await self._execute(job, made, payload, name)

    async def _execute(
        self, job: Any, hook: tuple[int, str, bool], payload: dict[str, Any], name: str
    ) -> Outcome:
        form: Form = job.form
        body = {**payload, "username": form.webhook_name or DEFAULT_WEBHOOK_NAME}
        if form.webhook_avatar_url:
            body["avatar_url"] = form.webhook_avatar_url
        params = {"wait": "true"}
        if form.target == "thread":
            params["thread_id"] = str(job.channel_id)
        elif form.target == "forum":
            body["thread_name"] = name
            tags = matching_tags(job.event, form.forum_tags, await self._forum_tags(job.channel_id))
            if tags:
                body["applied_tags"] = tags
        outcome, data = await self.transport.call("POST", f"/webhooks/{hook[0]}/{hook[1]}", body, params)
        outcome = self._clean(outcome, hook[1])
        if outcome.kind != "ok" or not isinstance(data, dict):
            return outcome
        thread_id = int(data["channel_id"]) if form.target == "forum" else None
        return Outcome(
            "ok",
            message_id=int(data["id"]),
            thread_id=thread_id,
            webhook_id=hook[0],
            bucket_empty_for=outcome.bucket_empty_for,
        )

    async def _my_id(self) -> int | None:
        if self._me is None:
            outcome, data = await self.transport.call("GET", "/users/@me")
            if outcome.kind == "ok" and isinstance(data, dict):
                self._me = int(data["id"])
        return self._me

    async def _make_webhook(
        self, job: Any, *, recreated: bool, stale: int | None = None
    ) -> tuple[int, str, bool] | Outcome:
        """The bot's webhook in the job's channel: one it made before (not after a deletion),
        else a new one; kept for the subscription. One at a time per subscription: alerts sent
        together wait for the webhook the first one makes (or makes again, replacing ``stale``)."""
        lock = self._locks.setdefault(job.subscription_id, asyncio.Lock())
        async with lock:
            known = self._hooks.get(job.subscription_id)
            if known is not None and known[0] != stale:
                return known
            return await self._find_or_make(job, recreated)

    async def _find_or_make(self, job: Any, recreated: bool) -> tuple[int, str, bool] | Outcome:
        channel = self._hook_channel(job)
        hook: tuple[int, str, bool] | None = None
        if not recreated:
            outcome, hooks = await self.transport.call("GET", f"/channels/{channel}/webhooks")
            if outcome.kind != "ok":
                return self._no_webhook(outcome)
            me = await self._my_id()
            for found in hooks if isinstance(hooks, list) else ():
                owner = (found.get("user") or {}).get("id")
                if found.get("type") == 1 and found.get("token") and me is not None and str(owner) == str(me):
                    hook = (int(found["id"]), str(found["token"]), False)
                    break
        if hook is None:
            body = {"name": job.form.webhook_name or DEFAULT_WEBHOOK_NAME}
            outcome, data = await self.transport.call("POST", f"/channels/{channel}/webhooks", body)
            if outcome.kind != "ok" or not isinstance(data, dict):
                return self._no_webhook(outcome)
            hook = (int(data["id"]), str(data["token"]), recreated)
        self._hooks[job.subscription_id] = hook
        if self._save_webhook is not None:
            await self._save_webhook(job.subscription_id, hook[0], hook[1], hook[2])
        return hook

    @staticmethod
    def _no_webhook(outcome: Outcome) -> Outcome:
        if outcome.kind == "forbidden":
            return Outcome(
                "disable",
                error=f"Discord answered {outcome.error}: I need the Manage Webhooks permission there",
            )
        return outcome
