"""/brief (the state of play) and /help (what the bot knows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.discord.render.catalog import NONE_RECORDED, status_of, track_status
from bot.discord.render.events import event_line
from bot.discord.render.flow import Flow
from bot.discord.render.text import name_of, plain
from bot.i18n import gettext, tr
from bot.services.views import EventView, ProgramView, TrackView


def brief_pages(
    tracks: Sequence[TrackView],
    programs: Sequence[ProgramView],
    latest: Sequence[EventView],
    heading: str,
    locale: str = "en",
) -> list[discord.Embed]:
    """Every track and every program (the lists flow onto the next page), then the latest events."""
    none = gettext(locale, NONE_RECORDED)
    b = Flow(
        gettext(locale, "State of play"),
        description=gettext(
            locale, "Talks, programs and the latest events. Details: /talks, /program, /timeline."
        ),
        footer=gettext(locale, "Dates are shown as precisely as they are known."),
        locale=locale,
    )
    b.add_lines(
        gettext(locale, "Talks"),
        [f"**{plain(name_of(t, locale))}** — {track_status(t, locale)}" for t in tracks],
        empty=none,
    )
    b.add_lines(
        gettext(locale, "Programs"),
        [f"**{plain(name_of(p, locale))}** — {status_of(p, locale)}" for p in programs],
        empty=none,
    )
    b.add_lines(
        heading, [event_line(e, locale=locale) for e in latest], empty=gettext(locale, "none in this period")
    )
    return b.build()


@dataclass(frozen=True)
class Counts:
    """How much the bot knows, as /help reports it."""

    events: int
    programs: int
    tracks: int
    parties: int
    topics: int
    positions: int
    systems: int = 0
    facilities: int = 0


def _for_moderators(locale: str) -> str:
    """The /help paragraph on the moderators' commands."""
    return (
        gettext(
            locale,
            "`/curate` adds, edits and retracts events and reviews drafts from watched feeds "
            "(Manage Server or the curator role) · "
            "`/alerts` posts new events to a channel (Manage Channels) · `/settings` sets the curator role, "
            "the language of public replies and alerts, and the time zone of times shown (Manage Server).",
        )
        + "\n"
        + gettext(
            locale,
            "`/alerts why` says why a channel did or did not get an event's alert: the filter that "
            "excluded it, a pause or a disabled subscription and since when, or the delivery's attempts, "
            "last error and message · `/alerts log` pages a channel's deliveries, newest first.",
        )
        + "\n"
        + gettext(
            locale,
            "`/alerts subscribe` posts to a text channel, an announcement channel (each alert crossposted), "
            "a forum (each alert a post of its own) or a thread, as the bot or through a webhook with a "
            "name and avatar of your choice; `mode:digest` gathers the events of a day or a week into "
            "one message at the time you set instead.",
        )
    )


def help_pages(
    counts: Counts, commands: Sequence[tuple[str, str]], locale: str = "en"
) -> list[discord.Embed]:
    """``commands`` are (name, description) pairs of the reader commands, every one listed: a list
    that does not fit goes on on the next page (a paged document), never "… and N more"."""
    b = Flow(
        gettext(locale, "Peninsula Brief"),  # the product's name, the same in every catalog
        description=gettext(
            locale,
            "A briefing on North Korea's nuclear and missile programs, the talks around them and the "
            "stated positions of the parties, backed by a curated database of dated, sourced events.",
        ),
        footer=gettext(locale, "Add private:true to any command to get an answer only you can see."),
        locale=locale,
    )
    b.add_field(
        gettext(locale, "What I know"),
        tr(
            locale,
            "{events} events · {programs} programs · {systems} systems · {facilities} facilities · "
            "{tracks} talks tracks · {parties} parties · {topics} topics · {positions} stated positions",
            events=counts.events,
            programs=counts.programs,
            systems=counts.systems,
            facilities=counts.facilities,
            tracks=counts.tracks,
            parties=counts.parties,
            topics=counts.topics,
            positions=counts.positions,
        ),
    )
    b.add_lines(
        gettext(locale, "Commands"),
        [f"`/{name}` — {gettext(locale, description)}" for name, description in commands],
    )
    b.add_field(gettext(locale, "For moderators"), _for_moderators(locale))
    b.add_field(
        gettext(locale, "Following the feed"),
        gettext(
            locale,
            "Alerts also reach a server through Discord's own channel following: `/alerts follow` makes one "
            "of your channels follow the bot's announcement channel (Manage Webhooks). By hand: in the "
            "bot's home server, open that announcement channel, press **Follow** and pick your server and "
            "channel.",
        ),
    )
    b.add_field(
        gettext(locale, "Where the data comes from"),
        gettext(
            locale,
            "Every event cites at least one source — official statements, UN Security Council documents, "
            "government testimony and research institutes (Arms Control Association, CSIS, 38 North, "
            "NTI and others); `/event` lists them with links. Curators of this server may add local events, "
            "visible here only.",
        ),
    )
    return b.build()
