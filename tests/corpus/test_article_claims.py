"""Every program, talks format, party, position and claim of the seed article is answerable.

Each check goes through the services the commands use (catalog lookups, positions, event filters,
search), against the real corpus in data/.
"""

from __future__ import annotations

import datetime as dt

from bot.services.container import Services
from bot.services.filters import EventFilter


async def events(services: Services, **kw: object) -> list[object]:
    page = await services.events.page(EventFilter.of(**kw), limit=100)  # type: ignore[arg-type]
    return list(page.items)


async def test_us_strategic_patience_and_denuclearization_precondition(corpus: Services) -> None:
    us = await corpus.catalog.positions("Washington", "denuclearization-precondition")
    in_2015 = [p for p in us if p.as_of.year == 2015]
    assert in_2015 and "strategic patience" in in_2015[0].stance.casefold()
    _hits, total = await corpus.search.search_events("strategic patience")
    assert total >= 2


async def test_us_never_accepts_a_nuclear_north_korea(corpus: Services) -> None:
    status = await corpus.catalog.positions("united-states", "nuclear-status")
    assert any("never accept" in p.stance.casefold() and p.as_of.year == 2015 for p in status)


async def test_six_party_inactive_since_2008(corpus: Services) -> None:
    track = await corpus.catalog.track("six-party talks")
    assert track.status == "dormant" and track.status_since is not None and track.status_since.year == 2008
    assert {p.slug for p in track.participants} >= {
        "united-states",
        "dprk",
        "south-korea",
        "china",
        "japan",
        "russia",
    }


async def test_us_dprk_bilateral_dormant_since_2012(corpus: Services) -> None:
    track = await corpus.catalog.track("us-dprk")
    assert "2012" in track.summary
    in_2012 = await events(corpus, track="us-dprk", since=dt.date(2012, 1, 1), until=dt.date(2012, 12, 31))
    assert any("leap day" in e.title.casefold() or e.kind == "agreement" for e in in_2012)  # type: ignore[attr-defined]


async def test_pyongyang_wants_a_peace_treaty_before_anything_else(corpus: Services) -> None:
    dprk = await corpus.catalog.positions("Pyongyang", "peace treaty")
    assert any(p.quote and "before anything else" in p.quote for p in dprk)
    futile = await corpus.catalog.positions("dprk", "denuclearization-precondition")
    assert any(p.quote and "proved futile" in p.quote for p in futile)


async def test_china_called_for_talks_in_september_2015(corpus: Services) -> None:
    china = await corpus.catalog.positions("Beijing")
    sept = [p for p in china if (p.as_of.year, p.as_of.month) == (2015, 9)]
    assert sept and all(p.speaker is not None and p.speaker.slug == "wang-yi" for p in sept)
    assert any(p.quote and "permanent peace regime" in p.quote for p in sept)
    calls = await events(corpus, party="wang-yi", since=dt.date(2015, 9, 1), until=dt.date(2015, 9, 30))
    assert calls


async def test_gallucci_testimony_of_7_october_2015(corpus: Services) -> None:
    found = await events(corpus, party="robert-gallucci", kind="testimony")
    assert [e.occurred_on for e in found] == [dt.date(2015, 10, 7)]  # type: ignore[attr-defined]
    positions = await corpus.catalog.positions("Gallucci")
    assert any("bilateral" in p.stance.casefold() for p in positions)


async def test_japan_abductions_and_russia_leverage(corpus: Services) -> None:
    assert await corpus.catalog.positions("Tokyo", "abductions")
    russia = await corpus.catalog.positions("Moscow")
    assert any("leverage" in (p.stance + p.summary).casefold() for p in russia)


async def test_programs_of_the_article(corpus: Services) -> None:
    sohae = await corpus.catalog.program("Sohae")
    assert sohae.slug == "space-launch"
    _, expansion = await corpus.search.search_events("Sohae")
    assert expansion >= 3
    icbm = await corpus.catalog.program("KN-08")
    assert icbm.slug == (await corpus.catalog.program("Hwasong-13")).slug == "icbm"
    kn08 = next(s for s in icbm.systems if s.name.startswith("KN-08"))
    assert "never flight-tested" in (kn08.status + kn08.summary).casefold()
    assert await corpus.catalog.page("Hwasong-13") == kn08
    slbm = await corpus.catalog.program("SLBM")
    assert any("Sinpo" in f.name for f in slbm.facilities)
    assert await events(corpus, program="slbm", since=dt.date(2015, 1, 1), until=dt.date(2015, 12, 31))
    nuclear = await corpus.catalog.program("Punggye-ri")
    assert nuclear.slug == "nuclear-weapons"
    _, punggye = await corpus.search.search_events("Punggye-ri tunnel")
    assert punggye >= 1
    fissile = await corpus.catalog.program("Yongbyon")
    names = " ".join(f.name for f in fissile.facilities).casefold()
    assert "enrichment" in names and "radiochemical" in names


async def test_october_2015_parade_and_the_autumn_2015_signals(corpus: Services) -> None:
    parade = await events(
        corpus, kind="military_parade", since=dt.date(2015, 10, 1), until=dt.date(2015, 10, 31)
    )
    assert [e.occurred_on for e in parade] == [dt.date(2015, 10, 10)]  # type: ignore[attr-defined]
    satellite = await events(
        corpus, program="space-launch", since=dt.date(2015, 9, 1), until=dt.date(2015, 12, 31)
    )
    assert satellite
    tests = await events(
        corpus, program="nuclear-weapons", since=dt.date(2015, 1, 1), until=dt.date(2015, 12, 31)
    )
    assert tests


async def test_unsc_resolutions_and_tiered_approach(corpus: Services) -> None:
    unsc = await events(corpus, track="unsc", kind="sanctions")
    assert len(unsc) >= 9
    four = await corpus.catalog.track("four-party talks")
    assert "tier" in four.summary.casefold()
    _, tiered = await corpus.search.search_events("four-party talks")
    assert tiered >= 1


async def test_iran_comparison_is_recorded(corpus: Services) -> None:
    hits, total = await corpus.search.search_events("Iran nuclear")
    assert total >= 1 and any("JCPOA" in h.title for h in hits)


async def test_every_party_compares_on_each_core_topic(corpus: Services) -> None:
    for topic in ("denuclearization-precondition", "peace-treaty", "sanctions", "talks-format"):
        compared = await corpus.catalog.compare(topic)
        assert {"United States", "North Korea", "China", "South Korea", "Japan", "Russia"} <= set(compared), (
            topic
        )
