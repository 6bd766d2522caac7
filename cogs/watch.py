"""``/curate watch``: the sources whose new items become drafts in ``/curate queue``.

Not a cog of its own: :class:`WatchCommands` is the ``watch`` subgroup that ``cogs/curation.py``
attaches under ``/curate`` (so the command names stay ``/curate watch …``).
"""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands

from bot.discord import checks
from bot.discord.language import own_locale
from bot.discord.options import SourceOption
from bot.discord.paging import services_of
from bot.discord.render.reply import Reply, message
from bot.discord.render.watch import sources_embed
from bot.i18n import tr


def _wake(client: discord.Client) -> None:
    watcher = getattr(client, "watcher", None)
    if watcher is not None:
        watcher.wake()


class WatchCommands(app_commands.Group):
    """Feeds whose new items become drafts in the queue"""

    def __init__(self, *, parent: app_commands.Group) -> None:
        super().__init__(
            name="watch", description="Feeds whose new items become drafts in the queue", parent=parent
        )

    @app_commands.command(name="add")
    @app_commands.describe(
        url="The feed's address (http or https)",
        format="atom or rss (feeds), cns or csis (datasets)",
        name="Its label, the drafts' publisher",
    )
    @checks.curator_only()
    async def add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 8, 500],
        format: Literal["atom", "rss", "cns", "csis"],
        name: app_commands.Range[str, 1, 100],
    ) -> None:
        """Watch a feed; its new items become drafts in /curate queue"""
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        watch = services_of(interaction.client).watch
        source = await watch.add(checks.caller_of(interaction), url, format, name)
        _wake(interaction.client)
        await interaction.followup.send(
            **message(
                tr(
                    own_locale(interaction),
                    "Watching source #{id} {name}. Its new items will appear in `/curate queue`.",
                    id=source.id,
                    name=source.name,
                )
            ).send_kwargs()
        )

    @app_commands.command(name="list")
    @checks.curator_only()
    async def list_(self, interaction: discord.Interaction) -> None:
        """The watched sources: last check, last new item, last error"""
        sources = await services_of(interaction.client).watch.sources(checks.caller_of(interaction))
        await interaction.response.send_message(
            **Reply(embeds=[sources_embed(sources, own_locale(interaction))], ephemeral=True).send_kwargs()
        )

    @app_commands.command(name="remove")
    @app_commands.describe(source="The source (type its name or number)")
    @checks.curator_only()
    async def remove(self, interaction: discord.Interaction, source: SourceOption) -> None:
        """Stop watching a source (its pending drafts go too)"""
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = await services_of(interaction.client).watch.remove(checks.caller_of(interaction), source)
        text = tr(own_locale(interaction), "No longer watching #{id} {name}.", id=view.id, name=view.name)
        await interaction.followup.send(**message(text).send_kwargs())

    @app_commands.command(name="pause")
    @app_commands.describe(source="The source (type its name or number)")
    @checks.curator_only()
    async def pause(self, interaction: discord.Interaction, source: SourceOption) -> None:
        """Stop checking a source for now (its drafts stay in the queue)"""
        await _set_paused(interaction, source, True)

    @app_commands.command(name="resume")
    @app_commands.describe(source="The source (type its name or number)")
    @checks.curator_only()
    async def resume(self, interaction: discord.Interaction, source: SourceOption) -> None:
        """Check a paused source again (also one that paused itself after errors)"""
        await _set_paused(interaction, source, False)


async def _set_paused(interaction: discord.Interaction, source: int, paused: bool) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
    watch = services_of(interaction.client).watch
    view = await watch.set_paused(checks.caller_of(interaction), source, paused)
    locale = own_locale(interaction)
    if paused:
        text = tr(
            locale,
            "Paused #{id} {name}: it is not checked until `/curate watch resume`.",
            id=view.id,
            name=view.name,
        )
    else:
        _wake(interaction.client)
        text = tr(locale, "Resumed #{id} {name}: it is checked again.", id=view.id, name=view.name)
    await interaction.followup.send(**message(text).send_kwargs())
