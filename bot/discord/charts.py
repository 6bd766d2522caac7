"""``/chart`` and the chart buttons of ``/program`` and ``/brief``: the counts and the image come
from :class:`~bot.services.charts.ChartService`; this module only turns them into a reply.

A chart button's ``custom_id`` is ``pb:ch:<metric>:<by>:<program>:<system>`` (slugs, possibly
empty): it carries the whole query, so it answers after a restart too. Anyone may press it; the
chart comes back to the presser alone, counted for the presser's guild.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Self

import discord

from bot.discord.answer import answer
from bot.discord.errors import reply_ephemeral, user_message
from bot.discord.language import own_locale, who_reads
from bot.discord.paging import services_of
from bot.discord.render.chart import FILENAME, chart_embed
from bot.discord.render.reply import Reply, Who
from bot.i18n import N_
from bot.services.charts import ChartData, ChartQuery, figure_for, names_of

if TYPE_CHECKING:
    from bot.services.container import Services

LABEL = N_("Chart")


async def build_chart(services: Services, who: Who, query: ChartQuery) -> Reply:
    """The chart of ``query`` as the reader ``who`` may see it (their guild's local events too), in
    their language (the image is cached per query, language and data version)."""
    locale = who.locale
    names = await names_of(services.catalog, query, locale)

    def figure(data: ChartData) -> Any:
        return figure_for(data, names, locale)

    chart = await services.charts.chart(query, figure, locale)
    return Reply(embeds=[chart_embed(chart.data, names, locale)], files=[(FILENAME, chart.png)])


class ChartButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"pb:ch:(?P<metric>[a-z_]+):(?P<by>[a-z]+):(?P<program>[a-z0-9-]*):(?P<system>[a-z0-9-]*)",
):
    def __init__(self, query: ChartQuery, label: str = LABEL) -> None:
        self.query = query
        custom_id = f"pb:ch:{query.metric}:{query.by}:{query.program or ''}:{query.system or ''}"
        super().__init__(
            discord.ui.Button(
                label=label, emoji="📊", style=discord.ButtonStyle.secondary, custom_id=custom_id
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        query = ChartQuery(match["metric"], match["by"], program=match["program"] or None,
                           system=match["system"] or None)  # fmt: skip
        return cls(query, str(getattr(item, "label", None) or LABEL))

    async def callback(self, interaction: discord.Interaction) -> None:
        who = await who_reads(interaction, private=True)  # the chart comes back to the presser alone
        query = ChartQuery(
            self.query.metric, self.query.by, self.query.program, self.query.system, guild_id=who.guild_id
        )
        try:
            await answer(interaction, True, build_chart(services_of(interaction.client), who, query))
        except Exception as exc:
            await reply_ephemeral(
                interaction, user_message(exc, context="a chart button", locale=own_locale(interaction))
            )
