"""Who is asking, and what they may do. The cogs check first; the services check again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.i18n import N_
from bot.services.errors import FieldProblem, PermissionDenied, ValidationFailed

VIEW_CHANNEL = ("view_channel", "View Channel")
MANAGE_CHANNELS = ("manage_channels", "Manage Channels")


@dataclass(frozen=True)
class Caller:
    """The member behind a request: ids, guild-level permissions (discord.py names) and roles, and
    their permissions in the channels the request is about (``channels``, overwrites applied)."""

    user_id: int
    guild_id: int | None
    permissions: frozenset[str] = frozenset()
    role_ids: frozenset[int] = frozenset()
    role_names: frozenset[str] = frozenset()
    channels: Mapping[int, frozenset[str]] = field(default_factory=dict, hash=False)

    @classmethod
    def system(cls) -> Caller:
        """The operator (CLI, seed): every permission, no guild."""
        return cls(0, None, frozenset({"administrator"}))

    def has(self, permission: str) -> bool:
        return "administrator" in self.permissions or permission in self.permissions

    def in_channel(self, channel_id: int, permissions: Iterable[str] = (VIEW_CHANNEL[0],)) -> Caller:
        """This caller with their permissions in one channel known (the channel a command is about)."""
        return replace(self, channels={**self.channels, channel_id: frozenset(permissions)})

    def has_in(self, channel_id: int, permission: str) -> bool:
        """Whether the caller holds ``permission`` in that channel; a channel not described has none."""
        return "administrator" in self.permissions or permission in self.channels.get(channel_id, ())


@dataclass(frozen=True)
class Policy:
    """Deployment-wide rules: which guilds publish globally, the default curator role name."""

    home_guild_ids: frozenset[int] = field(default_factory=frozenset)
    curator_role_name: str = "Curator"

    @classmethod
    def of(cls, home_guild_ids: Iterable[int] = (), curator_role_name: str = "Curator") -> Policy:
        return cls(frozenset(home_guild_ids), curator_role_name)

    def scope_for(self, caller: Caller) -> int | None:
        """Where a curator's new event lives: None (global) for home guilds and the operator."""
        if caller.guild_id is None or caller.guild_id in self.home_guild_ids:
            return None
        return caller.guild_id

    async def require_curator(self, session: AsyncSession, caller: Caller) -> None:
        if caller.guild_id is None and caller.has("administrator"):
            return
        if caller.has("manage_guild"):
            return
        settings = await session.get(models.GuildSettings, caller.guild_id) if caller.guild_id else None
        if settings is not None and settings.curator_role_id is not None:
            if settings.curator_role_id in caller.role_ids:
                return
        elif self.curator_role_name.casefold() in {n.casefold() for n in caller.role_names}:
            return
        raise PermissionDenied(N_("the Manage Server permission or this server's curator role"))

    @staticmethod
    def require(caller: Caller, permission: str, label: str) -> None:
        """A guild-level permission (never the permissions of the channel a command was typed in)."""
        if not caller.has(permission):
            raise PermissionDenied(N_("the {permission} permission"), permission=label)

    @staticmethod
    def require_in(caller: Caller, channel_id: int, permission: str, label: str) -> None:
        """A permission in one channel, as the cog described it in ``caller.channels``."""
        if not caller.has_in(channel_id, permission):
            raise PermissionDenied(
                N_("the {permission} permission in <#{channel}>"), permission=label, channel=channel_id
            )


def require_manager(policy: Policy, caller: Caller, channel_id: int | None = None) -> int:
    """A channel manager: guild-level Manage Channels, and sight of the channel asked about; the
    caller's guild (subscriptions, ``/alerts why`` and ``/alerts log``)."""
    policy.require(caller, *MANAGE_CHANNELS)
    if caller.guild_id is None:
        raise ValidationFailed([FieldProblem("channel", "subscriptions belong to a server")])
    if channel_id is not None:
        policy.require_in(caller, channel_id, *VIEW_CHANNEL)
    return caller.guild_id
