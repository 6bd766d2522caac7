"""Runtime permission checks for the admin groups (the services check again).

``default_permissions`` only sets what Discord shows by default; a server can change it, so every
admin command also checks here, and a refusal names the missing permission (an ephemeral reply
through the tree's error handler).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.i18n import N_
from bot.services.access import Caller
from bot.services.errors import PermissionDenied
from bot.services.guild_settings import GuildSettingsService
from bot.services.permissions import missing

T = TypeVar("T")


class MissingCuratorRole(app_commands.CheckFailure):
    """Neither Manage Server nor the server's curator role; ``refusal`` is the service's, shown in
    the reader's language."""

    def __init__(self, refusal: PermissionDenied) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def _names(permissions: discord.Permissions) -> frozenset[str]:
    """The names of the permissions granted, aliases included (``view_channel`` and ``read_messages``)."""
    return frozenset(name for name in discord.Permissions.VALID_FLAGS if getattr(permissions, name))


def guild_permissions(interaction: discord.Interaction) -> discord.Permissions:
    """The member's guild-level permissions (their roles), never ``interaction.permissions``: those
    are the member's permissions in the channel they typed in, which an overwrite can raise."""
    user = interaction.user
    if isinstance(user, discord.Member) and user.guild.default_role is None:
        return discord.Permissions.none()  # the guild is not cached: its roles are unknown
    permissions: discord.Permissions = getattr(user, "guild_permissions", discord.Permissions.none())
    return permissions


def caller_of(interaction: discord.Interaction, *channels: Any) -> Caller:
    """The member behind an interaction, as the services see callers: guild-level permissions, and
    their permissions in each of ``channels`` (the channels the command is about)."""
    user = interaction.user
    roles = getattr(user, "roles", [])
    caller = Caller(
        user_id=user.id,
        guild_id=interaction.guild_id,
        permissions=_names(guild_permissions(interaction)),
        role_ids=frozenset(r.id for r in roles),
        role_names=frozenset(r.name for r in roles),
    )
    for channel in channels:
        caller = caller.in_channel(channel.id, _names(member_permissions_in(channel, user)))
    return caller


def member_permissions_in(channel: Any, user: Any) -> discord.Permissions:
    """``user``'s permissions in ``channel`` (overwrites applied); none when they cannot be known."""
    if not hasattr(channel, "permissions_for") or not hasattr(user, "roles"):
        return discord.Permissions.none()
    permissions: discord.Permissions = channel.permissions_for(user)
    return permissions


def _settings_service(interaction: discord.Interaction) -> GuildSettingsService:
    services: Any = getattr(interaction.client, "services", None)
    if services is None:
        raise app_commands.CheckFailure("This bot is not set up for that command.")
    settings: GuildSettingsService = services.guild_settings
    return settings


def curator_only() -> Callable[[T], T]:
    """Manage Server, or the guild's curator role (set with ``/settings curator-role``)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        try:
            await _settings_service(interaction).require_curator(caller_of(interaction))
        except PermissionDenied as exc:
            raise MissingCuratorRole(exc) from None
        return True

    return app_commands.check(predicate)


def guild_permission(name: str) -> Callable[[T], T]:
    """A guild-level permission (from the member's roles, as the service checks it again)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not getattr(guild_permissions(interaction), name):
            raise app_commands.MissingPermissions([name])
        return True

    return app_commands.check(predicate)


def manage_channels() -> Callable[[T], T]:
    return guild_permission("manage_channels")


def manage_server() -> Callable[[T], T]:
    return guild_permission("manage_guild")


def require_channel_access(interaction: discord.Interaction, channel: Any) -> None:
    """The member must see the channel a command is about (a refusal names it); the services check
    the same through :func:`caller_of`."""
    if not member_permissions_in(channel, interaction.user).view_channel and not (
        guild_permissions(interaction).administrator
    ):
        raise PermissionDenied(
            N_("the {permission} permission in <#{channel}>"), permission="View Channel", channel=channel.id
        )


def bot_permission_names(channel: Any, me: discord.Member | None) -> frozenset[str]:
    """The names of the permissions the bot holds in ``channel`` (as a service is told them)."""
    if me is None or not hasattr(channel, "permissions_for"):
        return frozenset()
    return _names(channel.permissions_for(me))


def bot_missing_in(channel: Any, me: discord.Member | None, forms: Sequence[str] = ()) -> list[str]:
    """The permissions the bot lacks in ``channel`` to post alerts there in each of ``forms``
    (``bot.services.permissions.DELIVERY_PERMISSIONS``; none named: a message, in a thread or a
    channel), named for a message."""
    if me is None or not hasattr(channel, "permissions_for"):
        return []
    forms = forms or ("thread" if isinstance(channel, discord.Thread) else "channel",)
    return missing(forms, bot_permission_names(channel, me))
