"""Paged documents end to end: every page reachable, "Page 2/5", Prev/Next, the invoker only, restarts."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.discord.paging import NOT_YOURS
from bot.discord.render.text import CONTINUED
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from bot.services.validation import SourceInput
from cogs.briefing import Briefing
from testing.fake_discord import FakeDiscord, FakeGuild, FakeMember, InteractionResult, connect_bot
from testing.fake_discord.checks import walk_components
from tests.conftest import Database

from .bot_process import Staff
from .test_dispatcher import event_input, one_alert_sent

DATA = Path(__file__).resolve().parents[2] / "data"
CATALOG = [DATA / n for n in ("actors.yaml", "programs.yaml", "tracks.yaml", "topics.yaml", "positions.yaml")]
EXTENSIONS = ("cogs.briefing",)


@dataclass
class World:
    fake: FakeDiscord
    home: FakeGuild
    alice: FakeMember
    bob: FakeMember
    services: Services
    database: Database

    def bot(self) -> PeninsulaBot:
        settings = Settings(discord_token="x", database_url=self.database.url, _env_file=None)
        return PeninsulaBot(settings=settings, services=self.services, extensions=EXTENSIONS)


@pytest.fixture
async def world(fake_discord: FakeDiscord, database: Database) -> World:
    home = fake_discord.add_guild("Home")
    await load(database.sessionmaker, read_corpus(files=CATALOG))
    services = Services.build(database.sessionmaker, Policy.of([home.id]))
    return World(fake_discord, home, home.add_member("alice"), home.add_member("bob"), services, database)


@pytest.fixture
async def bot(world: World) -> AsyncIterator[PeninsulaBot]:
    client = world.bot()
    async with connect_bot(world.fake, client):
        yield client


def buttons(result: InteractionResult) -> dict[str, dict[str, object]]:
    return {str(c.get("label")): c for c in walk_components(result.components) if c.get("custom_id")}


def text_of(result: InteractionResult) -> str:
    parts = [result.content]
    for embed in result.embeds:
        parts += [
            embed.get("title", ""),
            embed.get("description", ""),
            embed.get("footer", {}).get("text", ""),
        ]
        for f in embed.get("fields", []):
            parts += [f["name"], f["value"]]
    return "\n".join(parts)


async def _turn_every_page(world: World, first: InteractionResult) -> AsyncIterator[None]:
    """Yields with each page shown in ``first``, pressing Next until it is disabled; checks the
    counter on each."""
    yield
    footer = first.embeds[0].get("footer", {}).get("text", "")
    match = re.match(r"Page 1/(\d+)", footer)
    if match is None:  # one page: no counter, no buttons
        assert "Next ▶" not in buttons(first)
        return
    total = int(match[1])
    assert buttons(first)["◀ Prev"].get("disabled") is True
    for page in range(2, total + 1):
        next_id = str(buttons(first)["Next ▶"]["custom_id"])
        assert len(next_id) <= 100
        turned = await world.fake.press(first, next_id, user=world.alice)
        assert turned.callback_type == 7
        assert first.embeds[0]["footer"]["text"].startswith(f"Page {page}/{total}")
        yield
    assert buttons(first)["Next ▶"].get("disabled") is True


async def every_page(world: World, first: InteractionResult) -> list[str]:
    """The text of each page."""
    return [text_of(first) async for _ in _turn_every_page(world, first)]


async def every_embed(world: World, first: InteractionResult) -> list[dict[str, Any]]:
    """Each page's embed, as sent."""
    return [copy.deepcopy(first.embeds[0]) async for _ in _turn_every_page(world, first)]


async def test_brief_lists_every_program_and_track(world: World, bot: PeninsulaBot) -> None:
    first = await world.fake.invoke("brief", guild=world.home, user=world.alice)
    whole = "\n".join(await every_page(world, first))
    programs = await world.services.catalog.programs()
    tracks = await world.services.catalog.tracks()
    assert len(programs) == 10 and len(tracks) == 6
    for name in [p.name for p in programs] + [t.name for t in tracks]:
        assert f"**{name}** — " in whole, name
    assert not re.search(r"and \d+ more", whole)


