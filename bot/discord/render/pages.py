"""The embeds of paged replies: a timeline page and a search page (the buttons live in paging)."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord.render.embeds import EmbedBuilder
from bot.discord.render.events import event_line
from bot.discord.render.text import EMBED_TOTAL_MAX, FIELD_VALUE_MAX, FIELDS_MAX, TITLE_MAX, plain, truncate
from bot.i18n import gettext, tr
from bot.services.search import RANK_WINDOW, CatalogHit, SearchPage
from bot.services.views import EventView

SEARCH_TITLE = "Search: "


def timeline_embed(
    items: Sequence[EventView], page: int, labels: Sequence[str], locale: str = "en"
) -> discord.Embed:
    lines = [event_line(e, locale=locale) for e in items]
    description = "\n".join(lines) if items else gettext(locale, "No events match.")
    b = EmbedBuilder(
        gettext(locale, "Timeline"),
        description=description,
        footer=tr(locale, "Page {page} · newest first · open one with /event id", page=page),
        author=", ".join(labels) if labels else gettext(locale, "all events"),
    )
    return b.build()


def search_embed(result: SearchPage) -> tuple[discord.Embed, int]:
    """The page, and how many of its events it shows: every one the footer counts, and the next
    page starts after the last one shown."""
    catalog = [h for h in result.catalog if h.kind not in PARTS]
    parts = [h for h in result.catalog if h.kind in PARTS]
    fields = [
        (name, "\n".join(_catalog_line(h) for h in hits))
        for name, hits in ((CATALOG_FIELD, catalog), (PARTS_FIELD, parts))
        if hits
    ]
    description = _search_note(result)
    title = SEARCH_TITLE + result.query
    budget = EMBED_TOTAL_MAX - FOOTER_RESERVE - min(len(title), TITLE_MAX) - len(description)
    budget -= sum(len(n) + len(v) for n, v in fields)
    packed = _pack([_event_entry(e) for e in result.events], budget, FIELDS_MAX - len(fields))
    shown = sum(len(lines) for lines in packed)
    b = EmbedBuilder(title, description=description, footer=_search_footer(result, shown))
    for name, value in fields:
        b.add_field(name, value)
    for n, lines in enumerate(packed):
        b.add_field(EVENTS_FIELD if n == 0 else f"{EVENTS_FIELD} (continued)", "\n".join(lines))
    return b.build(), shown


CATALOG_FIELD = "Programs, talks and positions"
PARTS_FIELD = "Systems and sites"
EVENTS_FIELD = "Events"
PARTS = ("system", "facility")
#: What the footer of a search page may take ("Events 1,001–1,006 of 1,000+ · closest matches first").
FOOTER_RESERVE = 120
# Every catalog hit of a page fits its field whole.
CATALOG_LINE_MAX = FIELD_VALUE_MAX // 5 - 1
EVENT_SUMMARY_MAX = 160


def _catalog_line(hit: CatalogHit) -> str:
    return truncate(f"**{plain(hit.title)}** ({hit.kind}) — {plain(hit.summary)}", CATALOG_LINE_MAX)


def _event_entry(event: EventView) -> str:
    return truncate(
        f"{event_line(event)}\n{plain(truncate(event.summary, EVENT_SUMMARY_MAX))}", FIELD_VALUE_MAX
    )


def _pack(entries: Sequence[str], budget: int, fields: int) -> list[list[str]]:
    """Whole entries, in order, into fields of at most FIELD_VALUE_MAX; stops where the budget ends."""
    packed: list[list[str]] = []
    used = 0
    for entry in entries:
        current = packed[-1] if packed else None
        joined = len(entry) + 1
        if current is not None and sum(len(x) + 1 for x in current) + len(entry) <= FIELD_VALUE_MAX:
            cost = joined
        elif len(packed) < fields:
            cost, current = len(entry) + len(EVENTS_FIELD) + 12, None
        else:
            break
        if used + cost > budget:
            break
        if current is None:
            packed.append([entry])
        else:
            current.append(entry)
        used += cost
    return packed


def _search_note(result: SearchPage) -> str:
    if not result.events and not result.catalog:
        return "Nothing matches. Try fewer or different words."
    if result.mode != "any":
        return ""
    if not result.complete:
        return "No event has all of these words; closest matches."
    have = "event has" if result.complete == 1 else "events have"
    return f"Only {result.complete} {have} all of these words; they come first, then the closest matches."


def _search_footer(result: SearchPage, shown: int) -> str:
    if not result.total_events:
        return "No events match"
    total = f"{RANK_WINDOW:,}+" if result.total_events > RANK_WINDOW else f"{result.total_events:,}"
    order = "closest matches first" if result.mode == "any" else "best matches first"
    if not shown:
        return f"{total} events · {order}"
    return f"Events {result.offset + 1:,}–{result.offset + shown:,} of {total} · {order}"
