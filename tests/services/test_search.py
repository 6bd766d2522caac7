"""Search as a search engine, on real SQLite and PostgreSQL: every term, then any; codes, phrases,
catalog names and links; named records and title hits first, then significance and recency."""

from __future__ import annotations

from sqlalchemy import text

from bot import models
from bot.services.search import SearchService
from bot.services.views import EventView
from tests.conftest import Database
from tests.services.conftest import HOME, Services, curator
from tests.services.test_services import event_input


async def add(services: Services, title: str, **kw: object) -> int:
    return (await services.curation.create(curator(HOME), event_input(title=title, **kw))).id


def titles(events: list[EventView]) -> list[str]:
    return [e.title for e in events]


async def test_every_word_first_then_any_word_said_as_such(services: Services) -> None:
    both = await add(services, "Artillery drill near the border island", summary="Shells fell at sea.")
    one = await add(services, "Artillery drill inland", summary="No island involved.", significance=5)
    await add(services, "Border fence repaired", summary="Work crews only.")
    few = await services.search.rank_events("artillery island")
    # Two events hold both words: few, so they come first and the closest follow.
    assert few.mode == "any" and few.complete == 2 and {e.id for e in few.events[:2]} == {both, one}
    third = await add(services, "Island artillery battery moved", summary="Seen from the air.")
    every = await services.search.rank_events("artillery island")
    assert every.mode == "all" and {e.id for e in every.events} == {both, one, third}
    # No event holds all three words: the ones holding most come first, and the mode says so.
    closest = await services.search.rank_events("artillery island fence border")
    assert closest.mode == "any" and closest.complete == 0
    # Three of the four words, then two of them (the most significant first).
    assert [e.id for e in closest.events][:2] == [both, one]
    assert closest.total == 4
    # The web API narrows by every word and never falls back.
    _hits, total = await services.search.search_events("artillery island fence")
    assert total == 0


async def test_codes_match_however_they_are_written(services: Services) -> None:
    launch = await add(services, "Test launch of a Hwasong-15 from Sunan", summary="A flight.")
    for query in ("Hwasong-15", "Hwasong15", "hwasong 15", "HWASONG-15 Sunan"):
        found, total = await services.search.search_events(query)
        assert total == 1 and found[0].id == launch, query
    resolution = await add(services, "Resolution 2397 adopted", summary="Petroleum capped.", kind="sanctions")
    found, _total = await services.search.search_events("2397")
    assert [e.id for e in found] == [resolution]


async def test_catalog_aliases_expand_the_query(services: Services) -> None:
    # KN-08 is an alias of Hwasong-13 in the catalog: an event naming either is found by both.
    shown = await add(services, "Hwasong-13 shown at a parade", summary="Road-mobile.")
    for query in ("KN-08", "kn08", "Hwasong-13"):
        found, _total = await services.search.search_events(query)
        assert shown in [e.id for e in found], query
    # DPRK names North Korea: an event linked to it matches, though its text says neither.
    linked = await add(services, "Resolution 2094 adopted", summary="After the third test.", actors=["dprk"])
    found, total = await services.search.search_events("DPRK 2094")
    assert total == 1 and found[0].id == linked


async def test_quoted_phrases_stay_phrases(services: Services) -> None:
    phrase = await add(services, "Engine test at the coast", summary="A ground test.")
    await add(services, "Coast guard test of a new engine", summary="Not a ground test.")
    found, total = await services.search.search_events('"engine test"')
    assert total == 1 and found[0].id == phrase
    _found, loose = await services.search.search_events("engine test")
    assert loose == 2


async def test_named_records_and_title_hits_rank_first(services: Services) -> None:
    mention = await add(services, "Talks in Seoul", summary="Wang Yi sent no envoy.", significance=5)
    linked = await add(
        services, "Talks in Beijing", summary="Envoys met.", significance=1, actors=["wang-yi"]
    )
    found, _total = await services.search.search_events("Wang Yi talks")
    assert [e.id for e in found][:2] == [linked, mention]
    # Title hits before summary hits; then significance; then the newer of equals.
    in_summary = await add(services, "Envoy visit", summary="Talked about Hanoi.", significance=5)
    old = await add(services, "Hanoi meeting", summary="x", significance=3, date="2019-01-01")
    new = await add(services, "Hanoi dinner", summary="x", significance=3, date="2019-02-01")
    top = await add(services, "Hanoi summit", summary="x", significance=4, date="2018-01-01")
    found, _total = await services.search.search_events("hanoi")
    assert [e.id for e in found] == [top, new, old, in_summary]


async def test_named_systems_and_sites_are_catalog_hits_before_their_program(services: Services) -> None:
    hits = await services.search.search_catalog("KN-08")
    assert [(h.kind, h.title, h.ref) for h in hits][:2] == [
        ("system", "KN-08", "kn-08"),
        ("program", "Intercontinental ballistic missiles", "icbm"),
    ]
    sohae = await services.search.search_catalog("Tongchang-ri")
    assert ("facility", "Sohae Satellite Launching Station") in [(h.kind, h.title) for h in sohae]


