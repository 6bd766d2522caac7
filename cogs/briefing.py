"""Reader commands: /brief, /program, /talks, /position, /compare, /timeline, /event, /search, /help.

Each command is a thin callback over a builder ``build_x(services, who, **options) -> Reply``; the
console (``python -m bot console``) calls the very same callbacks, so what it prints is what
Discord would get.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import paging, render
from bot.discord.render import EmbedBuilder, Reply, Who
from bot.models import EVENT_KINDS
from bot.services.dates import format_date, parse_date
from bot.services.errors import NotFound
from bot.services.events import EventFilter

if TYPE_CHECKING:
    from bot.discord.client import PeninsulaBot
    from bot.services.container import Services

# Work still running after this long is deferred, so the 3 s interaction deadline is never missed.
DEFER_AFTER = 2.0
LATEST = 6
MILESTONE_SIGNIFICANCE = 4
MILESTONES = 8
SINCE = "Only events from this date on: YYYY, YYYY-MM or YYYY-MM-DD"
PRIVATE = "Only you see the answer (default: everyone in the channel)"
Choices = list[app_commands.Choice[str]]
KIND_CHOICES = [app_commands.Choice(name=render.kind_label(k), value=k) for k in EVENT_KINDS]


class DateTransformer(app_commands.Transformer):
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` → (first day, precision); a bad date is a clear message."""

    async def transform(self, interaction: discord.Interaction, value: str, /) -> tuple[dt.date, str]:
        return parse_date(value, "date")


DateOption = app_commands.Transform[tuple[dt.date, str], DateTransformer]


def who(interaction: discord.Interaction) -> Who:
    return Who(interaction.guild_id, interaction.user.id)


# ---------------------------------------------------------------------------------------------
# Builders: services in, Reply out (no Discord interaction needed)
# ---------------------------------------------------------------------------------------------


async def build_brief(services: Services, who: Who, *, since: tuple[dt.date, str] | None = None) -> Reply:
    tracks = await services.catalog.tracks()
    programs = await services.catalog.programs()
    latest = await services.events.latest(
        guild_id=who.guild_id, since=since[0] if since else None, limit=LATEST + 2, links=False
    )
    b = EmbedBuilder(
        "State of play",
        description="Talks, programs and the latest events. Details: /talks, /program, /timeline.",
        footer="Dates are shown as precisely as they are known.",
    )
    b.add_lines(
        "Talks",
        [
            f"**{t.name}** — {render.status_line(t.status, t.status_since, t.status_since_precision)}"
            for t in tracks
        ],
        empty="none recorded",
    )
    b.add_lines(
        "Programs",
        [
            f"**{p.name}** — {render.status_line(p.status, p.status_since, p.status_since_precision)}"
            for p in programs
        ],
        empty="none recorded",
    )
    heading = f"Latest events since {format_date(*since)}" if since else "Latest events"
    b.add_lines(heading, [render.event_line(e) for e in latest], empty="none in this period")
    return Reply(embeds=[b.build()])


async def build_program(services: Services, who: Who, *, name: str) -> Reply:
    program = await services.catalog.program(name)
    milestones = await services.events.milestones(
        EventFilter(program=program.slug, guild_id=who.guild_id, min_significance=MILESTONE_SIGNIFICANCE),
        limit=MILESTONES,
        links=False,
    )
    latest = await services.events.page(
        EventFilter(program=program.slug, guild_id=who.guild_id), limit=LATEST, links=False
    )
    return Reply(embeds=render.program_embeds(program, milestones, latest.items))


async def build_talks(services: Services, who: Who, *, track: str) -> Reply:
    found = await services.catalog.track(track)
    recent = await services.events.page(
        EventFilter(track=found.slug, guild_id=who.guild_id), limit=20, links=False
    )
    agreements = await services.events.page(
        EventFilter(track=found.slug, kind="agreement", guild_id=who.guild_id), limit=5, links=False
    )
    last_session = next((e for e in recent.items if e.kind in ("talks_session", "summit")), None)
    return Reply(embeds=render.track_embeds(found, last_session, agreements.items, recent.items[:LATEST]))


async def build_position(services: Services, who: Who, *, party: str, topic: str | None = None) -> Reply:
    actor = await services.catalog.actor(party)
    topic_name = (await services.catalog.topic(topic)).name if topic else None
    positions = await services.catalog.positions(actor.slug, topic)
    return Reply(embeds=render.positions_embeds(actor.name, positions, topic_name))


