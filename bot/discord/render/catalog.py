"""Catalog records: a program, a system or facility, a talks track, a party's positions, every
party's position on a topic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.discord.render.events import event_line, source_line
from bot.discord.render.flow import Flow
from bot.discord.render.text import plain, refs
from bot.services.dates import format_date
from bot.services.views import (
    Comparison,
    EventView,
    PartView,
    PositionView,
    ProgramView,
    Statements,
    TrackView,
)


def since_label(value: Any, precision: str) -> str:
    return f"since {format_date(value, precision)}" if value else "date unknown"


def status_line(status: str, since: Any, precision: str) -> str:
    return f"{status} ({since_label(since, precision)})" if since else status


def program_embeds(
    program: ProgramView, milestones: Sequence[EventView], latest: Sequence[EventView]
) -> list[discord.Embed]:
    """A program as pages: every system and site on a line of its own, every milestone, none cut."""
    b = Flow(program.name, description=program.summary, footer=f"/timeline program:{program.slug}")
    b.add_field("Status", status_line(program.status, program.status_since, program.status_since_precision))
    b.add_field("Category", program.category.capitalize(), inline=True)
    if program.aliases:
        b.add_field("Also known as", plain(", ".join(program.aliases)), inline=True)
    b.add_lines("Facilities", [part_line(f) for f in program.facilities], empty="none recorded")
    b.add_lines("Systems", [part_line(s) for s in program.systems], empty="none recorded")
    b.add_lines("Milestones", [event_line(e) for e in milestones], empty="none recorded")
    b.add_lines("Latest events", [event_line(e) for e in latest], empty="none recorded")
    return b.build()


def part_line(part: PartView) -> str:
    """A system or site on one line: its name, where it is, its status and since when."""
    status = status_line(part.status, part.status_since, part.status_since_precision) if part.status else ""
    extras = [x for x in (part.location, status) if x]
    return f"**{plain(part.name)}**" + (f" — {plain('; '.join(extras))}" if extras else "")


def part_embeds(part: PartView, events: Sequence[EventView], total: int) -> list[discord.Embed]:
    """A system's or facility's own page: part of which program, its status since when, its names,
    its key dates and its own events (every one, paged; the newest ``len(events)`` of ``total``)."""
    option = "system" if part.kind == "system" else "facility"
    b = Flow(part.name, footer=f"/timeline {option}:{part.slug}")
    b.describe(
        f"Part of: {plain(part.program.name)}" + (f"\n\n{plain(part.summary)}" if part.summary else "")
    )
    if part.status:
        b.add_field("Status", plain(status_line(part.status, part.status_since, part.status_since_precision)))
    if part.location:
        b.add_field("Location", plain(part.location), inline=True)
    if part.names():
        b.add_field("Also known as", plain(", ".join(part.names())), inline=True)
    b.add_lines(
        "Key dates", [f"**{d.date_label}** · {plain(d.text)}" for d in part.key_dates], empty="none recorded"
    )
    heading = "Events" if len(events) >= total else f"Events (the newest {len(events)} of {total})"
    b.add_lines(heading, [event_line(e) for e in events], empty="none recorded")
    return b.build()


def track_embeds(
    track: TrackView,
    last_session: EventView | None,
    agreements: Sequence[EventView],
    latest: Sequence[EventView],
) -> list[discord.Embed]:
    """A talks track as pages: every agreement is listed (in date order), none is cut off."""
    b = Flow(track.name, description=track.summary, footer=f"/timeline track:{track.slug}")
    b.add_field(
        "Status", status_line(track.status.capitalize(), track.status_since, track.status_since_precision)
    )
    b.add_field("Participants", refs(track.participants) or "—")
    b.add_field("Last session", event_line(last_session) if last_session else "none recorded")
    b.add_lines("Agreements", [agreement_line(e) for e in agreements], empty="none recorded")
    b.add_lines("Latest events", [event_line(e) for e in latest], empty="none recorded")
    return b.build()


def agreement_line(event: EventView) -> str:
    """An agreement, or the joint statement a summit adopted (named, with the summit beside it)."""
    named = event.agreement
    if event.kind == "agreement" or not named:
        return event_line(event)
    return f"**{event.date_label}** · {plain(named)} ({plain(event.title)}) · `#{event.id}`"


def _position_value(p: PositionView) -> str:
    lines = [p.summary]
    if p.quote:
        speaker = f" — {p.speaker.name}" if p.speaker else ""
        lines.append(f"> “{p.quote}”{speaker}")
    lines.append(f"Source: {source_line(p.source)}")
    return "\n".join(lines)


def _position_name(p: PositionView, *, party: bool = False) -> str:
    who = f"{p.party.name} · " if party else ""
    return f"{who}{p.topic.name}: {p.stance} (as of {format_date(p.as_of, p.as_of_precision)})"


def positions_embeds(statements: Statements, topic: str | None) -> list[discord.Embed]:
    """Every position, whole (a paged document). A person's own statements come first, then the
    positions of the state they spoke for, under a heading that says so."""
    actor, state = statements.actor, statements.state
    title = f"{actor.name} on {topic}" if topic else f"{actor.name}: stated positions"
    b = Flow(title, footer="Positions as stated, with the date they were current (as of).")
    on = f" on {topic}" if topic else ""
    if actor.kind == "person":
        also = f", then the positions of {state.name}, the state {actor.name} spoke for" if state else ""
        b.describe(f"{actor.name}'s own statements{on} first{also}.")
    if not statements.own and not statements.state_positions:
        b.add_field("Nothing recorded", f"No stated position is recorded{on}.")
    elif actor.kind == "person":
        count = f"{len(statements.own)} recorded{on}" if statements.own else f"None recorded{on}"
        b.add_field(f"{actor.name}'s own statements", f"{count}: positions {actor.name} stated.")
    for p in statements.own:
        b.add_field(_position_name(p, party=p.party.slug != actor.slug), _position_value(p))
    if state is not None and statements.state_positions:
        b.add_field(
            f"Positions of {state.name}",
            f"{len(statements.state_positions)} recorded{on}, the state {actor.name} spoke for; "
            "newest first within each topic.",
        )
        for p in statements.state_positions:
            b.add_field(_position_name(p, party=True), _position_value(p))
    return b.build()


def compare_embeds(comparison: Comparison) -> list[discord.Embed]:
    """One block per state, full width (stance, date, summary, quote, source; every state, a state
    with nothing recorded too), then the people and organizations quoted on the topic as "other
    voices", never among the states. A block that does not fit goes on the next page, whole."""
    topic = comparison.topic.name
    b = Flow(f"Positions on {topic}", footer="Each state's latest stated position; other voices below.")
    if not any(history for _, history in comparison.states) and not comparison.voices:
        b.describe(f"No position on {topic} is recorded yet.")
    for state, history in comparison.states:
        if not history:
            b.add_field(state.name, f"No stated position on {topic} is recorded.")
            continue
        latest = history[0]
        earlier = f"\nEarlier positions: {len(history) - 1} (see /position)" if len(history) > 1 else ""
        name = f"{state.name} (as of {format_date(latest.as_of, latest.as_of_precision)})"
        b.add_field(name, f"**{latest.stance}**\n{_position_value(latest)}{earlier}")
    if comparison.voices:
        b.add_field("Other voices", f"{len(comparison.voices)} quoted on {topic}, not states.")
        for p in comparison.voices:
            b.add_field(
                f"{p.party.name}: {p.stance} (as of {format_date(p.as_of, p.as_of_precision)})",
                _position_value(p),
            )
    return b.build()