async def test_an_event_linked_to_a_system_or_site_is_found_by_its_name(services: Services) -> None:
    # Neither text names the record: the link alone makes the event a match, by name or by alias.
    site = await add(services, "Pad rebuilt", summary="Imagery shows new concrete.", facilities=["sohae"])
    system = await add(services, "Night parade", summary="A road-mobile launcher.", systems=["kn-08"])
    await add(services, "Pad at a quarry", summary="Unrelated.")
    for query, wanted in (("Sohae", site), ("Tongchang-ri", site), ("KN-08", system), ("Hwasong-13", system)):
        found, _total = await services.search.search_events(query)
        assert wanted in [e.id for e in found], query
    found, total = await services.search.search_events("Sohae pad")
    assert total == 1 and found[0].id == site


async def test_postgres_plans_every_statement_for_its_values(postgres_db: Database) -> None:
    # A text query matches from a handful of events to half of them; a generic plan of a prepared
    # statement would walk the wrong index for one of the two. Every connection of the app's engine
    # plans for the actual values, with no statement spent on saying so.
    # Nor does it start parallel workers for its short statements.
    async with postgres_db.sessionmaker() as session:
        assert await session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
        assert await session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"


async def test_translations_are_searched_in_any_script(services: Services) -> None:
    """An event's Korean, Japanese and Chinese title and summary are in the index: a word of them
    is found even inside a run written without spaces, and an edit of the translations follows."""
    translated = await services.curation.create(
        curator(HOME),
        event_input(
            title="Sixth test, claimed thermonuclear",
            i18n={
                "zh-CN": {"title": "第六次核试验", "summary": "朝鲜称试爆了用于洲际弹道导弹的热核武器。"},
                "ja": {"title": "6回目の核実験", "summary": "ICBM用の水爆と主張した。"},
                "ko": {"title": "6차 핵실험", "summary": "ICBM용 수소탄이라고 주장했다."},
            },
        ),
    )
    for query in ("热核武器", "弹道导弹", "水爆と主張", "수소탄이라고", "핵실험"):
        found = await services.search.search(query, guild_id=HOME)
        assert translated.id in [e.id for e in found.events], query
    assert translated.id not in [
        e.id for e in (await services.search.search("热核潜艇", guild_id=HOME)).events
    ]
    # The search index follows the translations when they change (no English word changed).
    async with services.db.sessionmaker() as session, session.begin():
        row = await session.get(models.Event, translated.id)
        assert row is not None
        row.i18n = {"zh-CN": {"title": "第六次核试验", "summary": "规模最大的一次。"}}
    assert not (await services.search.search("热核武器", guild_id=HOME)).events
    assert [e.id for e in (await services.search.search("规模最大", guild_id=HOME)).events] == [translated.id]


async def test_queries_of_one_shape_share_a_statement_and_keep_their_own_answers(
    services: Services, database: Database
) -> None:
    """A statement is built once per shape of query (words, named systems, sites, parties...) and
    run for each query of that shape with its own words and ids: each answer is the one a statement
    built for that query alone gives, whatever ran before it."""
    ids = {
        "pad": await add(services, "Pad rebuilt at the coast", summary="New concrete.", facilities=["sohae"]),
        "parade": await add(services, "Night parade", summary="A road-mobile launcher.", systems=["kn-08"]),
        "drill": await add(services, "Artillery drill near the coast", summary="Shells at sea."),
        "quarry": await add(services, "Pad at a quarry", summary="Unrelated to any launcher."),
    }
    queries = [
        "pad",
        "drill",
        "coast pad",
        "pad coast",
        "drill coast",
        "Sohae",
        "KN-08",
        "Sohae pad",
        "KN-08 launcher",
        "launcher KN-08",
        "quarry launcher",
        "artillery zzzqqq",
        "pad zzzqqq",
    ]
    shared = services.search
    answers = {}
    for query in queries:
        hits = await shared.rank_events(query)
        answers[query] = ([e.id for e in hits.events], hits.total, hits.mode)
    # Fewer statements than queries (and fallbacks): at least four reused one.
    assert len(shared._statements) <= len(queries) - 4
    for query in queries:
        alone = SearchService(database.sessionmaker, services.catalog, dialect=database.dialect)
        hits = await alone.rank_events(query)
        assert answers[query] == ([e.id for e in hits.events], hits.total, hits.mode), query
    # And the answers are the ones each query asks for.
    assert answers["pad"][0][:2] and set(answers["pad"][0]) == {ids["pad"], ids["quarry"]}
    assert answers["drill"][0] == [ids["drill"]]
    assert answers["Sohae pad"][0][0] == ids["pad"]
    assert answers["launcher KN-08"][0][0] == answers["KN-08 launcher"][0][0] == ids["parade"]
    assert answers["coast pad"] == answers["pad coast"]
