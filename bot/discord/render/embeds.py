"""An embed builder that never breaks a Discord limit, and the fit of several embeds in one message."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord.render.text import (
    AUTHOR_MAX,
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    EMBEDS_MAX,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    FOOTER_MAX,
    MIN_USEFUL_FIELD,
    TITLE_MAX,
    join_lines,
    truncate,
)
from bot.i18n import tr

BRAND = 0x34495E


class Frame:
    """What every embed of an answer repeats — title, link, colour, footer, author — cut to their
    limits, and the budget they leave of the 6,000-character total (less ``RESERVE`` for a note)."""

    RESERVE = 40

    def __init__(
        self,
        title: str,
        *,
        description: str = "",
        url: str | None = None,
        colour: int = BRAND,
        footer: str | None = None,
        author: str | None = None,
        locale: str = "en",
    ) -> None:
        self.locale = locale  # the language of the frame's own words ("continued", "more not shown")
        self.title = truncate(title, TITLE_MAX)
        self.url = url
        self.colour = colour
        self.footer = truncate(footer, FOOTER_MAX - self.RESERVE) if footer else None
        self.author = truncate(author, AUTHOR_MAX) if author else None
        fixed = len(self.title) + len(self.footer or "") + len(self.author or "") + self.RESERVE
        self._budget = EMBED_TOTAL_MAX - fixed
        self._start()
        if description:
            self.describe(description)

    def _start(self) -> None:
        """Set up the body before the description is added."""

    def describe(self, text: str) -> None:
        raise NotImplementedError

    def embed(
        self, description: str, fields: Sequence[tuple[str, str, bool]], footer: str | None
    ) -> discord.Embed:
        """One embed of the answer: the frame around a body already cut to the budget."""
        embed = discord.Embed(title=self.title, description=description or None, colour=self.colour)
        if self.url:
            embed.url = self.url
        if self.author:
            embed.set_author(name=self.author)
        for name, value, inline in fields:
            embed.add_field(name=name, value=value, inline=inline)
        if footer:
            embed.set_footer(text=footer)
        return embed


class EmbedBuilder(Frame):
    """Builds an embed that never breaks a Discord limit, shortening visibly when it must."""

    def _start(self) -> None:
        self.fields: list[tuple[str, str, bool]] = []
        self.omitted = 0  # fields that did not fit; the 40 reserved characters name them
        self.description = ""

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

    def add_lines(
        self,
        name: str,
        lines: Sequence[str],
        *,
        more: str,
        inline: bool = False,
        empty: str = "—",
    ) -> bool:
        """A list in one field, for an answer that is one message with no pages (an alert): what does
        not fit is counted with ``more``, which must say where the whole list is ("+ {n} more sources:
        /event id:7"). An answer that can page uses :class:`~bot.discord.render.flow.Flow` instead."""
        room = min(FIELD_VALUE_MAX, self._budget - len(name))
        if not lines:
            return self.add_field(name, empty, inline=inline)
        return self.add_field(name, join_lines(lines, max(room, 0), more=more), inline=inline)

    def build(self) -> discord.Embed:
        footer = self.footer or ""
        if self.omitted:
            note = tr(self.locale, "{n} more not shown", n=self.omitted)
            footer = f"{footer} · {note}" if footer else note
        return self.embed(self.description, self.fields, footer)


def fit_embeds(embeds: Sequence[discord.Embed], locale: str = "en") -> list[discord.Embed]:
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
        note = tr(locale, "{n} more not shown", n=dropped)
        text = last.footer.text if last.footer and last.footer.text else ""
        if total + len(note) + 3 <= EMBED_TOTAL_MAX:
            last.set_footer(text=truncate(f"{text} · {note}" if text else note, FOOTER_MAX))
    return kept
