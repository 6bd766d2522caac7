"""Systems and facilities: records of their own, and every launch and test linked to what it fired."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from bot.services.container import Services
from bot.services.dates import parse_date
from bot.services.filters import EventFilter
from bot.services.seed import read_corpus
from bot.services.views import PartView

SECTIONS = read_corpus().sections
#: Kinds that launch or test something (validation.py knows no other test kinds).
LAUNCH_AND_TEST = {"missile_launch", "satellite_launch", "nuclear_test"}
NUCLEAR_TESTS = {"2006-10-09", "2009-05-25", "2013-02-12", "2016-01-06", "2016-09-09", "2017-09-03"}


def parts(section: str) -> list[dict[str, object]]:
    return [x for p in SECTIONS["programs"] for x in p.get(section, [])]


def test_every_launch_and_test_links_a_system() -> None:
    launches = [e for e in SECTIONS["events"] if e["kind"] in LAUNCH_AND_TEST]
    assert len(launches) >= 200
    assert [e["id"] for e in launches if not e.get("systems")] == []


def test_every_system_and_facility_an_event_names_exists() -> None:
    systems = {str(x["slug"]) for x in parts("systems")}
    facilities = {str(x["slug"]) for x in parts("facilities")}
    missing = [
        f"{e['id']}: {what} {slug}"
        for e in SECTIONS["events"]
        for what, known in (("systems", systems), ("facilities", facilities))
        for slug in e.get(what, [])
        if slug not in known
    ]
    assert missing == []


def test_systems_and_facilities_are_whole_records() -> None:
    records = parts("systems") + parts("facilities")
    slugs = Counter(str(x["slug"]) for x in records)
    assert [s for s, n in slugs.items() if n > 1] == []
    assert [x["slug"] for x in records if not (x.get("summary") and x.get("status"))] == []
    assert len(parts("systems")) >= 60 and len(parts("facilities")) >= 10
    wanted = {"haeil", "hwasal-1", "hwasal-2", "kn-18", "mrl-240mm", "padasuri-6", "unidentified-srbm"}
    assert wanted <= set(slugs)
    assert {"kangson", "punggye-ri", "sohae", "yongbyon"} <= set(slugs)


def test_nuclear_tests_link_the_test_site_and_satellite_launches_a_launch_site() -> None:
    events = SECTIONS["events"]
    tests = {e["date"]: e for e in events if e["kind"] == "nuclear_test"}
    assert set(tests) == NUCLEAR_TESTS
    assert all("punggye-ri" in e.get("facilities", []) for e in tests.values())
    assert all(e.get("milestone") for e in tests.values())
    satellites = [e for e in events if e["kind"] == "satellite_launch"]
    assert [e["id"] for e in satellites if not {"sohae", "tonghae"} & set(e.get("facilities", []))] == []


async def test_a_site_has_its_own_record_and_events(corpus: Services) -> None:
    site = await corpus.catalog.page("풍계리")
    assert isinstance(site, PartView) and site.slug == "punggye-ri"
    assert site.program.slug == "nuclear-weapons" and site.status_since is not None
    own = await corpus.events.page(EventFilter.of(facility="punggye-ri"), limit=50)
    titles = [e.title for e in own.items]
    assert any("blows up tunnels" in t for t in titles)  # the May 2018 demolition
    assert any("Tunnel No. 3" in t for t in titles)  # its restoration from 2022
    assert sum(e.kind == "nuclear_test" for e in own.items) == 6
    assert dt.date(2018, 5, 24) in [d.on for d in site.key_dates]


async def test_a_system_resolves_by_code_and_spelling_and_has_its_launches(corpus: Services) -> None:
    for typed in ("Hwasong-17", "Hwasong17", "hwasong 17", "KN-28", "화성-17형"):
        found = await corpus.catalog.page(typed)
        assert (found.kind, found.slug) == ("system", "hwasong-17"), typed
    kn08 = await corpus.catalog.page("Hwasong-13")
    assert (kn08.kind, kn08.slug) == ("system", "kn-08")
    assert (await corpus.catalog.page("ICBM")).slug == "icbm"
    launches = await corpus.events.page(EventFilter.of(system="hwasong-17", kind="missile_launch"), limit=50)
    assert "2022-11-18" in [e.occurred_on.isoformat() for e in launches.items]


def test_haeil_and_hwasal_tests_are_on_record() -> None:
    by_system: dict[str, list[str]] = {}
    for e in SECTIONS["events"]:
        for s in e.get("systems", []):
            by_system.setdefault(s, []).append(e["date"])
    assert len(by_system["haeil"]) >= 3 and len(by_system["hwasal-2"]) >= 2 and by_system["hwasal-1"]
    assert min(parse_date(d)[0] for d in by_system["hwasal-1"]) == dt.date(2021, 9, 11)
