"""Search over the whole seeded corpus, on SQLite and PostgreSQL: the questions of a Korea watcher."""

from __future__ import annotations

from bot.services.container import Services


async def titles(services: Services, query: str, limit: int = 6) -> list[str]:
    page = await services.search.search(query, limit=limit, links=False)
    return [e.title for e in page.events]


async def test_hanoi_puts_the_hanoi_summit_first(answers_services: Services) -> None:
    assert (await titles(answers_services, "Hanoi"))[0] == "Hanoi summit ends without agreement"


async def test_satellite_shows_the_malligyong_1_orbit_on_page_one(answers_services: Services) -> None:
    first = await titles(answers_services, "satellite")
    assert "Malligyong-1 becomes North Korea's first reconnaissance satellite in orbit" in first


async def test_a_resolution_is_found_by_its_council_and_number(answers_services: Services) -> None:
    first = await titles(answers_services, "UNSC 2397")
    assert first[0].startswith("UN Security Council Resolution 2397")


async def test_kim_jong_un_putin_finds_the_summits(answers_services: Services) -> None:
    found = await titles(answers_services, "Kim Jong Un Putin")
    for summit in (
        "First Putin-Kim summit in Vladivostok",
        "Putin and Kim meet at the Vostochny cosmodrome",
        "Putin and Kim sign the Comprehensive Strategic Partnership treaty",
    ):
        assert summit in found


async def test_hwasong_17_however_written(answers_services: Services) -> None:
    pages = [await titles(answers_services, q) for q in ("Hwasong17", "Hwasong-17", "hwasong 17")]
    assert pages[0] == pages[1] == pages[2]
    assert "Hwasong-17 completes its first confirmed successful flight" in pages[0]


async def test_korean_names_find_their_records(answers_services: Services) -> None:
    yongbyon = await answers_services.search.search("영변", links=False)
    assert ("facility", "Yongbyon Nuclear Scientific Research Center") in [
        (h.kind, h.title) for h in yongbyon.catalog
    ]
    assert all("Yongbyon" in e.title or "Yongbyon" in e.summary for e in yongbyon.events)
    hwasong = await answers_services.search.search("화성", links=False)
    assert any(h.kind == "system" and h.title.startswith("Hwasong") for h in hwasong.catalog)
    assert hwasong.events and all("Hwasong" in e.title + e.summary for e in hwasong.events[:3])


async def test_kn_08_finds_the_hwasong_13_record(answers_services: Services) -> None:
    page = await answers_services.search.search("KN-08", links=False)
    assert ("system", "KN-08") in [(h.kind, h.title) for h in page.catalog]
    assert any("KN-08" in e.title for e in page.events)
