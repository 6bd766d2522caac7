"""/chart end to end: the reply carries the PNG as an attachment of the embed and the same counts
as a text table; a guild's local events are counted for it alone; the chart buttons of /program
and /brief answer with the chart, after a restart too."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from bot.services.validation import EventInput, SourceInput
from testing.fake_discord import FakeDiscord, FakeGuild, FakeMember, InteractionResult, connect_bot
from tests.conftest import Database

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
CORPUS = [FIXTURES / "sample.yaml", FIXTURES / "reader.yaml"]
EXTENSIONS = ("cogs.briefing", "cogs.charts")
PNG = b"\x89PNG\r\n\x1a\n"
ROW = re.compile(r"^(\S+)\s+(\d+)$", re.MULTILINE)


@dataclass
class World:
    fake: FakeDiscord
    home: FakeGuild
    other: FakeGuild
    alice: FakeMember
    services: Services
    database: Database

    def bot(self) -> PeninsulaBot:
        settings = Settings(discord_token="x", database_url=self.database.url, _env_file=None)
        return PeninsulaBot(settings=settings, services=self.services, extensions=EXTENSIONS)


@pytest.fixture
async def world(fake_discord: FakeDiscord, database: Database) -> World:
    home = fake_discord.add_guild("Home")
    other = fake_discord.add_guild("Elsewhere")
    alice = home.add_member("alice")
    await load(database.sessionmaker, read_corpus(files=CORPUS))
    services = Services.build(database.sessionmaker, Policy.of([home.id]))
    return World(fake_discord, home, other, alice, services, database)


@pytest.fixture
async def bot(world: World) -> AsyncIterator[PeninsulaBot]:
    client = world.bot()
    async with connect_bot(world.fake, client):
        yield client


def corpus_years(*kinds: str) -> Counter[str]:
    events = read_corpus(files=CORPUS).sections["events"]
    return Counter(str(e["date"])[:4] for e in events if e["kind"] in kinds)


def table(result: InteractionResult) -> dict[str, int]:
    """The rows of the reply's text table (the total under ``total``), zero rows left out."""
    description = result.embeds[0]["description"]
    block = description.split("```")[1]
    return {label: int(n) for label, n in ROW.findall(block) if int(n)}


async def image(fake: FakeDiscord, result: InteractionResult) -> bytes:
    """The PNG the embed shows, fetched from the URL Discord gave the attachment."""
    assert result.message is not None
    [attachment] = result.message.attachments
    assert attachment["filename"] == "chart.png" and attachment["content_type"] == "image/png"
    assert result.embeds[0]["image"]["url"] == attachment["url"]
    async with aiohttp.ClientSession() as http, http.get(attachment["url"]) as response:
        assert response.status == 200
        return await response.read()


async def add_launch(world: World, guild: FakeGuild, day: str) -> None:
    caller = Caller(7, guild.id, frozenset({"manage_guild"}))
    data = EventInput(
        title=f"Short-range launch on {day}",
        summary="Two short-range ballistic missiles fired into the sea.",
        date=day,
        kind="missile_launch",
        significance=2,
        actors=["dprk"],
        sources=[SourceInput("Yonhap", f"Launch {day}", day, "https://example.org/launch")],
    )
    await world.services.curation.create(caller, data, alert=False)


async def test_chart_attaches_the_image_and_the_table_of_the_corpus_counts(
    world: World, bot: PeninsulaBot
) -> None:
    result = await world.fake.invoke("chart", {"metric": "launches", "by": "year"}, guild=world.home,
                                     user=world.alice)  # fmt: skip
    embed = result.embeds[0]
    assert embed["title"] == "Launches by year"
    assert "missile and satellite launches" in embed["description"]
    assert any(f["name"] == "Source" and "Peninsula Brief" in f["value"] for f in embed["fields"])
    assert re.fullmatch(r"as of \d{1,2} [A-Z][a-z]{2} 20\d\d", embed["footer"]["text"])
    expected = corpus_years("missile_launch", "satellite_launch")
    rows = table(result)
    assert rows.pop("total") == sum(expected.values())
    assert rows == dict(expected)
    assert (await image(world.fake, result)).startswith(PNG)
    assert not result.ephemeral