async def test_position_pages_every_position_whole(world: World, bot: PeninsulaBot) -> None:
    first = await world.fake.invoke("position", {"party": "North Korea"}, guild=world.home, user=world.alice)
    pages = await every_page(world, first)
    assert len(pages) > 1
    whole = "\n".join(pages)
    dprk = await world.services.catalog.actor("dprk")
    positions = await world.services.catalog.positions(dprk.slug, None)
    assert len(positions) > 10
    for p in positions:
        assert p.summary in whole.replace("\n" + CONTINUED + "\n", " "), p.summary[:60]
    assert not whole.rstrip().endswith("…")


async def test_help_lists_every_command_on_its_pages(world: World, bot: PeninsulaBot) -> None:
    first = await world.fake.invoke("help", guild=world.home, user=world.alice)
    whole = "\n".join(await every_page(world, first))
    commands = [(c.name, c.description) for c in Briefing.__cog_app_commands__]
    assert len(commands) >= 9
    for name, description in commands:
        assert f"`/{name}` — {description}" in whole, name
    assert "… and" not in whole and not re.search(r"\d+ more", whole)


async def test_compare_is_one_block_per_party_then_other_voices(world: World, bot: PeninsulaBot) -> None:
    first = await world.fake.invoke("compare", {"topic": "talks-format"}, guild=world.home, user=world.alice)
    fields = [f for embed in await every_embed(world, first) for f in embed["fields"]]
    assert not any(f["inline"] for f in fields)
    states = sorted(
        (a for a in await world.services.catalog.actors(parties_only=True) if a.kind == "state"),
        key=lambda a: a.name,
    )
    assert len(states) == 6
    names = [f["name"] for f in fields]
    voices = names.index("Other voices")
    blocks = [n for n in names[:voices] if not n.endswith("(continued)")]
    assert [b.split(" (as of ")[0] for b in blocks] == [s.name for s in states]
    assert any(n.startswith("Robert Gallucci: ") for n in names[voices:])
    whole = "\n".join(f["value"] for f in fields).replace("\n" + CONTINUED + "\n", " ")
    comparison = await world.services.catalog.comparison("talks-format")
    for _state, history in comparison.states:
        latest = history[0]
        assert f"**{latest.stance}**\n{latest.summary}" in whole, latest.summary[:60]
    for voice in comparison.voices:
        assert voice.summary in whole
    assert "…" not in whole


async def test_a_document_pages_after_a_restart_for_its_invoker_only(world: World) -> None:
    async with connect_bot(world.fake, world.bot()):
        first = await world.fake.invoke("position", {"party": "DPRK"}, guild=world.home, user=world.alice)
        assert first.message is not None
        page1 = text_of(first)
    async with connect_bot(world.fake, world.bot()):
        next_id = str(buttons(first)["Next ▶"]["custom_id"])
        assert next_id == f"pb:doc:{world.alice.id}:position:dprk/:2"
        other = await world.fake.press(first, next_id, user=world.bob)
        assert other.ephemeral and other.content == NOT_YOURS
        assert text_of(first) == page1
        turned = await world.fake.press(first, next_id, user=world.alice)
        assert turned.callback_type == 7
        assert first.embeds[0]["footer"]["text"].startswith("Page 2/")
        assert text_of(first) != page1


