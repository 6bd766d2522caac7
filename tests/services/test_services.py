"""Catalog, events, search, curation and subscriptions on real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import models
from bot.services.errors import NotFound, PermissionDenied, ValidationFailed
from bot.services.filters import EventFacts, EventFilter
from bot.services.links import Links
from bot.services.seed import load, read_corpus
from bot.services.subscriptions import Filters
from bot.services.validation import EventInput, SourceInput
from tests.services.conftest import FIXTURES, HOME, OTHER, THIRD, Services, curator, member, posted_alert

SRC = [SourceInput("Reuters", "A report", "2024-05-01", "https://example.org/report")]


def event_input(**kw: object) -> EventInput:
    base: dict[str, object] = {
        "title": "Test launch of a Hwasong-15",
        "summary": "A test.",
        "date": "2024-05-01",
        "kind": "missile_launch",
        "significance": 3,
        "programs": ["icbm"],
        "actors": ["dprk"],
        "sources": SRC,
    }
    base.update(kw)
    return EventInput(**base)  # type: ignore[arg-type]


async def count(services: Services, model: type[models.Base]) -> int:
    async with services.db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_catalog_aliases_resolve(services: Services) -> None:
    assert (await services.catalog.actor("Pyongyang")).slug == "dprk"
    assert (await services.catalog.actor("dprk")).slug == "dprk"
    assert (await services.catalog.program("Hwasong-13")).slug == "icbm"
    assert (await services.catalog.program("tongchang-ri")).slug == "space-launch"
    with pytest.raises(NotFound) as info:
        await services.catalog.program("Hwasong-1")
    assert "Intercontinental ballistic missiles" in info.value.suggestions


async def test_autocomplete_prefix_first_then_fuzzy(services: Services) -> None:
    names = [c.value for c in await services.catalog.autocomplete("actor", "Sou")]
    assert names[0] == "south-korea"
    fuzzy = [c.value for c in await services.catalog.autocomplete("actor", "Nroth Korea")]
    assert "dprk" in fuzzy
    assert [c.value for c in await services.catalog.autocomplete("program", "KN-0")] == ["icbm"]
    parties = [c.value for c in await services.catalog.autocomplete("actor", "", parties_only=True)]
    assert "wang-yi" not in parties and "china" in parties


async def test_positions_keep_history_and_speaker(services: Services) -> None:
    positions = await services.catalog.positions("Beijing")
    assert [p.topic.slug for p in positions] == ["talks-format"]
    assert positions[0].speaker is not None and positions[0].speaker.slug == "wang-yi"
    compared = await services.catalog.compare("peace-treaty")
    assert list(compared) == ["North Korea"]
    assert compared["North Korea"][0].quote == "before anything else"


async def test_seed_is_idempotent(services: Services) -> None:
    report = await load(services.db.sessionmaker, read_corpus(files=[FIXTURES / "corpus" / "sample.yaml"]))
    assert report.created.total() == 0
    assert report.unchanged["events"] == 3
    assert await count(services, models.Event) == 3


async def test_event_filters_and_keyset_pages(services: Services) -> None:
    for i in range(7):
        await services.curation.create(
            curator(HOME), event_input(title=f"Launch number {i}", date=f"2020-0{i + 1}")
        )
    seen: list[int] = []
    cursor = None
    while True:
        page = await services.events.page(EventFilter.of(program="icbm"), limit=3, cursor=cursor)
        seen += [e.id for e in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == 7 == len(set(seen))
    dates = [(await services.events.get(i)).occurred_on for i in seen]
    assert dates == sorted(dates, reverse=True)
    only_2006 = await services.events.page(
        EventFilter(since=dt.date(2006, 1, 1), until=dt.date(2006, 12, 31))
    )
    assert [e.title for e in only_2006.items] == ["First nuclear test at Punggye-ri"]
    with pytest.raises(ValidationFailed):
        await services.events.page(EventFilter(), cursor="not-a-cursor")


async def test_search_ranks_and_respects_scope(services: Services) -> None:
    local = await services.curation.create(curator(OTHER), event_input(title="Local drill near Sohae coast"))
    assert local.guild_id == OTHER
    hits, total = await services.search.search_events("Sohae", guild_id=None)
    assert total == 1 and hits[0].title.startswith("Unha-3")
    hits, total = await services.search.search_events("Sohae", guild_id=OTHER)
    assert total == 2
    hits, total = await services.search.search_events("sohae", guild_id=THIRD)
    assert total == 1
    page = await services.search.search("six-party")
    assert any(h.kind == "track" and h.ref == "six-party" for h in page.catalog)
    ac = await services.events.autocomplete("Unha", guild_id=None)
    assert ac and ac[0].value == str(hits[0].id)


async def test_create_validates_and_writes_nothing_on_failure(services: Services) -> None:
    before = await count(services, models.Event)
    audit_before = await count(services, models.AuditLog)  # the seed's rows, one per event
    bad = [
        event_input(title="x" * 5000),
        event_input(date="2015-13-01"),
        event_input(date="3000"),
        event_input(sources=[SourceInput("X", "Y", None, "javascript:alert(1)")]),
        event_input(programs=["no-such-program"]),
        event_input(title="Bidi \u202e trick"),
        event_input(significance=9),
        event_input(sources=[]),
    ]
    for data in bad:
        with pytest.raises(ValidationFailed):
            await services.curation.create(curator(HOME), data)
    assert await count(services, models.Event) == before
    assert await count(services, models.AuditLog) - audit_before == 0


async def test_permissions_are_rechecked_in_the_service(services: Services) -> None:
    with pytest.raises(PermissionDenied):
        await services.curation.create(member(HOME), event_input())
    with pytest.raises(PermissionDenied):
        await services.subscriptions.subscribe(member(HOME).in_channel(555), 555)
    # A non-home guild's curator cannot touch shared events.
    shared = await services.curation.create(curator(HOME), event_input())
    with pytest.raises(PermissionDenied):
        await services.curation.retract(curator(OTHER), shared.id, "not yours")
    # Nor see another guild's local event.
    local = await services.curation.create(curator(OTHER), event_input())
    with pytest.raises(NotFound):
        await services.events.get(local.id, guild_id=THIRD)
    with pytest.raises(NotFound):
        await services.curation.retract(curator(THIRD), local.id, "not yours")


async def test_publish_enqueues_matching_deliveries_in_scope(services: Services) -> None:
    await services.subscriptions.subscribe(curator(HOME).in_channel(10), 10, Filters(programs=["icbm"]))
    await services.subscriptions.subscribe(
        curator(OTHER).in_channel(20), 20, Filters(kinds=["missile_launch"])
    )
    await services.subscriptions.subscribe(curator(THIRD).in_channel(30), 30, Filters(min_significance=5))
    await services.subscriptions.subscribe(
        curator(THIRD).in_channel(31), 31, Filters(programs=["space-launch"])
    )
    shared = await services.curation.create(curator(HOME), event_input())
    local = await services.curation.create(curator(OTHER), event_input())
    async with services.db.sessionmaker() as s:
        rows = (await s.execute(select(models.Delivery.event_id, models.Delivery.channel_id))).all()
    assert sorted(rows) == sorted([(shared.id, 10), (shared.id, 20), (local.id, 20)])


async def test_subscription_filters_take_any_of_each_kind(services: Services) -> None:
    either = Filters(programs=["space-launch", "icbm"], actors=["china", "south-korea"])
    await services.subscriptions.subscribe(curator(HOME).in_channel(10), 10, either)
    await services.subscriptions.subscribe(
        curator(HOME).in_channel(11), 11, Filters(kinds=["agreement", "missile_launch"])
    )
    await services.subscriptions.subscribe(curator(HOME).in_channel(12), 12, Filters(tracks=["six-party"]))
    dprk_only = await services.curation.create(curator(HOME), event_input())
    with_china = await services.curation.create(curator(HOME), event_input(actors=["dprk", "china"]))
    async with services.db.sessionmaker() as s:
        rows = (await s.execute(select(models.Delivery.event_id, models.Delivery.channel_id))).all()
    assert sorted(rows) == sorted([(dprk_only.id, 11), (with_china.id, 10), (with_china.id, 11)])


async def test_edit_bumps_revision_and_retract_hides(services: Services) -> None:
    created = await services.curation.create(curator(HOME), event_input())
    same = await services.curation.edit(curator(HOME), created.id, event_input())
    assert same.revision == 1
    edited = await services.curation.edit(curator(HOME), created.id, event_input(title="Corrected title"))
    assert edited.revision == 2 and edited.title == "Corrected title"
    retracted = await services.curation.retract(curator(HOME), created.id, "Duplicate of another event")
    assert retracted.status == "retracted" and retracted.revision == 3
    page = await services.events.page(EventFilter.of(program="icbm"))
    assert created.id not in [e.id for e in page.items]
    log = await services.curation.log(curator(HOME))
    assert [e.action for e in log] == ["event.retract", "event.edit", "event.create"]


async def test_subscription_rules(services: Services) -> None:
    with pytest.raises(ValidationFailed):
        await services.subscriptions.subscribe(curator(HOME).in_channel(10), 10, Filters(programs=["nope"]))
    with pytest.raises(ValidationFailed):
        await services.subscriptions.subscribe(curator(HOME).in_channel(10), 10, mention_role_id=HOME)
    sub = await services.subscriptions.subscribe(
        curator(HOME).in_channel(10), 10, Filters(kinds=["nuclear-test"])
    )
    assert sub.kinds == ("nuclear_test",)
    paused = await services.subscriptions.set_state(curator(HOME).in_channel(10), 10, "paused")
    assert paused.state == "paused"
    assert [s.channel_id for s in await services.subscriptions.list(curator(HOME))] == [10]
    assert await services.subscriptions.list(curator(OTHER)) == []
    await services.subscriptions.unsubscribe(curator(HOME).in_channel(10), 10)
    with pytest.raises(NotFound):
        await services.subscriptions.get(curator(HOME).in_channel(10), 10)


async def test_broad_search_ranks_only_the_newest_window(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.services import search as search_module

    monkeypatch.setattr(search_module, "RANK_WINDOW", 3)
    ids = [
        (await services.curation.create(curator(HOME), event_input(title=f"Rocket engine trial {i}"))).id
        for i in range(5)
    ]
    hits, total = await services.search.search_events("rocket engine", limit=10)
    assert total == 4  # more than the window: reported as window + 1
    assert sorted(h.id for h in hits) == ids[-3:]
    narrow, exact = await services.search.search_events("trial 2", limit=10)
    assert exact == 1
    assert [h.id for h in narrow] == [ids[2]]


async def test_milestones_are_the_most_significant_in_date_order(services: Services) -> None:
    made = {}
    for sig, date in ((5, "2001"), (2, "2002"), (4, "2003"), (5, "2004"), (3, "2005")):
        view = await services.curation.create(
            curator(HOME), event_input(title=f"Milestone {date}", date=date, significance=sig)
        )
        made[date] = view.id
    top = await services.events.milestones(EventFilter.of(program="icbm", min_significance=4), limit=2)
    assert [e.id for e in top] == [made["2001"], made["2004"]]
    assert [e.significance for e in top] == [5, 5]


async def test_event_autocomplete_matches_title_words_only(services: Services) -> None:
    await services.curation.create(
        curator(HOME), event_input(title="Engine ground test at Sohae", summary="Observed by a satellite.")
    )
    titles = [c.name for c in await services.events.autocomplete("eng")]
    assert any("Engine ground test" in t for t in titles)
    by_summary = [c.name for c in await services.events.autocomplete("satellit")]
    assert any("Unha-3" in n for n in by_summary)
    assert not any("Engine ground test" in n for n in by_summary)


async def test_event_autocomplete_reads_the_newest_first_then_the_index(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest matches are found by checking the newest events one by one when they hold enough,
    by the index otherwise (on PostgreSQL); the answer is the same either way."""
    from bot.services import events as events_module
    from bot.services import fts as fts_module

    made = []
    for i, date in enumerate(["2011", "2015", "2013", "2012", "2014"]):
        data = event_input(title=f"Rocket motor trial {i} at Sohae", summary="A motor.", date=date)
        made.append((await services.curation.create(curator(HOME), data)).id)
    await services.curation.create(curator(HOME), event_input(title="Unrelated motor parade"))
    monkeypatch.setattr(events_module, "AUTOCOMPLETE_WINDOW", 3)
    # The three most recently added matches (trials 2, 3, 4), newest date first.
    expected = [str(made[4]), str(made[2]), str(made[3])]
    recent = [c.value for c in await services.events.autocomplete("rocket sohae")]
    monkeypatch.setattr(fts_module, "RECENT_SCAN", 2)  # too few checked: the index answers
    indexed = [c.value for c in await services.events.autocomplete("rocket sohae")]
    assert recent == indexed == expected


