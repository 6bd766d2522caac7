"""Paginated replies (/timeline, /search) whose page state lives in the buttons' ``custom_id``.

The buttons are :class:`discord.ui.DynamicItem`: discord.py rebuilds them from the ``custom_id`` of
any message, so paging keeps working after a restart with nothing kept in memory. A custom id
carries the invoker's id (only they may turn pages), the direction, the page number, a keyset
cursor (timeline) or an offset (search), and the filters, compactly: catalog ids in base 36, the
kind as its index, dates as ``YYYYMMDD``. Everything fits Discord's 100 characters.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

import discord

from bot.discord.errors import reply_ephemeral, user_message
from bot.discord.language import own_locale, who_reads
from bot.discord.render.kinds import kind_label
from bot.discord.render.pages import SEARCH_TITLE, search_embed, timeline_embed
from bot.discord.render.reply import Reply, Who
from bot.discord.render.text import name_of
from bot.i18n import LOCALES, N_, gettext, tr
from bot.i18n import format_date as local_date
from bot.models import EVENT_KINDS
from bot.services.dates import check_period, period_end
from bot.services.errors import ServiceError
from bot.services.events import encode_cursor
from bot.services.filters import EventFilter
from bot.services.search_query import canonical
from bot.services.validation import id_in_range
from bot.services.views import ActorView, PartView, ProgramView, TrackView

if TYPE_CHECKING:
    from bot.services.container import Services

log = logging.getLogger(__name__)

TIMELINE_PAGE = 10
SEARCH_PAGE = 6
# The catalog records a timeline filters by (their ids ride in the button).
Named = ProgramView | PartView | ActorView | TrackView
CUSTOM_ID_MAX = 100
NOT_YOURS = N_("Only the person who ran this command can turn its pages. Run it yourself to browse.")
EXPIRED = N_("This page can no longer be turned (its data changed). Run the command again.")


def b36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, r = divmod(value, 36)
        out = digits[r] + out
        if not value:
            return out


def services_of(client: discord.Client) -> Services:
    """The services of the bot (``PeninsulaBot.services``) that received the interaction."""
    return cast("Services", client.services)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Timeline
# ---------------------------------------------------------------------------------------------


class Rebuilt(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"(?!)"):
    """The base of every button that keeps its state in its ``custom_id``: discord.py rebuilds it
    through ``from_match`` (each subclass names its own ``template``), and only the invoker (``uid``)
    may press it (``not_yours`` says so otherwise). A page-turning button is grey."""

    uid: int
    not_yours: ClassVar[str] = NOT_YOURS

    def __init__(
        self,
        uid: int,
        label: str,
        custom_id: str,
        *,
        disabled: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        self.uid = uid
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id, disabled=disabled))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls.from_match(match, interaction, item)

    @classmethod
    def from_match(cls, match: re.Match[str], interaction: discord.Interaction, item: Any) -> Self:
        raise NotImplementedError

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await only_invoker(interaction, self.uid, self.not_yours)


def turn_label(direction: str, locale: str = "en") -> str:
    """The label of a Prev (``p``) or Next button, in the reader's language."""
    return gettext(locale, "◀ Prev") if direction == "p" else gettext(locale, "Next ▶")


@dataclass(frozen=True)
class TimelineState:
    """The filters of one /timeline, by catalog id (compact and stable across restarts)."""

    program: int | None = None
    party: int | None = None
    track: int | None = None
    kind: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    system: int | None = None
    facility: int | None = None

    def encode(self) -> str:
        def n(v: int | None) -> str:
            return b36(v) if v is not None else ""

        def d(v: dt.date | None) -> str:
            return v.strftime("%Y%m%d") if v else ""

        kind = b36(EVENT_KINDS.index(self.kind)) if self.kind in EVENT_KINDS else ""
        head = (n(self.program), n(self.party), n(self.track), kind, d(self.since), d(self.until))
        if self.system is None and self.facility is None:
            return ".".join(head)  # the six fields of a timeline without a system or site
        return ".".join((*head, n(self.system), n(self.facility)))

    @classmethod
    def decode(cls, text: str) -> TimelineState:
        parts = text.split(".")
        if len(parts) not in (6, 8):
            raise ValueError("bad timeline state")
        p, a, t, k, s, u, *rest = parts
        y, f = rest or ("", "")

        def n(v: str) -> int | None:
            if not v:
                return None
            ident = int(v, 36)
            if not id_in_range(ident):
                raise ValueError("bad timeline state")
            return ident

        def d(v: str) -> dt.date | None:
            return dt.datetime.strptime(v, "%Y%m%d").date() if v else None

        return cls(n(p), n(a), n(t), EVENT_KINDS[int(k, 36)] if k else None, d(s), d(u), n(y), n(f))


