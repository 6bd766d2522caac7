"""Catalog records: a program, a system or facility, a talks track, a party's positions, every
party's position on a topic — in the reader's language: headings and labels through the catalogs,
names, summaries and status lines from the record's translations (English per field when a record
has none), dates the reader's way. What the corpus writes only in English (a stance, a quote, a
key date's text, a location, a source's title) stands in English, whole."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.discord.render.events import date_of, event_line, source_line, title_of
from bot.discord.render.flow import Flow
from bot.discord.render.text import name_of, plain, refs
from bot.i18n import N_, format_date, gettext, local, pgettext, tr
from bot.services.views import (
    Comparison,
    EventView,
    PartView,
    PositionView,
    ProgramView,
    Record,
    Statements,
    TrackView,
)

NONE_RECORDED = N_("none recorded")
CATEGORIES = {
    "nuclear": N_("Nuclear"),
    "missile": N_("Missile"),
    "space": N_("Space"),
    "submarine": N_("Submarine"),
}


def since_label(value: Any, precision: str, locale: str = "en") -> str:
    if not value:
        return format_date(None, precision, locale)
    return tr(locale, "since {date}", date=format_date(value, precision, locale))


def status_line(status: str, since: Any, precision: str, locale: str = "en") -> str:
    return f"{status} ({since_label(since, precision, locale)})" if since else status


def status_of(record: ProgramView | PartView, locale: str = "en") -> str:
    """A program's, system's or site's status line in ``locale``, with the date it holds since."""
    status = str(local(record.i18n, locale, "status", record.status))
    return status_line(status, record.status_since, record.status_since_precision, locale)


def track_status(track: TrackView, locale: str = "en") -> str:
    """A talks track's status (one of three interface words, in the ``talks`` context: a
    subscription is "Active" too, meaning switched on) and since when."""
    words = {
        "active": pgettext(locale, "talks", "Active"),
        "dormant": pgettext(locale, "talks", "Dormant"),
        "ended": pgettext(locale, "talks", "Ended"),
    }
    status = words.get(track.status, track.status.capitalize())
    return status_line(status, track.status_since, track.status_since_precision, locale)


def summary_of(record: Record, locale: str = "en") -> str:
    return str(local(record.i18n, locale, "summary", record.summary))


def other_names(record: Record, locale: str = "en") -> list[str]:
    """What a record is also known as: in English its aliases; in another language its English
    name too, then its aliases and its names in the other languages (never the name in the title)."""
    shown = name_of(record, locale)
    names = list(record.aliases) if locale == "en" else [record.name, *record.names()]
    return [n for n in dict.fromkeys(names) if n != shown]


def program_embeds(
    program: ProgramView,
    milestones: Sequence[EventView],
    latest: Sequence[EventView],
    locale: str = "en",
) -> list[discord.Embed]:
    """A program as pages: every system and site on a line of its own, every milestone, none cut."""
    none = gettext(locale, NONE_RECORDED)
    b = Flow(
        name_of(program, locale),
        description=summary_of(program, locale),
        footer=f"/timeline program:{program.slug}",
        locale=locale,
    )
    b.add_field(gettext(locale, "Status"), status_of(program, locale))
    category = CATEGORIES.get(program.category)
    b.add_field(
        gettext(locale, "Category"),
        gettext(locale, category) if category else program.category.capitalize(),
        inline=True,
    )
    if aliases := other_names(program, locale):
        b.add_field(gettext(locale, "Also known as"), plain(", ".join(aliases)), inline=True)
    b.add_lines(gettext(locale, "Facilities"), [part_line(f, locale) for f in program.facilities], empty=none)
    b.add_lines(gettext(locale, "Systems"), [part_line(s, locale) for s in program.systems], empty=none)
    b.add_lines(gettext(locale, "Milestones"), [event_line(e, locale=locale) for e in milestones], empty=none)
    b.add_lines(gettext(locale, "Latest events"), [event_line(e, locale=locale) for e in latest], empty=none)
    return b.build()


def part_line(part: PartView, locale: str = "en") -> str:
    """A system or site on one line: its name, where it is, its status and since when."""
    status = status_of(part, locale) if part.status else ""
    extras = [x for x in (part.location, status) if x]
    return f"**{plain(name_of(part, locale))}**" + (f" — {plain('; '.join(extras))}" if extras else "")


