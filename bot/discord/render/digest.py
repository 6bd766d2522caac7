"""A digest: one period's events in one message, or in several when they do not fit one.

Counts first (how many events, and how many in each group), then one section per group — the
event's first program, else its first talks track, else "Other events" — with one line per event
(its date, its title linked to its primary source, its number). The sections flow as any long
answer does (``render/flow.py``): a list that does not fit goes on under "Name (continued)" on the
next page, never cut inside a line. Each page is one message of one embed (a message holds 6,000
characters across its embeds, a page up to that): a long digest is several messages, "Page 2/3".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.discord.render.embeds import BRAND
from bot.discord.render.events import date_of, primary_source_url, title_of
from bot.discord.render.flow import Flow, page_footer
from bot.discord.render.text import link, name_of, plain
from bot.i18n import N_, format_datetime, gettext, ngettext, tr
from bot.services.views import EventView, Ref

FREQUENCY_TITLES = {"daily": N_("Daily digest"), "weekly": N_("Weekly digest")}
OTHER = N_("Other events")


@dataclass(frozen=True)
class Period:
    """What a digest covers: [start, end) in UTC, shown in ``timezone``."""

    frequency: str
    start: dt.datetime
    end: dt.datetime
    timezone: str


def _group_of(event: EventView) -> Ref | None:
    return (event.programs or event.tracks or (None,))[0]


def groups(events: Sequence[EventView], locale: str) -> list[tuple[str, list[EventView]]]:
    """The events by group (first program, else first track, else "Other events"), the biggest
    group first, each group's events in date order."""
    named: dict[str, list[EventView]] = {}
    other: list[EventView] = []
    for event in events:
        ref = _group_of(event)
        if ref is None:
            other.append(event)
        else:
            named.setdefault(name_of(ref, locale), []).append(event)
    ordered = sorted(named.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    if other:
        ordered.append((gettext(locale, OTHER), other))
    return [(name, sorted(evs, key=lambda e: (e.occurred_on, e.id))) for name, evs in ordered]


def digest_line(event: EventView, locale: str) -> str:
    """``**3 Dec 2026** · [Title](source) · `#12```: one event of a digest, linked."""
    title = link(plain(title_of(event, locale)), primary_source_url(event))
    return f"**{date_of(event, locale)}** · {title} · `#{event.id}`"


def period_text(period: Period, locale: str) -> str:
    start = format_datetime(period.start, locale, period.timezone)
    end = format_datetime(period.end, locale, period.timezone)
    return f"{start} – {end}"


def digest_pages(
    events: Sequence[EventView], period: Period, locale: str = "en", ref: str | None = None
) -> list[discord.Embed]:
    """Every page of one period's digest (each one message); ``ref`` ends each footer."""
    title = gettext(locale, FREQUENCY_TITLES.get(period.frequency, FREQUENCY_TITLES["daily"]))
    footer = period_text(period, locale) + (f" · {ref}" if ref else "")
    flow = Flow(title, colour=BRAND, footer=footer, locale=locale)
    grouped = groups(events, locale)
    if not events:
        flow.describe(gettext(locale, "No new events in this period."))
    else:
        total = ngettext(locale, "**{count} event**", "**{count} events**", len(events)).format(
            count=len(events)
        )
        counts = " · ".join(f"{plain(name)} {len(evs)}" for name, evs in grouped)
        flow.describe(f"{total}: {counts}")
    for name, evs in grouped:
        flow.add_lines(plain(name), [digest_line(e, locale) for e in evs])
    pages = flow.build()
    if len(pages) > 1:
        for number, page in enumerate(pages, 1):
            page.set_footer(text=page_footer(footer, number, len(pages), locale))
    return pages


def digest_content(period: Period, locale: str) -> str:
    """The message's one line above the embed: which digest and which period."""
    title = gettext(locale, FREQUENCY_TITLES.get(period.frequency, FREQUENCY_TITLES["daily"]))
    return tr(locale, "**{title}** · {period}", title=title, period=period_text(period, locale))
