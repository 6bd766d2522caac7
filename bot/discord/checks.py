"""Runtime permission checks for the admin groups (the services check again).

``default_permissions`` only sets what Discord shows by default; a server can change it, so every
admin command also checks here, and a refusal names the missing permission (an ephemeral reply
through the tree's error handler).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.services.access import Caller
from bot.services.errors import PermissionDenied
from bot.services.guild_settings import GuildSettingsService

T = TypeVar("T")


class MissingCuratorRole(app_commands.CheckFailure):
    """Neither Manage Server nor the server's curator role."""


def caller_of(interaction: discord.Interaction) -> Caller:
    """The member behind an interaction, as the services see callers."""
    user = interaction.user
    permissions = interaction.permissions
    granted = frozenset(name for name, value in permissions if value)
    roles = getattr(user, "roles", [])
    return Caller(
        user_id=user.id,
        guild_id=interaction.guild_id,
        permissions=granted,
        role_ids=frozenset(r.id for r in roles),
        role_names=frozenset(r.name for r in roles),
    )


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
            raise MissingCuratorRole(exc.message) from None
        return True

    return app_commands.check(predicate)


def manage_channels() -> Callable[[T], T]:
    return app_commands.checks.has_permissions(manage_channels=True)


def manage_server() -> Callable[[T], T]:
    return app_commands.checks.has_permissions(manage_guild=True)


BOT_CHANNEL_PERMISSIONS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)


def bot_missing_in(channel: Any, me: discord.Member | None) -> list[str]:
    """The permissions the bot lacks to post alerts in ``channel`` (names for a message)."""
    if me is None or not hasattr(channel, "permissions_for"):
        return []
    perms = channel.permissions_for(me)
    missing = [label for name, label in BOT_CHANNEL_PERMISSIONS if not getattr(perms, name)]
    if isinstance(channel, discord.Thread) and not perms.send_messages_in_threads:
        missing.append("Send Messages in Threads")
    return missing
