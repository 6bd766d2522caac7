"""The console runs the real command callbacks and prints what Discord would get."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import db as dbmod
from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.discord.command_line import UsageError, parse_options
from bot.discord.console import Console, as_text, main
from bot.discord.errors import GENERIC
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from bot.services.validation import EventInput, SourceInput
from tests.conftest import Database

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "corpus"
CORPUS = [FIXTURES / "sample.yaml", FIXTURES / "reader.yaml"]


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, _env_file=None)


@pytest.fixture
async def console(database: Database) -> AsyncIterator[Console]:
    await load(database.sessionmaker, read_corpus(files=CORPUS))
    services = Services.build(database.sessionmaker, Policy.of([]))
    bot = PeninsulaBot(
        settings=settings_for(database.url),
        services=services,
        extensions=("cogs.briefing",),
        sync_commands=False,
    )
    await bot.load_extension("cogs.briefing")
    yield Console(bot, None)
    await bot.close()


def test_parse_options() -> None:
    names = ["program", "party", "since", "private"]
    assert parse_options('program:KN-08 party:"North Korea" private:true', names) == {
        "program": "KN-08",
        "party": "North Korea",
        "private": "true",
    }
    assert parse_options("party:North Korea since:2010", names) == {"party": "North Korea", "since": "2010"}
    assert parse_options("", names) == {}
    with pytest.raises(UsageError, match="unknown option “colour”"):
        parse_options("colour:red", names)
    with pytest.raises(UsageError, match="given twice"):
        parse_options("since:2010 since:2011", names)


async def test_program_payload(console: Console) -> None:
    outcome = await console.run("/program name:space launch")
    assert not outcome.failed
    payload = outcome.reply.payload()
    assert set(payload) == {"content", "embeds", "components", "flags", "allowed_mentions"}
    assert payload["embeds"][0]["title"] == "Space launch"
    assert payload["flags"] == 0 and payload["allowed_mentions"] == {"parse": []}
    assert "Space launch" in as_text(outcome.reply)


async def test_private_and_choices(console: Console) -> None:
    outcome = await console.run("/help private:yes")
    assert outcome.reply.payload()["flags"] == 64
    outcome = await console.run("/timeline kind:Satellite launch")
    assert "Unha-3" in outcome.reply.payload()["embeds"][0]["description"]
    assert outcome.reply.payload()["embeds"][0]["author"]["name"] == "kind: Satellite launch"


async def test_refusals_are_messages(console: Console) -> None:
    cases = {
        "/brief since:2010-13": "“2010-13” is not a real date",
        "/program": "/program needs name",
        "/nope": "no command /nope",
        "/timeline kind:bogus": "kind must be one of: nuclear_test",
        "/program name:Hwasong-1": "Did you mean: Intercontinental ballistic missiles",
        "/help private:maybe": "private must be true or false",
        "program name:x": 'a command starts with "/"',
        "/search query:" + "x" * 201: "query must be 1–200 characters",
    }
    for line, expected in cases.items():
        outcome = await console.run(line)
        assert outcome.failed, line
        assert outcome.reply.ephemeral
        assert expected in (outcome.reply.content or ""), (line, outcome.reply.content)


async def test_pages_turn_in_the_console(console: Console, database: Database) -> None:
    services = console.bot.services
    caller = Caller.system()
    for i in range(12):
        data = EventInput(
            f"Exercise {i} near the border",
            "A drill.",
            f"2021-{i + 1:02d}",
            "military_action",
            2,
            sources=[SourceInput("KCNA", "Report")],
        )
        await services.curation.create(caller, data, alert=False)
    first = await console.run("/timeline kind:military_action")
    assert len(first.reply.embeds[0].description.splitlines()) == 10  # type: ignore[union-attr]
    second = await console.press("next")
    assert second.reply.embeds[0].footer.text.startswith("Page 2")  # type: ignore[union-attr]
    assert (await console.press("next")).failed
    back = await console.press("prev")
    assert back.reply.embeds[0].footer.text.startswith("Page 1")  # type: ignore[union-attr]


def corpus_database(tmp_path: Path) -> str:
    """The URL of a migrated SQLite file holding the fixture corpus."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"

    async def prepare() -> None:
        engine = dbmod.create_engine(url)
        await dbmod.upgrade(engine)
        await load(dbmod.make_sessionmaker(engine), read_corpus(files=CORPUS))
        await engine.dispose()

    asyncio.run(prepare())
    return url


