"""The "no English word" check of the language tests: what may stay in Latin letters in a reply in
Korean, Japanese or Chinese, derived from the corpus and the catalogs (never written by hand), and
the Latin words a rendered page holds beyond that.

What is not language is left out first: addresses, Discord markup, commands and options as typed,
code spans, and whatever the reader typed themselves (``typed``: their options' values and names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot import i18n, models
from bot.discord.render.text import plain
from bot.services.views import source_view
from tests.conftest import Database

# A Latin word: letters, with the hyphens, apostrophes and dots inside names (Kim Jong Un, U.S.).
WORD = re.compile(r"[A-Za-z](?:[A-Za-z'’.\-]*[A-Za-z])?")
SENTENCE = re.compile(r"(?<=[.!?])\s+")
# What is not language: addresses, Discord markup, commands and options as typed.
NOT_WORDS = (
    re.compile(r"https?://\S+"),
    re.compile(r"<[@#t/:][^>]*>"),
    re.compile(r"/[a-z][a-z-]*(?:\s+[a-z][a-z_-]*:\S+)*"),
    re.compile(r"\b[a-z][a-z_]*:[\w.-]+"),
    re.compile(r"`[^`]*`"),
)

RECORDED = re.compile(r"^(\*\*[^*]+\*\*:).*$", re.MULTILINE)


def _translations(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _translations(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _translations(v)


@dataclass
class Allowed:
    """What may stay in Latin letters in a reply in one language, derived from the corpus."""

    english: list[str]  # texts shown whole in English (longest first)
    words: set[str]  # words of names with no local form, and the Latin the translations write


async def allowed_in(database: Database, locale: str) -> Allowed:
    english: set[str] = set()
    words: set[str] = set()
    records: list[Any] = []
    async with database.sessionmaker() as session:
        for model in (models.Actor, models.Program, models.System, models.Facility, models.TalksTrack):
            records += (await session.scalars(select(model))).all()
        records += (await session.scalars(select(models.Topic))).all()
        events = (
            await session.scalars(select(models.Event).options(selectinload(models.Event.sources)))
        ).all()
        positions = (await session.scalars(select(models.Position))).all()
    for r in records:
        own = (r.i18n or {}).get(locale) or {}
        words.update(w for text in _translations(own) for w in WORD.findall(text))
        if not own.get("name"):  # a proper name with no local form
            words.update(w for n in (r.name, *(r.aliases or ())) for w in WORD.findall(n))
        for key in ("summary", "status"):
            if not own.get(key) and getattr(r, key, None):
                english.add(getattr(r, key))
        english.add(getattr(r, "location", "") or "")
        english.update(str(d["text"]) for d in getattr(r, "key_dates", None) or ())
    for e in events:
        own = (e.i18n or {}).get(locale) or {}
        words.update(w for text in _translations(own) for w in WORD.findall(text))
        english.update(x for x, key in ((e.title, "title"), (e.summary, "summary")) if not own.get(key))
        english.update(str(v) for v in (e.details or {}).values() if isinstance(v, str))
        for s in e.sources:
            english.update((s.title, s.publisher, source_view(s).facts or ""))
    for p in positions:
        english.update((p.stance, p.summary, p.quote or "", p.source_title, p.source_publisher))
    for entry in i18n.catalog(locale):
        if entry.id and entry.string:
            words.update(w for text in _translations(entry.string) for w in WORD.findall(text))
    pieces = {x for text in english if text for x in (text, *SENTENCE.split(text))}
    pieces |= {plain(x) for x in pieces}
    return Allowed(sorted((x for x in pieces if len(x) > 2), key=len, reverse=True), words)


def _strip_english(text: str, allowed: Allowed) -> str:
    """``text`` without the corpus's English texts, whole or cut short with "…"."""
    for piece in allowed.english:
        if piece in text:
            text = text.replace(piece, " ")
    lines = []
    for line in text.split("\n"):
        while "…" in line:
            head, _, tail = line.partition("…")
            for piece in allowed.english:
                at = head.find(piece[:12]) if len(piece) >= 12 else -1
                if at >= 0 and piece.startswith(head[at:].rstrip()):
                    head = head[:at]
                    break
            lines.append(head)
            line = tail
        lines.append(line)
    return "\n".join(lines)


def leftover_english(
    page: dict[str, Any], allowed: Allowed, *, names_field: str = "\0", typed: str | Iterable[str] = ()
) -> list[str]:
    """The Latin words of a page that nothing in the corpus or the catalogs accounts for."""
    parts = [str(page.get(k) or "") for k in ("content", "title", "description")]
    for embed_part in ("footer", "author"):
        parts.append(str((page.get(embed_part) or {}).get("text" if embed_part == "footer" else "name", "")))
    for f in page.get("fields", []):
        parts.append(f["name"])
        if f["name"].startswith(names_field):  # "Also known as": other names, in every script
            continue
        # An event's history shows each field's values as they were recorded ("**제목**: old → new").
        parts.append(RECORDED.sub(r"\1", f["value"]))
    parts += [str(c.get("label") or "") for c in page.get("components", [])]
    # What the reader typed is theirs (a later page's title holds it as the button carried it).
    # (its words as search reads them: "Hwasong-17" comes back as "hwasong 17").
    text = _strip_english("\n".join(parts), allowed)
    for said in sorted([typed] if isinstance(typed, str) else typed, key=len, reverse=True):
        if not said.strip():
            continue
        words = r"[\W_]*".join(re.escape(w) for w in re.findall(r"\w+", said)) or re.escape(said)
        text = re.sub(words, " ", text, flags=re.IGNORECASE)
    for pattern in NOT_WORDS:
        text = pattern.sub(" ", text)
    return sorted({w for w in WORD.findall(text) if len(w) > 1 and w not in allowed.words})
