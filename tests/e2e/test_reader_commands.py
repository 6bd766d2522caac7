"""Reader commands end to end: real discord.py against the fake Discord, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.discord.paging import NOT_YOURS
from bot.discord.render.events import event_embed
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus, seed
from bot.services.validation import EventInput, SourceInput
from cogs.briefing import Briefing
from testing.fake_discord import FakeDiscord, FakeGuild, FakeMember, InteractionResult, connect_bot
from tests.conftest import Database

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
CORPUS = [FIXTURES / "sample.yaml", FIXTURES / "reader.yaml"]
EXTENSIONS = ("cogs.briefing",)


@dataclass
class World:
    fake: FakeDiscord
    home: FakeGuild
    other: FakeGuild
    alice: FakeMember
    bob: FakeMember
    services: Services
    database: Database

    def bot(self) -> PeninsulaBot:
        settings = Settings(discord_token="x", database_url=self.database.url, _env_file=None)
        return PeninsulaBot(settings=settings, services=self.services, extensions=EXTENSIONS)

    async def add_events(
        self, count: int, *, guild: FakeGuild | None = None, word: str = "Drill"
    ) -> list[int]:
        caller = Caller(7, (guild or self.home).id, frozenset({"manage_guild"}))
        ids = []
        for i in range(count):
            data = EventInput(
                title=f"{word} number {i} at the coast",
                summary=f"Artillery {word.lower()} {i} reported near the coast.",
                date=f"2019-{i % 12 + 1:02d}-{i // 12 + 1:02d}",
                kind="military_action",
                significance=2,
                actors=["dprk"],
                sources=[SourceInput("Yonhap", f"Report {i}", "2019-05-01", f"https://example.org/{i}")],
            )
            ids.append((await self.services.curation.create(caller, data, alert=False)).id)
        return ids


@pytest.fixture
async def world(fake_discord: FakeDiscord, database: Database) -> World:
    home = fake_discord.add_guild("Home")
    other = fake_discord.add_guild("Elsewhere")
    alice = home.add_member("alice")
    bob = home.add_member("bob")
    await load(database.sessionmaker, read_corpus(files=CORPUS))
    services = Services.build(database.sessionmaker, Policy.of([home.id]))
    return World(fake_discord, home, other, alice, bob, services, database)


@pytest.fixture
async def bot(world: World) -> AsyncIterator[PeninsulaBot]:
    client = world.bot()
    async with connect_bot(world.fake, client):
        yield client


def text_of(result: InteractionResult) -> str:
    """Everything a reader sees in the reply, as one string."""
    parts = [result.content]
    for embed in result.embeds:
        parts += [
            embed.get("title", ""),
            embed.get("description", ""),
            embed.get("footer", {}).get("text", ""),
        ]
        parts += [embed.get("author", {}).get("name", "")]
        for f in embed.get("fields", []):
            parts += [f["name"], f["value"]]
    return "\n".join(parts)


def field(result: InteractionResult, name: str) -> str:
    value: str = next(f["value"] for f in result.embeds[0]["fields"] if f["name"].startswith(name))
    return value


async def invoke(
    world: World, name: str, options: dict[str, object] | None = None, **kw: object
) -> InteractionResult:
    kw.setdefault("guild", world.home)
    kw.setdefault("user", world.alice)
    return await world.fake.invoke(name, options, **kw)  # type: ignore[arg-type]


async def test_commands_are_synced_as_designed(world: World, bot: PeninsulaBot) -> None:
    synced = {c["name"]: c for c in world.fake.global_commands}
    assert set(synced) == {
        "brief",
        "program",
        "talks",
        "position",
        "compare",
        "timeline",
        "event",
        "search",
        "help",
    }
    options = {n: [o["name"] for o in c.get("options", [])] for n, c in synced.items()}
    assert options["timeline"] == [
        "program",
        "party",
        "track",
        "system",
        "facility",
        "kind",
        "since",
        "until",
        "private",
    ]
    assert options["position"] == ["party", "topic", "private"]
    assert all(o[-1] == "private" for o in options.values())
    kind = next(o for o in synced["timeline"]["options"] if o["name"] == "kind")
    assert "nuclear_test" in {c["value"] for c in kind["choices"]}
    autocompleted = {
        (n, o["name"]) for n, c in synced.items() for o in c.get("options", []) if o.get("autocomplete")
    }
    assert autocompleted == {
        ("program", "name"),
        ("talks", "track"),
        ("position", "party"),
        ("position", "topic"),
        ("compare", "topic"),
        ("timeline", "program"),
        ("timeline", "party"),
        ("timeline", "track"),
        ("timeline", "system"),
        ("timeline", "facility"),
        ("event", "id"),
    }


async def test_program_by_a_system_shows_its_own_page(world: World, bot: PeninsulaBot) -> None:
    for typed in ("KN-08", "Hwasong-13", "kn08"):
        result = await invoke(world, "program", {"name": typed})
        assert not result.ephemeral
        [embed] = result.embeds
        assert embed["title"] == "KN-08", typed
        assert embed["description"].startswith("Part of: Intercontinental ballistic missiles")
        assert field(result, "Status") == "displayed but never flight-tested (since Apr 2012)"
        assert field(result, "Also known as") == "Hwasong-13"
        assert field(result, "Key dates") == "**15 Apr 2012** · First shown at a parade"
        assert embed["footer"]["text"] == "/timeline system:kn-08"
    site = await invoke(world, "program", {"name": "Tongchang-ri"})
    assert site.embeds[0]["title"] == "Sohae Satellite Launching Station"
    assert "Unha-3 places a satellite in orbit from Sohae" in field(site, "Events")
    assert field(site, "Location") == "North Pyongan Province"


async def test_program_page_lists_its_systems(world: World, bot: PeninsulaBot) -> None:
    result = await invoke(world, "program", {"name": "ICBM"})
    assert not result.ephemeral
    assert result.message is not None and result.message.allowed_mentions == {"parse": []}
    [embed] = result.embeds
    assert embed["title"] == "Intercontinental ballistic missiles"
    assert field(result, "Status") == "Flight-tested since 2017 (since Jul 2017)"
    assert "KN-08" in field(result, "Systems") and "never flight-tested" in field(result, "Systems")
    assert "Hwasong-15 ICBM launch" in field(result, "Milestones")
    assert "**28 Nov 2017**" in field(result, "Latest events")


async def test_program_private_is_ephemeral(world: World, bot: PeninsulaBot) -> None:
    result = await invoke(world, "program", {"name": "space launch", "private": True})
    assert result.ephemeral
    assert result.embeds[0]["title"] == "Space launch"
    assert "Sohae Satellite Launching Station" in field(result, "Facilities")
    assert "**12 Dec 2012** · Unha-3" in field(result, "Milestones")


async def test_unknown_name_lists_closest_matches(world: World, bot: PeninsulaBot) -> None:
    result = await invoke(world, "program", {"name": "Hwasong-1"})
    assert result.ephemeral
    assert result.embeds == []
    assert "No program matches “Hwasong-1”" in result.content
    assert "Did you mean: Intercontinental ballistic missiles" in result.content


async def test_autocomplete_understands_aliases(world: World, bot: PeninsulaBot) -> None:
    for typed in ("DPRK", "North Korea", "Pyongyang", "pyong", "Nroth Korea"):
        choices = await world.fake.autocomplete("position", "party", typed, guild=world.home)
        assert choices[0]["value"] == "dprk", typed
        assert len(choices) <= 25
    people = await world.fake.autocomplete("position", "party", "", guild=world.home)
    assert "wang-yi" not in {c["value"] for c in people}
    for typed, first in (("KN-08", "system:kn-08"), ("Hwasong-13", "system:kn-08"), ("ICBM", "icbm")):
        choices = await world.fake.autocomplete("program", "name", typed, guild=world.home)
        assert choices[0]["value"] == first, typed
    sites = await world.fake.autocomplete("timeline", "facility", "Tongchang", guild=world.home)
    assert sites[0]["value"] == "sohae"
    systems = await world.fake.autocomplete("timeline", "system", "hwasong", guild=world.home)
    assert systems[0]["value"] == "hwasong-15"
    tracks = await world.fake.autocomplete("talks", "track", "six", guild=world.home)
    assert tracks[0]["value"] == "six-party"
    topics = await world.fake.autocomplete("compare", "topic", "peace", guild=world.home)
    assert topics[0]["value"] == "peace-treaty"
    timeline = await world.fake.autocomplete("timeline", "program", "Tongchang", guild=world.home)
    assert timeline[0]["value"] == "space-launch"


async def test_event_autocomplete_by_title_and_open(world: World, bot: PeninsulaBot) -> None:
    choices = await world.fake.autocomplete("event", "id", "unha", guild=world.home)
    assert len(choices) == 1
    assert "12 Dec 2012" in choices[0]["name"] and "Unha-3" in choices[0]["name"]
    result = await invoke(world, "event", {"id": choices[0]["value"]})
    [embed] = result.embeds
    assert embed["title"] == "Unha-3 places a satellite in orbit from Sohae"
    assert field(result, "Date") == "12 Dec 2012"
    assert field(result, "Kind") == "Satellite launch"
    assert "Database of North Korean Provocations — CSIS Beyond Parallel" in field(result, "Sources")
    by_title = await invoke(world, "event", {"id": "first nuclear test"})
    assert by_title.embeds[0]["title"] == "First nuclear test at Punggye-ri"
    assert field(by_title, "Date") == "9 Oct 2006"
    missing = await invoke(world, "event", {"id": "#999999"})
    assert missing.ephemeral and "No event matches “#999999”" in missing.content


async def test_event_sources_are_links(world: World, bot: PeninsulaBot) -> None:
    [choice] = await world.fake.autocomplete("event", "id", "Hwasong-15", guild=world.home)
    result = await invoke(world, "event", {"id": choice["value"]})
    sources = field(result, "Sources")
    assert "[Hwasong-15 launch (28 November)](https://example.org/hwasong-15)" in sources
    assert "— Yonhap, 29 Nov 2017" in sources


async def test_brief_state_of_play(world: World, bot: PeninsulaBot) -> None:
    result = await invoke(world, "brief")
    assert "**Six-party talks** — Dormant (since Dec 2008)" in field(result, "Talks")
    assert "**Space launch** — Active" in field(result, "Programs")
    latest = field(result, "Latest events")
    assert latest.index("28 Nov 2017") < latest.index("12 Dec 2012")
    since = await invoke(world, "brief", {"since": "2010"})
    latest = field(since, "Latest events since 2010")
    assert "2006" not in latest and "Dec 2008" not in latest and "12 Dec 2012" in latest


async def test_malformed_date_is_an_ephemeral_message(world: World, bot: PeninsulaBot) -> None:
    result = await invoke(world, "brief", {"since": "2010-13"})
    assert result.ephemeral
    assert "“2010-13” is not a real date" in result.content
    result = await invoke(world, "timeline", {"until": "last tuesday"})
    assert result.ephemeral and "is not YYYY, YYYY-MM or YYYY-MM-DD" in result.content


async def test_talks(world: World, bot: PeninsulaBot) -> None:
    result = await invoke(world, "talks", {"track": "Six-party talks"})
    assert result.embeds[0]["title"] == "Six-party talks"
    assert field(result, "Status") == "Dormant (since Dec 2008)"
    assert field(result, "Participants") == "China, North Korea, South Korea, United States"
    assert "**Dec 2008** · Six-party heads of delegation meeting" in field(result, "Last session")
    assert "September 2005 Joint Statement" in field(result, "Agreements")


async def test_position_and_compare(world: World, bot: PeninsulaBot) -> None:
    result = await invoke(world, "position", {"party": "Beijing"})
    [embed] = result.embeds
    assert embed["title"] == "China: stated positions"
    name = embed["fields"][0]["name"]
    assert name == "Format of talks: Resume talks (as of Sep 2015)"
    assert (
        "Remarks by Wang Yi — Ministry of Foreign Affairs of the PRC, Sep 2015" in embed["fields"][0]["value"]
    )
    narrowed = await invoke(world, "position", {"party": "DPRK", "topic": "peace-treaty"})
    assert narrowed.embeds[0]["title"] == "North Korea on Peace treaty"
    assert "> “before anything else”" in narrowed.embeds[0]["fields"][0]["value"]
    compared = await invoke(world, "compare", {"topic": "peace treaty"})
    fields = compared.embeds[0]["fields"]
    # One full-width block per state, in name order, a state with nothing recorded saying so.
    assert [f["name"] for f in fields] == [
        "China",
        "North Korea (as of Oct 2015)",
        "South Korea",
        "United States (as of 2018)",
    ]
    assert not any(f["inline"] for f in fields)
    assert fields[0]["value"] == "No stated position on Peace treaty is recorded."
    assert fields[1]["value"].startswith("**Peace treaty first**\n")
    assert "Source: " in fields[1]["value"] and "Source: " in fields[3]["value"]


async def test_help_counts(world: World, bot: PeninsulaBot) -> None:
    result = await invoke(world, "help", {"private": True})
    assert result.ephemeral
    knows = field(result, "What I know")
    assert knows.startswith(
        "5 events · 2 programs · 2 systems · 1 facilities · 1 talks tracks · 4 parties · 2 topics · "
        "3 stated positions"
    )
    commands = field(result, "Commands")
    for name in ("brief", "program", "talks", "position", "compare", "timeline", "event", "search", "help"):
        assert f"`/{name}`" in commands


async def test_timeline_pages_back_and_forth(world: World, bot: PeninsulaBot) -> None:
    await world.add_events(13)
    first = await invoke(world, "timeline", {"party": "North Korea"})
    assert first.message is not None
    lines = first.embeds[0]["description"].splitlines()
    assert len(lines) == 10
    assert first.embeds[0]["author"]["name"] == "party: North Korea"
    prev_id, next_id = first.message.custom_ids()
    assert all(len(c) <= 100 for c in (prev_id, next_id))
    buttons = first.components[0]["components"]
    assert buttons[0]["disabled"] is True and buttons[1].get("disabled", False) is False
    second = await world.fake.press(first, next_id, user=world.alice)
    assert second.callback_type == 7
    page2 = first.embeds[0]["description"].splitlines()
    # 13 drills and the 5 corpus events involving North Korea, minus one page of 10.
    assert len(page2) == 8
    assert not set(page2) & set(lines)
    assert first.embeds[0]["footer"]["text"].startswith("Page 2")
    prev_id, next_id = first.message.custom_ids()
    assert first.components[0]["components"][1]["disabled"] is True
    await world.fake.press(first, prev_id, user=world.alice)
    assert first.embeds[0]["description"].splitlines() == lines
    assert first.embeds[0]["footer"]["text"].startswith("Page 1")


async def test_only_the_invoker_can_page(world: World, bot: PeninsulaBot) -> None:
    await world.add_events(12)
    first = await invoke(world, "timeline")
    assert first.message is not None
    before = first.embeds[0]["description"]
    _prev, next_id = first.message.custom_ids()
    other = await world.fake.press(first, next_id, user=world.bob)
    assert other.ephemeral and other.content == NOT_YOURS
    assert first.embeds[0]["description"] == before


async def test_paging_survives_a_restart(world: World) -> None:
    await world.add_events(12)
    async with connect_bot(world.fake, world.bot()):
        first = await invoke(
            world, "timeline", {"kind": "military_action", "since": "2019", "until": "2019-12"}
        )
        assert first.message is not None
        shown = first.embeds[0]["description"].splitlines()
        assert len(shown) == 10
    async with connect_bot(world.fake, world.bot()):
        _prev, next_id = first.message.custom_ids()
        turned = await world.fake.press(first, next_id, user=world.alice)
        assert turned.callback_type == 7
        page2 = first.embeds[0]["description"].splitlines()
        assert len(page2) == 2 and not set(page2) & set(shown)
        assert (
            first.embeds[0]["author"]["name"] == "kind: Military action, since 1 Jan 2019, until 31 Dec 2019"
        )


async def test_search_paginates(world: World, bot: PeninsulaBot) -> None:
    await world.add_events(9, word="Bombardment")
    first = await invoke(world, "search", {"query": "bombardment coast"})
    assert first.message is not None
    [embed] = first.embeds
    assert embed["title"] == "Search: bombardment coast"
    assert embed["footer"]["text"].startswith("Events 1–6 of 9")
    _prev, next_id = first.message.custom_ids()
    await world.fake.press(first, next_id, user=world.alice)
    assert first.embeds[0]["footer"]["text"].startswith("Events 7–9 of 9")
    catalog = await invoke(world, "search", {"query": "satellite"})
    assert "Space launch" in field(catalog, "Programs, talks and positions")
    assert "Unha-3" in field(catalog, "Events")
    nothing = await invoke(world, "search", {"query": "zzzqqq"})
    assert "Nothing matches" in nothing.embeds[0]["description"]


async def test_long_search_query_pages_from_the_message(world: World, bot: PeninsulaBot) -> None:
    await world.add_events(8, word="Bombardment")
    query = "bombardment " + " ".join(["coast"] * 18)
    first = await invoke(world, "search", {"query": query})
    assert first.message is not None
    _prev, next_id = first.message.custom_ids()
    assert len(next_id) <= 100
    await world.fake.press(first, next_id, user=world.alice)
    assert first.embeds[0]["footer"]["text"].startswith("Events 7–8 of 8")


async def test_local_events_stay_in_their_guild(world: World, bot: PeninsulaBot) -> None:
    [local] = await world.add_events(1, guild=world.other, word="Secretive")
    here = await invoke(world, "search", {"query": "secretive"})
    assert "Nothing matches" in here.embeds[0]["description"]
    missing = await invoke(world, "event", {"id": str(local)})
    assert missing.ephemeral
    there = await invoke(world, "event", {"id": str(local)}, guild=world.other, user=None)
    assert there.embeds[0]["title"] == "Secretive number 0 at the coast"
    assert "local to this server" in there.embeds[0]["footer"]["text"]
    timeline = await invoke(world, "timeline", {"kind": "military_action"}, guild=world.other, user=None)
    assert "Secretive number 0" in timeline.embeds[0]["description"]


async def test_slow_work_is_deferred(world: World, bot: PeninsulaBot) -> None:
    # The extension loader imports cogs.briefing afresh, so compare by name, not by class.
    cog = bot.get_cog("Briefing")
    assert cog is not None and type(cog).__name__ == Briefing.__name__
    cog.defer_after = 0  # type: ignore[attr-defined]
    result = await invoke(world, "program", {"name": "icbm"})
    assert result.callback_type == 5
    assert result.embeds[0]["title"] == "Intercontinental ballistic missiles"
    assert not result.ephemeral
    private = await invoke(world, "talks", {"track": "six-party", "private": True})
    assert private.callback_type == 5 and private.ephemeral


async def test_long_text_is_truncated_with_a_marker(world: World, bot: PeninsulaBot) -> None:
    caller = Caller(7, world.home.id, frozenset({"manage_guild"}))
    summary = ("A very long account of the launch with many details. " * 30)[:1500]
    sources = [
        SourceInput(
            f"Publisher {i}", "A long source title " * 8, "2020-01-01", f"https://example.org/{'x' * 200}/{i}"
        )
        for i in range(12)
    ]
    data = EventInput(
        "Launch with a long record", summary, "2020-01-02", "missile_launch", 3, sources=sources
    )
    event = await world.services.curation.create(caller, data, alert=False)
    result = await invoke(world, "event", {"id": str(event.id)})
    value = field(result, "Sources")
    assert len(value) <= 1024
    # /event pages every source (nothing is cut); an alert's single embed counts what it leaves out.
    shown = [text_of(result)]
    while (buttons := {c.get("label"): c for c in result.components[0]["components"]}).get(
        "Next ▶", {"disabled": True}
    ).get("disabled") is not True:
        await world.fake.press(result, buttons["Next ▶"]["custom_id"], user=world.alice)
        shown.append(text_of(result))
    assert all(f"— Publisher {i}, 1 Jan 2020" in "\n".join(shown) for i in range(12))
    assert "more" not in "\n".join(shown).replace("many details", "")
    alert = event_embed(await world.services.events.get(event.id, guild_id=world.home.id))
    counted = next(str(f.value) for f in alert.fields if f.name == "Sources")
    assert len(counted) <= 1024
    assert re.search(rf"\+ \d+ more sources: /event id:{event.id}$", counted)


async def test_sync_only_when_the_definition_changes(world: World) -> None:
    def puts() -> int:
        return sum(1 for r in world.fake.requests if r.method == "PUT" and r.path.endswith("/commands"))

    async with connect_bot(world.fake, world.bot()):
        pass
    assert puts() == 1
    async with connect_bot(world.fake, world.bot()):
        pass
    assert puts() == 1

    class Changed(PeninsulaBot):
        async def setup_hook(self) -> None:
            @app_commands.command(name="ping", description="Check the bot answers")
            async def ping(interaction: discord.Interaction) -> None:
                await interaction.response.send_message("pong")

            self.tree.add_command(ping)
            await super().setup_hook()

    settings = Settings(discord_token="x", database_url=world.database.url, _env_file=None)
    async with connect_bot(
        world.fake, Changed(settings=settings, services=world.services, extensions=EXTENSIONS)
    ):
        pass
    assert puts() == 2
    assert "ping" in {c["name"] for c in world.fake.global_commands}


@pytest.mark.parametrize(
    ("line", "name", "options"),
    [
        ("/program name:KN-08", "program", {"name": "KN-08"}),
        ("/brief since:2005-09", "brief", {"since": "2005-09"}),
        ('/compare topic:"peace treaty" private:true', "compare", {"topic": "peace treaty", "private": True}),
        ("/timeline party:DPRK kind:agreement", "timeline", {"party": "DPRK", "kind": "agreement"}),
    ],
)
async def test_console_prints_what_discord_receives(
    world: World, bot: PeninsulaBot, line: str, name: str, options: dict[str, object]
) -> None:
    from bot.discord.console import Console

    discord_side = await invoke(world, name, options)
    outcome = await Console(bot, world.home.id).run(line)
    payload = outcome.reply.payload()
    assert payload["embeds"] == discord_side.embeds
    assert bool(payload["flags"] & 64) == discord_side.ephemeral
    assert payload["allowed_mentions"] == {"parse": []}


# What an option suggests is what it resolves; a value typed without picking resolves the same way.
# Each case: command, option, text typed, what a reader sees for the first suggestion picked, and a
# value typed without picking (a prefix, an alias in other case, a misspelling) that shows the same.
OPTION_CASES = [
    ("program", "name", "space", "Space launch", "space lau"),
    ("program", "name", "Tong", "Sohae Satellite Launching Station", "tongchang-ri"),
    ("program", "name", "inter", "Intercontinental ballistic missiles", "icbm"),
    ("program", "name", "KN", "KN-08", "Hwasong-13"),
    ("talks", "track", "six", "Six-party talks", "Six-party"),
    ("position", "party", "pyong", "North Korea: stated positions", "Nroth Korea"),
    ("compare", "topic", "form", "Positions on Format of talks", "Form"),
    ("compare", "topic", "peace t", "Positions on Peace treaty", "peace traety"),
    ("event", "id", "Unha", "Unha-3 places a satellite in orbit from Sohae", "unha-3"),
]


@pytest.mark.parametrize(("command", "option", "typed", "seen", "unpicked"), OPTION_CASES)
async def test_option_suggestion_and_typed_value_resolve_alike(
    world: World, bot: PeninsulaBot, command: str, option: str, typed: str, seen: str, unpicked: str
) -> None:
    suggestions = await world.fake.autocomplete(command, option, typed, guild=world.home)
    picked = await invoke(world, command, {option: suggestions[0]["value"]})
    assert not picked.ephemeral, picked.content
    assert picked.embeds[0]["title"] == seen
    typed_reply = await invoke(world, command, {option: unpicked})
    assert not typed_reply.ephemeral, typed_reply.content
    assert typed_reply.embeds == picked.embeds
    # The bare text typed resolves to the first suggestion, or not at all.
    as_typed = await invoke(world, command, {option: typed})
    assert as_typed.ephemeral or as_typed.embeds == picked.embeds


async def test_options_that_name_nothing_list_the_closest(world: World, bot: PeninsulaBot) -> None:
    party = await invoke(world, "position", {"party": "Korea"})
    assert party.ephemeral and party.embeds == []
    assert party.content.startswith("No party matches “Korea”. Did you mean: ")
    assert "North Korea" in party.content and "South Korea" in party.content
    topic = await invoke(world, "compare", {"topic": "warheads"})
    assert topic.ephemeral and topic.content.startswith("No topic matches “warheads”.")
    track = await invoke(world, "timeline", {"track": "quartet"})
    assert track.ephemeral and track.content.startswith("No talks track matches “quartet”.")
    event = await invoke(world, "event", {"id": "six-party"})
    assert event.ephemeral and "“six-party” is not an event number" in event.content
    assert "did you mean #" in event.content
    assert "Six-party heads of delegation" in event.content and "September 2005 Joint" in event.content


async def test_timeline_options_resolve_typed_and_picked_alike(world: World, bot: PeninsulaBot) -> None:
    [program] = await world.fake.autocomplete("timeline", "program", "Sohae", guild=world.home)
    [track, *_] = await world.fake.autocomplete("timeline", "track", "six", guild=world.home)
    party = (await world.fake.autocomplete("timeline", "party", "China", guild=world.home))[0]
    picked = await invoke(
        world,
        "timeline",
        {"program": program["value"], "kind": "satellite_launch", "since": "2012", "until": "2012-12"},
    )
    typed = await invoke(
        world,
        "timeline",
        {"program": "space", "kind": "satellite_launch", "since": "2012", "until": "2012-12"},
    )
    assert typed.embeds == picked.embeds
    author = picked.embeds[0]["author"]["name"]
    assert author == "program: Space launch, kind: Satellite launch, since 1 Jan 2012, until 31 Dec 2012"
    assert "Unha-3" in picked.embeds[0]["description"]
    talks = await invoke(world, "timeline", {"track": track["value"], "party": party["value"]})
    talks_typed = await invoke(world, "timeline", {"track": "six", "party": "Beijing"})
    assert talks_typed.embeds == talks.embeds
    assert talks.embeds[0]["author"]["name"] == "party: China, talks: Six-party talks"
    assert "Six-party heads of delegation meeting" in talks.embeds[0]["description"]


async def test_a_typed_topic_prefix_resolves_on_the_real_corpus(
    fake_discord: FakeDiscord, sqlite_db: Database
) -> None:
    """The measured case: "denuc" was suggested as the precondition topic, then failed to resolve."""
    await seed(sqlite_db.sessionmaker)
    readers = fake_discord.add_guild("Readers")
    services = Services.build(sqlite_db.sessionmaker, Policy.of([readers.id]))
    settings = Settings(discord_token="x", database_url=sqlite_db.url, _env_file=None)
    async with connect_bot(
        fake_discord, PeninsulaBot(settings=settings, services=services, extensions=EXTENSIONS)
    ):
        first = (await fake_discord.autocomplete("compare", "topic", "denuc", guild=readers))[0]
        assert first["value"] == "denuclearization-precondition"
        picked = await fake_discord.invoke("compare", {"topic": first["value"]}, guild=readers)
        assert picked.embeds[0]["title"] == "Positions on Denuclearization as a precondition for talks"
        typed = await fake_discord.invoke("compare", {"topic": "denuc"}, guild=readers)
        assert typed.embeds == picked.embeds
        narrowed = await fake_discord.invoke("position", {"party": "pyong", "topic": "denuc"}, guild=readers)
        assert narrowed.embeds[0]["title"] == "North Korea on Denuclearization as a precondition for talks"


async def _add_long(world: World, count: int, word: str, *, significance: int = 2) -> list[int]:
    """Events with long titles and summaries: fewer fit a field than fit a page."""
    caller = Caller(7, world.home.id, frozenset({"manage_guild"}))
    ids = []
    for i in range(count):
        data = EventInput(
            title=f"{word} report {i}: " + "a long account of a delegation's arrival and its schedule " * 3,
            summary=f"{word} {i}. " + "Officials described the preparations in considerable detail. " * 20,
            date=f"2019-{i % 12 + 1:02d}-{i // 12 + 1:02d}",
            kind="statement",
            significance=significance,
            actors=["dprk"],
            sources=[SourceInput("Yonhap", f"Report {i}", "2019-05-01", f"https://example.org/l/{i}")],
        )
        ids.append((await world.services.curation.create(caller, data, alert=False)).id)
    return ids


def shown_ids(result: InteractionResult) -> list[int]:
    events = [f["value"] for f in result.embeds[0].get("fields", []) if f["name"].startswith("Events")]
    return [int(n) for n in re.findall(r"`#(\d+)`", "\n".join(events))]


async def test_search_shows_every_event_it_counts(world: World, bot: PeninsulaBot) -> None:
    made = await _add_long(world, 45, "Hanoi")
    result = await invoke(world, "search", {"query": "Hanoi"})
    seen: list[int] = []
    while True:
        footer = result.embeds[0]["footer"]["text"]
        first, last, total = map(int, re.findall(r"Events (\d+)–(\d+) of (\d+)", footer)[0])
        ids = shown_ids(result)
        assert total == 45 and first == len(seen) + 1 and last - first + 1 == len(ids)
        assert "more" not in text_of(result)
        seen += ids
        assert result.message is not None
        _prev, next_id = result.message.custom_ids()
        if result.message.find_component(next_id)["disabled"]:  # type: ignore[index]
            break
        result = await world.fake.press(result, next_id, user=world.alice)
    assert sorted(seen) == sorted(made)


async def test_search_says_when_it_falls_back_to_closest_matches(world: World, bot: PeninsulaBot) -> None:
    await world.add_events(4, word="Bombardment")
    result = await invoke(world, "search", {"query": "bombardment zzzqqq"})
    [embed] = result.embeds
    assert embed["description"] == "No event has all of these words; closest matches."
    assert embed["footer"]["text"] == "Events 1–4 of 4 · closest matches first"
    assert "Bombardment number" in field(result, "Events")


async def test_search_ranks_title_hits_then_significance(world: World, bot: PeninsulaBot) -> None:
    caller = Caller(7, world.home.id, frozenset({"manage_guild"}))
    for title, summary, significance in (
        ("Envoy visit ends", "Talks prepared the Hanoi meeting.", 5),
        ("Hanoi dinner", "The leaders dined.", 2),
        ("Hanoi summit", "No agreement.", 4),
    ):
        data = EventInput(
            title,
            summary,
            "2019-02-27",
            "summit",
            significance,
            sources=[SourceInput("Yonhap", "Report", "2019-05-01", "https://example.org/h")],
        )
        await world.services.curation.create(caller, data, alert=False)
    result = await invoke(world, "search", {"query": "hanoi"})
    events = field(result, "Events")
    assert events.index("Hanoi summit") < events.index("Hanoi dinner") < events.index("Envoy visit ends")
    phrase = await invoke(world, "search", {"query": '"hanoi meeting"'})
    assert "Envoy visit ends" in field(phrase, "Events") and "Hanoi dinner" not in text_of(phrase)