def test_main_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = corpus_database(tmp_path)
    assert main(settings_for(url), "/talks track:six-party", as_json=True) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["embeds"][0]["title"] == "Six-party talks"
    assert payload["components"] == [] and payload["content"] == ""
    assert main(settings_for(url), "/talks track:nowhere") == 1
    assert "No talks track matches “nowhere”" in capsys.readouterr().out


def test_main_answers_an_unexpected_failure_with_the_generic_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"

    async def prepare() -> None:
        engine = dbmod.create_engine(url)
        await dbmod.upgrade(engine)
        await load(dbmod.make_sessionmaker(engine), read_corpus(files=CORPUS))
        async with engine.begin() as conn:  # a real fault: the events table is gone
            await conn.exec_driver_sql("ALTER TABLE event RENAME TO event_gone")
        await engine.dispose()

    asyncio.run(prepare())
    assert main(settings_for(url), "/timeline", as_json=True) == 1
    out = capsys.readouterr().out
    assert json.loads(out)["content"] == GENERIC
    assert "event_gone" not in out and "Traceback" not in out
    errors = [r for r in caplog.records if r.name.startswith("bot.") and r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["console command /timeline failed"]


@pytest.fixture
def console_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database holding the fixture corpus, named by DATABASE_URL for ``python -m bot``."""
    url = corpus_database(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HOME_GUILD_IDS", "")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    return url


def run_as(capsys: pytest.CaptureFixture[str], line: str, *flags: str) -> tuple[int, str]:
    from bot.__main__ import main as cli_main

    code = cli_main(["console", line, *flags])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


GUILD = ("--guild", "4242")


def test_admin_groups_run_offline_as_a_chosen_member(
    console_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    manager = (*GUILD, "--member-permissions", "manage_guild")
    code, out = run_as(capsys, "/settings curator-role role:5555", *manager)
    assert code == 0, out
    assert "Saved. Curators: Manage Server or <@&5555>." in out

    code, out = run_as(capsys, '/curate add kind:statement title:"Console test statement" date:2024-05-01 '
                       "summary:Said offline. source_url:https://example.org/s", *manager)  # fmt: skip
    assert code == 0, out
    assert "Console test statement" in out
    code, out = run_as(capsys, "/curate log", *manager)
    assert code == 0 and "Console test statement" in out, out
    # The curator role set above passes /curate without Manage Server.
    code, out = run_as(capsys, "/curate log", *GUILD, "--member-roles", "5555")
    assert code == 0 and "Console test statement" in out, out

    channels = (*GUILD, "--member-permissions", "manage_channels")
    code, out = run_as(capsys, "/alerts list", *channels)
    assert code == 0, out
    assert "Alert subscriptions in the console's server" in out
    assert "No channel receives alerts yet" in out


def test_admin_groups_refuse_offline_as_discord_would(
    console_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_as(capsys, "/curate log")
    assert code == 1 and "/curate works in a server: start the console with --guild ID" in out
    code, out = run_as(capsys, "/curate log", *GUILD)
    assert code == 1 and "Manage Server" in out
    code, out = run_as(capsys, "/settings curator-role", *GUILD, "--member-permissions", "manage_channels")
    assert code == 1 and "Manage Server" in out
    code, out = run_as(capsys, "/alerts list", *GUILD, "--member-permissions", "manage_guild")
    assert code == 1 and "Manage Channels" in out
    code, out = run_as(
        capsys, "/alerts subscribe channel:777", *GUILD, "--member-permissions", "manage_channels"
    )
    assert code == 1 and "needs Discord: run it in the server. Nothing was changed." in out
    code, out = run_as(
        capsys, "/settings review-channel channel:777", *GUILD, "--member-permissions", "manage_guild"
    )
    assert code == 1 and "/settings review-channel first checks that the bot can post" in out
    code, out = run_as(capsys, "/curate", *GUILD)
    assert code == 1 and "/curate takes a subcommand: add" in out
    code, out = run_as(capsys, "/curate log", *GUILD, "--member-permissions", "manage_everything")
    assert code == 2 and "unknown permission “manage_everything”" in out
    assert "Traceback" not in out
