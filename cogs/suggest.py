"""``/suggest``: any member proposes an event; it becomes a draft in the review queue of their
server's scope (a home server's: the shared queue) with the suggester recorded, for a curator to
publish, edit, merge or reject."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import checks
from bot.discord.language import own_locale
from bot.discord.render.reply import message
from bot.i18n import N_, tr
from bot.services.review import Suggestion

if TYPE_CHECKING:
    from bot.discord.client import PeninsulaBot


class Suggest(commands.Cog):
    """Members' suggestions for the review queue."""

    def __init__(self, bot: PeninsulaBot) -> None:
        self.bot = bot

    @app_commands.command(name="suggest")
    @app_commands.guild_only()
    @app_commands.describe(
        title="What happened, in a headline (3 to 200 characters)",
        date="When: YYYY-MM-DD, YYYY-MM or YYYY",
        summary="A few sentences in your own words",
        source_url="Where it is reported (an http or https address)",
    )
    async def suggest(
        self, interaction: discord.Interaction, title: str, date: str, summary: str, source_url: str
    ) -> None:
        """Suggest an event for this server's curators to review (5 an hour)"""
        caller = checks.caller_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        draft = await self.bot.services.review.suggest(caller, Suggestion(title, date, summary, source_url))
        locale = own_locale(interaction)  # the answer is the suggester's alone
        if draft.guild_id is None:
            text = N_(
                "Thanks: your suggestion is draft #{id} in the shared review queue. A curator will check it "
                "before anything is published."
            )
        else:
            text = N_(
                "Thanks: your suggestion is draft #{id} in this server's review queue. A curator will "
                "check it before anything is published."
            )
        await interaction.followup.send(**message(tr(locale, text, id=draft.id)).send_kwargs())


async def setup(bot: PeninsulaBot) -> None:
    await bot.add_cog(Suggest(bot))
