"""Command options that autocomplete and resolve in one place.

Each option is an :class:`app_commands.Transformer`: its ``autocomplete`` offers what the catalog
(or the event index) suggests for the text typed so far, and its ``transform`` resolves the value
the command receives. A picked suggestion always resolves to what it showed; a value typed without
picking one resolves the same way (exact name, slug or alias, a whole word, a prefix of one
record's name, a near spelling — see :meth:`CatalogService.autocomplete` and its lookups) or fails
with a :class:`ServiceError` that lists the closest matches, which the command tree shows the user.

Comma-separated lists (``/alerts subscribe``, ``/curate add``) resolve each item the same way and
pass an item that names nothing through unchanged, so the service reports every problem of the
form in one message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

import discord
from discord import app_commands

from bot.discord.checks import caller_of
from bot.discord.language import own_locale
from bot.discord.paging import services_of
from bot.discord.render.choices import choices
from bot.discord.render.kinds import kind_label
from bot.discord.render.subscriptions import subscription_choice
from bot.i18n import N_
from bot.models import EVENT_KINDS
from bot.services.catalog import Choice
from bot.services.dates import parse_date
from bot.services.errors import FieldProblem, NotFound, ValidationFailed
from bot.services.subscriptions import split_slugs
from bot.services.validation import normalize_kind, parse_id
from bot.services.views import ActorView, PartView, ProgramView, TopicView, TrackView

if TYPE_CHECKING:
    from bot.services.catalog import Kind
    from bot.services.container import Services

# What Transformer.autocomplete and Transformer.choices return.
Offer = list[app_commands.Choice[int | float | str]]
KIND_CHOICES: Offer = [app_commands.Choice(name=kind_label(k), value=k) for k in EVENT_KINDS]
EVENT_SUGGESTIONS = 5
CHOICE_VALUE_MAX = 100


def offer(items: Sequence[Choice]) -> Offer:
    """Suggestions within Discord's limits, typed as a transformer's autocomplete answers."""
    return cast(Offer, choices(items))


def _services(interaction: discord.Interaction) -> Services:
    return services_of(interaction.client)


def kind_suggestions(text: str) -> list[Choice]:
    """Kinds of event whose name contains what was typed (``miss`` → missile launch)."""
    query = normalize_kind(text)
    return [Choice(kind_label(k), k) for k in EVENT_KINDS if k.startswith(query) or query in k]


def resolve_kind(text: str) -> str | None:
    """The kind of event ``text`` names: exactly, or as the only kind that contains it."""
    key = normalize_kind(text)
    if key in EVENT_KINDS:
        return key
    found = kind_suggestions(text)
    return found[0].value if len(found) == 1 else None


# ---------------------------------------------------------------------------------------------
# Catalog records: program, party, talks track, topic
# ---------------------------------------------------------------------------------------------


class _CatalogTransformer(app_commands.Transformer):
    """A catalog record by name: ``transform`` is the catalog's lookup of the same name as ``kind``
    (``catalog.program``, ``catalog.page``, ...), so a typed value resolves as autocomplete offers it."""

    kind: ClassVar[Kind]
    parties_only: ClassVar[bool] = False

    async def autocomplete(self, interaction: discord.Interaction, value: int | float | str, /) -> Offer:
        catalog = _services(interaction).catalog
        return offer(await catalog.autocomplete(self.kind, str(value), parties_only=self.parties_only))

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Any:
        lookup: Callable[[str], Awaitable[Any]] = getattr(_services(interaction).catalog, self.kind)
        return await lookup(value)


class ProgramTransformer(_CatalogTransformer):
    kind = "program"


class PageTransformer(_CatalogTransformer):
    """What ``/program name:`` names: a system or facility by its own names (``Punggye-ri``,
    ``KN-08``, ``풍계리``), else a program."""

    kind = "page"


class SystemTransformer(_CatalogTransformer):
    kind = "system"


class FacilityTransformer(_CatalogTransformer):
    kind = "facility"


class PartyTransformer(_CatalogTransformer):
    kind = "actor"
    parties_only = True


class TrackTransformer(_CatalogTransformer):
    kind = "track"


class TopicTransformer(_CatalogTransformer):
    kind = "topic"


ProgramOption = app_commands.Transform[ProgramView, ProgramTransformer]
PageOption = app_commands.Transform[ProgramView | PartView, PageTransformer]
SystemOption = app_commands.Transform[PartView, SystemTransformer]
FacilityOption = app_commands.Transform[PartView, FacilityTransformer]
PartyOption = app_commands.Transform[ActorView, PartyTransformer]
TrackOption = app_commands.Transform[TrackView, TrackTransformer]
TopicOption = app_commands.Transform[TopicView, TopicTransformer]


# ---------------------------------------------------------------------------------------------
# Events, dates, kinds
# ---------------------------------------------------------------------------------------------


class EventTransformer(app_commands.Transformer):
    """An event number (``123`` or ``#123``), or words of the title of exactly one visible event."""

    async def autocomplete(self, interaction: discord.Interaction, value: int | float | str, /) -> Offer:
        events = _services(interaction).events
        return offer(await events.autocomplete(str(value), guild_id=interaction.guild_id))

    async def transform(self, interaction: discord.Interaction, value: str, /) -> int:
        text = value.strip().lstrip("#")
        ident = parse_id(text)
        if ident is not None:
            return ident  # whether it exists, and is visible here, is the command's service's call
        if text.isdigit():  # digits, but not ASCII ones (``²``): no event has that number
            raise NotFound("event", f"#{text[:40]}")
        events = _services(interaction).events
        matches = await events.autocomplete(text, guild_id=interaction.guild_id, limit=EVENT_SUGGESTIONS)
        if len(matches) == 1:
            return int(matches[0].value)
        if matches:
            problem = N_(
                "“{value}” is not an event number, and no single event title matches it; did you mean {names}"
            )
            params = {"value": value[:40], "names": "; ".join(m.name for m in matches)}
        else:
            problem = N_(
                "“{value}” is not an event number, and no single event title matches it; "
                "pick one from the list"
            )
            params = {"value": value[:40]}
        raise ValidationFailed([FieldProblem("id", problem, params=params)])


class SubscriptionTransformer(app_commands.Transformer):
    """One alert subscription of the caller's guild, by number (``5`` or ``#5``); autocomplete lists
    the guild's subscriptions (those of the ``channel`` option when it is filled) by number, channel
    and filters, and nothing to a member without Manage Channels. Whether the number is this
    guild's, in that channel, is the subscription service's call."""

    async def autocomplete(self, interaction: discord.Interaction, value: int | float | str, /) -> Offer:
        channel = getattr(interaction.namespace, "channel", None)
        channel_id = getattr(channel, "id", None)
        found = await _services(interaction).subscriptions.choices(
            caller_of(interaction), str(value), channel_id=channel_id
        )
        guild = interaction.guild
        locale = own_locale(interaction)

        def name_of(cid: int) -> str | None:
            known = guild.get_channel_or_thread(cid) if guild is not None else None
            return known.name if known is not None else None

        return offer(
            [Choice(subscription_choice(sub, locale, name_of(sub.channel_id)), str(sub.id)) for sub in found]
        )

    async def transform(self, interaction: discord.Interaction, value: str, /) -> int:
        ident = parse_id(value.strip().lstrip("#"))
        if ident is None:
            problem = f"“{value[:40]}” is not a subscription number; pick one from the list"
            raise ValidationFailed([FieldProblem("subscription", problem)])
        return ident


SubscriptionOption = app_commands.Transform[int, SubscriptionTransformer]


class SourceTransformer(app_commands.Transformer):
    """A watched source of the caller's scope: its number (``3``, ``#3``) or its name; autocomplete
    offers only the sources the caller may manage (a home guild's curators the shared ones, another
    guild's curators their own, anyone else nothing)."""

    async def autocomplete(self, interaction: discord.Interaction, value: int | float | str, /) -> Offer:
        found = await _services(interaction).watch.choices(caller_of(interaction), str(value))
        return offer([Choice(label, str(ident)) for label, ident in found])

    async def transform(self, interaction: discord.Interaction, value: str, /) -> int:
        return await _services(interaction).watch.find(caller_of(interaction), str(value))


class DateTransformer(app_commands.Transformer):
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` → (first day, precision); a bad date is a clear message
    that names the option (``since: “2019-13” is not a real date``)."""

    def __init__(self, option: str = "date") -> None:
        self.option = option

    async def transform(self, interaction: discord.Interaction, value: str, /) -> tuple[dt.date, str]:
        return parse_date(value, self.option)


class KindTransformer(app_commands.Transformer):
    """One kind of event, picked from the fixed list Discord shows."""

    @property
    def choices(self) -> Offer:
        return KIND_CHOICES

    async def transform(self, interaction: discord.Interaction, value: str, /) -> str:
        return value


EventOption = app_commands.Transform[int, EventTransformer]
SourceOption = app_commands.Transform[int, SourceTransformer]
DateOption = app_commands.Transform[tuple[dt.date, str], DateTransformer]
SinceOption = app_commands.Transform[tuple[dt.date, str], DateTransformer("since")]
UntilOption = app_commands.Transform[tuple[dt.date, str], DateTransformer("until")]
KindOption = app_commands.Transform[str, KindTransformer]


# ---------------------------------------------------------------------------------------------
# Comma-separated lists of slugs
# ---------------------------------------------------------------------------------------------


class SlugListTransformer(app_commands.Transformer):
    """``icbm, Sohae`` → ``["icbm", "space-launch"]``; the last item is the one autocompleted.

    ``kind`` None lists kinds of event. ``single`` offers one item only (commas are not separators
    while typing), for an option that takes one slug but shares the list's leniency.
    """

    def __init__(self, kind: Kind | None, *, single: bool = False) -> None:
        self.kind = kind
        self.single = single

    async def _suggest(self, services: Services, text: str) -> list[Choice]:
        if self.kind is None:
            return kind_suggestions(text)
        return await services.catalog.autocomplete(self.kind, text)

    async def autocomplete(self, interaction: discord.Interaction, value: int | float | str, /) -> Offer:
        current = str(value).replace(",", " ") if self.single else str(value)
        head, _, last = current.rpartition(",")
        done = split_slugs(head)
        prefix = ", ".join(done) + (", " if done else "")
        found = await self._suggest(_services(interaction), last.strip())
        return offer(
            [
                Choice(f"{prefix}{c.name}" if prefix else c.name, prefix + c.value)
                for c in found
                if c.value not in done and len(prefix + c.value) <= CHOICE_VALUE_MAX
            ]
        )

    async def _resolve(self, services: Services, item: str) -> str:
        if self.kind is None:
            return resolve_kind(item) or item
        lookups: dict[str, Callable[[str], Awaitable[ProgramView | TrackView | ActorView | TopicView]]] = {
            "program": services.catalog.program,
            "track": services.catalog.track,
            "actor": services.catalog.actor,
            "topic": services.catalog.topic,
        }
        try:
            return (await lookups[self.kind](item)).slug
        except NotFound:
            return item  # the service names it among the form's problems

    async def transform(self, interaction: discord.Interaction, value: str, /) -> list[str]:
        services = _services(interaction)
        return [await self._resolve(services, item) for item in split_slugs(value)]


ProgramListOption = app_commands.Transform[list[str], SlugListTransformer("program")]
PartyListOption = app_commands.Transform[list[str], SlugListTransformer("actor")]
TrackListOption = app_commands.Transform[list[str], SlugListTransformer("track")]
KindListOption = app_commands.Transform[list[str], SlugListTransformer(None)]
TrackSlugOption = app_commands.Transform[list[str], SlugListTransformer("track", single=True)]


#: Where alerts may go: text and announcement channels, their public threads, forums.
ALERT_CHANNEL_TYPES = (
    discord.ChannelType.text,
    discord.ChannelType.news,
    discord.ChannelType.news_thread,
    discord.ChannelType.public_thread,
    discord.ChannelType.forum,
)
AlertChannel = discord.TextChannel | discord.ForumChannel | discord.Thread


class AlertChannelTransformer(app_commands.Transformer):
    """A channel alerts may go to (``ALERT_CHANNEL_TYPES``), as the bot's cached channel."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return list(ALERT_CHANNEL_TYPES)

    async def transform(self, interaction: discord.Interaction, value: Any) -> AlertChannel:
        if isinstance(value, discord.TextChannel | discord.ForumChannel | discord.Thread):
            return value
        resolved = value.resolve() if hasattr(value, "resolve") else None
        if isinstance(resolved, discord.TextChannel | discord.ForumChannel | discord.Thread):
            return resolved
        raise ValidationFailed(
            [FieldProblem("channel", N_("must be a text channel, a forum or a thread I can see"))]
        )


AlertChannelOption = app_commands.Transform[AlertChannel, AlertChannelTransformer]
