"""Reader commands: /brief, /program, /talks, /position, /compare, /timeline, /event, /search, /help.

Each command is a thin callback over a builder ``build_x(services, who, **options) -> Reply``; the
console (``python -m bot console``) calls the very same callbacks, so what it prints is what
Discord would get.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import documents, paging
from bot.discord.answer import DEFER_AFTER, answer
from bot.discord.documents import Document, document, open_document
from bot.discord.language import who_reads
from bot.discord.options import (
    EventOption,
    FacilityOption,
    KindOption,
    PageOption,
    PartyOption,
    ProgramOption,
    SinceOption,
    SystemOption,
    TopicOption,
    TrackOption,
    UntilOption,
)
from bot.discord.render.briefing import Counts, brief_pages, help_pages
from bot.discord.render.catalog import (
    compare_embeds,
    part_embeds,
    positions_embeds,
    program_embeds,
    track_embeds,
)
from bot.discord.render.events import event_pages, sources_button
from bot.discord.render.history import history_pages
from bot.discord.render.reply import Reply, Who
from bot.i18n import format_date, gettext, tr
from bot.services.charts import ChartQuery
from bot.services.dates import iso_with_precision, parse_date
from bot.services.filters import EventFilter
from bot.services.views import ActorView, PartView, ProgramView, TopicView, TrackView
from cogs.charts import Charts
from cogs.suggest import Suggest

if TYPE_CHECKING:
    from bot.discord.client import PeninsulaBot
    from bot.services.container import Services

LATEST = 6
MILESTONE_SIGNIFICANCE = 4
MILESTONES = 8
PART_EVENTS = 100  # a system's or site's own events on its page (the most any has is far fewer)
PRIVATE = "Only you see the answer (default: everyone in the channel)"


# ---------------------------------------------------------------------------------------------
# Builders: services in, Reply out (no Discord interaction needed)
# ---------------------------------------------------------------------------------------------


async def build_brief(services: Services, who: Who, *, since: tuple[dt.date, str] | None = None) -> Reply:
    return await open_document(services, who, "brief", iso_with_precision(*since) if since else "")


@document("brief")
async def brief_document(services: Services, who: Who, args: str) -> Document:
    """/brief as pages: every talks track and every program, then the latest events."""
    since = parse_date(args, "since") if args else None
    tracks = await services.catalog.tracks()
    programs = await services.catalog.programs()
    latest = await services.events.latest(
        guild_id=who.guild_id, since=since[0] if since else None, limit=LATEST + 2, links=False
    )
    if since:
        heading = tr(who.locale, "Latest events since {date}", date=format_date(*since, who.locale))
    else:
        heading = gettext(who.locale, "Latest events")
    pages = brief_pages(tracks, programs, latest, heading, who.locale)
    return Document(pages, chart=ChartQuery("launches", "year"))


async def build_program(services: Services, who: Who, *, name: ProgramView | PartView) -> Reply:
    key = f"{name.kind}:{name.slug}" if isinstance(name, PartView) else name.slug
    return await open_document(services, who, "program", key)


@document("program")
async def program_document(services: Services, who: Who, args: str) -> Document:
    """/program as pages: ``args`` is a program's slug (its systems, sites, milestones, latest
    events), or ``system:slug`` / ``facility:slug`` (that record's own page and events)."""
    record = await services.catalog.page(args)
    if isinstance(record, PartView):
        f = EventFilter.of(**{record.kind: record.slug}, guild_id=who.guild_id)
        events = await services.events.page(f, limit=PART_EVENTS, links=False)
        chart = ChartQuery("launches", "year", system=record.slug) if record.kind == "system" else None
        pages = part_embeds(record, events.items, await services.events.count(f), who.locale)
        return Document(pages, chart=chart)
    f = EventFilter.of(program=record.slug, guild_id=who.guild_id)
    milestones = await services.events.milestones(
        f, limit=MILESTONES, fallback_significance=MILESTONE_SIGNIFICANCE, links=False
    )
    latest = await services.events.page(f, limit=LATEST, links=False)
    pages = program_embeds(record, milestones, latest.items, who.locale)
    return Document(pages, chart=program_chart(record))


def program_chart(program: ProgramView) -> ChartQuery:
    """The chart a program's page links to: its nuclear tests, its launches, else all its events."""
    metric = {"nuclear": "nuclear_tests", "missile": "launches", "space": "launches"}.get(program.category)
    return ChartQuery(metric or "events", "year", program=program.slug)


async def build_talks(services: Services, who: Who, *, track: TrackView) -> Reply:
    return await open_document(services, who, "talks", track.slug)


@document("talks")
async def talks_document(services: Services, who: Who, args: str) -> Document:
    """/talks as pages: the last session of the track, every agreement of it, the latest events."""
    track = await services.catalog.track(args)
    last_session = await services.events.last_session(track.slug, guild_id=who.guild_id)
    agreements = await services.events.agreements(track.slug, guild_id=who.guild_id)
    recent = await services.events.track_latest(track.slug, guild_id=who.guild_id, limit=LATEST)
    return Document(track_embeds(track, last_session, agreements, recent, who.locale))


async def build_position(
    services: Services, who: Who, *, party: ActorView, topic: TopicView | None = None
) -> Reply:
    return await open_document(services, who, "position", f"{party.slug}/{topic.slug if topic else ''}")


@document("position")
async def position_document(services: Services, who: Who, args: str) -> Document:
    """/position as pages: ``args`` is ``party-slug/topic-slug`` (the topic may be empty)."""
    party_slug, _, topic_slug = args.partition("/")
    party = await services.catalog.actor(party_slug)
    topic = await services.catalog.topic(topic_slug) if topic_slug else None
    statements = await services.catalog.statements(party.slug, topic.slug if topic else None)
    return Document(positions_embeds(statements, topic, who.locale))


async def build_compare(services: Services, who: Who, *, topic: TopicView) -> Reply:
    return await open_document(services, who, "compare", topic.slug)


@document("compare")
async def compare_document(services: Services, who: Who, args: str) -> Document:
    """/compare as pages: ``args`` is the topic's slug."""
    return Document(compare_embeds(await services.catalog.comparison(args), who.locale))


async def build_event(services: Services, who: Who, *, id: int, history: bool = False) -> Reply:
    return await open_document(services, who, "event-history" if history else "event", str(id))


@document("event-history")
async def event_history_document(services: Services, who: Who, args: str) -> Document:
    """/event history:true as pages: each revision, who made it and when, what it changed."""
    event = await services.events.get(int(args), guild_id=who.guild_id)
    entries = await services.events.history(event.id, guild_id=who.guild_id)
    return Document(history_pages(event, entries, who.locale))


@document("event")
async def event_document(services: Services, who: Who, args: str) -> Document:
    """/event as pages: the event and all its sources; its title and a button link the primary one."""
    event = await services.events.get(int(args), guild_id=who.guild_id)
    return Document(event_pages(event, who.locale), links=sources_button(event, who.locale))


async def build_search(services: Services, who: Who, *, query: str) -> Reply:
    return await paging.search(services, who, query=query)


async def build_help(services: Services, who: Who) -> Reply:
    return await open_document(services, who, "help")


@document("help")
async def help_document(services: Services, who: Who, args: str) -> Document:
    """/help as pages: what the bot knows, then every reader command (none left out)."""
    parts = await services.catalog.parts()
    counts = Counts(
        events=await services.events.count(EventFilter(guild_id=who.guild_id)),
        programs=len(await services.catalog.programs()),
        tracks=len(await services.catalog.tracks()),
        parties=len(await services.catalog.actors(parties_only=True)),
        topics=len(await services.catalog.topics()),
        positions=len(await services.catalog.positions()),
        systems=sum(x.kind == "system" for x in parts),
        facilities=sum(x.kind == "facility" for x in parts),
    )
    cogs = (*Briefing.__cog_app_commands__, *Charts.__cog_app_commands__, *Suggest.__cog_app_commands__)
    commands = [(c.name, c.description) for c in cogs]
    return Document(help_pages(counts, commands, who.locale))


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
        self.bot.add_dynamic_items(*documents.dynamic_items())

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*documents.dynamic_items())

    async def answer(self, interaction: discord.Interaction, private: bool, work: Awaitable[Reply]) -> None:
        """Send the reply; defer first when the work outlasts ``defer_after`` seconds."""
        await answer(interaction, private, work, self.defer_after)

    # -- commands -------------------------------------------------------------------------------

    @app_commands.command(name="brief", description="State of play: talks, programs and the latest events")
    @app_commands.describe(
        since="Only events from this date on: YYYY, YYYY-MM or YYYY-MM-DD", private=PRIVATE
    )
    async def brief(
        self, interaction: discord.Interaction, since: SinceOption | None = None, private: bool = False
    ) -> None:
        await self.answer(
            interaction,
            private,
            build_brief(self.services, await who_reads(interaction, private=private), since=since),
        )

    @app_commands.command(
        name="program", description="A program, system or site: status, parts, key dates, its events"
    )
    @app_commands.describe(name="Program, system or facility (e.g. ICBM, KN-08, Punggye-ri)", private=PRIVATE)
    async def program(
        self, interaction: discord.Interaction, name: PageOption, private: bool = False
    ) -> None:
        await self.answer(
            interaction,
            private,
            build_program(self.services, await who_reads(interaction, private=private), name=name),
        )

    @app_commands.command(name="talks", description="Talks: participants, status, last session, agreements")
    @app_commands.describe(track="Talks track (e.g. six-party)", private=PRIVATE)
    async def talks(
        self, interaction: discord.Interaction, track: TrackOption, private: bool = False
    ) -> None:
        await self.answer(
            interaction,
            private,
            build_talks(self.services, await who_reads(interaction, private=private), track=track),
        )

    @app_commands.command(name="position", description="A party's stated positions, with dates and sources")
    @app_commands.describe(party="Party (e.g. DPRK, China)", topic="Only this topic", private=PRIVATE)
    async def position(
        self,
        interaction: discord.Interaction,
        party: PartyOption,
        topic: TopicOption | None = None,
        private: bool = False,
    ) -> None:
        await self.answer(
            interaction,
            private,
            build_position(
                self.services, await who_reads(interaction, private=private), party=party, topic=topic
            ),
        )

    @app_commands.command(name="compare", description="Every party's position on one topic, side by side")
    @app_commands.describe(topic="Topic (e.g. peace treaty)", private=PRIVATE)
    async def compare(
        self, interaction: discord.Interaction, topic: TopicOption, private: bool = False
    ) -> None:
        await self.answer(
            interaction,
            private,
            build_compare(self.services, await who_reads(interaction, private=private), topic=topic),
        )

    @app_commands.command(name="timeline", description="Events in date order, newest first, page by page")
    @app_commands.describe(
        program="Only this program",
        party="Only events involving this party",
        track="Only this talks track",
        system="Only this system (e.g. Hwasong-17, KN-23)",
        facility="Only this facility (e.g. Punggye-ri, Sohae)",
        kind="Only this kind of event",
        since="From this date: YYYY, YYYY-MM or YYYY-MM-DD",
        until="Up to this date (inclusive): YYYY, YYYY-MM or YYYY-MM-DD",
        private=PRIVATE,
    )
    async def timeline(
        self,
        interaction: discord.Interaction,
        program: ProgramOption | None = None,
        party: PartyOption | None = None,
        track: TrackOption | None = None,
        system: SystemOption | None = None,
        facility: FacilityOption | None = None,
        kind: KindOption | None = None,
        since: SinceOption | None = None,
        until: UntilOption | None = None,
        private: bool = False,
    ) -> None:
        links: dict[str, Any] = {"program": program, "party": party, "track": track, "system": system}
        work = paging.timeline(
            self.services,
            await who_reads(interaction, private=private),
            kind=kind,
            since=since,
            until=until,
            facility=facility,
            **links,
        )
        await self.answer(interaction, private, work)

    @app_commands.command(name="event", description="One event with all its sources")
    @app_commands.describe(
        id="Event number or words of its title",
        history="Show its revisions instead: who changed what, when",
        private=PRIVATE,
    )
    async def event(
        self, interaction: discord.Interaction, id: EventOption, history: bool = False, private: bool = False
    ) -> None:
        who = await who_reads(interaction, private=private)
        await self.answer(interaction, private, build_event(self.services, who, id=id, history=history))

    @app_commands.command(
        name="search", description="Search events, programs, systems, sites, talks and positions"
    )
    @app_commands.describe(
        query='Words, names or codes (KN-08, UNSC 2397); "quote" a phrase', private=PRIVATE
    )
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        private: bool = False,
    ) -> None:
        await self.answer(
            interaction,
            private,
            build_search(self.services, await who_reads(interaction, private=private), query=query),
        )

    @app_commands.command(name="help", description="What the bot knows, its commands and its sources")
    @app_commands.describe(private=PRIVATE)
    async def help(self, interaction: discord.Interaction, private: bool = False) -> None:
        await self.answer(
            interaction, private, build_help(self.services, await who_reads(interaction, private=private))
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Briefing(bot))  # type: ignore[arg-type]
