"""Events: one line in a list, or one embed with all its sources."""

from __future__ import annotations

import discord

from bot.discord.render.embeds import BRAND, EmbedBuilder
from bot.discord.render.kinds import KIND_COLOURS, kind_label
from bot.discord.render.text import link, plain, refs
from bot.services.views import EventView, SourceView


def source_line(source: SourceView) -> str:
    """``[Title](url) — Publisher, 7 Oct 2015``: sources are links wherever a URL exists."""
    parts = [link(source.title, source.url), " — ", plain(source.publisher)]
    if source.date_label:
        parts.append(f", {source.date_label}")
    return "".join(parts)


def event_line(event: EventView, *, with_id: bool = True) -> str:
    """One event on one line: date as precise as known, title, id to open it with /event."""
    ident = f" · `#{event.id}`" if with_id else ""
    local = " · local" if not event.is_global else ""
    return f"**{event.date_label}** · {plain(event.title)}{ident}{local}"


def event_embed(event: EventView, *, marker: str | None = None) -> discord.Embed:
    """One event with all its sources; ``marker`` ("Updated", "Retracted", ...) leads the title."""
    title = event.title
    if marker:
        title = f"[{marker}] {title}"
    retracted = event.status == "retracted"
    description = event.summary
    if retracted:
        reason = f": {event.retract_reason}" if event.retract_reason else ""
        description = f"**Retracted{reason}**\n~~{event.summary}~~"
    b = EmbedBuilder(
        title,
        description=description,
        colour=0x95A5A6 if retracted else KIND_COLOURS.get(event.kind, BRAND),
        footer=f"Event #{event.id} · revision {event.revision}"
        + (" · local to this server" if not event.is_global else ""),
    )
    b.add_field("Date", event.date_label, inline=True)
    b.add_field("Kind", kind_label(event.kind), inline=True)
    b.add_field("Significance", "★" * event.significance + "☆" * (5 - event.significance), inline=True)
    if event.programs:
        b.add_field("Programs", refs(event.programs), inline=True)
    if event.tracks:
        b.add_field("Talks", refs(event.tracks), inline=True)
    if event.actors:
        b.add_field("Parties", refs(event.actors), inline=True)
    b.add_lines("Sources", [source_line(s) for s in event.sources], empty="none recorded")
    return b.build()
