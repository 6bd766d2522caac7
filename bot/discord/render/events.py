"""Events: one line in a list, or one embed with all its sources."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord.render.embeds import BRAND, EmbedBuilder
from bot.discord.render.flow import Flow
from bot.discord.render.kinds import KIND_COLOURS, kind_label
from bot.discord.render.text import link, plain, refs
from bot.services.views import EventView, SourceView

SOURCES_LABEL = "Sources"


def source_line(source: SourceView) -> str:
    """``[Title](url) — Publisher, 7 Oct 2015``: sources are links wherever a URL exists; a merged
    dataset row adds what it records (``(apogee 2,800 km · Success)``)."""
    parts = [link(source.title, source.url), " — ", plain(source.publisher)]
    if source.date_label:
        parts.append(f", {source.date_label}")
    if source.facts:
        parts.append(f" ({plain(source.facts)})")
    return "".join(parts)


def event_line(event: EventView, *, with_id: bool = True) -> str:
    """One event on one line: date as precise as known, title, id to open it with /event."""
    ident = f" · `#{event.id}`" if with_id else ""
    local = " · local" if not event.is_global else ""
    return f"**{event.date_label}** · {plain(event.title)}{ident}{local}"


def primary_source_url(event: EventView) -> str | None:
    """The link of the event's primary source: the first of its sources that has a URL."""
    return next((s.url for s in event.sources if s.url), None)


def _head(event: EventView, marker: str | None) -> dict[str, Any]:
    """Title (linked to the primary source), description, colour and footer of an event."""
    title = f"[{marker}] {event.title}" if marker else event.title
    retracted = event.status == "retracted"
    description = plain(event.summary)
    if retracted:
        reason = f": {plain(event.retract_reason)}" if event.retract_reason else ""
        description = f"**Retracted{reason}**\n~~{description}~~"
    footer = f"Event #{event.id} · revision {event.revision}" + (
        " · local to this server" if not event.is_global else ""
    )
    colour = 0x95A5A6 if retracted else KIND_COLOURS.get(event.kind, BRAND)
    return {
        "title": title,
        "description": description,
        "url": primary_source_url(event),
        "colour": colour,
        "footer": footer,
    }


def _facts(event: EventView) -> list[tuple[str, str]]:
    """The short inline fields: the date stays a date, as precise as it is known (no time)."""
    facts = [
        ("Date", event.date_label),
        ("Kind", kind_label(event.kind)),
        ("Significance", "★" * event.significance + "☆" * (5 - event.significance)),
    ]
    for name, refs_ in (("Programs", event.programs), ("Talks", event.tracks), ("Parties", event.actors)):
        if refs_:
            facts.append((name, refs(refs_)))
    return facts


def event_embed(event: EventView, *, marker: str | None = None, note: str | None = None) -> discord.Embed:
    """One event in one embed (an alert, a curator's confirmation); sources past the room are
    counted and found with /event, which pages them all (:func:`event_pages`). ``note`` ends the
    footer (an alert's delivery reference)."""
    head = _head(event, marker)
    if note:
        head["footer"] = f"{head['footer']} · {note}"
    b = EmbedBuilder(**head)
    for name, value in _facts(event):
        b.add_field(name, value, inline=True)
    more = f"+ {{n}} more sources: /event id:{event.id}"
    b.add_lines("Sources", [source_line(s) for s in event.sources], empty="none recorded", more=more)
    return b.build()


def event_pages(event: EventView) -> list[discord.Embed]:
    """/event: the event with every one of its sources, on as many pages as they need."""
    flow = Flow(**_head(event, None))
    for name, value in _facts(event):
        flow.add_field(name, value, inline=True)
    flow.add_lines("Sources", [source_line(s) for s in event.sources], empty="none recorded")
    return flow.build()


def sources_button(event: EventView) -> list[tuple[str, str]]:
    """The "Sources" link button of an event: to its primary source, when one has a URL."""
    url = primary_source_url(event)
    return [(SOURCES_LABEL, url)] if url else []
