"""The embeds of paged replies: a timeline page and a search page (the buttons live in paging)."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord.render.embeds import EmbedBuilder
from bot.discord.render.events import event_line
from bot.discord.render.text import truncate
from bot.services.search import SearchPage
from bot.services.views import EventView

SEARCH_TITLE = "Search: "


def timeline_embed(items: Sequence[EventView], page: int, labels: Sequence[str]) -> discord.Embed:
    description = "\n".join(event_line(e) for e in items) if items else "No events match."
    b = EmbedBuilder(
        "Timeline",
        description=description,
        footer=f"Page {page} · newest first · open one with /event id",
        author=", ".join(labels) if labels else "all events",
    )
    return b.build()


def search_embed(result: SearchPage) -> discord.Embed:
    b = EmbedBuilder(
        SEARCH_TITLE + result.query,
        footer=_search_footer(result.offset, len(result.events), result.total_events),
    )
    if result.catalog:
        lines = [f"**{h.title}** ({h.kind}) — {truncate(h.summary, 140)}" for h in result.catalog]
        b.add_lines("Programs, talks and positions", lines)
    if result.events:
        lines = [f"{event_line(e)}\n{truncate(e.summary, 160)}" for e in result.events]
        b.add_lines("Events", lines)
    if not result.events and not result.catalog:
        b.describe("Nothing matches. Try fewer or different words.")
    return b.build()


def _search_footer(offset: int, shown: int, total: int) -> str:
    if not total:
        return "No events match"
    return f"Events {offset + 1}–{offset + shown} of {total} · best matches first"
