"""The review side of the queue, driven as a curator would: Merge into #N adds a possible duplicate
to its event as a further source and posts nothing; Edit opens a form prefilled with the draft,
refuses a bad field (nothing written) and publishes what it says (one alert); a second press on a
decided draft says who decided it; Reject asks for a reason, which is stored and audited."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from bot import models
from bot.services.subscriptions import Filters
from testing.fake_discord import FakeDiscord
from tests.conftest import Database
from tests.feed_server import feed_server

from .bot_process import Staff, channel_manager, load_sample, running_bot
from .test_dispatcher import curator, wait_deliveries


async def _count(db: Database, model: type[models.Base], *where: object) -> int:
    async with db.sessionmaker() as s:
        stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await s.scalar(stmt) or 0)


async def _drafts(db: Database, want: int, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while await _count(db, models.Draft) < want:
        assert time.monotonic() < deadline, "the watcher drafted nothing"
        await asyncio.sleep(0.05)


async def test_merge_edit_and_a_second_press(fake_discord: FakeDiscord, sqlite_db: Database) -> None:
    staff = Staff(fake_discord)
    await load_sample(sqlite_db)
    channel = staff.channel(0)
    async with (
        feed_server() as feeds,
        running_bot(
            fake_discord, sqlite_db, home_guild_ids=[staff.guild.id], watch_allow_private=True
        ) as bot,
    ):
        await bot.services.subscriptions.subscribe(
            channel_manager(staff.guild.id).in_channel(channel.id), channel.id, Filters()
        )
        await bot.services.watch.add(curator(staff.guild.id), feeds.url("/feed"), "atom", "Test wire")
        assert bot.watcher is not None
        bot.watcher.wake()
        await _drafts(sqlite_db, 2)
        async with sqlite_db.sessionmaker() as s:
            unha = await s.scalar(
                select(models.Event.id).where(
                    models.Event.title == "Unha-3 places a satellite in orbit from Sohae"
                )
            )
        events_before = await _count(sqlite_db, models.Event)

        queue = await fake_discord.invoke("curate", subcommand="queue", user=staff.admin)
        shown = queue.message
        assert shown is not None
        labels = [c["label"] for row in shown.components for c in row["components"]]
        assert labels == ["Publish", "Edit", f"Merge into #{unha}", "Reject", "◀ Prev", "Next ▶"]
        _publish, _edit, merge, _reject, _prev, _next = shown.custom_ids()
        await fake_discord.press(queue, merge, user=staff.admin)
        assert shown.content == (
            f"Merged draft #2 into event #{unha} as a further source; nothing new was posted."
        )
        assert unha is not None
        event = await bot.services.events.get(unha)
        assert [s.publisher for s in event.sources][-1] == "Test wire"
        assert await _count(sqlite_db, models.Event) == events_before
        assert await _count(sqlite_db, models.Delivery) == 0  # a merge posts nothing new

        # The next draft (no duplicate): no Merge button. Edit: a bad date refuses, writes nothing.
        assert queue.embeds[0]["title"].startswith("Draft #1: ")
        _publish, edit, _reject, _prev, _next = shown.custom_ids()
        other = await fake_discord.invoke(
            "curate", subcommand="queue", user=staff.curator, bypass_default_permissions=True
        )
        assert other.message is not None
        assert other.embeds[0]["title"] == queue.embeds[0]["title"]  # a second curator's queue
        form = await fake_discord.press(queue, edit, user=staff.admin)
        assert form.modal is not None
        prefilled = {
            c["components"][0]["custom_id"]: c["components"][0].get("value") for c in form.modal["components"]
        }
        assert prefilled["title"] == "North Korea fires a Hwasong-15 from near Pyongyang"
        assert prefilled["date"] == "2017-11-29" and prefilled["kind"] == "missile_launch"
        bad = await fake_discord.submit_modal(form, {"date": "2017-13-45"}, user=staff.admin)
        assert bad.ephemeral and "date" in bad.content
        assert await _count(sqlite_db, models.Event) == events_before
        assert await _count(sqlite_db, models.Draft, models.Draft.state == "pending") == 1

        form = await fake_discord.press(queue, edit, user=staff.admin)
        edited_title = "North Korea tests a Hwasong-15 ICBM on a lofted path"
        changes = {"title": edited_title, "significance": "5"}
        await fake_discord.submit_modal(form, changes, user=staff.admin)
        assert (shown.content or "").startswith("Published draft #1 as event #")
        await wait_deliveries(sqlite_db, models.Delivery.state == "sent", 1)
        assert await _count(sqlite_db, models.Delivery) == 1
        [posted] = fake_discord.channel_messages(channel.id)
        assert posted.embeds[0]["title"].endswith(edited_title)

        # The other curator's Publish button of that draft: already handled, by whom.
        again = await fake_discord.press(other, other.message.custom_ids()[0], user=staff.curator)
        assert again.ephemeral
        assert again.content.startswith("Draft #1 was already published (event #")
        assert f"by <@{staff.admin.id}>" in again.content
        assert await _count(sqlite_db, models.Delivery) == 1
        async with sqlite_db.sessionmaker() as s:
            actions = set((await s.scalars(select(models.AuditLog.action))).all())
        assert {"draft.merge", "draft.publish", "event.merge", "event.create"} <= actions
