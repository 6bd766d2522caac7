"""``/event id history:true``: each revision of an event, who made it and when, field by field;
another server's local event stays hidden."""

from __future__ import annotations

from bot.services.validation import EventInput, SourceInput
from testing.fake_discord import FakeDiscord
from tests.conftest import Database

from .bot_process import MY_EXTENSIONS, Staff, running_bot
from .test_dispatcher import curator


async def test_history_shows_each_revision_field_by_field(
    fake_discord: FakeDiscord, sqlite_db: Database
) -> None:
    home, other = Staff(fake_discord), Staff(fake_discord, "Elsewhere")
    extensions = (*MY_EXTENSIONS, "cogs.briefing")
    async with running_bot(
        fake_discord, sqlite_db, home_guild_ids=[home.guild.id], extensions=extensions
    ) as bot:
        data = EventInput(
            title="Artillery drill near the border",
            summary="Reported by the joint chiefs.",
            date="2024-01-05",
            kind="military_action",
            significance=2,
            sources=[SourceInput("Example", "Drill report", None, "https://example.org/a")],
        )
        created = await bot.services.curation.create(curator(other.guild.id), data)  # local to Elsewhere
        form = await bot.services.curation.edit_input(curator(other.guild.id), created.id)
        form.data.title = "Artillery drill on Yeonpyeong"
        form.data.significance = 3
        await bot.services.curation.edit(curator(other.guild.id), created.id, form.data)
        shown = await fake_discord.invoke(
            "event", {"id": str(created.id), "history": True}, guild=other.guild, user=other.reader
        )
        embed = shown.embeds[0]
        assert embed["title"] == f"History of event #{created.id}: Artillery drill on Yeonpyeong"
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert "**title**: Artillery drill near the border" in fields["Revision 1: created"]
        edited = fields["Revision 2: edited"]
        assert "**title**: Artillery drill near the border → Artillery drill on Yeonpyeong" in edited
        assert "**significance**: 2 → 3" in edited and "**summary**" not in edited
        hidden = await fake_discord.invoke(
            "event", {"id": str(created.id), "history": True}, guild=home.guild, user=home.reader
        )
        assert hidden.ephemeral and "No event matches" in hidden.content
