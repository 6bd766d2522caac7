"""Every reader command in Korean, Japanese and Chinese, end to end, on the shipped corpus.

Each command is run by a reader whose Discord language is ko, ja or zh-CN, every page of the
answer is turned to, and each page must

- keep to Discord's limits (the fake measures CJK text in characters, as Discord counts it), and
- hold no English word except the ones the corpus itself leaves English: its texts with no
  translation in that language (shown whole: an event's title and summary, a stance, a source's
  title), the names of records with no name in that language, and the Latin letters the
  translations themselves write (``ICBM``, ``KN-23``, ``Manage Server``). The allowlist is derived
  from the corpus and the catalogs, never written by hand here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot import i18n, models
from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.discord.render.text import plain
from bot.i18n import gettext
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from bot.services.views import source_view
from testing.fake_discord import FakeDiscord, FakeGuild, FakeMember, InteractionResult, connect_bot
from testing.fake_discord.checks import check_message_payload, walk_components
from tests.conftest import Database

DATA = Path(__file__).resolve().parents[2] / "data"
FILES = [
    DATA / n
    for n in (
        "actors.yaml",
        "programs.yaml",
        "tracks.yaml",
        "topics.yaml",
        "positions.yaml",
        "events-2017-2026.yaml",
    )
]
READERS = ("ko", "ja", "zh-CN")
EXTENSIONS = ("cogs.briefing",)
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
COMMANDS: list[tuple[str, dict[str, object]]] = [
    ("brief", {}),
    ("program", {"name": "ICBM"}),
    ("program", {"name": "Hwasong-17"}),
    ("program", {"name": "Punggye-ri"}),
    ("talks", {"track": "six-party"}),
    ("position", {"party": "dprk"}),
    ("position", {"party": "kim-jong-un"}),
    ("position", {"party": "united-states", "topic": "peace-treaty"}),
    ("compare", {"topic": "peace-treaty"}),
    ("timeline", {"system": "Hwasong-17"}),
    ("timeline", {"kind": "nuclear_test"}),
    ("search", {"query": "Hwasong-17"}),
    ("event", {}),  # the id of a translated event, found below
    ("event", {"history": True}),
    ("help", {}),
]


@dataclass
class World:
    fake: FakeDiscord
    home: FakeGuild
    reader: FakeMember
    services: Services
    database: Database


@pytest.fixture
async def world(fake_discord: FakeDiscord, database: Database) -> AsyncIterator[World]:
    home = fake_discord.add_guild("Home")
    await load(database.sessionmaker, read_corpus(files=FILES))
    services = Services.build(database.sessionmaker, Policy.of([home.id]))
    settings = Settings(discord_token="x", database_url=database.url, _env_file=None)
    client = PeninsulaBot(settings=settings, services=services, extensions=EXTENSIONS)
    world = World(fake_discord, home, home.add_member("reader"), services, database)
    async with connect_bot(fake_discord, client):
        yield world


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


def leftover_english(page: dict[str, Any], allowed: Allowed, *, names_field: str, typed: str) -> list[str]:
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
    said = r"[\W_]*".join(re.escape(w) for w in re.findall(r"\w+", typed)) or re.escape(typed)
    text = re.sub(said, " ", _strip_english("\n".join(parts), allowed), flags=re.IGNORECASE)
    for pattern in NOT_WORDS:
        text = pattern.sub(" ", text)
    return sorted({w for w in WORD.findall(text) if len(w) > 1 and w not in allowed.words})


async def pages_of(world: World, first: InteractionResult, locale: str) -> list[dict[str, Any]]:
    """Each page of the answer as sent (embed, content and buttons), turning with Next."""
    nxt = gettext(locale, "Next ▶")
    pages: list[dict[str, Any]] = []
    while True:
        components = list(walk_components(first.components))
        payload = {"content": first.content, "embeds": first.embeds, "components": first.components}
        assert check_message_payload(payload, f"page {len(pages) + 1}") == []
        for embed in first.embeds or [{}]:
            pages.append({**embed, "content": first.content, "components": components})
        button = next((c for c in components if c.get("label") == nxt), None)
        assert not any(c.get("label") == "Next ▶" for c in components)
        if button is None or button.get("disabled") or len(pages) > 60:
            return pages
        turned = await world.fake.press(first, str(button["custom_id"]), user=world.reader)
        assert turned.callback_type == 7


async def _translated_event(world: World) -> int:
    async with world.database.sessionmaker() as session:
        rows = (await session.scalars(select(models.Event).where(models.Event.significance >= 4))).all()
    return next(e.id for e in rows if all((e.i18n or {}).get(loc, {}).get("title") for loc in READERS))


@pytest.mark.parametrize(
    ("command", "options"), COMMANDS, ids=lambda v: str(v) if isinstance(v, str) else None
)
async def test_a_reader_command_speaks_korean_japanese_and_chinese(
    world: World, command: str, options: dict[str, object]
) -> None:
    if command == "event":
        options = {**options, "id": str(await _translated_event(world))}
    for locale in READERS:
        world.reader.user.locale = locale
        first = await world.fake.invoke(
            command, {**options, "private": True}, guild=world.home, user=world.reader
        )
        assert first.ephemeral and first.embeds, (locale, first.content)
        allowed = await allowed_in(world.database, locale)
        names_field = gettext(locale, "Also known as")
        typed = str(options.get("query", "\0"))
        pages = await pages_of(world, first, locale)
        for n, page in enumerate(pages, 1):
            left = leftover_english(page, allowed, names_field=names_field, typed=typed)
            assert not left, f"/{command} {options} in {locale}, page {n}: English left: {left}"
        # The answer really is in the reader's language: its own words come from the catalog.
        whole = "\n".join(str(p.get("title", "")) + str(p.get("description", "")) for p in pages)
        assert re.search(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", whole), (command, locale)
