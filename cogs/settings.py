"""``/settings``: the server's curator role (Manage Server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import checks
from bot.discord.render.reply import message
from bot.services.guild_settings import GuildSettingsView

if TYPE_CHECKING:
    from bot.discord.client import PeninsulaBot


def settings_text(view: GuildSettingsView, default_role: str) -> str:
    role = f"<@&{view.curator_role_id}>" if view.curator_role_id else f"any role named “{default_role}”"
    return f"Curators: Manage Server or {role}."


class Settings(commands.Cog):
    """Per-server settings."""

    settings = app_commands.Group(
        name="settings",
        description="This server's settings for the bot",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: PeninsulaBot) -> None:
        self.bot = bot
        self.service = bot.services.guild_settings

    async def _done(self, interaction: discord.Interaction, view: GuildSettingsView, what: str) -> None:
        text = f"{what} {settings_text(view, self.bot.services.policy.curator_role_name)}"
        await interaction.followup.send(**message(text).send_kwargs())

    @settings.command(name="curator-role")
    @app_commands.describe(role="Role whose members may curate events (leave empty for the default)")
    @checks.manage_server()
    async def curator_role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        """Choose the role that may curate events"""
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        view = await self.service.set_curator_role(checks.caller_of(interaction), role.id if role else None)
        await self._done(interaction, view, "Saved.")

    # /settings locale and /settings timezone are hidden until something reads them: they return
    # with the languages issue (GuildSettingsService.set_locale / set_timezone and the columns stay).


async def setup(bot: PeninsulaBot) -> None:
    await bot.add_cog(Settings(bot))
