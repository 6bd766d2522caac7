"""The command tree: every failure ends in an ephemeral reply; the unexpected is logged once."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot import metrics
from bot.services.errors import ServiceError

log = logging.getLogger(__name__)

GENERIC = "Something went wrong on our side; it has been logged. Please try again."


def message_for(error: app_commands.AppCommandError) -> str | None:
    """The user-facing text for a known failure, or None for an unexpected one."""
    original = error.__cause__ if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(error, app_commands.CommandInvokeError):
        original = error.original
    if isinstance(original, ServiceError):
        return original.message
    if isinstance(error, app_commands.MissingPermissions):
        missing = ", ".join(
            p.replace("_", " ").replace("guild", "server").title() for p in error.missing_permissions
        )
        return f"You need the {missing} permission to do this."
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(
            p.replace("_", " ").replace("guild", "server").title() for p in error.missing_permissions
        )
        return f"I need the {missing} permission here to do this."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works only in a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError):
        if isinstance(error.__cause__, ServiceError):  # a transformer's own explanation, e.g. a bad date
            return error.__cause__.message
        return f"“{str(error.value)[:80]}” is not a valid value for this option."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You cannot use this command here."
    return None


async def reply_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Answer ephemerally whether or not the interaction was already responded to."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except discord.HTTPException:
        log.warning("could not deliver an error reply for interaction %s", interaction.id)


def elapsed(interaction: discord.Interaction) -> float:
    """Seconds since Discord created the interaction."""
    return (discord.utils.utcnow() - interaction.created_at).total_seconds()


class BriefTree(app_commands.CommandTree[discord.Client]):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        text = message_for(error)
        command = interaction.command.qualified_name if interaction.command else "?"
        if text is None:
            log.error("command /%s failed", command, exc_info=error)
            text = GENERIC
        metrics.observe_command(command, "user_error" if text != GENERIC else "error", elapsed(interaction))
        await reply_ephemeral(interaction, text)
