"""``/alerts why`` and ``/alerts log`` as pages, turned with buttons that survive a restart.

A button's ``custom_id`` is ``pb:al:<uid>:<w|l>:<channel>:<event>:<page>``. Pressing one asks the
service again with the presser's permissions in that channel (resolved from the guild, as the
command resolved them), so a member who lost sight of the channel since cannot page on.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Self

import discord

from bot.discord.checks import caller_of
from bot.discord.language import who_reads
from bot.discord.paging import Rebuilt, services_of, turn_label, turn_page
from bot.discord.render.deliveries import log_embed, why_pages
from bot.discord.render.flow import page_footer
from bot.discord.render.reply import Reply, Who

if TYPE_CHECKING:
    from bot.services.access import Caller
    from bot.services.container import Services

#: Deliveries on one page of ``/alerts log`` (each well within an embed field).
LOG_PAGE = 5


class AlertPageButton(
    Rebuilt,
    template=r"pb:al:(?P<uid>\d+):(?P<doc>[wl]):(?P<channel>\d+):(?P<event>\d+):(?P<page>\d+)",
):
    def __init__(
        self,
        uid: int,
        doc: str,
        channel_id: int,
        event_id: int,
        page: int,
        label: str,
        *,
        disabled: bool = False,
    ) -> None:
        self.doc, self.channel_id, self.event_id, self.page = doc, channel_id, event_id, page
        custom_id = f"pb:al:{uid}:{doc}:{channel_id}:{event_id}:{page}"
        super().__init__(uid, label, custom_id, disabled=disabled)

    @classmethod
    def from_match(cls, match: re.Match[str], interaction: discord.Interaction, item: Any) -> Self:
        return cls(
            int(match["uid"]),
            match["doc"],
            int(match["channel"]),
            int(match["event"]),
            int(match["page"]),
            str(getattr(item, "label", None) or ""),
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        async def work() -> Reply:
            guild = interaction.guild
            channel = guild.get_channel_or_thread(self.channel_id) if guild is not None else None
            if channel is None:
                raise ValueError("the channel is gone")  # the page can no longer be turned
            who = await who_reads(interaction, uid=self.uid)
            caller = caller_of(interaction, channel)
            services = services_of(interaction.client)
            if self.doc == "w":
                return await why_reply(services, who, caller, self.event_id, self.channel_id, self.page)
            return await log_reply(services, who, caller, self.channel_id, self.page)

        await turn_page(interaction, work)


def _view(
    who: Who, doc: str, channel_id: int, event_id: int, page: int, total: int
) -> discord.ui.View | None:
    if total <= 1:
        return None
    view = discord.ui.View(timeout=None)
    uid = who.user_id
    prev, nxt = turn_label("p", who.locale), turn_label("n", who.locale)
    view.add_item(AlertPageButton(uid, doc, channel_id, event_id, page - 1, prev, disabled=page <= 1))
    view.add_item(AlertPageButton(uid, doc, channel_id, event_id, page + 1, nxt, disabled=page >= total))
    return view


def _paged(embed: discord.Embed, page: int, total: int, locale: str) -> discord.Embed:
    if total > 1:
        footer = embed.footer.text if embed.footer else None
        embed.set_footer(text=page_footer(footer, page, total, locale))
    return embed


async def why_reply(
    services: Services, who: Who, caller: Caller, event_id: int, channel_id: int, page: int = 1
) -> Reply:
    """Page ``page`` of why ``channel_id`` did or did not get the alert of ``event_id``."""
    why = await services.deliveries.why(caller, event_id, channel_id)
    pages = why_pages(why, who.locale, who.timezone)
    total = len(pages)
    page = min(max(page, 1), total)
    embed = _paged(pages[page - 1], page, total, who.locale)
    view = _view(who, "w", channel_id, event_id, page, total)
    return Reply(embeds=[embed], view=view, ephemeral=True)


async def log_reply(services: Services, who: Who, caller: Caller, channel_id: int, page: int = 1) -> Reply:
    """Page ``page`` of the channel's delivery history, newest first (the last page when it has
    fewer now)."""
    deliveries = services.deliveries
    got = await deliveries.log(caller, channel_id, offset=(max(page, 1) - 1) * LOG_PAGE, limit=LOG_PAGE)
    total = max(math.ceil(got.total / LOG_PAGE), 1)
    if page > total:
        page = total
        got = await deliveries.log(caller, channel_id, offset=(page - 1) * LOG_PAGE, limit=LOG_PAGE)
    page = max(page, 1)
    embed = _paged(log_embed(got, channel_id, who.locale, who.timezone), page, total, who.locale)
    return Reply(embeds=[embed], view=_view(who, "l", channel_id, 0, page, total), ephemeral=True)
