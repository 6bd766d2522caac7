"""Events: one line in a list, or one embed with all its sources."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord.render.embeds import BRAND, EmbedBuilder
from bot.discord.render.flow import Flow
from bot.discord.render.kinds import KIND_COLOURS, kind_label
from bot.discord.render.text import link, plain, refs
from bot.i18n import N_, format_date, gettext, local, tr
from bot.services.views import EventView, SourceView

SOURCES_LABEL = N_("Sources")
NO_SOURCES = N_("none recorded")


def source_line(source: SourceView, locale: str = "en") -> str:
    """``[Title](url) — Publisher, 7 Oct 2015``: sources are links wherever a URL exists; a merged
    dataset row adds what it records (``(apogee 2,800 km · Success)``). The date is written the
    reader's way (``2015年10月7日``); a source's own title and publisher stand as published."""
    parts = [link(source.title, source.url), " — ", plain(source.publisher)]
    if source.published_on:
        parts.append(f", {format_date(source.published_on, source.published_precision, locale)}")
    if source.facts:
        parts.append(f" ({plain(source.facts)})")
    return "".join(parts)


def title_of(event: EventView, locale: str) -> str:
    """The event's title in ``locale`` when it has one there, else the English title whole."""
    return str(local(getattr(event, "i18n", None), locale, "title", event.title))


def summary_of(event: EventView, locale: str) -> str:
    """The event's summary in ``locale`` when translated, else the English summary whole."""
    return str(local(getattr(event, "i18n", None), locale, "summary", event.summary))


def date_of(event: EventView, locale: str) -> str:
    """The event's date, written the reader's way, as precisely as it is known."""
    return format_date(event.occurred_on, event.precision, locale)


def event_line(event: EventView, *, with_id: bool = True, locale: str = "en") -> str:
    """One event on one line: date as precise as known, title, id to open it with /event."""
    ident = f" · `#{event.id}`" if with_id else ""
    here = f" · {gettext(locale, 'local')}" if not event.is_global else ""
    return f"**{date_of(event, locale)}** · {plain(title_of(event, locale))}{ident}{here}"


def primary_source_url(event: EventView) -> str | None:
    """The link of the event's primary source: the first of its sources that has a URL."""
    return next((s.url for s in event.sources if s.url), None)


def _head(event: EventView, marker: str | None, locale: str = "en") -> dict[str, Any]:
    """Title (linked to the primary source), description, colour and footer of an event."""
    title = title_of(event, locale)
    title = f"[{gettext(locale, marker)}] {title}" if marker else title
    retracted = event.status == "retracted"
    description = plain(summary_of(event, locale))
    if retracted:
        reason = f": {plain(event.retract_reason)}" if event.retract_reason else ""
        description = f"**{gettext(locale, 'Retracted')}{reason}**\n~~{description}~~"
    footer = tr(locale, "Event #{id} · revision {revision}", id=event.id, revision=event.revision)
    if not event.is_global:
        footer += " · " + gettext(locale, "local to this server")
    colour = 0x95A5A6 if retracted else KIND_COLOURS.get(event.kind, BRAND)
    return {
        "title": title,
        "description": description,
        "url": primary_source_url(event),
        "colour": colour,
        "footer": footer,
    }


def _facts(event: EventView, locale: str = "en") -> list[tuple[str, str]]:
    """The short inline fields: the date stays a date, as precise as it is known (no time)."""
    facts = [
        (gettext(locale, "Date"), date_of(event, locale)),
        (gettext(locale, "Kind"), kind_label(event.kind, locale)),
        (gettext(locale, "Significance"), "★" * event.significance + "☆" * (5 - event.significance)),
    ]
    named = ((N_("Programs"), event.programs), (N_("Talks"), event.tracks), (N_("Parties"), event.actors))
    for name, refs_ in named:
        if refs_:
            facts.append((gettext(locale, name), refs(refs_, locale)))
    return facts


def event_embed(
    event: EventView, *, marker: str | None = None, note: str | None = None, locale: str = "en"
) -> discord.Embed:
    """One event in one embed (an alert, a curator's confirmation); sources past the room are
    counted and found with /event, which pages them all (:func:`event_pages`). ``note`` ends the
    footer (an alert's delivery reference)."""
    head = _head(event, marker, locale)
    if note:
        head["footer"] = f"{head['footer']} · {note}"
    b = EmbedBuilder(**head)
    for name, value in _facts(event, locale):
        b.add_field(name, value, inline=True)
    more = gettext(locale, "+ {n} more sources: /event id:{id}").replace("{id}", str(event.id))
    lines = [source_line(s, locale) for s in event.sources]
    b.add_lines(gettext(locale, SOURCES_LABEL), lines, empty=gettext(locale, NO_SOURCES), more=more)
    return b.build()


def event_pages(event: EventView, locale: str = "en") -> list[discord.Embed]:
    """/event: the event with every one of its sources, on as many pages as they need."""
    flow = Flow(**_head(event, None, locale))
    for name, value in _facts(event, locale):
        flow.add_field(name, value, inline=True)
    lines = [source_line(s, locale) for s in event.sources]
    flow.add_lines(gettext(locale, SOURCES_LABEL), lines, empty=gettext(locale, NO_SOURCES))
    return flow.build()


def sources_button(event: EventView, locale: str = "en") -> list[tuple[str, str]]:
    """The "Sources" link button of an event: to its primary source, when one has a URL."""
    url = primary_source_url(event)
    return [(gettext(locale, SOURCES_LABEL), url)] if url else []
