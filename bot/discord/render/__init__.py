"""The one renderer: service results in, Discord embeds and message payloads out, always within limits.

Every limit of DESIGN.md ("Discord limits that rendering must respect") is enforced here, so a long
summary or a large list is shortened with a visible "…" instead of a 400 from Discord. Nothing here
touches the database; the command builders in ``cogs.briefing`` and ``bot.discord.paging`` call the services
and hand the results to these functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.services.catalog import Choice
from bot.services.dates import format_date
from bot.services.views import EventView, PositionView, ProgramView, Ref, SourceView, TrackView

MARKER = "…"
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
EMBEDS_MAX = 10
CONTENT_MAX = 2000
CHOICES_MAX = 25
CHOICE_TEXT_MAX = 100
# A field is only worth adding when a readable piece of its value fits.
MIN_USEFUL_FIELD = 40

_SPACE = re.compile(r"\s")

KIND_LABELS: dict[str, str] = {
    "nuclear_test": "Nuclear test",
    "missile_launch": "Missile launch",
    "satellite_launch": "Satellite launch",
    "military_parade": "Military parade",
    "talks_session": "Talks session",
    "summit": "Summit",
    "agreement": "Agreement",
    "statement": "Statement",
    "sanctions": "Sanctions",
    "testimony": "Testimony",
    "facility_activity": "Facility activity",
    "military_action": "Military action",
    "other": "Other",
}
KIND_COLOURS: dict[str, int] = {
    "nuclear_test": 0xC0392B,
    "missile_launch": 0xE67E22,
    "satellite_launch": 0x8E44AD,
    "talks_session": 0x2980B9,
    "summit": 0x2980B9,
    "agreement": 0x27AE60,
    "sanctions": 0x7F8C8D,
}
BRAND = 0x34495E


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters; a cut ends at a word boundary with "…".

    A single word longer than most of the budget (a URL, say) is cut inside, still with the marker.
    """
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    if limit == 1:
        return MARKER
    head = text[: limit - 1]
    if not _SPACE.match(text[limit - 1]):  # the cut falls inside a word: back off to its start
        spaces = [m.start() for m in _SPACE.finditer(head)]
        if spaces and spaces[-1] >= (limit - 1) // 2:
            head = head[: spaces[-1]]
    return head.rstrip() + MARKER


