"""The command tree: every failure ends in an ephemeral reply; the unexpected is logged once."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot import metrics
from bot.discord.errors import expired, is_unexpected, unwrap, user_message
from bot.discord.language import own_locale
from bot.discord.picks import answer_error
from bot.logs import command_done

log = logging.getLogger(__name__)


def elapsed(interaction: discord.Interaction) -> float:
    """Seconds since Discord created the interaction."""
    return (discord.utils.utcnow() - interaction.created_at).total_seconds()


def finished(interaction: discord.Interaction, command: str, outcome: str) -> None:
    """Count one finished command and write its completion line (metrics and logs in one place)."""
    seconds = elapsed(interaction)
    metrics.observe_command(command, outcome, seconds)
    command_done(command, interaction.guild_id, interaction.user.id, outcome, seconds)


class BriefTree(app_commands.CommandTree[discord.Client]):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        text = user_message(error, context=f"command /{command}", locale=own_locale(interaction))
        outcome = "error" if is_unexpected(error) else "user_error"
        finished(interaction, command, outcome)
        if expired(unwrap(error)):
            return  # the command's own answer came too late; nothing can reach the user now
        # A value that names nothing is answered with its closest choices, as buttons.
        await answer_error(interaction, error, text)
