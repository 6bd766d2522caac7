"""/brief (the state of play) and /help (what the bot knows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.discord.render.catalog import status_line
from bot.discord.render.events import event_line
from bot.discord.render.flow import Flow
from bot.services.views import EventView, ProgramView, TrackView


def brief_pages(
    tracks: Sequence[TrackView], programs: Sequence[ProgramView], latest: Sequence[EventView], heading: str
) -> list[discord.Embed]:
    """Every track and every program (the lists flow onto the next page), then the latest events."""
    b = Flow(
        "State of play",
        description="Talks, programs and the latest events. Details: /talks, /program, /timeline.",
        footer="Dates are shown as precisely as they are known.",
    )
    b.add_lines(
        "Talks",
        [f"**{t.name}** — {status_line(t.status, t.status_since, t.status_since_precision)}" for t in tracks],
        empty="none recorded",
    )
    b.add_lines(
        "Programs",
        [
            f"**{p.name}** — {status_line(p.status, p.status_since, p.status_since_precision)}"
            for p in programs
        ],
        empty="none recorded",
    )
    b.add_lines(heading, [event_line(e) for e in latest], empty="none in this period")
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


def help_pages(counts: Counts, commands: Sequence[tuple[str, str]]) -> list[discord.Embed]:
    """``commands`` are (name, description) pairs of the reader commands, every one listed: a list
    that does not fit goes on on the next page (a paged document), never "… and N more"."""
    b = Flow(
        "Peninsula Brief",
        description=(
            "A briefing on North Korea's nuclear and missile programs, the talks around them and the "
            "stated positions of the parties, backed by a curated database of dated, sourced events."
        ),
        footer="Add private:true to any command to get an answer only you can see.",
    )
    b.add_field(
        "What I know",
        f"{counts.events} events · {counts.programs} programs · {counts.systems} systems · "
        f"{counts.facilities} facilities · {counts.tracks} talks tracks · "
        f"{counts.parties} parties · {counts.topics} topics · {counts.positions} stated positions",
    )
    b.add_lines("Commands", [f"`/{name}` — {description}" for name, description in commands])
    b.add_field(
        "For moderators",
        "`/curate` adds, edits and retracts events and reviews drafts from watched feeds (Manage Server or "
        "the curator role) · "
        "`/alerts` posts new events to a channel (Manage Channels) · `/settings` sets the curator role, "
        "the language of public replies and alerts, and the time zone of times shown (Manage Server).",
    )
    b.add_field(
        "Where the data comes from",
        "Every event cites at least one source — official statements, UN Security Council documents, "
        "government testimony and research institutes (Arms Control Association, CSIS, 38 North, "
        "NTI and others); `/event` lists them with links. Curators of this server may add local events, "
        "visible here only.",
    )
    return b.build()
