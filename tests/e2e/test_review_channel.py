"""``/settings review-channel`` as a server admin and its curators use it: each new draft their
server may review is posted there once with Publish/Edit/Merge/Reject buttons (a home server's
channel gets the shared drafts, another server's only its own local drafts); a press checks the
presser's rights; a decision made anywhere edits the post to say who decided what, buttons gone;
a channel the bot cannot post in is refused naming the permission; a post interrupted by a crash
is made once when the poster comes back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select

from bot import models
from bot.discord.review_posts import post_payload
from bot.discord_endpoints import configure_endpoints
from bot.outbox.transport import RestTransport
from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.review import Suggestion
from bot.services.review_posts import ReviewPostStore
from testing.fake_discord import FakeDiscord
from tests.conftest import Database
from tests.feed_server import feed_server

from .bot_process import Staff, channel_manager, load_sample, running_bot
from .test_dispatcher import curator

EMBED_LINKS = 1 << 14


async def _count(db: Database, model: type[models.Base], *where: object) -> int:
    async with db.sessionmaker() as s:
        stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await s.scalar(stmt) or 0)


async def _posts(fake: FakeDiscord, channel_id: int, want: int, within: float = 15) -> list[Any]:
    """The channel's messages once there are ``want`` of them (polled with a generous deadline)."""
    deadline = time.monotonic() + within
    while len(fake.channel_messages(channel_id)) < want:
        assert time.monotonic() < deadline, f"{len(fake.channel_messages(channel_id))} posts, wanted {want}"
        await asyncio.sleep(0.05)
    return fake.channel_messages(channel_id)


