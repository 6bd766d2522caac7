"""Where and how a subscription's alerts are posted (no Discord): a channel's messages, a forum's
posts or a thread's messages; a discussion thread on a channel's significant alerts; the forum
tags a post carries; the bot's own name or a channel webhook's."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_
from bot.models import SUBSCRIPTION_IDENTITIES, SUBSCRIPTION_TARGETS
from bot.services.errors import FieldProblem
from bot.services.validation import check_text, check_url

FORUM_TAGS = ("kind", "program")
WEBHOOK_NAME_MAX = 80
#: Words Discord refuses in a webhook's name.
WEBHOOK_NAME_REFUSED = ("clyde", "discord")
MANAGE_WEBHOOKS = ("manage_webhooks", "Manage Webhooks")


@dataclass(frozen=True)
class Placement:
    """A subscription's delivery form as a channel manager chose it (checked by :func:`check`)."""

    target: str = "channel"
    parent_id: int | None = None
    thread: bool = False
    thread_min: int = 4
    forum_tags: str | None = None
    identity: str = "bot"
    webhook_name: str | None = None
    webhook_avatar_url: str | None = None


#: A bot message in a channel: how a subscription posts unless told otherwise.
AS_MESSAGES = Placement()


def check(placement: Placement) -> tuple[Placement, list[FieldProblem]]:
    """``placement`` cleaned, and what is wrong with it."""
    p = placement
    problems: list[FieldProblem] = []
    if p.target not in SUBSCRIPTION_TARGETS:
        problems.append(FieldProblem("channel", N_("must be a text channel, a forum or a thread")))
    if p.thread and p.target != "channel":
        problems.append(
            FieldProblem("thread", N_("opens threads in a text channel only (a forum's alerts are posts)"))
        )
    if not 1 <= p.thread_min <= 5:
        problems.append(FieldProblem("thread_min", N_("must be from 1 to 5")))
    if p.forum_tags is not None and p.forum_tags not in FORUM_TAGS:
        problems.append(FieldProblem("forum_tags", N_("must be kind or program")))
    if p.forum_tags is not None and p.target != "forum":
        problems.append(FieldProblem("forum_tags", N_("applies to a forum channel only")))
    if p.identity not in SUBSCRIPTION_IDENTITIES:
        problems.append(FieldProblem("identity", N_("must be bot or webhook")))
    name = (p.webhook_name or "").strip() or None
    avatar = (p.webhook_avatar_url or "").strip() or None
    if p.identity != "webhook" and (name or avatar):
        problems.append(FieldProblem("name", N_("and avatar_url need identity:webhook")))
    if name is not None:
        before = len(problems)
        name = check_text(name, "name", problems, high=WEBHOOK_NAME_MAX)
        if len(problems) == before and any(word in name.lower() for word in WEBHOOK_NAME_REFUSED):
            problems.append(
                FieldProblem("name", N_("may not contain “clyde” or “discord” (Discord refuses it)"))
            )
    avatar = check_url(avatar, "avatar_url", problems)
    clean = Placement(
        target=p.target,
        parent_id=p.parent_id if p.target == "thread" else None,
        thread=p.thread,
        thread_min=p.thread_min,
        forum_tags=p.forum_tags,
        identity=p.identity,
        webhook_name=name,
        webhook_avatar_url=avatar,
    )
    return clean, problems