def join_lines(lines: Sequence[str], limit: int, *, more: str = "… and {n} more") -> str:
    """Whole lines while they fit in ``limit``, then a line saying how many were left out."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        remaining = len(lines) - i - 1
        tail = len(more.format(n=remaining)) + 1 if remaining else 0
        cost = len(line) + (1 if out else 0)
        if used + cost + tail <= limit:
            out.append(line)
            used += cost
            continue
        # This line does not fit whole: shorten it when it is the first, else count it as left out.
        if not out:
            out.append(truncate(line, limit - tail - 1 if remaining else limit))
            used = len(out[0])
            if remaining:
                out.append(more.format(n=remaining))
            return "\n".join(out)
        out.append(more.format(n=len(lines) - i))
        return truncate("\n".join(out), limit)
    return "\n".join(out)


def plain(text: str) -> str:
    """Text safe inside link brackets and free of accidental markdown."""
    return discord.utils.escape_markdown(text).replace("[", "(").replace("]", ")")


def link(text: str, url: str | None) -> str:
    if not url:
        return plain(text)
    safe = url.replace(")", "%29").replace(" ", "%20")
    return f"[{plain(text)}]({safe})"


def source_line(source: SourceView) -> str:
    """``[Title](url) — Publisher, 7 Oct 2015``: sources are links wherever a URL exists."""
    parts = [link(source.title, source.url), " — ", plain(source.publisher)]
    if source.date_label:
        parts.append(f", {source.date_label}")
    return "".join(parts)


def since_label(value: Any, precision: str) -> str:
    return f"since {format_date(value, precision)}" if value else "date unknown"


def refs(items: Iterable[Ref]) -> str:
    return ", ".join(r.name for r in items)


def event_line(event: EventView, *, with_id: bool = True) -> str:
    """One event on one line: date as precise as known, title, id to open it with /event."""
    ident = f" · `#{event.id}`" if with_id else ""
    local = " · local" if not event.is_global else ""
    return f"**{event.date_label}** · {plain(event.title)}{ident}{local}"


class EmbedBuilder:
    """Builds an embed that never breaks a Discord limit, shortening visibly when it must."""

    def __init__(
        self,
        title: str,
        *,
        description: str = "",
        url: str | None = None,
        colour: int = BRAND,
        footer: str | None = None,
        author: str | None = None,
    ) -> None:
        self.title = truncate(title, TITLE_MAX)
        self.url = url
        self.colour = colour
        self.footer = truncate(footer, FOOTER_MAX - 40) if footer else None
        self.author = truncate(author, AUTHOR_MAX) if author else None
        self.fields: list[tuple[str, str, bool]] = []
        self.omitted = 0
        # What title, footer, author and the "fields omitted" note may take from the 6000 total.
        fixed = len(self.title) + len(self.footer or "") + len(self.author or "") + 40
        self._budget = EMBED_TOTAL_MAX - fixed
        self.description = truncate(description, min(DESCRIPTION_MAX, self._budget))
        self._budget -= len(self.description)

    def describe(self, text: str) -> None:
        """Replace the description, within what is left of the budget."""
        self._budget += len(self.description)
        self.description = truncate(text, min(DESCRIPTION_MAX, self._budget))
        self._budget -= len(self.description)

    def add_field(self, name: str, value: str, *, inline: bool = False) -> bool:
        """Add a field, shortened to fit; False (and counted as omitted) when nothing useful fits."""
        name = truncate(name or "\u200b", FIELD_NAME_MAX)
        value = value or "—"
        room = min(FIELD_VALUE_MAX, self._budget - len(name))
        if len(self.fields) >= FIELDS_MAX or room < min(MIN_USEFUL_FIELD, len(value)):
            self.omitted += 1
            return False
        value = truncate(value, room)
        self.fields.append((name, value, inline))
        self._budget -= len(name) + len(value)
        return True

    def add_lines(self, name: str, lines: Sequence[str], *, inline: bool = False, empty: str = "—") -> bool:
        room = min(FIELD_VALUE_MAX, self._budget - len(name))
        if not lines:
            return self.add_field(name, empty, inline=inline)
        return self.add_field(name, join_lines(lines, max(room, 0)), inline=inline)

    def build(self) -> discord.Embed:
        embed = discord.Embed(title=self.title, description=self.description or None, colour=self.colour)
        if self.url:
            embed.url = self.url
        if self.author:
            embed.set_author(name=self.author)
        for name, value, inline in self.fields:
            embed.add_field(name=name, value=value, inline=inline)
        footer = self.footer or ""
        if self.omitted:
            footer = (
                f"{footer} · {self.omitted} more not shown" if footer else f"{self.omitted} more not shown"
            )
        if footer:
            embed.set_footer(text=footer)
        return embed


@dataclass(frozen=True)
class Who:
    """Who asks: the guild decides which local events are visible; the user owns the pages."""

    guild_id: int | None
    user_id: int


@dataclass
class Reply:
    """What a command answers: the same object goes to Discord and to the console."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    ephemeral: bool = False

    def __post_init__(self) -> None:
        if self.content is not None:
            self.content = truncate(self.content, CONTENT_MAX)
        self.embeds = fit_embeds(self.embeds)

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``send_message`` / ``followup.send``."""
        kwargs: dict[str, Any] = {
            "embeds": self.embeds,
            "ephemeral": self.ephemeral,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if self.content:
            kwargs["content"] = self.content
        if self.view is not None:
            kwargs["view"] = self.view
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``edit_message`` (a page turn replaces everything)."""
        return {
            "content": self.content,
            "embeds": self.embeds,
            "view": self.view,
            "allowed_mentions": discord.AllowedMentions.none(),
        }

    def payload(self) -> dict[str, Any]:
        """The message exactly as discord.py serialises it for Discord."""
        return {
            "content": self.content or "",
            "embeds": [e.to_dict() for e in self.embeds],
            "components": self.view.to_components() if self.view is not None else [],
            "flags": discord.MessageFlags(ephemeral=self.ephemeral).value,
            "allowed_mentions": discord.AllowedMentions.none().to_dict(),
        }


