"""The pages of a long answer: text and lists flow onto the next page instead of being cut.

:class:`Flow` is the paging counterpart of :class:`~bot.discord.render.embeds.EmbedBuilder`. It
keeps every Discord limit the same way, but where the builder shortens ("… and 3 more"), the flow
starts a new page: a list goes on under "Name (continued)", a text is cut after its last whole
sentence that fits, marked "continued on the next page", and the rest opens the next page. Nothing
is left out. ``bot.discord.documents`` shows the pages one at a time with Prev/Next and "Page 2/5".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import discord

from bot.discord.render.embeds import Frame
from bot.discord.render.text import (
    CONTINUED,
    DESCRIPTION_MAX,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    MIN_USEFUL_FIELD,
    split_sentences,
    truncate,
)
from bot.i18n import N_, gettext, tr

# What the page counter ("Page 12/30 · ") may add to a footer, kept free on every page.
PAGE_MARK_MAX = 24
CONTINUED_NAME = N_("{name} (continued)")


def page_footer(footer: str | None, page: int, total: int, locale: str = "en") -> str:
    """``Page 2/5 · footer``: where a reader is in a document (in the reader's language)."""
    mark = tr(locale, "Page {page}/{pages}", page=page, pages=total)
    return f"{mark} · {footer}" if footer else mark


@dataclass
class _Page:
    description: str = ""
    fields: list[tuple[str, str, bool]] = field(default_factory=list)
    used: int = 0

    @property
    def empty(self) -> bool:
        return not self.description and not self.fields


class Flow(Frame):
    """Pages of one title: ``text`` for the description, ``add_field`` and ``add_lines`` for sections."""

    RESERVE = PAGE_MARK_MAX

    def _start(self) -> None:
        self._pages = [_Page()]

    @property
    def _page(self) -> _Page:
        return self._pages[-1]

    def _continued(self, name: str) -> str:
        """The label of a section going on from the previous page: "Name (continued)"."""
        return truncate(tr(self.locale, CONTINUED_NAME, name=name), FIELD_NAME_MAX)

    def _split(self, text: str, limit: int, *, words: bool = True) -> tuple[str, str]:
        return split_sentences(text, limit, words=words, continued=gettext(self.locale, CONTINUED))

    def _room(self) -> int:
        return self._budget - self._page.used

    def page_break(self) -> None:
        """Start a new page (nothing happens when the current one is still empty)."""
        if not self._page.empty:
            self._pages.append(_Page())

    def describe(self, text: str) -> None:
        """A text above the sections; when long, it goes on in the next page's description."""
        rest = text
        while rest:
            self.page_break()
            head, rest = self._split(rest, min(DESCRIPTION_MAX, self._room()))
            self._page.description = head
            self._page.used += len(head)

    def add_field(self, name: str, value: str, *, inline: bool = False) -> None:
        """A section: on the next page when it does not fit whole; a value longer than a field is cut
        after a sentence, marked continued, and goes on at the top of the next page."""
        label = truncate(name or "\u200b", FIELD_NAME_MAX)
        rest = value or "—"
        while rest:
            room = self._room() - len(label)
            fits_a_page = len(rest) <= min(FIELD_VALUE_MAX, self._budget - len(label))
            if (
                len(self._page.fields) >= FIELDS_MAX
                or room < min(MIN_USEFUL_FIELD, len(rest))
                or (fits_a_page and room < len(rest))
            ):
                self.page_break()
            room = min(FIELD_VALUE_MAX, self._room() - len(label))
            head, rest = self._split(rest, room, words=self._page.empty)
            if not head:  # no sentence fits beside what the page holds: a fresh page has room
                self.page_break()
                continue
            self._page.fields.append((label, head, inline))
            self._page.used += len(label) + len(head)
            if rest:
                self.page_break()  # the marker says "on the next page"
                label = self._continued(name)

    def add_lines(self, name: str, lines: Sequence[str], *, inline: bool = False, empty: str = "—") -> None:
        """A list, whole: what does not fit goes on in "Name (continued)", on the next page if need be."""
        if not lines:
            self.add_field(name, empty, inline=inline)
            return
        label = truncate(name, FIELD_NAME_MAX)
        chunk: list[str] = []
        for line in lines:
            while True:
                room = min(FIELD_VALUE_MAX, self._room() - len(label))
                full = len(self._page.fields) >= FIELDS_MAX
                used = sum(len(x) + 1 for x in chunk)
                if not full and used + len(line) <= room:
                    chunk.append(line)
                    break
                if chunk:
                    self._put(label, chunk, inline)
                    chunk = []
                    label = self._continued(name)
                elif self._page.empty or len(line) > FIELD_VALUE_MAX:
                    self.add_field(label, line, inline=inline)  # one line longer than a field: it flows
                    label = self._continued(name)
                    break
                else:
                    self.page_break()
        if chunk:
            self._put(label, chunk, inline)

    def _put(self, label: str, chunk: list[str], inline: bool) -> None:
        value = "\n".join(chunk)
        self._page.fields.append((label, value, inline))
        self._page.used += len(label) + len(value)

    def build(self) -> list[discord.Embed]:
        """One embed per page (the document adds "Page i/n" to each footer when it shows it)."""
        return [self.embed(page.description, page.fields, self.footer) for page in self._pages]
