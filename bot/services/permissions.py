"""What the bot needs in a channel for each form of delivery: one table, read where a
subscription is made (``/alerts subscribe`` refuses naming every missing permission, writing
nothing), where the cogs check a channel before posting in it (``bot_missing_in``), and where the
outbox worker disables a subscription Discord refused (the reason names what alerts need).

Permissions are (discord.py name, the label Discord shows). Mention Everyone is never needed: an
alert pings only its subscription's role, and says so when the role cannot be pinged.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bot.i18n import N_
from bot.services.access import VIEW_CHANNEL
from bot.services.errors import ServiceError
from bot.services.targets import MANAGE_WEBHOOKS, Placement

Permission = tuple[str, str]

SEND_MESSAGES: Permission = ("send_messages", "Send Messages")
EMBED_LINKS: Permission = ("embed_links", "Embed Links")
SEND_MESSAGES_IN_THREADS: Permission = ("send_messages_in_threads", "Send Messages in Threads")
CREATE_PUBLIC_THREADS: Permission = ("create_public_threads", "Create Public Threads")
#: A message in a channel: in a text or announcement channel (crossposting the bot's own alert needs
#: nothing more), and a forum post (Send Messages is "Create Posts" there).
MESSAGE: tuple[Permission, ...] = (VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS)

#: What the bot needs in a channel for each form an alert takes, in the order a refusal names them:
#: a message in a text channel or a thread, a forum post, a discussion thread opened on it, a channel
#: webhook it posts through; an alert crossposted in an announcement channel (the bot's own message:
#: Manage Messages is only for crossposting another's), and the feed followed into a channel
#: (``/alerts follow``: Discord makes a channel-follower webhook there). A subscription posts in one
#: or more forms (:func:`forms_of`).
DELIVERY_PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    "channel": MESSAGE,
    "thread": (*MESSAGE, SEND_MESSAGES_IN_THREADS),
    "forum": MESSAGE,
    "discussion": (CREATE_PUBLIC_THREADS, SEND_MESSAGES_IN_THREADS),
    "webhook": (MANAGE_WEBHOOKS,),
    "announcement": MESSAGE,
    "follow": (MANAGE_WEBHOOKS,),
}


def forms_of(placement: Placement) -> list[str]:
    """The forms of :data:`DELIVERY_PERMISSIONS` a subscription's placement posts in."""
    forms = [placement.target]
    if placement.thread:
        forms.append("discussion")
    if placement.identity == "webhook":
        forms.append("webhook")
    return forms


def needed(forms: Sequence[str]) -> list[Permission]:
    """What posting in each of ``forms`` needs, each permission once, in the table's order."""
    return list(dict.fromkeys(p for form in forms for p in DELIVERY_PERMISSIONS[form]))


def missing(forms: Sequence[str], granted: Collection[str]) -> list[str]:
    """The labels of what ``granted`` lacks for ``forms``."""
    if "administrator" in granted:
        return []
    return [label for name, label in needed(forms) if name not in granted]


def needed_text(forms: Sequence[str] = ("channel",)) -> str:
    """``View Channel, Send Messages, Embed Links``: what a disable reason names."""
    return ", ".join(label for _, label in needed(forms))


class BotLacksPermissions(ServiceError):
    """The bot cannot deliver alerts in a channel: every permission it lacks there, at once."""

    def __init__(self, channel_id: int, labels: Sequence[str]) -> None:
        self.channel_id, self.labels = channel_id, list(labels)
        if len(self.labels) == 1:
            template = N_(
                "I cannot post alerts in <#{channel}>: I need the {permissions} permission there. "
                "Nothing was changed."
            )
        else:
            template = N_(
                "I cannot post alerts in <#{channel}>: I need the {permissions} permissions there. "
                "Nothing was changed."
            )
        super().__init__(template, channel=channel_id, permissions=", ".join(self.labels))


def require_bot(placement: Placement, granted: Collection[str] | None, channel_id: int) -> None:
    """Refuse, naming each missing permission, unless the bot may deliver in that channel as
    ``placement`` says (``granted`` None: not known here, as for the operator's tools)."""
    if granted is None:
        return
    lacking = missing(forms_of(placement), granted)
    if lacking:
        raise BotLacksPermissions(channel_id, lacking)