async def _until(check: Any, what: str, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _labels(message: Any) -> list[str]:
    return [c["label"] for row in message.components for c in row["components"]]


async def test_review_channel_posts_new_drafts_and_says_who_decided(
    fake_discord: FakeDiscord, database: Database
) -> None:
    home = Staff(fake_discord)
    other = Staff(fake_discord, "Other server")
    await load_sample(database)
    review, other_review, blocked = home.channel(1), other.channel(1), home.channel(3)
    bot_role = next(r for r in home.guild.roles.values() if r.name == "Peninsula Brief")
    blocked.set_overwrite(bot_role, deny=EMBED_LINKS)
    async with (
        feed_server() as feeds,
        running_bot(fake_discord, database, home_guild_ids=[home.guild.id], watch_allow_private=True) as bot,
    ):
        # Manage Server only; a channel the bot cannot post embeds in is refused, nothing saved.
        refused = await fake_discord.invoke(
            "settings",
            {"channel": review},
            subcommand="review-channel",
            user=home.curator,
            bypass_default_permissions=True,
        )
        assert refused.ephemeral and "Manage Server" in refused.content
        missing = await fake_discord.invoke(
            "settings", {"channel": blocked}, subcommand="review-channel", user=home.admin
        )
        assert missing.ephemeral
        assert missing.content == (
            f"I cannot post drafts in <#{blocked.id}>: I need the Embed Links permission there. "
            "Nothing was changed."
        )
        assert (
            await _count(database, models.GuildSettings, models.GuildSettings.review_channel_id.is_not(None))
            == 0
        )
        for staff, channel in ((home, review), (other, other_review)):
            saved = await fake_discord.invoke(
                "settings",
                {"channel": channel},
                subcommand="review-channel",
                guild=staff.guild,
                user=staff.admin,
            )
            assert (
                saved.ephemeral and f"New drafts for review are posted in <#{channel.id}>." in saved.content
            )

        # A shared source (the home server's curators) and another server's local one.
        await bot.services.watch.add(curator(home.guild.id), feeds.url("/feed"), "atom", "Test wire")
        await bot.services.watch.add(
            curator(other.guild.id), feeds.url("/files/wire.rss"), "rss", "Their wire"
        )
        assert bot.watcher is not None
        bot.watcher.wake()
        shared = await _posts(fake_discord, review.id, 2)
        [local] = await _posts(fake_discord, other_review.id, 1)
        page = await bot.services.review.queue(curator(home.guild.id))
        theirs = await bot.services.review.queue(curator(other.guild.id))
        assert sorted(int(m.content.rsplit("#", 1)[1]) for m in shared) == sorted(d.id for d in page.drafts)
        assert local.content == f"**New draft for review:** #{theirs.drafts[0].id}"
        assert local.embeds[0]["title"].startswith(f"Draft #{theirs.drafts[0].id}: ")
        assert all(m.allowed_mentions == {"parse": []} for m in [*shared, local])
        duplicate = next(d for d in page.drafts if d.duplicate_of is not None)
        plain = next(d for d in page.drafts if d.duplicate_of is None)
        by_draft = {int(m.content.rsplit("#", 1)[1]): m for m in shared}
        assert _labels(by_draft[duplicate.id]) == [
            "Publish",
            "Edit",
            f"Merge into #{duplicate.duplicate_of}",
            "Reject",
        ]
        assert _labels(by_draft[plain.id]) == ["Publish", "Edit", "Reject"]

        # A member who is no curator is refused; nothing is published.
        events = await _count(database, models.Event)
        publish = by_draft[plain.id].custom_ids()[0]
        nope = await fake_discord.press(by_draft[plain.id], publish, user=home.reader)
        assert nope.ephemeral and "curator role" in nope.content
        assert await _count(database, models.Event) == events

        # A curator publishes from the channel: their answer is private, the post says who did it.
        done = await fake_discord.press(by_draft[plain.id], publish, user=home.curator)
        assert done.ephemeral and done.content.startswith(f"Published draft #{plain.id} as event #")
        event_id = int(done.content.split("event #", 1)[1].split(" ", 1)[0])
        posted = by_draft[plain.id]
        await _until(lambda: posted.components == [], "the published post to lose its buttons")
        assert posted.content == f"**Published** as event #{event_id} by <@{home.curator.id}>."

        # Rejected from /curate queue: the channel's post says so too.
        queue = await fake_discord.invoke("curate", subcommand="queue", user=home.admin)
        assert queue.message is not None
        reject = queue.message.custom_ids()[3]
        form = await fake_discord.press(queue, reject, user=home.admin)
        await fake_discord.submit_modal(form, {"reason": "Seen already"}, user=home.admin)
        rejected = by_draft[duplicate.id]
        await _until(lambda: rejected.components == [], "the rejected post to lose its buttons")
        assert rejected.content == f"**Rejected** by <@{home.admin.id}>: Seen already"

        # The other server's curators review their local draft in their own channel.
        edit = local.custom_ids()[1]
        form = await fake_discord.press(local, edit, user=other.admin)
        assert form.modal is not None
        edited = await fake_discord.submit_modal(form, {"significance": "4"}, user=other.admin)
        assert edited.ephemeral and edited.content.startswith(
            f"Published draft #{theirs.drafts[0].id} as event #"
        )
        await _until(lambda: local.components == [], "the local post to lose its buttons")
        assert local.content.startswith("**Published** as event #")
        assert await _count(database, models.Event, models.Event.guild_id == other.guild.id) == 1

        # Each post made once; nothing of one server in the other's channel.
        assert len(fake_discord.channel_messages(review.id)) == 2
        assert len(fake_discord.channel_messages(other_review.id)) == 1

        # Cleared: a new suggestion is not posted anywhere (no post is even queued).
        cleared = await fake_discord.invoke("settings", subcommand="review-channel", user=home.admin)
        assert "not posted in any channel" in cleared.content
        made = await bot.services.review.suggest(
            Caller(home.reader.id, home.guild.id),
            Suggestion("A test launch report", "2024-05-30", "Reported.", "https://example.org/r"),
        )
        assert await _count(database, models.ReviewPost, models.ReviewPost.draft_id == made.id) == 0
        assert await _count(database, models.ReviewPost) == 3


async def test_a_post_interrupted_by_a_crash_is_made_once(
    fake_discord: FakeDiscord, database: Database
) -> None:
    home = Staff(fake_discord)
    review = home.channel(1)
    services = Services.build(database.sessionmaker, Policy.of([home.guild.id]))
    await services.guild_settings.set_review_channel(
        channel_manager(home.guild.id).in_channel(review.id), review.id
    )
    made = await services.review.suggest(
        Caller(home.reader.id, home.guild.id),
        Suggestion("A test launch report", "2024-05-30", "Reported.", "https://example.org/r"),
    )
    # A poster claims the post, makes the request and dies before recording it.
    [job] = await ReviewPostStore(database.sessionmaker, "crashed").claim(1, lease=0.5)
    transport = RestTransport(fake_discord.token)
    configure_endpoints(fake_discord.api_base, None)
    try:
        payload = {**post_payload(job, "en"), "nonce": job.nonce, "enforce_nonce": True}
        first = await transport.create_message(review.id, payload)
    finally:
        await transport.close()
    assert first.kind == "ok"
    async with running_bot(fake_discord, database, home_guild_ids=[home.guild.id]):

        async def recorded() -> models.ReviewPost | None:
            async with database.sessionmaker() as s:
                return await s.scalar(select(models.ReviewPost).where(models.ReviewPost.draft_id == made.id))

        deadline = time.monotonic() + 15
        while (post := await recorded()) is None or post.state != "sent":
            assert time.monotonic() < deadline, "the post was never recorded"
            await asyncio.sleep(0.05)
        [message] = fake_discord.channel_messages(review.id)
        assert post.message_id == message.id == first.message_id
        assert post.attempts == 0 and post.last_error is None


async def test_a_review_channel_the_bot_lost_says_so_above_the_queue(
    fake_discord: FakeDiscord, database: Database
) -> None:
    home = Staff(fake_discord)
    review = home.channel(1)
    await load_sample(database)
    async with running_bot(fake_discord, database, home_guild_ids=[home.guild.id]) as bot:
        saved = await fake_discord.invoke(
            "settings", {"channel": review}, subcommand="review-channel", user=home.admin
        )
        assert f"posted in <#{review.id}>" in saved.content

        async def suggest(title: str) -> int:
            made = await bot.services.review.suggest(
                Caller(home.reader.id, home.guild.id),
                Suggestion(title, "2024-05-30", "Reported.", "https://example.org/r"),
            )
            return made.id

        # The bot loses its right to post there: two drafts are refused by Discord.
        fake_discord.fail_channel(review.id, 403)
        for title in ("A first test launch report", "A second test launch report"):
            draft = await suggest(title)
            await _until_state(database, models.ReviewPost.draft_id == draft, "failed")
        assert fake_discord.channel_messages(review.id) == []
        queue = await fake_discord.invoke("curate", subcommand="queue", user=home.admin)
        assert queue.ephemeral and queue.embeds  # the draft is there, under the warning
        assert queue.content.startswith(f"⚠️ 2 new drafts could not be posted in <#{review.id}>: ")
        assert "View Channel, Send Messages, Embed Links" in queue.content
        assert "/settings review-channel" in queue.content

        # Other servers' curators never see it; in Korean it is Korean.
        other = Staff(fake_discord, "Other server")
        theirs = await fake_discord.invoke("curate", subcommand="queue", guild=other.guild, user=other.admin)
        assert "⚠️" not in (theirs.content or "")
        home.admin.user.locale = "ko"
        korean = await fake_discord.invoke("curate", subcommand="queue", user=home.admin)
        assert korean.content.startswith(f"⚠️ 새 초안 2건을 <#{review.id}>에 게시하지 못했습니다")
        home.admin.user.locale = "en-US"

        # Healed: the next draft is posted, and the warning is gone.
        fake_discord.fail_channel(review.id, None)
        await suggest("A third test launch report")
        await _posts(fake_discord, review.id, 1)
        await _until_state(database, models.ReviewPost.channel_id == review.id, "sent")
        after = await fake_discord.invoke("curate", subcommand="queue", user=home.admin)
        assert after.embeds and not after.content


async def _until_state(database: Database, where: Any, state: str, within: float = 15) -> None:
    """Until a review post matching ``where`` is recorded in ``state``."""
    deadline = time.monotonic() + within
    while not await _count(database, models.ReviewPost, where, models.ReviewPost.state == state):
        assert time.monotonic() < deadline, f"timed out waiting for a {state} review post"
        await asyncio.sleep(0.05)
