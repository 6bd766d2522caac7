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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import models
from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.i18n import gettext
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from testing.fake_discord import FakeDiscord, FakeGuild, FakeMember, InteractionResult, connect_bot
from testing.fake_discord.checks import check_message_payload, walk_components
from tests.conftest import Database

from .english import allowed_in, leftover_english

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