async def test_event_links_its_primary_source_and_keeps_dates_dates(world: World, bot: PeninsulaBot) -> None:
    caller = Caller(7, world.home.id, frozenset({"manage_guild"}))
    data = event_input(
        sources=[
            SourceInput("KCNA Watch", "Statement without a link", "2024-11"),
            SourceInput("Yonhap", "North Korea fires ICBM", "2024-10-31", "https://example.org/a"),
        ]
    )
    event = await world.services.curation.create(caller, data, alert=False)
    result = await world.fake.invoke("event", {"id": str(event.id)}, guild=world.home, user=world.alice)
    [embed] = result.embeds
    assert embed["url"] == "https://example.org/a"
    assert "timestamp" not in embed  # a day-precision event has no time of day to show
    assert next(f["value"] for f in embed["fields"] if f["name"] == "Date") == "31 Oct 2024"
    assert "Statement without a link — KCNA Watch, Nov 2024" in text_of(result)
    [link] = [c for c in walk_components(result.components) if c.get("style") == 5]
    assert link["label"] == "Sources" and link["url"] == "https://example.org/a"


async def test_an_alert_links_its_primary_source(fake_discord: FakeDiscord, sqlite_db: Database) -> None:
    staff = Staff(fake_discord)
    async with one_alert_sent(fake_discord, sqlite_db, staff):
        pass
    [alert] = fake_discord.channel_messages(staff.channel(0).id)
    assert alert.embeds[0]["url"] == "https://example.org/a"
    assert "timestamp" not in alert.embeds[0]
    [link] = [c for c in walk_components(alert.components) if c.get("type") == 2]
    assert link == {"type": 2, "style": 5, "label": "Sources", "url": "https://example.org/a"}


async def test_a_typed_value_that_names_nothing_offers_the_closest_as_buttons(world: World) -> None:
    async with connect_bot(world.fake, world.bot()):
        asked = await world.fake.invoke(
            "timeline", {"program": "missile", "since": "2017"}, guild=world.home, user=world.alice
        )
        assert asked.ephemeral
        assert asked.content.startswith("No program matches “missile”.")
        assert "Pick one to run `/timeline program:missile since:2017` with it." in asked.content
        picks = buttons(asked)
        assert list(picks)[:3] == [
            "Cruise missiles",
            "Hypersonic missiles",
            "Intercontinental ballistic missiles",
        ]
    async with connect_bot(world.fake, world.bot()):  # the buttons work after a restart
        pick = str(picks["Intercontinental ballistic missiles"]["custom_id"])
        other = await world.fake.press(asked, pick, user=world.bob)
        assert other.ephemeral and "Only the person who ran this command" in other.content
        ran = await world.fake.press(asked, pick, user=world.alice)
        assert ran.callback_type == 4 and not ran.ephemeral
        assert ran.embeds[0]["title"] == "Timeline"
        assert (
            ran.embeds[0]["author"]["name"]
            == "program: Intercontinental ballistic missiles, since 1 Jan 2017"
        )


async def test_a_bad_date_names_its_option_and_since_after_until_says_so(
    world: World, bot: PeninsulaBot
) -> None:
    bad = await world.fake.invoke("timeline", {"since": "2019-13"}, guild=world.home, user=world.alice)
    assert bad.ephemeral and "since: “2019-13” is not a real date" in bad.content
    bad = await world.fake.invoke("timeline", {"until": "2019-02-30"}, guild=world.home, user=world.alice)
    assert bad.ephemeral and "until: “2019-02-30” is not a real date" in bad.content
    bad = await world.fake.invoke("brief", {"since": "May 2019"}, guild=world.home, user=world.alice)
    assert bad.ephemeral and "since: “May 2019” is not YYYY, YYYY-MM or YYYY-MM-DD" in bad.content
    swapped = await world.fake.invoke(
        "timeline", {"since": "2020", "until": "2019-06"}, guild=world.home, user=world.alice
    )
    assert swapped.ephemeral and "since: 2020 is after until (2019-06)" in swapped.content
    same = await world.fake.invoke(
        "timeline", {"since": "2019-06-30", "until": "2019-06"}, guild=world.home, user=world.alice
    )
    assert not same.ephemeral  # the last day of June is within "until June 2019"