async def build_compare(services: Services, who: Who, *, topic: str) -> Reply:
    found = await services.catalog.topic(topic)
    return Reply(embeds=render.compare_embeds(found.name, await services.catalog.compare(found.slug)))


async def build_event(services: Services, who: Who, *, id: str) -> Reply:
    text = id.strip().lstrip("#")
    if not text.isdigit():
        # A title typed without picking a suggestion: accept it when it names exactly one event.
        matches = await services.events.autocomplete(text, guild_id=who.guild_id, limit=5)
        if len(matches) != 1:
            raise NotFound("event", id, [m.name for m in matches])
        text = matches[0].value
    event = await services.events.get(int(text), guild_id=who.guild_id)
    return Reply(embeds=[render.event_embed(event)])


async def build_timeline(
    services: Services,
    who: Who,
    *,
    program: str | None = None,
    party: str | None = None,
    track: str | None = None,
    kind: str | None = None,
    since: tuple[dt.date, str] | None = None,
    until: tuple[dt.date, str] | None = None,
) -> Reply:
    return await paging.timeline(
        services, who, program=program, party=party, track=track, kind=kind, since=since, until=until
    )


async def build_search(services: Services, who: Who, *, query: str) -> Reply:
    return await paging.search(services, who, query=query)


async def build_help(services: Services, who: Who) -> Reply:
    programs = await services.catalog.programs()
    tracks = await services.catalog.tracks()
    parties = await services.catalog.actors(parties_only=True)
    topics = await services.catalog.topics()
    positions = await services.catalog.positions()
    events = await services.events.count(EventFilter(guild_id=who.guild_id))
    b = EmbedBuilder(
        "Peninsula Brief",
        description=(
            "A briefing on North Korea's nuclear and missile programs, the talks around them and the "
            "stated positions of the parties, backed by a curated database of dated, sourced events."
        ),
        footer="Add private:true to any command to get an answer only you can see.",
    )
    b.add_field(
        "What I know",
        f"{events} events · {len(programs)} programs · {len(tracks)} talks tracks · "
        f"{len(parties)} parties · {len(topics)} topics · {len(positions)} stated positions",
    )
    b.add_lines("Commands", [f"`/{c.name}` — {c.description}" for c in Briefing.__cog_app_commands__])
    b.add_field(
        "For moderators",
        "`/curate` adds, edits and retracts events (Manage Server or the curator role) · "
        "`/alerts` posts new events to a channel (Manage Channels) · `/settings` sets the curator role.",
    )
    b.add_field(
        "Where the data comes from",
        "Every event cites at least one source — official statements, UN Security Council documents, "
        "government testimony and research institutes (Arms Control Association, CSIS, 38 North, "
        "NTI and others); `/event` lists them with links. Curators of this server may add local events, "
        "visible here only.",
    )
    return Reply(embeds=[b.build()])


Builder = Callable[..., Awaitable[Reply]]


# ---------------------------------------------------------------------------------------------
# The cog
# ---------------------------------------------------------------------------------------------


