"""``/suggest`` as members use it: a suggestion becomes a draft in the queue of the member's scope
with the suggester shown; hostile input is refused ephemerally with nothing written; the sixth
suggestion within an hour is refused with the time the member may try again."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot import models
from testing.fake_discord import FakeDiscord
from tests.conftest import Database

from .bot_process import MY_EXTENSIONS, Staff, load_sample, running_bot

EXTENSIONS = (*MY_EXTENSIONS, "cogs.suggest")
GOOD = {
    "title": "North Korea fires a short-range missile into the East Sea",
    "date": "2024-05-30",
    "summary": "Seoul's joint chiefs report a launch from near Pyongyang.",
    "source_url": "https://example.org/report/1",
}


async def _drafts(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(models.Draft)) or 0)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("title", "Launch reported <@123456789012345678>", "may not mention"),
        ("summary", "Read it @everyone", "may not mention"),
        ("summary", "See [the report](https://evil.example/x)", "masked links"),
        ("title", "x" * 5000, "title"),
        ("date", "2024-13-45", "date"),
        ("source_url", "javascript:alert(1)", "http"),
        ("source_url", "ftp://example.org/report", "http"),
    ],
)
async def test_hostile_suggestions_are_refused(
    fake_discord: FakeDiscord, sqlite_db: Database, field: str, value: str, words: str
) -> None:
    staff = Staff(fake_discord)
    async with running_bot(fake_discord, sqlite_db, extensions=EXTENSIONS):
        refused = await fake_discord.invoke("suggest", {**GOOD, field: value}, user=staff.reader)
        assert refused.ephemeral and words in refused.content
        assert len(refused.content) <= 2000 and "Traceback" not in refused.content
        assert await _drafts(sqlite_db) == 0


async def test_a_suggestion_reaches_the_queue_and_the_sixth_waits(
    fake_discord: FakeDiscord, sqlite_db: Database
) -> None:
    staff = Staff(fake_discord)
    await load_sample(sqlite_db)
    async with running_bot(fake_discord, sqlite_db, home_guild_ids=[staff.guild.id], extensions=EXTENSIONS):
        made = await fake_discord.invoke("suggest", GOOD, user=staff.reader)
        assert made.ephemeral
        assert made.content.startswith("Thanks: your suggestion is draft #1 in the shared review queue.")
        queue = await fake_discord.invoke("curate", subcommand="queue", user=staff.admin)
        shown = queue.embeds[0]
        assert shown["title"] == f"Draft #1: {GOOD['title']}"
        fields = {f["name"]: f["value"] for f in shown["fields"]}
        assert fields["Suggested by"] == f"<@{staff.reader.id}>"
        assert fields["Date"] == "30 May 2024" and fields["Kind"] == "Missile launch"
        assert fields["Source"] == "example.org"
        for n in range(2, 6):
            again = await fake_discord.invoke(
                "suggest", {**GOOD, "title": f"Launch report {n}"}, user=staff.reader
            )
            assert again.content.startswith(f"Thanks: your suggestion is draft #{n} ")
        sixth = await fake_discord.invoke("suggest", {**GOOD, "title": "One too many"}, user=staff.reader)
        assert sixth.ephemeral
        assert re.search(r"5 drafts an hour; you can suggest again at \d\d:\d\d UTC\.", sixth.content)
        assert await _drafts(sqlite_db) == 5
        # Another member is not held back by the first one's suggestions.
        other = await fake_discord.invoke("suggest", {**GOOD, "title": "Another view"}, user=staff.curator)
        assert other.content.startswith("Thanks: your suggestion is draft #6 ")