async def test_local_launches_count_in_their_guild_only(world: World, bot: PeninsulaBot) -> None:
    await add_launch(world, world.other, "2019-05-04")
    options = {"metric": "launches", "by": "month", "since": "2019", "until": "2019", "private": True}
    there = await world.fake.invoke("chart", options, guild=world.other, user=world.other.add_member("eve"))
    here = await world.fake.invoke("chart", options, guild=world.home, user=world.alice)
    assert table(there) == {"2019-05": 1, "total": 1}
    assert "No events counted" in here.embeds[0]["description"] and "```" not in here.embeds[0]["description"]
    assert "No events" not in there.embeds[0]["description"] and there.ephemeral


async def test_bad_dates_are_refused_and_nothing_is_drawn(world: World, bot: PeninsulaBot) -> None:
    result = await world.fake.invoke("chart", {"since": "2020", "until": "2010"}, guild=world.home,
                                     user=world.alice)  # fmt: skip
    assert result.ephemeral and "until" in result.content and "before since" in result.content, result.content
    assert result.message is not None and not result.message.attachments


async def test_program_and_brief_buttons_answer_with_the_chart(world: World) -> None:
    async with connect_bot(world.fake, world.bot()):
        program = await world.fake.invoke("program", {"name": "space launch"}, guild=world.home,
                                          user=world.alice)  # fmt: skip
        brief = await world.fake.invoke("brief", guild=world.home, user=world.alice)
    [button] = [c for c in program.message.custom_ids() if c.startswith("pb:ch:")]  # type: ignore[union-attr]
    assert button == "pb:ch:launches:year:space-launch:"
    assert "pb:ch:launches:year::" in brief.message.custom_ids()  # type: ignore[union-attr]
    async with connect_bot(world.fake, world.bot()):  # a new process: the button still works
        pressed = await world.fake.press(program, button, user=world.home.add_member("bob"))
    assert pressed.ephemeral
    assert pressed.embeds[0]["title"] == "Launches by year"
    assert "program Space launch" in pressed.embeds[0]["description"]
    rows = table(pressed)
    assert rows == {"2012": 1, "total": 1}
    assert (await image(world.fake, pressed)).startswith(PNG)


async def test_help_describes_chart(world: World, bot: PeninsulaBot) -> None:
    result = await world.fake.invoke("help", {"private": True}, guild=world.home, user=world.alice)
    commands = next(f["value"] for f in result.embeds[0]["fields"] if f["name"].startswith("Commands"))
    assert "`/chart`" in commands and "launches, nuclear tests, sanctions or events" in commands


async def test_a_chart_speaks_the_readers_language(world: World, bot: PeninsulaBot) -> None:
    options = {"metric": "launches", "by": "year", "since": "2012-12-01", "private": True}
    english = await world.fake.invoke("chart", options, guild=world.home, user=world.alice)
    world.alice.user.locale = "ko"
    korean = await world.fake.invoke("chart", options, guild=world.home, user=world.alice)
    embed = korean.embeds[0]
    assert embed["title"] == "연도별 발사"
    head = embed["description"].split("\n\n")[0]
    assert head == "**집계 대상:** 미사일·위성 발사\n2012년 12월 1일 이후"
    assert [f["name"] for f in embed["fields"]] == ["출처"]
    assert embed["fields"][0]["value"].startswith("Peninsula Brief의 사건 기록")
    assert re.fullmatch(r"20\d\d년 \d{1,2}월 \d{1,2}일 기준", embed["footer"]["text"])
    assert table(korean).pop("합계") == table(english).pop("total")
    # The image is drawn (and cached) for each language: the Korean one is not the English one.
    assert (await image(world.fake, korean)) != (await image(world.fake, english))
    world.alice.user.locale = "ja"
    japanese = await world.fake.invoke(
        "chart", {**options, "by": "program"}, guild=world.home, user=world.alice
    )
    assert japanese.embeds[0]["title"] == "計画別の発射"