def part_embeds(
    part: PartView, events: Sequence[EventView], total: int, locale: str = "en"
) -> list[discord.Embed]:
    """A system's or facility's own page: part of which program, its status since when, its names,
    its key dates and its own events (every one, paged; the newest ``len(events)`` of ``total``)."""
    none = gettext(locale, NONE_RECORDED)
    option = "system" if part.kind == "system" else "facility"
    b = Flow(name_of(part, locale), footer=f"/timeline {option}:{part.slug}", locale=locale)
    summary = summary_of(part, locale)
    program = tr(locale, "Part of: {program}", program=plain(name_of(part.program, locale)))
    b.describe(program + (f"\n\n{plain(summary)}" if summary else ""))
    if part.status:
        b.add_field(gettext(locale, "Status"), plain(status_of(part, locale)))
    if part.location:
        b.add_field(gettext(locale, "Location"), plain(part.location), inline=True)
    if aliases := other_names(part, locale):
        b.add_field(gettext(locale, "Also known as"), plain(", ".join(aliases)), inline=True)
    b.add_lines(
        gettext(locale, "Key dates"),
        [f"**{format_date(d.on, d.precision, locale)}** · {plain(d.text)}" for d in part.key_dates],
        empty=none,
    )
    if len(events) >= total:
        heading = gettext(locale, "Events")
    else:
        heading = tr(locale, "Events (the newest {n} of {total})", n=len(events), total=total)
    b.add_lines(heading, [event_line(e, locale=locale) for e in events], empty=none)
    return b.build()


def track_embeds(
    track: TrackView,
    last_session: EventView | None,
    agreements: Sequence[EventView],
    latest: Sequence[EventView],
    locale: str = "en",
) -> list[discord.Embed]:
    """A talks track as pages: every agreement is listed (in date order), none is cut off."""
    none = gettext(locale, NONE_RECORDED)
    b = Flow(
        name_of(track, locale),
        description=summary_of(track, locale),
        footer=f"/timeline track:{track.slug}",
        locale=locale,
    )
    b.add_field(gettext(locale, "Status"), track_status(track, locale))
    b.add_field(gettext(locale, "Participants"), refs(track.participants, locale) or "—")
    b.add_field(
        gettext(locale, "Last session"), event_line(last_session, locale=locale) if last_session else none
    )
    b.add_lines(gettext(locale, "Agreements"), [agreement_line(e, locale) for e in agreements], empty=none)
    b.add_lines(gettext(locale, "Latest events"), [event_line(e, locale=locale) for e in latest], empty=none)
    return b.build()


def agreement_line(event: EventView, locale: str = "en") -> str:
    """An agreement, or the joint statement a summit adopted (named, with the summit beside it)."""
    named = event.agreement
    if event.kind == "agreement" or not named:
        return event_line(event, locale=locale)
    title = plain(title_of(event, locale))
    return f"**{date_of(event, locale)}** · {plain(named)} ({title}) · `#{event.id}`"


def _position_value(p: PositionView, locale: str = "en") -> str:
    lines = [p.summary]
    if p.quote:
        speaker = f" — {name_of(p.speaker, locale)}" if p.speaker else ""
        lines.append(f"> “{p.quote}”{speaker}")
    lines.append(tr(locale, "Source: {source}", source=source_line(p.source, locale)))
    return "\n".join(lines)


def _as_of(p: PositionView, locale: str) -> str:
    return tr(locale, "as of {date}", date=format_date(p.as_of, p.as_of_precision, locale))


def _position_name(p: PositionView, locale: str = "en", *, party: bool = False) -> str:
    who = f"{name_of(p.party, locale)} · " if party else ""
    return f"{who}{name_of(p.topic, locale)}: {p.stance} ({_as_of(p, locale)})"


def _person_intro(name: str, state_name: str, about: str | None, locale: str) -> str:
    """What a person's page lists first: their own statements, then their state's positions."""
    if state_name and about:
        return tr(
            locale,
            "{person}'s own statements on {topic} first, then the positions of {state}, the state "
            "{person} spoke for.",
            person=name,
            topic=about,
            state=state_name,
        )
    if state_name:
        return tr(
            locale,
            "{person}'s own statements first, then the positions of {state}, the state {person} spoke for.",
            person=name,
            state=state_name,
        )
    if about:
        return tr(locale, "{person}'s own statements on {topic} first.", person=name, topic=about)
    return tr(locale, "{person}'s own statements first.", person=name)


