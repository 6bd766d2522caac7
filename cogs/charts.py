"""/chart: counts of launches, nuclear tests, sanctions or events as a bar chart with its table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.answer import DEFER_AFTER, answer
from bot.discord.charts import build_chart
from bot.discord.language import who_reads
from bot.discord.options import PartyOption, ProgramOption, SinceOption, SystemOption, UntilOption
from bot.services.charts import BY_TEXT, GROUPS, METRIC_TEXT, METRICS, ChartQuery
from bot.services.dates import period_end

if TYPE_CHECKING:
    from bot.discord.client import PeninsulaBot
    from bot.services.container import Services

PRIVATE = "Only you see the answer (default: everyone in the channel)"
# Choice names are labels: the tree's translator gives them in each language (bot/i18n catalogs).
METRIC_CHOICES = [app_commands.Choice(name=METRIC_TEXT[m], value=m) for m in METRICS]
BY_CHOICES = [app_commands.Choice(name=BY_TEXT[b], value=b) for b in GROUPS]


class Charts(commands.Cog):
    """Reader charts: everyone may use them; ``private`` makes the answer ephemeral."""

    def __init__(self, bot: PeninsulaBot) -> None:
        self.bot = bot
        self.services: Services = bot.services
        self.defer_after = DEFER_AFTER

    @app_commands.command(
        name="chart",
        description="A bar chart of launches, nuclear tests, sanctions or events, with its table",
    )
    @app_commands.describe(
        metric="What to count (default: launches)",
        by="Bars by year, month, program or system (default: year)",
        program="Only this program",
        system="Only this system (e.g. Hwasong-17, KN-23)",
        party="Only events involving this party",
        since="From this date: YYYY, YYYY-MM or YYYY-MM-DD",
        until="Up to this date (inclusive): YYYY, YYYY-MM or YYYY-MM-DD",
        private=PRIVATE,
    )
    @app_commands.choices(metric=METRIC_CHOICES, by=BY_CHOICES)
    async def chart(
        self,
        interaction: discord.Interaction,
        metric: str = "launches",
        by: str = "year",
        program: ProgramOption | None = None,
        system: SystemOption | None = None,
        party: PartyOption | None = None,
        since: SinceOption | None = None,
        until: UntilOption | None = None,
        private: bool = False,
    ) -> None:
        who = await who_reads(interaction, private=private)
        query = ChartQuery(
            metric,
            by,
            program=program.slug if program else None,
            system=system.slug if system else None,
            party=party.slug if party else None,
            since=since[0] if since else None,
            until=period_end(*until) if until else None,
            guild_id=who.guild_id,
        )
        await answer(interaction, private, build_chart(self.services, who, query), self.defer_after)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Charts(bot))  # type: ignore[arg-type]