class TimelineButton(
    Rebuilt,
    template=r"pb:tl:(?P<uid>\d+):(?P<dir>[np]):(?P<page>\d+):(?P<cursor>[A-Za-z0-9_-]*):(?P<state>[0-9a-z.]*)",
):
    def __init__(
        self,
        uid: int,
        direction: str,
        page: int,
        cursor: str,
        state: str,
        *,
        disabled: bool = False,
        locale: str = "en",
    ) -> None:
        self.direction, self.page, self.cursor, self.state = direction, page, cursor, state
        custom_id = f"pb:tl:{uid}:{direction}:{page}:{cursor}:{state}"
        super().__init__(uid, turn_label(direction, locale), custom_id, disabled=disabled)

    @classmethod
    def from_match(cls, match: re.Match[str], interaction: discord.Interaction, item: Any) -> Self:
        return cls(int(match["uid"]), match["dir"], int(match["page"]), match["cursor"], match["state"])

    async def callback(self, interaction: discord.Interaction) -> None:
        async def work() -> Reply:
            state = TimelineState.decode(self.state)
            who = await who_reads(interaction, uid=self.uid)
            return await timeline_page(
                services_of(interaction.client),
                who,
                state,
                page=self.page,
                cursor=self.cursor or None,
                backwards=self.direction == "p",
            )

        await turn_page(interaction, work)


async def timeline(
    services: Services,
    who: Who,
    *,
    program: ProgramView | None = None,
    party: ActorView | None = None,
    track: TrackView | None = None,
    kind: str | None = None,
    since: tuple[dt.date, str] | None = None,
    until: tuple[dt.date, str] | None = None,
    system: PartView | None = None,
    facility: PartView | None = None,
) -> Reply:
    """The first page of /timeline for filters already resolved by the command's options; a
    ``since`` after ``until`` is a problem of the ``since`` option."""
    check_period(since, until)
    state = TimelineState(
        program=program.id if program else None,
        party=party.id if party else None,
        track=track.id if track else None,
        system=system.id if system else None,
        facility=facility.id if facility else None,
        kind=kind,
        since=since[0] if since else None,
        until=period_end(*until) if until else None,
    )
    return await timeline_page(services, who, state, page=1, cursor=None)


async def _filter(
    services: Services, state: TimelineState, guild_id: int | None, locale: str = "en"
) -> tuple[EventFilter, list[str]]:
    """The service filter for a state, and a readable description of it."""
    labels: list[str] = []
    slugs: dict[str, str | None] = dict.fromkeys(("program", "party", "track", "system", "facility"))
    catalog = services.catalog

    async def parts(kind: str) -> list[PartView]:
        return [x for x in await catalog.parts() if x.kind == kind]

    linked: tuple[tuple[str, str, int | None, Callable[[], Awaitable[Sequence[Named]]]], ...] = (
        ("program", N_("program"), state.program, catalog.programs),
        ("system", N_("system"), state.system, lambda: parts("system")),
        ("facility", N_("facility"), state.facility, lambda: parts("facility")),
        ("party", N_("party"), state.party, catalog.actors),
        ("track", N_("talks"), state.track, catalog.tracks),
    )
    for key, label, ident, listing in linked:
        if ident is None:
            continue
        found = next((r for r in await listing() if r.id == ident), None)
        if found is None:
            raise ServiceError(EXPIRED)
        slugs[key] = found.slug
        labels.append(f"{gettext(locale, label)}: {name_of(found, locale)}")
    if state.kind:
        labels.append(f"{gettext(locale, 'kind')}: {kind_label(state.kind, locale)}")
    if state.since:
        labels.append(tr(locale, "since {date}", date=local_date(state.since, "day", locale)))
    if state.until:
        labels.append(tr(locale, "until {date}", date=local_date(state.until, "day", locale)))
    f = EventFilter.of(
        program=slugs["program"],
        party=slugs["party"],
        track=slugs["track"],
        system=slugs["system"],
        facility=slugs["facility"],
        kind=state.kind,
        since=state.since,
        until=state.until,
        guild_id=guild_id,
    )
    return f, labels