async def test_catalog_search_finds_a_facility_and_its_program_by_an_alias(services: Services) -> None:
    # "Tongchang-ri" (an alias of the Sohae station) names the station's own page, and as a program
    # filter its program; search finds the station first, then the program.
    assert (await services.catalog.program("Tongchang-ri")).slug == "space-launch"
    page = await services.catalog.page("Tongchang-ri")
    assert (page.kind, page.slug) == ("facility", "sohae")
    hits = await services.search.search_catalog("Tongchang-ri")
    assert [(h.kind, h.ref) for h in hits][:2] == [("facility", "sohae"), ("program", "space-launch")]


EVENT_FILTERS = [
    EventFilter(),
    EventFilter.of(program="icbm"),
    EventFilter.of(party="china"),
    EventFilter.of(track="six-party", kind="talks_session"),
    EventFilter(links=Links(programs=("icbm", "space-launch"), actors=("dprk",))),
    EventFilter(kinds=("nuclear_test", "missile_launch"), min_significance=4),
    EventFilter(since=dt.date(2008, 1, 1), until=dt.date(2012, 12, 31)),
    EventFilter(guild_id=OTHER),
    EventFilter(guild_id=THIRD, include_retracted=True),
]


@pytest.mark.parametrize("f", EVENT_FILTERS, ids=range(len(EVENT_FILTERS)))
async def test_filter_matches_in_memory_as_in_sql(services: Services, f: EventFilter) -> None:
    await services.curation.create(curator(HOME), event_input(title="Shared launch", date="2017-07"))
    await services.curation.create(curator(OTHER), event_input(title="Local launch", date="2010-03"))
    gone = await services.curation.create(curator(HOME), event_input(title="Mistaken launch", date="2011"))
    await services.curation.retract(curator(HOME), gone.id, "Reported in error")
    everything = await services.events.page(EventFilter(guild_id=OTHER, include_retracted=True), limit=100)
    # Every event of every scope and status (the OTHER guild's local one included), with its links.
    candidates = [await services.events.get(e.id, guild_id=OTHER) for e in everything.items]
    in_sql = [e.id for e in (await services.events.page(f, limit=100)).items]
    in_memory = [e.id for e in candidates if f.matches(EventFacts.of(e))]
    assert in_sql == in_memory
    assert 0 < len(in_sql) < len(candidates)


