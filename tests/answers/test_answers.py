"""The answer-quality suite: questions a Korea watcher asks, asked through Discord, checked on the reply.

Each ``questions-*.yaml`` file beside this one lists questions::

    - ask: /talks track:six-party        # typed as in Discord (the console's syntax)
      must: ["Dec 2008"]                 # every fact the answer must contain (case-insensitive)
      must_not: ["Putin"]                # facts it must not contain
      pages: all                         # read every page (press Next until it is gone or disabled)

The whole real corpus in ``data/`` is seeded once per database; every question runs on SQLite and on
PostgreSQL, through real discord.py against the fake Discord, and is judged on the text a reader sees:
the message content, every embed's title, description, fields, footer and author, and the buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.discord.command_line import parse_options, split_line
from bot.i18n import gettext
from bot.services.container import Services
from testing.fake_discord import FakeDiscord, FakeGuild, FakeMember, InteractionResult, connect_bot
from testing.fake_discord.checks import walk_components

HERE = Path(__file__).resolve().parent
EXTENSIONS = ("cogs.briefing",)


def _bool(raw: str) -> bool:
    return raw.lower() in {"true", "yes", "1"}


OPTION_TYPES: dict[int, Callable[[str], Any]] = {4: int, 5: _bool, 10: float}
MAX_PAGES = 30


@dataclass(frozen=True)
class Question:
    ask: str
    must: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()
    pages: str | int = 1
    source: str = ""
    #: The reader's Discord language (``ko``, ``ja``, ``zh-CN``); English when not given.
    locale: str | None = None

    @property
    def id(self) -> str:
        return f"{self.source}:{self.ask}"


def load_questions() -> list[Question]:
    questions: list[Question] = []
    for path in sorted(HERE.glob("questions-*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            questions.append(
                Question(
                    ask=item["ask"],
                    must=tuple(item.get("must", ())),
                    must_not=tuple(item.get("must_not", ())),
                    pages=item.get("pages", 1),
                    source=path.stem.removeprefix("questions-"),
                    locale=item.get("locale"),
                )
            )
    return questions


QUESTIONS = load_questions()


def reply_text(result: InteractionResult) -> str:
    """Everything a reader sees of one message."""
    parts = [result.content]
    for embed in result.embeds:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [embed.get("author", {}).get("name", ""), embed.get("footer", {}).get("text", "")]
        for f in embed.get("fields", []):
            parts += [f.get("name", ""), f.get("value", "")]
    parts += [str(c.get("label", "")) for c in walk_components(result.components)]
    return "\n".join(p for p in parts if p)


def next_button(result: InteractionResult, locale: str | None = None) -> str | None:
    label = gettext(locale, "Next ▶")
    for component in walk_components(result.components):
        if str(component.get("label", "")) == label and not component.get("disabled"):
            custom_id: str = component["custom_id"]
            return custom_id
    return None


@dataclass
class Asked:
    pages: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


async def ask(fake: FakeDiscord, guild: FakeGuild, member: FakeMember, question: Question) -> Asked:
    name, rest = split_line(question.ask)
    definition = next(c for c in fake.global_commands if c["name"] == name)
    types = {o["name"]: o["type"] for o in definition.get("options", [])}
    raw = parse_options(rest, list(types))
    options: dict[str, Any] = {k: OPTION_TYPES.get(types[k], str)(v) for k, v in raw.items()}
    result = await fake.invoke(name, options, guild=guild, user=member)
    asked = Asked([reply_text(result)])
    limit = MAX_PAGES if question.pages == "all" else int(question.pages)
    while len(asked.pages) < limit and (custom_id := next_button(result, question.locale)) is not None:
        result = await fake.press(result, custom_id, user=member)
        asked.pages.append(reply_text(result))
    return asked


def test_the_suite_is_large_enough() -> None:
    assert len(QUESTIONS) >= 1
    assert len({q.ask for q in QUESTIONS}) == len(QUESTIONS), "a question is asked twice"


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
async def test_answer(question: Question, answers_services: Services, fake_discord: FakeDiscord) -> None:
    settings = Settings(discord_token="x", database_url="sqlite+aiosqlite://", _env_file=None)
    # The seeded database is shared by every question: sync by hand, so no tree hash is stored in it.
    bot = PeninsulaBot(
        settings=settings, services=answers_services, extensions=EXTENSIONS, sync_commands=False
    )
    guild = fake_discord.add_guild("Watchers")
    member = guild.add_member("reader")
    if question.locale:
        member.user.locale = question.locale
    async with connect_bot(fake_discord, bot):
        await bot.tree.sync()
        asked = await ask(fake_discord, guild, member, question)
    text = asked.text.casefold()
    missing = [fact for fact in question.must if fact.casefold() not in text]
    present = [fact for fact in question.must_not if fact.casefold() in text]
    assert not missing and not present, (
        f"{question.ask}\nmissing: {missing}\nmust not contain: {present}\n--- reply ---\n{asked.text}"
    )
