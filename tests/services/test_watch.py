"""The source watch and the review queue on both databases, against a local feed server serving
real Atom and RSS files: drafts with their links, conditional GETs, no duplicate drafts, publishing
through the lifecycle (alerts once), rejecting (nothing posted), and each bad answer recorded."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import func, select

from bot import models
from bot.db import engine_of, exclusive
from bot.services import feeds as feeds_module
from bot.services.access import Policy
from bot.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from bot.services.feeds import MAX_ITEMS, parse
from bot.services.importing import import_file
from bot.services.review import ReviewService
from bot.services.subscriptions import Filters
from bot.services.watch import BACKOFF_MAX, MAX_FAILURES, WatchService, wait_after
from tests.feed_server import HUGE_BYTES, ITEMS_MANY, FeedServer, as_csv, feed_server, many_items, records
from tests.services.conftest import FIXTURES, HOME, OTHER, Services, curator, member


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with feed_server() as server:
        yield server


@pytest.fixture
def watch(services: Services) -> WatchService:
    return WatchService(
        services.db.sessionmaker, Policy.of([HOME]), services.catalog, allow_private=True, fetch_timeout=1.0
    )


@pytest.fixture
def review(services: Services) -> ReviewService:
    return ReviewService(services.db.sessionmaker, Policy.of([HOME]))


async def _count(services: Services, model: type[models.Base]) -> int:
    async with services.db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_new_items_become_drafts_with_their_links(
    services: Services, watch: WatchService, review: ReviewService, feeds: FeedServer
) -> None:
    source = await watch.add(curator(HOME), feeds.url("/feed"), "atom", "Test wire")
    [result] = await watch.run_once()
    assert result.error is None
    by_title = {d.title: d for d in result.drafted}
    assert set(by_title) == {
        "North Korea fires a Hwasong-15 from near Pyongyang",
        "Unha-3 places a satellite in orbit from Sohae",
    }
    launch = by_title["North Korea fires a Hwasong-15 from near Pyongyang"]
    assert launch.occurred_on == dt.date(2017, 11, 29)
    assert launch.kind == "missile_launch"
    assert launch.links["systems"] == ["hwasong-15"]
    assert launch.links["programs"] == ["icbm"]
    assert set(launch.links["actors"]) == {"dprk"}
    assert launch.summary == "An ICBM flew for about 50 minutes, a test fixture says."
    assert launch.duplicate_of is None
    satellite = by_title["Unha-3 places a satellite in orbit from Sohae"]
    assert satellite.kind == "satellite_launch"
    assert satellite.links["facilities"] == ["sohae"]
    # The sample corpus has this launch already: same day, the same site, a similar title.
    async with services.db.sessionmaker() as session:
        unha = await session.scalar(
            select(models.Event.id).where(
                models.Event.title == "Unha-3 places a satellite in orbit from Sohae"
            )
        )
    assert satellite.duplicate_of == unha
    [listed] = await watch.sources(curator(HOME))
    assert listed.id == source.id and listed.last_new_at is not None and listed.last_error is None
    # The queue is newest first; a reader sees no draft among the events.
    page = await review.queue(curator(HOME))
    assert page.total == 2 and [d.id for d in page.drafts] == sorted(
        (d.id for d in page.drafts), reverse=True
    )


async def test_conditional_get_and_no_duplicate_drafts(
    services: Services, watch: WatchService, feeds: FeedServer
) -> None:
    await watch.add(curator(HOME), feeds.url("/feed"), "atom", "Test wire")
    await watch.run_once()
    [again] = await watch.run_once()
    assert again.not_modified and again.drafted == []
    assert feeds.seen[-1]["If-None-Match"].startswith('"')
    assert feeds.seen[-1]["If-Modified-Since"] == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert "PeninsulaBrief" in feeds.seen[-1]["User-Agent"]
    feeds.current = "second.atom"  # one item more, the two others repeated
    [changed] = await watch.run_once()
    assert [d.title for d in changed.drafted] == ["Envoys meet on resuming the six-party talks"]
    assert changed.drafted[0].links["tracks"] == ["six-party"]
    assert set(changed.drafted[0].links["actors"]) == {"china", "south-korea"}
    assert await _count(services, models.Draft) == 3


async def test_rss_source(watch: WatchService, feeds: FeedServer) -> None:
    feeds.current = "wire.rss"
    await watch.add(curator(HOME), feeds.url("/feed"), "rss", "Test bulletin")
    [result] = await watch.run_once()
    [draft] = result.drafted
    assert draft.kind == "sanctions" and draft.occurred_on == dt.date(2025, 3, 3)
    assert draft.links["systems"] == ["kn-08"]  # by its name and by its alias Hwasong-13
    assert draft.links["actors"] == ["united-states"]
    assert draft.url == "https://example.org/bulletin/7"


async def test_publish_alerts_once_and_reject_posts_nothing(
    services: Services, watch: WatchService, review: ReviewService, feeds: FeedServer
) -> None:
    await services.subscriptions.subscribe(curator(HOME).in_channel(10), 10, Filters(programs=["icbm"]))
    await watch.add(curator(HOME), feeds.url("/feed"), "atom", "Test wire")
    await watch.run_once()
    page = await review.queue(curator(HOME))
    launch = next(d for d in page.drafts if d.links["systems"] == ["hwasong-15"])
    other = next(d for d in page.drafts if d.id != launch.id)
    event = await review.publish(curator(HOME), launch.id)
    assert event.title == launch.title and event.status == "published" and event.guild_id is None
    assert [s.url for s in event.sources] == ["https://example.org/wire/hwasong-15"]
    assert [s.publisher for s in event.sources] == ["Test wire"]
    assert await _count(services, models.Delivery) == 1
    with pytest.raises(Conflict, match="already published"):
        await review.publish(curator(HOME), launch.id)
    assert await _count(services, models.Delivery) == 1
    await review.reject(curator(HOME), other.id, "Already recorded")
    assert await _count(services, models.Delivery) == 1
    assert (await review.queue(curator(HOME))).total == 0
    assert (await services.events.get(event.id)).title == launch.title


async def test_rights_and_scopes(
    services: Services, watch: WatchService, review: ReviewService, feeds: FeedServer
) -> None:
    with pytest.raises(PermissionDenied):
        await watch.add(member(HOME), feeds.url("/feed"), "atom", "Test wire")
    local = await watch.add(curator(OTHER), feeds.url("/feed"), "atom", "Their wire")
    assert local.guild_id == OTHER
    assert await watch.sources(curator(HOME)) == []
    await watch.run_once()
    [draft, *_] = (await review.queue(curator(OTHER))).drafts
    assert (await review.queue(curator(HOME))).total == 0
    with pytest.raises(NotFound):
        await review.publish(curator(HOME), draft.id)
    with pytest.raises(NotFound):
        await watch.remove(curator(HOME), local.id)
    with pytest.raises(PermissionDenied):
        await review.reject(member(OTHER), draft.id, "Not for us")
    event = await review.publish(curator(OTHER), draft.id)
    assert event.guild_id == OTHER
    with pytest.raises(ValidationFailed, match="already watched"):
        await watch.add(curator(OTHER), feeds.url("/feed"), "atom", "Again")
    with pytest.raises(ValidationFailed, match="http"):
        await watch.add(curator(OTHER), "file:///etc/passwd", "atom", "Local file")
    await watch.remove(curator(OTHER), local.id)
    assert await watch.sources(curator(OTHER)) == []


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/error", "the server answered 500"),
        ("/slow", "no complete answer within 1 seconds"),
        ("/files/broken.xml", "not valid XML"),
        ("/files/not-a-feed.html", "a web page, not an Atom or RSS feed"),
        ("/huge", "larger than 10 MB"),
    ],
)
async def test_bad_answers_are_recorded_and_the_watcher_goes_on(
    services: Services, watch: WatchService, feeds: FeedServer, path: str, words: str
) -> None:
    bad = await watch.add(curator(HOME), feeds.url(path), "atom", "Bad")
    await watch.add(curator(HOME), feeds.url("/feed"), "atom", "Good")
    results = await watch.run_once()
    assert [r.source.name for r in results] == ["Bad", "Good"]
    assert results[0].error is not None and words in results[0].error
    assert len(results[1].drafted) == 2
    [listed, _] = await watch.sources(curator(HOME))
    assert listed.id == bad.id and listed.last_error is not None and words in listed.last_error
    assert listed.consecutive_failures == 1 and listed.last_new_at is None
    async with services.db.sessionmaker() as session:
        mine = await session.scalar(
            select(func.count()).select_from(models.Draft).where(models.Draft.source_id == bad.id)
        )
    assert mine == 0


async def test_unreachable_private_and_pause(
    services: Services, watch: WatchService, feeds: FeedServer
) -> None:
    async with aiohttp.ClientSession() as http:
        source = await watch.add(curator(HOME), "http://127.0.0.1:9/feed", "atom", "Nobody there")
        result = await watch.poll(http, source.id)
        assert result.error is not None and "could not be reached" in result.error
        strict = WatchService(services.db.sessionmaker, Policy.of([HOME]), services.catalog)
        private = await watch.add(curator(HOME), feeds.url("/feed"), "atom", "Local")
        refused = await strict.poll(http, private.id)
        assert refused.error == "127.0.0.1 is a loopback, private or link-local address, which is not fetched"
        moved = await watch.add(curator(HOME), feeds.url("/moved"), "atom", "Moved")
        followed = await watch.poll(http, moved.id)
        assert followed.error is None and len(followed.drafted) == 2
        for _ in range(MAX_FAILURES - 1):
            await watch.poll(http, source.id)
    listed = {s.id: s for s in await watch.sources(curator(HOME))}
    assert listed[source.id].paused and listed[source.id].consecutive_failures == MAX_FAILURES
    assert "paused after 10 failed checks in a row" in (listed[source.id].last_error or "")
    assert source.id not in {r.source.id for r in await watch.run_once()}


def test_the_wait_after_failures_grows_and_is_capped() -> None:
    assert [wait_after(900, f) for f in range(5)] == [900, 1800, 3600, 7200, 14400]
    assert wait_after(900, 6) == BACKOFF_MAX == wait_after(900, 1000)
    assert wait_after(30000, 3) == 30000  # never shorter than the interval itself


async def _checked_ago(services: Services, source_id: int, seconds: float) -> None:
    async with services.db.sessionmaker() as session, session.begin():
        source = await session.get(models.WatchSource, source_id)
        assert source is not None
        source.last_checked_at = models.utcnow() - dt.timedelta(seconds=seconds)


async def test_backoff_after_errors_and_pause_resume(
    services: Services, watch: WatchService, feeds: FeedServer
) -> None:
    bad = await watch.add(curator(HOME), feeds.url("/error"), "atom", "Bad", interval=600)
    [failed] = await watch.run_once(due_only=True)
    assert failed.error is not None and failed.source.next_check_at is not None
    assert failed.source.last_checked_at is not None
    assert failed.source.next_check_at - failed.source.last_checked_at == dt.timedelta(seconds=1200)
    await _checked_ago(services, bad.id, 601)  # the interval has passed, the backoff has not
    assert await watch.run_once(due_only=True) == []
    await _checked_ago(services, bad.id, 1201)
    [again] = await watch.run_once(due_only=True)
    assert again.source.consecutive_failures == 2
    # Pausing and resuming: scoped, audited, and resuming starts the backoff again.
    with pytest.raises(NotFound):
        await watch.set_paused(curator(OTHER), bad.id, True)
    with pytest.raises(PermissionDenied):
        await watch.set_paused(member(HOME), bad.id, True)
    paused = await watch.set_paused(curator(HOME), bad.id, True)
    assert paused.paused and paused.next_check_at is None
    assert await watch.run_once() == []
    with pytest.raises(ValidationFailed, match="already paused"):
        await watch.set_paused(curator(HOME), bad.id, True)
    resumed = await watch.set_paused(curator(HOME), bad.id, False)
    assert not resumed.paused and resumed.consecutive_failures == 0
    assert await watch.choices(curator(HOME), "ba") == [(f"#{bad.id} Bad", bad.id)]
    assert await watch.choices(curator(OTHER), "") == []
    assert await watch.choices(member(HOME), "") == []
    assert await watch.find(curator(HOME), "bad") == bad.id
    with pytest.raises(ValidationFailed, match="names no single source"):
        await watch.find(curator(OTHER), "Bad")
    async with services.db.sessionmaker() as session:
        actions = (await session.scalars(select(models.AuditLog.action).order_by(models.AuditLog.id))).all()
    assert actions[-2:] == ["watch.pause", "watch.resume"]


async def test_a_50_mb_answer_is_cut_at_10_mb(watch: WatchService, feeds: FeedServer) -> None:
    source = await watch.add(curator(HOME), feeds.url("/huge"), "atom", "Huge")
    async with aiohttp.ClientSession() as http:
        result = await watch.poll(http, source.id)
    assert result.error == "the response is larger than 10 MB"
    assert feeds.huge_sent < HUGE_BYTES  # the watcher hung up; it never read the 50 MB


async def test_a_feed_of_10000_items_drafts_a_bounded_batch_in_one_transaction(
    services: Services, watch: WatchService, feeds: FeedServer
) -> None:
    source = await watch.add(curator(HOME), feeds.url("/many"), "atom", "Many")
    [result] = await watch.run_once()
    assert result.error is None and len(result.drafted) == MAX_ITEMS < ITEMS_MANY
    assert result.drafted[0].title == f"Test bulletin {ITEMS_MANY} on talks"  # the newest ones
    assert await _count(services, models.Draft) == MAX_ITEMS
    [again] = await watch.run_once()
    assert again.drafted == [] and await _count(services, models.Draft) == MAX_ITEMS
    [listed] = await watch.sources(curator(HOME))
    assert listed.id == source.id and listed.last_error is None


async def test_a_redirect_to_a_private_address_is_refused_though_the_first_host_was_allowed(
    services: Services, feeds: FeedServer
) -> None:
    strict = WatchService(
        services.db.sessionmaker,
        Policy.of([HOME]),
        services.catalog,
        allow_hosts=["127.0.0.1"],  # the test server's own name, as an operator would allow one
        fetch_timeout=2.0,
    )
    direct = await strict.add(curator(HOME), feeds.url("/feed"), "atom", "Allowed")
    moved = await strict.add(curator(HOME), feeds.url("/to-private"), "atom", "Moved away")
    ok, refused = await strict.run_once()
    assert ok.source.id == direct.id and ok.error is None and len(ok.drafted) == 2
    assert refused.source.id == moved.id
    assert refused.error == "localhost is a loopback, private or link-local address, which is not fetched"
    assert refused.drafted == [] and refused.source.consecutive_failures == 1


async def test_two_pollers_on_postgresql_never_draft_an_item_twice(
    services: Services, watch: WatchService, feeds: FeedServer
) -> None:
    if services.db.dialect != "postgresql":
        pytest.skip("two pollers across processes are a PostgreSQL deployment")
    other = WatchService(
        services.db.sessionmaker, Policy.of([HOME]), services.catalog, allow_private=True, fetch_timeout=5.0
    )
    first = await watch.add(curator(HOME), feeds.url("/feed"), "atom", "Wire")
    await watch.add(curator(HOME), feeds.url("/many"), "atom", "Many")
    # Two passes at once: the watch lock makes the second wait, then it finds nothing new.
    one, two = await asyncio.gather(watch.run_once(), other.run_once())
    assert sorted(len(r.drafted) for r in one + two) == [0, 0, 2, MAX_ITEMS]
    assert await _count(services, models.Draft) == 2 + MAX_ITEMS
    # A watcher's pass does not wait: while another process polls, it skips its turn.
    async with exclusive(engine_of(services.db.sessionmaker), "watch"):
        assert await other.run_once(wait=False) == []
    # Even two polls of one source without the lock (row locked, drafts re-read) draft nothing twice.
    feeds.current = "second.atom"
    async with aiohttp.ClientSession() as http:
        a, b = await asyncio.gather(watch.poll(http, first.id), other.poll(http, first.id))
    assert sorted(len(r.drafted) for r in (a, b)) == [0, 1]
    assert await _count(services, models.Draft) == 3 + MAX_ITEMS


async def test_a_dataset_row_appended_between_two_polls_becomes_one_draft(
    services: Services, watch: WatchService, review: ReviewService, feeds: FeedServer
) -> None:
    header, rows = records(FIXTURES / "cns-excerpt.csv")
    # The first row is in the timeline already (imported): its row id is not drafted again.
    imported = await import_file(
        services.db.sessionmaker,
        as_csv([header, rows[0]]),
        "cns",
        caller=curator(HOME),
        policy=Policy.of([HOME]),
    )
    assert imported.created + imported.merged == 1 and not imported.problems
    feeds.data = as_csv([header, *rows[:-1]])
    source = await watch.add(curator(HOME), feeds.url("/data"), "cns", "CNS missile tests")
    [first] = await watch.run_once()
    assert first.error is None
    assert len(first.drafted) == len(rows) - 2  # every row but the imported one and the one to come
    titles = {d.title for d in first.drafted}
    feeds.data = as_csv([header, *rows])  # the dataset gains a row
    [second] = await watch.run_once()
    assert second.error is None
    [new] = second.drafted
    assert new.title not in titles and new.publisher == "CNS missile tests"
    assert new.kind in ("missile_launch", "satellite_launch") and new.url is None
    async with services.db.sessionmaker() as session:
        guids = set((await session.scalars(select(models.Draft.guid))).all())
    assert guids == {f"cns:{r[0]}" for r in rows[1:]}
    assert (await review.queue(curator(HOME), limit=100)).total == len(rows) - 1
    [third] = await watch.run_once()
    assert third.not_modified and third.drafted == []
    # A draft of a dataset row publishes as the row's own kind and significance.
    event = await review.publish(curator(HOME), new.id)
    assert event.kind == new.kind and event.significance == new.significance
    del source


async def test_a_published_dataset_row_keeps_its_row_id_and_a_row_imported_meanwhile_is_refused(
    services: Services, watch: WatchService, review: ReviewService, feeds: FeedServer
) -> None:
    header, rows = records(FIXTURES / "cns-excerpt.csv")
    feeds.data = as_csv([header, *rows[:2]])
    await watch.add(curator(HOME), feeds.url("/data"), "cns", "CNS missile tests")
    [poll] = await watch.run_once()
    async with services.db.sessionmaker() as session:
        guid_of = dict((await session.execute(select(models.Draft.id, models.Draft.guid))).all())
    first, second = sorted(poll.drafted, key=lambda d: guid_of[d.id] != f"cns:{rows[0][0]}")
    event = await review.publish(curator(HOME), first.id)
    assert event.external_id == f"cns:{rows[0][0]}"  # the importer's id of that row
    again = await import_file(
        services.db.sessionmaker,
        as_csv([header, rows[0]]),
        "cns",
        caller=curator(HOME),
        policy=Policy.of([HOME]),
    )
    assert again.created == 0 and not again.problems  # the row is the published event, not a second one

    # The second row is imported before its draft is decided: publishing the draft would add it twice.
    imported = await import_file(
        services.db.sessionmaker,
        as_csv([header, rows[1]]),
        "cns",
        caller=curator(HOME),
        policy=Policy.of([HOME]),
    )
    async with services.db.sessionmaker() as session:
        held = await session.scalar(
            select(models.Event.id).where(models.Event.external_id == f"cns:{rows[1][0]}")
        )
    events = await _count(services, models.Event)
    assert held is not None and imported.created == 1
    with pytest.raises(Conflict, match=f"already event #{held}"):
        await review.publish(curator(HOME), second.id)
    assert await _count(services, models.Event) == events
    assert (await review.queue(curator(HOME))).total == 1  # still pending: a curator rejects it


async def test_a_dataset_source_refuses_what_is_not_its_dataset(
    services: Services, watch: WatchService, feeds: FeedServer
) -> None:
    header, rows = records(FIXTURES / "csis-excerpt.csv")
    feeds.data = as_csv([header, *rows])
    await watch.add(curator(HOME), feeds.url("/data"), "csis", "CSIS provocations")
    await watch.add(curator(HOME), feeds.url("/feed"), "cns", "Not a dataset")
    csis, wrong = await watch.run_once()
    assert csis.error is None and len(csis.drafted) == len(rows)
    assert {d.kind for d in csis.drafted} - {"other"}  # kinds from the dataset's own types
    assert wrong.error is not None and wrong.error.startswith("the address does not serve the CNS dataset")
    assert wrong.drafted == []


async def test_feeds_are_parsed_in_a_process_of_their_own_which_comes_back() -> None:
    # Off the event loop's process: a parsing thread would hold the GIL against the loop (and so
    # against every command answered during a poll). A parser that died is replaced.
    body = many_items(3)
    first = await parse(body)
    loop = asyncio.get_running_loop()
    pid = await loop.run_in_executor(feeds_module._parser(), os.getpid)
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    again = await parse(body)
    assert again == first and [i.guid for i in again] == [f"urn:test:item:{n}" for n in (3, 2, 1)]
    assert await loop.run_in_executor(feeds_module._parser(), os.getpid) not in (pid, os.getpid())
