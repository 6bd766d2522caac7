"""``/settings``: the server's curator role, language, time zone and review channel (Manage Server)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import checks
from bot.discord.options import Offer, offer
from bot.discord.render.reply import message
from bot.i18n import negotiate, tr
from bot.services.access import Caller
from bot.services.guild_settings import DEFAULT_LOCALE, LANGUAGE_LABELS, GuildSettingsView

if TYPE_CHECKING:
    from bot.discord.client import PeninsulaBot


def settings_text(view: GuildSettingsView, default_role: str, locale: str = "en") -> str:
    """The server's settings in one paragraph, in the reader's language."""
    if view.curator_role_id:
        curators = tr(locale, "Curators: Manage Server or <@&{role}>.", role=view.curator_role_id)
    else:
        curators = tr(locale, "Curators: Manage Server or any role named “{name}”.", name=default_role)
    if view.locale == DEFAULT_LOCALE:
        language = tr(locale, "Language of public replies and alerts: the server's Discord language.")
    else:
        label = LANGUAGE_LABELS.get(view.locale, view.locale)
        language = tr(locale, "Language of public replies and alerts: {language}.", language=label)
    zone = tr(locale, "Time zone: {zone}.", zone=view.timezone)
    if view.review_channel_id:
        review = tr(
            locale, "New drafts for review are posted in <#{channel}>.", channel=view.review_channel_id
        )
    else:
        review = tr(locale, "New drafts for review are not posted in any channel (see /curate queue).")
    return f"{curators}\n{language}\n{zone}\n{review}"


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

    async def _done(self, interaction: discord.Interaction, view: GuildSettingsView) -> None:
        locale = negotiate(interaction.locale.value)  # the reply is ephemeral: the reader's language
        text = settings_text(view, self.bot.services.policy.curator_role_name, locale)
        saved = tr(locale, "Saved.")
        await interaction.followup.send(**message(f"{saved} {text}").send_kwargs())

    async def _save(
        self, interaction: discord.Interaction, save: Callable[[Caller], Awaitable[GuildSettingsView]]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        await self._done(interaction, await save(checks.caller_of(interaction)))

    @settings.command(name="curator-role")
    @app_commands.describe(role="Role whose members may curate events (leave empty for the default)")
    @checks.manage_server()
    async def curator_role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        """Choose the role that may curate events"""
        await self._save(
            interaction, lambda caller: self.service.set_curator_role(caller, role.id if role else None)
        )

    @settings.command(name="review-channel")
    @app_commands.describe(channel="Channel to post each new draft in for review (leave empty to stop)")
    @checks.manage_server()
    async def review_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        """Choose the channel where new drafts are posted for curators to review"""
        if channel is not None:
            checks.require_channel_access(interaction, channel)
            guild = interaction.guild
            missing = checks.bot_missing_in(channel, guild.me if guild else None)
            if missing:
                locale = negotiate(interaction.locale.value)
                text = tr(
                    locale,
                    "I cannot post drafts in {channel}: I need the {permissions} permission there. "
                    "Nothing was changed.",
                    channel=channel.mention,
                    permissions=", ".join(missing),
                )
                await interaction.response.send_message(**message(text).send_kwargs())
                return
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        caller = checks.caller_of(interaction, *([channel] if channel is not None else []))
        channel_id = channel.id if channel is not None else None
        await self._done(interaction, await self.service.set_review_channel(caller, channel_id))

    @settings.command(name="locale")
    @app_commands.describe(locale="en, ko, ja or zh-CN (empty: the server's Discord language)")
    @checks.manage_server()
    async def locale(self, interaction: discord.Interaction, locale: str = "auto") -> None:
        """Choose the language of public replies and alerts"""
        await self._save(interaction, lambda caller: self.service.set_locale(caller, locale))

    @settings.command(name="timezone")
    @app_commands.describe(timezone="IANA time zone (e.g. Asia/Seoul, Asia/Tokyo, UTC)")
    @checks.manage_server()
    async def timezone(
        self, interaction: discord.Interaction, timezone: app_commands.Range[str, 1, 64]
    ) -> None:
        """Choose the time zone of the times the bot shows"""
        await self._save(interaction, lambda caller: self.service.set_timezone(caller, timezone))

    @locale.autocomplete("locale")
    async def _locales(self, interaction: discord.Interaction, current: str) -> Offer:
        return offer(self.service.locale_choices(current))

    @timezone.autocomplete("timezone")
    async def _zones(self, interaction: discord.Interaction, current: str) -> Offer:
        return offer(self.service.timezone_choices(current))


async def setup(bot: PeninsulaBot) -> None:
    await bot.add_cog(Settings(bot))
