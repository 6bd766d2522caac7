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
from bot.services.views import EventView, PositionView, ProgramView, TrackView


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
    b = EmbedBuilder(track.name, description=track.summary, footer=f"/timeline track:{track.slug}")
    b.add_field(
        "Status", status_line(track.status.capitalize(), track.status_since, track.status_since_precision)
    )
    b.add_field("Participants", refs(track.participants) or "—")
    b.add_field("Last session", event_line(last_session) if last_session else "none recorded")
    b.add_lines("Agreements", [event_line(e) for e in agreements], empty="none recorded")
    b.add_lines("Latest events", [event_line(e) for e in latest], empty="none recorded")
    return [b.build()]


def _position_value(p: PositionView) -> str:
    lines = [p.summary]
    if p.quote:
        speaker = f" — {p.speaker.name}" if p.speaker else ""
        lines.append(f"> “{p.quote}”{speaker}")
    lines.append(f"Source: {source_line(p.source)}")
    return "\n".join(lines)


def positions_embeds(party: str, positions: Sequence[PositionView], topic: str | None) -> list[discord.Embed]:
    """Every position, whole: one that does not fit goes on the next page (a paged document)."""
    title = f"{party} on {topic}" if topic else f"{party}: stated positions"
    b = Flow(title, footer="Positions as stated, with the date they were current (as of).")
    if not positions:
        b.describe("No stated position is recorded" + (f" on {topic}." if topic else "."))
    for p in positions:
        name = f"{p.topic.name}: {p.stance} (as of {format_date(p.as_of, p.as_of_precision)})"
        b.add_field(name, _position_value(p))
    return b.build()


def compare_embeds(topic: str, by_party: dict[str, list[PositionView]]) -> list[discord.Embed]:
    b = EmbedBuilder(f"Positions on {topic}", footer="Each party's latest stated position, side by side.")
    if not by_party:
        b.describe(f"No party's position on {topic} is recorded yet.")
    for party, history in sorted(by_party.items()):
        latest = history[0]
        name = f"{party} (as of {format_date(latest.as_of, latest.as_of_precision)})"
        earlier = f"\nEarlier positions: {len(history) - 1}" if len(history) > 1 else ""
        b.add_field(name, f"**{latest.stance}**\n{_position_value(latest)}{earlier}", inline=True)
    return [b.build()]
