"""The embeds of paged replies: a timeline page and a search page (the buttons live in paging)."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord.render.embeds import EmbedBuilder
from bot.discord.render.events import event_line, summary_of
from bot.discord.render.flow import CONTINUED_NAME
from bot.discord.render.text import (
    EMBED_TOTAL_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    TITLE_MAX,
    name_of,
    plain,
    truncate,
)
from bot.i18n import N_, gettext, local, tr
from bot.services.search import RANK_WINDOW, SearchPage
from bot.services.search_catalog import CatalogHit
from bot.services.views import EventView, PositionView

SEARCH_TITLE = N_("Search: ")  # the query follows; a button reads it back from the title


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


def search_embed(result: SearchPage, locale: str = "en") -> tuple[discord.Embed, int]:
    """The page, and how many of its events it shows: every one the footer counts, and the next
    page starts after the last one shown."""
    catalog = [h for h in result.catalog if h.kind not in PARTS]
    parts = [h for h in result.catalog if h.kind in PARTS]
    fields = [
        (gettext(locale, name), "\n".join(_catalog_line(h, locale) for h in hits))
        for name, hits in ((CATALOG_FIELD, catalog), (PARTS_FIELD, parts))
        if hits
    ]
    description = _search_note(result, locale)
    title = gettext(locale, SEARCH_TITLE) + result.query
    events_field = gettext(locale, EVENTS_FIELD)
    budget = EMBED_TOTAL_MAX - FOOTER_RESERVE - min(len(title), TITLE_MAX) - len(description)
    budget -= sum(len(n) + len(v) for n, v in fields)
    entries = [_event_entry(e, locale) for e in result.events]
    packed = _pack(entries, budget, FIELDS_MAX - len(fields), len(events_field))
    shown = sum(len(lines) for lines in packed)
    b = EmbedBuilder(
        title, description=description, footer=_search_footer(result, shown, locale), locale=locale
    )
    for name, value in fields:
        b.add_field(name, value)
    for n, lines in enumerate(packed):
        b.add_field(
            events_field if n == 0 else tr(locale, CONTINUED_NAME, name=events_field), "\n".join(lines)
        )
    return b.build(), shown


CATALOG_FIELD = N_("Programs, talks and positions")
PARTS_FIELD = N_("Systems and sites")
EVENTS_FIELD = N_("Events")
PARTS = ("system", "facility")
HIT_KINDS = {
    "program": N_("program"),
    "system": N_("system"),
    "facility": N_("facility"),
    "track": N_("talks"),
    "position": N_("position"),
}
#: What the footer of a search page may take ("Events 1,001–1,006 of 1,000+ · closest matches first").
FOOTER_RESERVE = 120
# Every catalog hit of a page fits its field whole.
CATALOG_LINE_MAX = FIELD_VALUE_MAX // 5 - 1
EVENT_SUMMARY_MAX = 160


def _hit_text(hit: CatalogHit, locale: str) -> tuple[str, str]:
    """A catalog hit's title and summary in ``locale`` (a position's summary stands as recorded)."""
    record = hit.record
    if record is None or locale == "en":
        return hit.title, hit.summary
    if isinstance(record, PositionView):
        title = tr(
            locale,
            "{party} on {topic} ({year})",
            party=name_of(record.party, locale),
            topic=name_of(record.topic, locale),
            year=record.as_of.year,
        )
        return title, hit.summary
    return name_of(record, locale), str(local(record.i18n, locale, "summary", hit.summary))


def _catalog_line(hit: CatalogHit, locale: str = "en") -> str:
    title, summary = _hit_text(hit, locale)
    kind = gettext(locale, HIT_KINDS[hit.kind]) if hit.kind in HIT_KINDS else hit.kind
    return truncate(f"**{plain(title)}** ({kind}) — {plain(summary)}", CATALOG_LINE_MAX)


def _event_entry(event: EventView, locale: str = "en") -> str:
    summary = truncate(summary_of(event, locale), EVENT_SUMMARY_MAX)
    return truncate(f"{event_line(event, locale=locale)}\n{plain(summary)}", FIELD_VALUE_MAX)


def _pack(entries: Sequence[str], budget: int, fields: int, name: int = len(EVENTS_FIELD)) -> list[list[str]]:
    """Whole entries, in order, into fields of at most FIELD_VALUE_MAX; stops where the budget ends
    (``name``: the length of the events field's name)."""
    packed: list[list[str]] = []
    used = 0
    for entry in entries:
        current = packed[-1] if packed else None
        joined = len(entry) + 1
        if current is not None and sum(len(x) + 1 for x in current) + len(entry) <= FIELD_VALUE_MAX:
            cost = joined
        elif len(packed) < fields:
            cost, current = len(entry) + name + 12, None
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


def _search_note(result: SearchPage, locale: str = "en") -> str:
    if not result.events and not result.catalog:
        return gettext(locale, "Nothing matches. Try fewer or different words.")
    if result.mode != "any":
        return ""
    if not result.complete:
        return gettext(locale, "No event has all of these words; closest matches.")
    if result.complete == 1:
        return gettext(
            locale, "Only 1 event has all of these words; it comes first, then the closest matches."
        )
    return tr(
        locale,
        "Only {n} events have all of these words; they come first, then the closest matches.",
        n=result.complete,
    )


def _search_footer(result: SearchPage, shown: int, locale: str = "en") -> str:
    if not result.total_events:
        return gettext(locale, "No events match")
    total = f"{RANK_WINDOW:,}+" if result.total_events > RANK_WINDOW else f"{result.total_events:,}"
    if result.mode == "any":
        order = gettext(locale, "closest matches first")
    else:
        order = gettext(locale, "best matches first")
    if not shown:
        return tr(locale, "{total} events · {order}", total=total, order=order)
    first, last = f"{result.offset + 1:,}", f"{result.offset + shown:,}"
    return tr(
        locale, "Events {first}–{last} of {total} · {order}", first=first, last=last, total=total, order=order
    )
