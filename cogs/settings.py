"""``/settings``: the server's curator role, locale and time zone (Manage Server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import checks
from bot.discord.render import choices, message
from bot.services.guild_settings import GuildSettingsService, GuildSettingsView

if TYPE_CHECKING:
    from bot.discord.client import PeninsulaBot


def settings_text(view: GuildSettingsView, default_role: str) -> str:
    role = f"<@&{view.curator_role_id}>" if view.curator_role_id else f"any role named “{default_role}”"
    return f"Curators: Manage Server or {role} · locale {view.locale} · time zone {view.timezone}."


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
        self.service = GuildSettingsService(bot.services.sessionmaker, bot.services.policy)

    async def _done(self, interaction: discord.Interaction, view: GuildSettingsView, what: str) -> None:
        text = f"{what} {settings_text(view, self.bot.services.policy.curator_role_name)}"
        await interaction.response.send_message(**message(text).send_kwargs())

    @settings.command(name="curator-role")
    @app_commands.describe(role="Role whose members may curate events (leave empty for the default)")
    @checks.manage_server()
    async def curator_role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        """Choose the role that may curate events"""
        view = await self.service.set_curator_role(checks.caller_of(interaction), role.id if role else None)
        await self._done(interaction, view, "Saved.")

    @settings.command(name="locale")
    @app_commands.describe(locale="Language and region for dates, e.g. en-US or ko")
    @checks.manage_server()
    async def locale(self, interaction: discord.Interaction, locale: str) -> None:
        """Set the server's language and region"""
        view = await self.service.set_locale(checks.caller_of(interaction), locale)
        await self._done(interaction, view, "Saved.")

    @locale.autocomplete("locale")
    async def _locale(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return choices(self.service.locale_choices(current))

    @settings.command(name="timezone")
    @app_commands.describe(timezone="IANA time zone, e.g. Asia/Seoul or UTC")
    @checks.manage_server()
    async def timezone(self, interaction: discord.Interaction, timezone: str) -> None:
        """Set the server's time zone"""
        view = await self.service.set_timezone(checks.caller_of(interaction), timezone)
        await self._done(interaction, view, "Saved.")

    @timezone.autocomplete("timezone")
    async def _timezone(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return choices(self.service.timezone_choices(current))


async def setup(bot: PeninsulaBot) -> None:
    await bot.add_cog(Settings(bot))
