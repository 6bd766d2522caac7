"""Paged documents: a command's long answer as pages, turned with buttons that survive a restart.

A document is rendered whole, as a list of pages (embeds), from its name and a few short
arguments, by a renderer registered under that name with :func:`document`. The message shows one
page, "Page 2/5" in its footer, and Prev/Next buttons whose ``custom_id`` is
``pb:doc:<uid>:<doc>:<args>:<page>``; pressing one renders the document again and shows the page
asked for, so nothing is kept in memory and paging works after a restart. Only the invoker may turn
the pages; a failure is an ephemeral note through :func:`~bot.discord.errors.user_message`.

A renderer builds its pages with :class:`~bot.discord.render.flow.Flow`, which flows long lists and
texts onto the next page instead of cutting them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import discord

from bot.discord import paging
from bot.discord.charts import LABEL as CHART_LABEL
from bot.discord.charts import ChartButton
from bot.discord.language import who_reads
from bot.discord.paging import CUSTOM_ID_MAX, Rebuilt, services_of, turn_label, turn_page
from bot.discord.picks import PickButton
from bot.discord.render.flow import page_footer
from bot.discord.render.reply import Reply, Who
from bot.i18n import gettext

if TYPE_CHECKING:
    from bot.services.charts import ChartQuery
    from bot.services.container import Services

PREFIX = "pb:doc"
NAME = re.compile(r"[a-z][a-z0-9-]*")
LINK_LABEL_MAX = 80


@dataclass(frozen=True)
class Document:
    """What a renderer returns: the pages, link buttons shown on every page, and a line above them."""

    pages: Sequence[discord.Embed]
    links: Sequence[tuple[str, str]] = ()
    content: str | None = None
    #: A button under every page answering with this chart (``pb:ch:``).
    chart: ChartQuery | None = None


Renderer = Callable[["Services", Who, str], Awaitable[Document]]
_RENDERERS: dict[str, Renderer] = {}


def document(name: str) -> Callable[[Renderer], Renderer]:
    """Register ``renderer(services, who, args) -> Document`` as the document ``name``."""
    if not NAME.fullmatch(name):
        raise ValueError(f"a document name is lowercase letters, digits and '-': {name!r}")

    def register(renderer: Renderer) -> Renderer:
        known = _RENDERERS.get(name)
        if known is not None and known.__qualname__ != renderer.__qualname__:
            raise ValueError(f"two documents are named {name!r}")
        _RENDERERS[name] = renderer
        return renderer

    return register


def custom_id(uid: int, name: str, args: str, page: int) -> str:
    return f"{PREFIX}:{uid}:{name}:{args}:{page}"


class DocumentButton(
    Rebuilt, template=r"pb:doc:(?P<uid>\d+):(?P<doc>[a-z][a-z0-9-]*):(?P<args>.*):(?P<page>\d+)"
):
    def __init__(
        self, uid: int, name: str, args: str, page: int, label: str, *, disabled: bool = False
    ) -> None:
        self.name, self.args, self.page = name, args, page
        super().__init__(uid, label, custom_id(uid, name, args, page), disabled=disabled)

    @classmethod
    def from_match(cls, match: re.Match[str], interaction: discord.Interaction, item: Any) -> Self:
        return cls(
            int(match["uid"]),
            match["doc"],
            match["args"],
            int(match["page"]),
            str(getattr(item, "label", None) or ""),
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        async def work() -> Reply:
            who = await who_reads(interaction, uid=self.uid)
            return await open_document(services_of(interaction.client), who, self.name, self.args, self.page)

        await turn_page(interaction, work)


async def open_document(services: Services, who: Who, name: str, args: str = "", page: int = 1) -> Reply:
    """Page ``page`` of the document (the last one when it has fewer pages now), with its buttons."""
    if len(custom_id(who.user_id, name, args, 0)) + 4 > CUSTOM_ID_MAX:
        raise ValueError(f"the arguments of document {name!r} are too long for a button: {args!r}")
    renderer = _RENDERERS.get(name)
    if renderer is None:
        raise ValueError(f"no document is named {name!r}")  # a button from an older version: expired
    doc = await renderer(services, who, args)
    total = max(len(doc.pages), 1)
    page = min(max(page, 1), total)
    embeds: list[discord.Embed] = []
    if doc.pages:
        embed = doc.pages[page - 1]
        footer = embed.footer.text if embed.footer else None
        if total > 1:
            embed.set_footer(text=page_footer(footer, page, total, who.locale))
        embeds.append(embed)
    return Reply(content=doc.content, embeds=embeds, view=_view(who, name, args, page, total, doc))


def _view(who: Who, name: str, args: str, page: int, total: int, doc: Document) -> discord.ui.View | None:
    uid = who.user_id
    links = doc.links
    if total <= 1 and not links and doc.chart is None:
        return None
    view = discord.ui.View(timeout=None)
    if total > 1:
        prev, nxt = turn_label("p", who.locale), turn_label("n", who.locale)
        view.add_item(DocumentButton(uid, name, args, page - 1, prev, disabled=page <= 1))
        view.add_item(DocumentButton(uid, name, args, page + 1, nxt, disabled=page >= total))
    for label, url in links[:3]:
        view.add_item(discord.ui.Button(label=label[:LINK_LABEL_MAX], url=url))
    if doc.chart is not None:
        view.add_item(ChartButton(doc.chart, gettext(who.locale, CHART_LABEL)))
    return view


def dynamic_items() -> tuple[type[discord.ui.DynamicItem[Any]], ...]:
    """Every button that rebuilds itself from its ``custom_id``: documents, paged lists, picks, charts."""
    return (*paging.dynamic_items(), DocumentButton, PickButton, ChartButton)