def fit_embeds(embeds: Sequence[discord.Embed]) -> list[discord.Embed]:
    """At most 10 embeds, 6000 characters in all (embeds past the budget are dropped, noted in the last)."""
    kept: list[discord.Embed] = []
    total = 0
    for embed in embeds[:EMBEDS_MAX]:
        if total + len(embed) > EMBED_TOTAL_MAX:
            break
        kept.append(embed)
        total += len(embed)
    dropped = len(embeds) - len(kept)
    if dropped and kept:
        last = kept[-1]
        note = f"{dropped} more not shown"
        text = last.footer.text if last.footer and last.footer.text else ""
        if total + len(note) + 3 <= EMBED_TOTAL_MAX:
            last.set_footer(text=truncate(f"{text} · {note}" if text else note, FOOTER_MAX))
    return kept


def message(text: str, *, ephemeral: bool = True) -> Reply:
    return Reply(content=text, ephemeral=ephemeral)


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


def event_embed(event: EventView, *, marker: str | None = None) -> discord.Embed:
    """One event with all its sources; ``marker`` ("Updated", "Retracted", ...) leads the title."""
    title = event.title
    if marker:
        title = f"[{marker}] {title}"
    retracted = event.status == "retracted"
    description = event.summary
    if retracted:
        reason = f": {event.retract_reason}" if event.retract_reason else ""
        description = f"**Retracted{reason}**\n~~{event.summary}~~"
    b = EmbedBuilder(
        title,
        description=description,
        colour=0x95A5A6 if retracted else KIND_COLOURS.get(event.kind, BRAND),
        footer=f"Event #{event.id} · revision {event.revision}"
        + (" · local to this server" if not event.is_global else ""),
    )
    b.add_field("Date", event.date_label, inline=True)
    b.add_field("Kind", kind_label(event.kind), inline=True)
    b.add_field("Significance", "★" * event.significance + "☆" * (5 - event.significance), inline=True)
    if event.programs:
        b.add_field("Programs", refs(event.programs), inline=True)
    if event.tracks:
        b.add_field("Talks", refs(event.tracks), inline=True)
    if event.actors:
        b.add_field("Parties", refs(event.actors), inline=True)
    b.add_lines("Sources", [source_line(s) for s in event.sources], empty="none recorded")
    return b.build()


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
    title = f"{party} on {topic}" if topic else f"{party}: stated positions"
    b = EmbedBuilder(title, footer="Positions as stated, with the date they were current (as of).")
    if not positions:
        b.describe("No stated position is recorded" + (f" on {topic}." if topic else "."))
    for p in positions:
        name = f"{p.topic.name}: {p.stance} (as of {format_date(p.as_of, p.as_of_precision)})"
        b.add_field(name, _position_value(p))
    return [b.build()]


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


def choices(items: Iterable[Choice]) -> list[discord.app_commands.Choice[str]]:
    """Autocomplete answers within Discord's limits (25 choices, 100 characters each)."""
    out: list[discord.app_commands.Choice[str]] = []
    for c in items:
        if len(out) == CHOICES_MAX:
            break
        out.append(
            discord.app_commands.Choice(
                name=truncate(c.name, CHOICE_TEXT_MAX) or c.value[:CHOICE_TEXT_MAX], value=c.value[:100]
            )
        )
    return out