class Briefing(commands.Cog):
    """Reader commands: everyone may use them; ``private`` makes the answer ephemeral."""

    def __init__(self, bot: PeninsulaBot) -> None:
        self.bot = bot
        self.services: Services = bot.services
        self.defer_after = DEFER_AFTER

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*paging.dynamic_items())

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*paging.dynamic_items())

    async def answer(self, interaction: discord.Interaction, private: bool, work: Awaitable[Reply]) -> None:
        """Send the reply; defer first when the work outlasts ``defer_after`` seconds."""
        task = asyncio.ensure_future(work)
        try:
            reply = await asyncio.wait_for(asyncio.shield(task), self.defer_after)
        except TimeoutError:
            await interaction.response.defer(ephemeral=private, thinking=True)
            reply = await task
            reply.ephemeral = private
            await interaction.followup.send(**reply.send_kwargs())
            return
        reply.ephemeral = private
        await interaction.response.send_message(**reply.send_kwargs())

    # -- autocomplete ---------------------------------------------------------------------------

    async def _catalog_choices(
        self, kind: Any, current: str, *, parties_only: bool = False
    ) -> list[app_commands.Choice[str]]:
        return render.choices(
            await self.services.catalog.autocomplete(kind, current, parties_only=parties_only)
        )

    async def program_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._catalog_choices("program", current)

    async def track_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._catalog_choices("track", current)

    async def party_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._catalog_choices("actor", current, parties_only=True)

    async def topic_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._catalog_choices("topic", current)

    async def event_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        found = await self.services.events.autocomplete(current, guild_id=interaction.guild_id)
        return render.choices(found)

    # -- commands -------------------------------------------------------------------------------

    @app_commands.command(name="brief", description="State of play: talks, programs and the latest events")
    @app_commands.describe(
        since="Only events from this date on: YYYY, YYYY-MM or YYYY-MM-DD", private=PRIVATE
    )
    async def brief(
        self, interaction: discord.Interaction, since: DateOption | None = None, private: bool = False
    ) -> None:
        await self.answer(interaction, private, build_brief(self.services, who(interaction), since=since))

    @app_commands.command(name="program", description="A program: status, facilities, systems, milestones")
    @app_commands.describe(name="Program, facility or system (e.g. ICBM, Yongbyon, KN-08)", private=PRIVATE)
    @app_commands.autocomplete(name=program_choices)
    async def program(self, interaction: discord.Interaction, name: str, private: bool = False) -> None:
        await self.answer(interaction, private, build_program(self.services, who(interaction), name=name))

    @app_commands.command(name="talks", description="Talks: participants, status, last session, agreements")
    @app_commands.describe(track="Talks track (e.g. six-party)", private=PRIVATE)
    @app_commands.autocomplete(track=track_choices)
    async def talks(self, interaction: discord.Interaction, track: str, private: bool = False) -> None:
        await self.answer(interaction, private, build_talks(self.services, who(interaction), track=track))

    @app_commands.command(name="position", description="A party's stated positions, with dates and sources")
    @app_commands.describe(party="Party (e.g. DPRK, China)", topic="Only this topic", private=PRIVATE)
    @app_commands.autocomplete(party=party_choices, topic=topic_choices)
    async def position(
        self, interaction: discord.Interaction, party: str, topic: str | None = None, private: bool = False
    ) -> None:
        await self.answer(
            interaction, private, build_position(self.services, who(interaction), party=party, topic=topic)
        )

    @app_commands.command(name="compare", description="Every party's position on one topic, side by side")
    @app_commands.describe(topic="Topic (e.g. peace treaty)", private=PRIVATE)
    @app_commands.autocomplete(topic=topic_choices)
    async def compare(self, interaction: discord.Interaction, topic: str, private: bool = False) -> None:
        await self.answer(interaction, private, build_compare(self.services, who(interaction), topic=topic))

    @app_commands.command(name="timeline", description="Events in date order, newest first, page by page")
    @app_commands.describe(
        program="Only this program",
        party="Only events involving this party",
        track="Only this talks track",
        kind="Only this kind of event",
        since="From this date: YYYY, YYYY-MM or YYYY-MM-DD",
        until="Up to this date (inclusive): YYYY, YYYY-MM or YYYY-MM-DD",
        private=PRIVATE,
    )
    @app_commands.choices(kind=KIND_CHOICES)
    @app_commands.autocomplete(program=program_choices, party=party_choices, track=track_choices)
    async def timeline(
        self,
        interaction: discord.Interaction,
        program: str | None = None,
        party: str | None = None,
        track: str | None = None,
        kind: app_commands.Choice[str] | None = None,
        since: DateOption | None = None,
        until: DateOption | None = None,
        private: bool = False,
    ) -> None:
        work = build_timeline(
            self.services,
            who(interaction),
            program=program,
            party=party,
            track=track,
            kind=kind.value if kind else None,
            since=since,
            until=until,
        )
        await self.answer(interaction, private, work)

    @app_commands.command(name="event", description="One event with all its sources")
    @app_commands.describe(id="Event number or words of its title", private=PRIVATE)
    @app_commands.autocomplete(id=event_choices)
    async def event(
        self,
        interaction: discord.Interaction,
        id: str,
        private: bool = False,
    ) -> None:
        await self.answer(interaction, private, build_event(self.services, who(interaction), id=id))

    @app_commands.command(
        name="search", description="Full-text search over events, programs, talks and positions"
    )
    @app_commands.describe(query="Words to look for", private=PRIVATE)
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        private: bool = False,
    ) -> None:
        await self.answer(interaction, private, build_search(self.services, who(interaction), query=query))

    @app_commands.command(name="help", description="What the bot knows, its commands and its sources")
    @app_commands.describe(private=PRIVATE)
    async def help(self, interaction: discord.Interaction, private: bool = False) -> None:
        await self.answer(interaction, private, build_help(self.services, who(interaction)))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Briefing(bot))  # type: ignore[arg-type]