def _own_count(n: int, name: str, about: str | None, locale: str) -> str:
    """How many of a person's own statements are recorded (on the topic, when one is asked)."""
    if n and about:
        return tr(
            locale, "{n} recorded on {topic}: positions {person} stated.", n=n, topic=about, person=name
        )
    if n:
        return tr(locale, "{n} recorded: positions {person} stated.", n=n, person=name)
    if about:
        return tr(locale, "None recorded on {topic}: positions {person} stated.", topic=about, person=name)
    return tr(locale, "None recorded: positions {person} stated.", person=name)


def _state_count(n: int, name: str, about: str | None, locale: str) -> str:
    """How many positions of the state a person spoke for follow."""
    if about:
        return tr(
            locale,
            "{n} recorded on {topic}, the state {person} spoke for; newest first within each topic.",
            n=n,
            topic=about,
            person=name,
        )
    return tr(
        locale,
        "{n} recorded, the state {person} spoke for; newest first within each topic.",
        n=n,
        person=name,
    )


def positions_embeds(statements: Statements, topic: Record | None, locale: str = "en") -> list[discord.Embed]:
    """Every position, whole (a paged document). A person's own statements come first, then the
    positions of the state they spoke for, under a heading that says so."""
    actor, state = statements.actor, statements.state
    name = name_of(actor, locale)
    state_name = name_of(state, locale) if state else ""
    about = name_of(topic, locale) if topic else None
    if about:
        title = tr(locale, "{party} on {topic}", party=name, topic=about)
    else:
        title = tr(locale, "{party}: stated positions", party=name)
    b = Flow(
        title,
        footer=gettext(locale, "Positions as stated, with the date they were current (as of)."),
        locale=locale,
    )
    if actor.kind == "person":
        b.describe(_person_intro(name, state_name, about, locale))
    if not statements.own and not statements.state_positions:
        if about:
            nothing = tr(locale, "No stated position is recorded on {topic}.", topic=about)
        else:
            nothing = gettext(locale, "No stated position is recorded.")
        b.add_field(gettext(locale, "Nothing recorded"), nothing)
    elif actor.kind == "person":
        count = _own_count(len(statements.own), name, about, locale)
        b.add_field(tr(locale, "{person}'s own statements", person=name), count)
    for p in statements.own:
        b.add_field(_position_name(p, locale, party=p.party.slug != actor.slug), _position_value(p, locale))
    if state is not None and statements.state_positions:
        which = _state_count(len(statements.state_positions), name, about, locale)
        b.add_field(tr(locale, "Positions of {state}", state=state_name), which)
        for p in statements.state_positions:
            b.add_field(_position_name(p, locale, party=True), _position_value(p, locale))
    return b.build()


def compare_embeds(comparison: Comparison, locale: str = "en") -> list[discord.Embed]:
    """One block per state, full width (stance, date, summary, quote, source; every state, a state
    with nothing recorded too), then the people and organizations quoted on the topic as "other
    voices", never among the states. A block that does not fit goes on the next page, whole."""
    topic = name_of(comparison.topic, locale)
    b = Flow(
        tr(locale, "Positions on {topic}", topic=topic),
        footer=gettext(locale, "Each state's latest stated position; other voices below."),
        locale=locale,
    )
    if not any(history for _, history in comparison.states) and not comparison.voices:
        b.describe(tr(locale, "No position on {topic} is recorded yet.", topic=topic))
    for state, history in comparison.states:
        if not history:
            b.add_field(
                name_of(state, locale), tr(locale, "No stated position on {topic} is recorded.", topic=topic)
            )
            continue
        latest = history[0]
        earlier = ""
        if len(history) > 1:
            earlier = "\n" + tr(locale, "Earlier positions: {n} (see /position)", n=len(history) - 1)
        name = f"{name_of(state, locale)} ({_as_of(latest, locale)})"
        b.add_field(name, f"**{latest.stance}**\n{_position_value(latest, locale)}{earlier}")
    if comparison.voices:
        b.add_field(
            gettext(locale, "Other voices"),
            tr(locale, "{n} quoted on {topic}, not states.", n=len(comparison.voices), topic=topic),
        )
        for p in comparison.voices:
            b.add_field(
                f"{name_of(p.party, locale)}: {p.stance} ({_as_of(p, locale)})", _position_value(p, locale)
            )
    return b.build()
