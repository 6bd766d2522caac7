"""Hostile input, as a table of cases run through real discord.py against the fake Discord, on
SQLite and PostgreSQL: each is refused with a clear ephemeral message within Discord's limits,
pings nobody, writes nothing (every table's row count is unchanged) and logs no traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import models
from bot.discord.client import PeninsulaBot
from bot.discord.render.text import CONTENT_MAX
from testing.fake_discord import FakeAttachment, FakeDiscord
from tests.conftest import Database

from .bot_process import MY_EXTENSIONS, Staff, load_sample, running_bot
from .test_curation import ADD

TABLES = (models.Event, models.Source, models.AuditLog, models.Delivery, models.Subscription)
REVIEWED = {"title": "Hwasong-14 first flight", "date": "2017-07-04", "kind": "missile_launch"}
SOURCES = [{"publisher": "CNS", "title": "Missile test database"}]


@dataclass(frozen=True)
class Case:
    id: str
    command: str
    options: dict[str, Any]
    expected: str  # the reply contains this
    subcommand: str | None = None
    absent: tuple[str, ...] = field(default=())  # and none of these


def add(**changes: Any) -> dict[str, Any]:
    return {**ADD, **changes}


def upload(name: str, content: bytes) -> FakeAttachment:
    return FakeAttachment(name, content, "application/json")


def invisible(ch: str, named: str) -> Case:
    return Case(
        f"title-{named.split()[0]}",
        "curate",
        add(title=f"Hwasong-19{ch} launch from Pyongyang"),
        f"title: contains {named}",
        "add",
    )


CASES = [
    Case("malformed-date", "curate", add(date="2024-02-30"), "date: “2024-02-30” is not a real date", "add"),
    Case(
        "5000-character-title",
        "curate",
        add(title="Launch " * 714 + "ab"),
        "title: is 5000 characters; at most 200 allowed",
        "add",
    ),
    Case("mention-everyone", "program", {"name": "@everyone"}, "No program matches “@everyone”."),
    Case("mention-role", "program", {"name": "<@&1234567890>"}, "No program matches “\\<@&1234567890>”."),
    Case(
        "masked-link",
        "program",
        {"name": "[Official KCNA](https://evil.example/x)"},
        "No program matches “(Official KCNA)(https://evil.example/x)”.",
        absent=("](",),
    ),
    Case(
        "masked-link-as-source",
        "curate",
        add(source_url="[Official KCNA](https://evil.example/x)"),
        "source 1 url: must be an http:// or https:// address",
        "add",
    ),
    Case(
        "javascript-link",
        "curate",
        add(source_url="javascript:alert(document.cookie)"),
        "source 1 url: must be an http:// or https:// address",
        "add",
    ),
    invisible("\u200b", "U+200B (ZERO WIDTH SPACE)"),
    invisible("\u200e", "U+200E (LEFT-TO-RIGHT MARK)"),
    invisible("\u2028", "U+2028 (LINE SEPARATOR)"),
    invisible("\u061c", "U+061C (ARABIC LETTER MARK)"),
    invisible("\ufff9", "U+FFF9 (INTERLINEAR ANNOTATION ANCHOR)"),
    invisible("\u00ad", "U+00AD (SOFT HYPHEN)"),
    invisible("\u034f", "U+034F (COMBINING GRAPHEME JOINER)"),
    invisible("\U000e0041", "U+E0041 (TAG LATIN CAPITAL LETTER A)"),
    invisible("\uffff", "U+FFFF"),
    invisible("\ufdd0", "U+FDD0"),
    invisible("\x07", "U+0007"),
    Case(
        "invisible-reason",
        "curate",
        {"id": "1", "reason": "dup\u200blicate"},
        "reason: contains U+200B (ZERO WIDTH SPACE)",
        "retract",
    ),
    Case("unicode-digit-event", "event", {"id": "²"}, "No event matches “#²”."),
    Case(
        "unicode-digit-retract",
        "curate",
        {"id": "²", "reason": "duplicate"},
        "No event matches “#²”.",
        "retract",
    ),
    Case("unicode-digit-edit", "curate", {"id": "٣"}, "No event matches “#٣”.", "edit"),
    Case("out-of-range-event", "event", {"id": "2147483648"}, "No event matches “#2147483648”."),
    Case(
        "out-of-range-retract",
        "curate",
        {"id": "#" + "9" * 23, "reason": "duplicate"},
        f"No event matches “#{'9' * 23}”.",
        "retract",
    ),
    Case("out-of-range-edit", "curate", {"id": "99999999999"}, "No event matches “#99999999999”.", "edit"),
    Case(
        "2100-character-name",
        "program",
        {"name": "Hwasong " * 262 + "abcd"},
        "No program matches “Hwasong Hwasong",
        absent=("Something went wrong",),
    ),
    Case(
        "2100-character-date",
        "curate",
        add(date="2024-" + "1" * 2095),
        "Invalid input — date: “2024-111",
        "add",
        absent=("Something went wrong",),
    ),
    Case(
        "huge-file",
        "curate",
        {"file": upload("huge.json", b" " * (10 * 1024 * 1024 + 1))},
        "huge.json is 10.0 MB; at most 10 MB is accepted.",
        "import",
    ),
    Case(
        "deep-json",
        "curate",
        {"file": upload("deep.json", b"[" * 100_000 + b"]" * 100_000)},
        "file: is not valid JSON: nested deeper than 32 levels",
        "import",
    ),
    Case(
        "deep-json-csis",
        "curate",
        {"file": upload("deep.json", b"[" * 100_000 + b"]" * 100_000), "format": "csis"},
        "file: is not valid JSON: nested deeper than 32 levels",
        "import",
    ),
    Case(
        "deep-json-in-details",
        "curate",
        {
            "file": upload(
                "d.json",
                json.dumps([{**REVIEWED, "sources": SOURCES}])[:-2].encode()
                + b', "details": '
                + b'{"a": ' * 50
                + b"1"
                + b"}" * 50
                + b"}]",
            )
        },
        "file: is not valid JSON: nested deeper than 32 levels",
        "import",
    ),
    Case(
        "huge-revision",
        "curate",
        {
            "file": upload(
                "r.json", json.dumps([{**REVIEWED, "sources": SOURCES, "revision": 10**30}]).encode()
            )
        },
        "row 1, revision: must be at most 2147483647",
        "import",
    ),
    Case(
        "huge-number",
        "curate",
        {
            "file": upload(
                "n.json",
                json.dumps([{**REVIEWED, "sources": SOURCES}]).encode()[:-2]
                + b', "details": {"km": 1e400}}]',
            )
        },
        "the number 1e400 is out of range",
        "import",
    ),
]


@pytest.fixture
async def hostile_bot(
    fake_discord: FakeDiscord, database: Database
) -> AsyncIterator[tuple[Staff, PeninsulaBot]]:
    staff = Staff(fake_discord, "Home")
    await load_sample(database)
    extensions = ("cogs.briefing", *MY_EXTENSIONS)
    async with running_bot(
        fake_discord, database, home_guild_ids=[staff.guild.id], extensions=extensions
    ) as bot:
        yield staff, bot


async def row_counts(db: Database) -> dict[str, int]:
    async with db.sessionmaker() as s:
        return {
            t.__tablename__: int(await s.scalar(select(func.count()).select_from(t)) or 0) for t in TABLES
        }


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_hostile_input_is_refused_clearly_and_writes_nothing(
    case: Case,
    fake_discord: FakeDiscord,
    hostile_bot: tuple[Staff, PeninsulaBot],
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    staff, _bot = hostile_bot
    before = await row_counts(database)
    mentions_before = len(fake_discord.mention_log)
    caplog.set_level(logging.INFO)
    result = await fake_discord.invoke(
        case.command, case.options, subcommand=case.subcommand, user=staff.admin
    )
    assert result.ephemeral
    text = result.content + "".join(f.content for f in result.followups)
    assert case.expected in text, text[:500]
    assert all(a not in text for a in case.absent)
    assert len(result.content) <= CONTENT_MAX
    assert await row_counts(database) == before
    assert all(m == {"parse": []} for _route, m in fake_discord.mention_log[mentions_before:])
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
