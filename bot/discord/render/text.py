"""Discord's limits and the text helpers that keep to them: a cut is visible ("…"), never mid-word.

Every limit of DESIGN.md ("Discord limits that rendering must respect") is a constant here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import discord

from bot.i18n import N_, local
from bot.services.views import Ref

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
# What Discord turns into a live pill: <@user>, <@&role>, <#channel>, </command:id>, <:emoji:id>.
_LIVE_TAG = re.compile(r"<(?=[@#/]|a?:\w+:\d)")
_WEB_URL = re.compile(r"https?://", re.IGNORECASE)
# Where a sentence ends: its stop (and a closing quote or bracket), then white space.
# Korean, Japanese and Chinese stops need no space after them (。！？).
_SENTENCE_END = re.compile(r"[.!?…][”’\"')\]]*(?=\s)|[。！？][」』”’）)]*|\n")
CONTINUED = N_("*(continued on the next page)*")
# A stop after these is an abbreviation (U.S., Mr., No. 2), not the end of a sentence.
_ABBREVIATION = re.compile(r"(?:\b[A-Z]|\b(?:Mr|Ms|Mrs|Dr|Gen|Lt|Col|St|No|Jr|Sr|vs|etc|e\.g|i\.e))\.$")


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


def split_sentences(
    text: str, limit: int, *, words: bool = True, continued: str = CONTINUED
) -> tuple[str, str]:
    """``text`` as (what fits in ``limit``, the rest), cut after the last whole sentence that fits.

    A head that is not the whole text ends with ``continued`` (:data:`CONTINUED` in the reader's
    language), counted within ``limit``; the
    rest starts at the next sentence. When not even one sentence fits, the cut falls at a word
    boundary instead (a single huge sentence still flows on, nothing is lost), or with ``words``
    False nothing is cut: ``("", text)``.
    """
    if len(text) <= limit:
        return text, ""
    room = limit - len(continued) - 1
    if room <= 0:
        return "", text
    ends = [
        m.end()
        for m in _SENTENCE_END.finditer(text, 0, room + 1)
        if m.end() <= room and not _ABBREVIATION.search(text, 0, m.end())
    ]
    cut = ends[-1] if ends and ends[-1] > 0 else 0
    if not cut and not words:
        return "", text
    if not cut:
        spaces = [m.start() for m in _SPACE.finditer(text, 0, room + 1)]
        cut = spaces[-1] if spaces and spaces[-1] > 0 else room
    head, rest = text[:cut].rstrip(), text[cut:].lstrip()
    return f"{head}\n{continued}", rest


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


def plain(text: str, *, markdown: bool = True) -> str:
    """Curated text shown as text: no markdown (masked links, headings, lists, quotes), no live
    mention or channel pill, and safe inside link brackets. Every title, summary, source name and
    reason passes through here before it reaches content or an embed.

    ``markdown=False`` keeps emphasis and ``#`` as typed and only breaks links and pills: for a
    value quoted back inside a sentence (an error echoing what the user typed)."""
    escaped = discord.utils.escape_markdown(text) if markdown else text
    return _LIVE_TAG.sub(r"\\<", escaped.replace("[", "(").replace("]", ")"))


def link(text: str, url: str | None) -> str:
    """``[text](url)`` for a web address; any other scheme (``javascript:``, ``file:``) is plain text."""
    if not url or not _WEB_URL.match(url):
        return plain(text)
    safe = url.replace(")", "%29").replace(" ", "%20")
    return f"[{plain(text)}]({safe})"


def name_of(record: Ref | Any, locale: str = "en") -> str:
    """A catalog record's (or link's) name in ``locale``: its translated name, else its English one."""
    return str(local(getattr(record, "i18n", None), locale, "name", record.name))


def refs(items: Iterable[Ref], locale: str = "en") -> str:
    return ", ".join(name_of(r, locale) for r in items)
