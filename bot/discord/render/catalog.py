"""Catalog records: a program, a talks track, a party's positions, every party's position on a topic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.discord.render.embeds import EmbedBuilder
from bot.discord.render.events import event_line, source_line
from bot.discord.render.flow import Flow
from bot.discord.render.text import plain, refs
from bot.services.dates import format_date
from bot.services.views import Comparison, EventView, PositionView, ProgramView, Statements, TrackView


def since_label(value: Any, precision: str) -> str:
    return f"since {format_date(value, precision)}" if value else "date unknown"


def status_line(status: str, since: Any, precision: str) -> str:
    return f"{status} ({since_label(since, precision)})" if since else status


def program_embeds(
    program: ProgramView, milestones: Sequence[EventView], latest: Sequence[EventView]
) -> list[discord.Embed]:
    b = EmbedBuilder(program.name, description=program.summary, footer=f"/timeline program:{program.slug}")
    b.add_field("Status", status_line(program.status, program.status_since, program.status_since_precision))
    b.add_field("Category", program.category.capitalize(), inline=True)
    if program.aliases:
        b.add_field("Also known as", ", ".join(program.aliases), inline=True)
    b.add_lines("Facilities", [_facility(f) for f in program.facilities], empty="none recorded")
    b.add_lines("Systems", [_facility(s) for s in program.systems], empty="none recorded")
    b.add_lines("Milestones", [event_line(e) for e in milestones], empty="none recorded")
    b.add_lines("Latest events", [event_line(e) for e in latest], empty="none recorded")
    return [b.build()]


def _facility(item: dict[str, Any]) -> str:
    name = plain(str(item.get("name", "?")))
    extras = [str(item[k]) for k in ("location", "status") if item.get(k)]
    return f"**{name}**" + (f" — {'; '.join(extras)}" if extras else "")


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
    """One block per state (date, stance, source; every state, recorded or not), then the people
    and organizations quoted on the topic as "other voices", never among the states."""
    topic = comparison.topic.name
    b = Flow(f"Positions on {topic}", footer="Each state's latest stated position; other voices below.")
    if not any(history for _, history in comparison.states) and not comparison.voices:
        b.describe(f"No position on {topic} is recorded yet.")
    for state, history in comparison.states:
        if not history:
            continue
        latest = history[0]
        earlier = f"\nEarlier positions: {len(history) - 1} (see /position)" if len(history) > 1 else ""
        name = f"{state.name} (as of {format_date(latest.as_of, latest.as_of_precision)})"
        b.add_field(name, f"**{latest.stance}**\n{_position_value(latest)}{earlier}", inline=True)
    if comparison.voices:
        b.add_field("Other voices", f"{len(comparison.voices)} quoted on {topic}, not states.")
        for p in comparison.voices:
            b.add_field(
                f"{p.party.name}: {p.stance} (as of {format_date(p.as_of, p.as_of_precision)})",
                _position_value(p),
            )
    return b.build()
