"""Following the feed: a server's channel follows the home guild's announcement channel, so every
alert posted there reaches it through Discord itself (one crosspost, whatever the number of
followers).

The feed channel is the operator's setting ``FEED_CHANNEL_ID``: an announcement channel of a home
guild (``HOME_GUILD_IDS``) with a subscription, so the alerts it carries are those of the shared
corpus. The follow itself is a Discord request the cog makes; this service checks who may ask
(Manage Webhooks in the channel, for the member and for the bot), that the feed is set up and is
a home guild's, and writes the audit row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.db import Sessionmaker
from bot.i18n import N_
from bot.services.access import VIEW_CHANNEL, Caller, Policy
from bot.services.audit import audit_row
from bot.services.errors import FieldProblem, ServiceError, ValidationFailed
from bot.services.permissions import missing
from bot.services.targets import MANAGE_WEBHOOKS

__all__ = ["MANAGE_WEBHOOKS", "BotCannotFollow", "Feed", "FeedNotSetUp", "FollowService"]


@dataclass(frozen=True)
class Feed:
    """The channel servers follow: its id and its (home) guild's."""

    channel_id: int
    guild_id: int


class FeedNotSetUp(ServiceError):
    """No feed channel, or one that is not an announcement channel of a home guild."""


class BotCannotFollow(ServiceError):
    """The bot lacks Manage Webhooks where the feed should arrive."""

    def __init__(self, channel_id: int) -> None:
        super().__init__(
            N_("I need the {permission} permission in <#{channel}> to follow the feed there."),
            permission=MANAGE_WEBHOOKS[1],
            channel=channel_id,
        )


class FollowService:
    def __init__(self, sessionmaker: Sessionmaker, policy: Policy) -> None:
        self._sessionmaker = sessionmaker
        self._policy = policy

    def feed(self, channel_id: int | None, guild_id: int | None, *, announcement: bool = True) -> Feed:
        """The feed channel (``FEED_CHANNEL_ID``, and the guild and kind Discord says it has)."""
        if channel_id is None:
            raise FeedNotSetUp(
                N_("No feed channel is set up to follow (the bot's operator sets FEED_CHANNEL_ID).")
            )
        if guild_id is None or guild_id not in self._policy.home_guild_ids or not announcement:
            raise FeedNotSetUp(
                N_(
                    "The feed channel <#{channel}> is not an announcement channel of the bot's home "
                    "server; it cannot be followed."
                ),
                channel=channel_id,
            )
        return Feed(channel_id, guild_id)

    def require(self, caller: Caller, channel_id: int, bot_permissions: Collection[str], feed: Feed) -> int:
        """Manage Webhooks in ``channel_id`` for the caller and for the bot (its permissions there,
        as the cog read them); the caller's guild."""
        self._policy.require_in(caller, channel_id, *VIEW_CHANNEL)
        self._policy.require_in(caller, channel_id, *MANAGE_WEBHOOKS)
        if caller.guild_id is None:
            raise ValidationFailed([FieldProblem("channel", N_("following belongs to a server"))])
        if missing(("follow",), bot_permissions):
            raise BotCannotFollow(channel_id)
        if channel_id == feed.channel_id:
            raise ValidationFailed([FieldProblem("channel", N_("the feed channel cannot follow itself"))])
        return caller.guild_id

    async def followed(self, caller: Caller, channel_id: int, feed: Feed) -> None:
        """Record that ``channel_id`` follows the feed now (audit log)."""
        async with self._sessionmaker() as session, session.begin():
            session.add(
                audit_row(
                    "feed.follow",
                    "channel",
                    channel_id,
                    {"feed_channel": str(feed.channel_id), "feed_guild": str(feed.guild_id)},
                    caller=caller,
                )
            )