async def timeline_page(
    services: Services,
    who: Who,
    state: TimelineState,
    *,
    page: int,
    cursor: str | None,
    backwards: bool = False,
) -> Reply:
    """Page ``page`` of a timeline, newest first: after ``cursor``, or before it when ``backwards``."""
    f, labels = await _filter(services, state, who.guild_id, who.locale)
    if backwards and cursor:
        got = await services.events.page(
            replace(f, order="asc"), limit=TIMELINE_PAGE, cursor=cursor, links=False
        )
        items = list(reversed(got.items))
        has_next = True
    else:
        got = await services.events.page(f, limit=TIMELINE_PAGE, cursor=cursor, links=False)
        items = list(got.items)
        has_next = got.next_cursor is not None
    if backwards and not items:
        # Everything before this page was removed meanwhile: start over at the first page.
        return await timeline_page(services, who, state, page=1, cursor=None)
    page = max(page, 1)
    has_prev = page > 1
    view: discord.ui.View | None = None
    if has_prev or has_next:
        encoded = state.encode()
        view = discord.ui.View(timeout=None)
        first = encode_cursor(items[0]) if items else ""
        last = encode_cursor(items[-1]) if items else ""
        view.add_item(
            TimelineButton(
                who.user_id, "p", page - 1, first, encoded, disabled=not has_prev, locale=who.locale
            )
        )
        view.add_item(
            TimelineButton(
                who.user_id, "n", page + 1, last, encoded, disabled=not has_next, locale=who.locale
            )
        )
    return Reply(embeds=[timeline_embed(items, page, labels, who.locale)], view=view)


# ---------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------


class SearchButton(Rebuilt, template=r"pb:sr:(?P<uid>\d+):(?P<dir>[np]):(?P<offset>\d+):(?P<q>.*)"):
    def __init__(
        self, uid: int, direction: str, offset: int, query: str, *, disabled: bool = False, locale: str = "en"
    ) -> None:
        self.direction, self.offset, self.query = direction, offset, query
        head = f"pb:sr:{uid}:{direction}:{offset}:"
        # A query too long for the custom id is read back from the message's embed title.
        carried = query if len(head) + len(query) <= CUSTOM_ID_MAX else ""
        super().__init__(uid, turn_label(direction, locale), head + carried, disabled=disabled)

    @classmethod
    def from_match(cls, match: re.Match[str], interaction: discord.Interaction, item: Any) -> Self:
        query = match["q"]
        if not query and interaction.message is not None and interaction.message.embeds:
            title = interaction.message.embeds[0].title or ""
            heads = {gettext(code, SEARCH_TITLE) for code in LOCALES}  # the title in any language
            query = next((title.removeprefix(h) for h in heads if title.startswith(h)), "")
        return cls(int(match["uid"]), match["dir"], int(match["offset"]), query)

    async def callback(self, interaction: discord.Interaction) -> None:
        async def work() -> Reply:
            return await search(
                services_of(interaction.client),
                await who_reads(interaction, uid=self.uid),
                query=self.query,
                offset=self.offset,
            )

        await turn_page(interaction, work)


def search_query_key(query: str) -> str:
    """What a search button carries: the query's words and quoted phrases, all that search reads."""
    return canonical(query)


async def search(services: Services, who: Who, *, query: str, offset: int = 0) -> Reply:
    """A page of search results: catalog matches (first page) and ranked events."""
    result = await services.search.search(
        query, guild_id=who.guild_id, limit=SEARCH_PAGE, offset=offset, links=False
    )
    embed, shown = search_embed(result, who.locale)
    # The next page starts after the last event shown, so none is skipped.
    next_offset = result.next_offset(shown)
    has_prev = result.offset > 0
    has_next = next_offset is not None
    view: discord.ui.View | None = None
    if has_prev or has_next:
        key = search_query_key(result.query) or result.query
        view = discord.ui.View(timeout=None)
        prev_offset = max(result.offset - SEARCH_PAGE, 0)
        view.add_item(
            SearchButton(who.user_id, "p", prev_offset, key, disabled=not has_prev, locale=who.locale)
        )
        view.add_item(
            SearchButton(who.user_id, "n", next_offset or 0, key, disabled=not has_next, locale=who.locale)
        )
    return Reply(embeds=[embed], view=view)


# ---------------------------------------------------------------------------------------------
# Shared
# ---------------------------------------------------------------------------------------------


async def only_invoker(interaction: discord.Interaction, uid: int, text: str = NOT_YOURS) -> bool:
    """True for the member who ran the command; anyone else gets ``text``, ephemerally."""
    if interaction.user.id == uid:
        return True
    await interaction.response.send_message(
        gettext(own_locale(interaction), text),
        ephemeral=True,
        allowed_mentions=discord.AllowedMentions.none(),
    )
    return False


async def turn_page(interaction: discord.Interaction, work: Any) -> None:
    """Edit the message to the new page; a failure is an ephemeral note, never silence."""
    try:
        reply = await work()
    except (ValueError, IndexError):
        await reply_ephemeral(interaction, gettext(own_locale(interaction), EXPIRED))
        return
    except Exception as exc:
        custom_id = getattr(interaction.data, "get", lambda _k: None)("custom_id")
        await reply_ephemeral(
            interaction,
            user_message(exc, context=f"turning a page ({custom_id})", locale=own_locale(interaction)),
        )
        return
    await interaction.response.edit_message(**reply.edit_kwargs())


def dynamic_items() -> tuple[type[discord.ui.DynamicItem[Any]], ...]:
    return (TimelineButton, SearchButton)