# --- one lifecycle: every event write has its audit row ----------------------------------------

SAMPLE = FIXTURES / "corpus" / "sample.yaml"


async def audit_rows(services: Services) -> list[models.AuditLog]:
    async with services.db.sessionmaker() as s:
        return list((await s.scalars(select(models.AuditLog).order_by(models.AuditLog.id))).all())


async def deliveries(services: Services) -> list[models.Delivery]:
    async with services.db.sessionmaker() as s:
        return list((await s.scalars(select(models.Delivery).order_by(models.Delivery.id))).all())


async def test_seed_writes_an_audit_row_per_event(services: Services) -> None:
    rows = await audit_rows(services)
    async with services.db.sessionmaker() as s:
        events = {str(e.id): e for e in (await s.scalars(select(models.Event))).all()}
    assert sorted(a.record_id or "" for a in rows) == sorted(events)
    for a in rows:
        assert (a.action, a.record_type, a.guild_id, a.user_id) == ("event.create", "event", None, None)
        assert a.details["via"] == "seed" and a.details["file"] == "sample.yaml"
        assert a.details["title"] == events[a.record_id or ""].title and a.details["revision"] == 1


async def test_seed_update_edits_posted_alerts_and_reseed_writes_nothing(
    services: Services, tmp_path: Path
) -> None:
    unha = await posted_alert(services, "seed:unha-3-2012-12")
    before = await audit_rows(services)
    unchanged = await load(services.db.sessionmaker, read_corpus(files=[SAMPLE]))
    assert unchanged.unchanged["events"] == 3 and unchanged.alerts == 0
    assert len(await audit_rows(services)) == len(before)
    assert len(await deliveries(services)) == 1

    changed = tmp_path / "sample.yaml"
    changed.write_text(
        SAMPLE.read_text("utf-8").replace("places a satellite in orbit", "puts a satellite in orbit"), "utf-8"
    )
    report = await load(services.db.sessionmaker, read_corpus(files=[changed]))
    assert report.updated["events"] == 1 and report.unchanged["events"] == 2 and report.alerts == 1
    [post, edit] = await deliveries(services)
    assert post.state == "sent"
    assert (edit.event_id, edit.action, edit.state, edit.revision, edit.channel_id) == (
        unha.id,
        "edit",
        "pending",
        2,
        555,
    )
    [row] = (await audit_rows(services))[len(before) :]
    assert (row.action, row.record_id, row.guild_id, row.user_id) == ("event.edit", str(unha.id), None, None)
    assert row.details == {
        "title": "Unha-3 puts a satellite in orbit from Sohae",
        "revision": 2,
        "changes": {
            "title": [
                "Unha-3 places a satellite in orbit from Sohae",
                "Unha-3 puts a satellite in orbit from Sohae",
            ]
        },
        "via": "seed",
        "file": "sample.yaml",
    }
    again = await load(services.db.sessionmaker, read_corpus(files=[changed]))
    assert again.unchanged["events"] == 3 and again.alerts == 0
    assert len(await audit_rows(services)) == len(before) + 1
    assert len(await deliveries(services)) == 2


async def test_curation_writes_an_audit_row_per_write(services: Services) -> None:
    before = len(await audit_rows(services))
    created = await services.curation.create(curator(HOME), event_input())
    await services.curation.edit(curator(HOME), created.id, event_input(title="Test launch (revised)"))
    await services.curation.edit(curator(HOME), created.id, event_input(title="Test launch (revised)"))
    await services.curation.retract(curator(HOME), created.id, "Duplicate report")
    rows = (await audit_rows(services))[before:]
    assert [(a.action, a.details["revision"]) for a in rows] == [
        ("event.create", 1),
        ("event.edit", 2),
        ("event.retract", 3),
    ]
    assert all(
        (a.record_id, a.guild_id, a.user_id, a.details["via"]) == (str(created.id), HOME, 42, "curate")
        for a in rows
    )
    assert rows[2].details["reason"] == "Duplicate report"
