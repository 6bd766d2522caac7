"""The HTTP surface on real SQLite and PostgreSQL: health, metrics, the Atom feed and the JSON API."""

from __future__ import annotations

import json
import re
from typing import Any

import feedparser
import pytest
from aiohttp.test_utils import TestClient, TestServer
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from prometheus_client import REGISTRY, CollectorRegistry
from sqlalchemy.ext.asyncio import create_async_engine
from yarl import URL

from bot import db as dbmod
from bot import metrics
from bot.i18n import tr
from bot.models import EVENT_KINDS
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.subscriptions import Filters
from bot.web import create_app, gateway_readiness, start_web, stop_web
from bot.web.app import OPENAPI_PATH
from bot.web.render import TAG
from tests.conftest import Database
from tests.web.conftest import HOME, LOCAL_TITLE, Site, curator, event_input

SCHEME = "tag:peninsula-brief,2026:"
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
KNOWN_KINDS = ", ".join(EVENT_KINDS)


async def get_json(site: Site, path: str, status: int = 200, **params: Any) -> Any:
    response = await site.client.get(path, params=params)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def all_events(site: Site, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query: dict[str, Any] = {**params, **({"cursor": cursor} if cursor else {})}
        page = await get_json(site, "/api/events", **query)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def parse_feed(site: Site, **params: Any) -> Any:
    response = await site.client.get("/feed.atom", params=params)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/atom+xml"
    parsed = feedparser.parse(await response.read())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


# Health and readiness -------------------------------------------------------------------------


async def test_health_and_readiness(site: Site) -> None:
    assert await get_json(site, "/healthz") == {"status": "ok"}
    # The web surface alone has no gateway: it says the database is all it checked.
    assert await get_json(site, "/readyz") == {"status": "ready", "mode": "web", "checks": {"database": "ok"}}


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////nonexistent-peninsula-dir/sub/db.sqlite",
        "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",
    ],
    ids=["sqlite-missing-dir", "postgres-closed-port"],
)
async def test_readiness_is_503_when_the_database_is_unreachable(url: str) -> None:
    # Not bot.db.create_engine: it would create the missing SQLite folder.
    engine = create_async_engine(url)
    services = Services.build(dbmod.make_sessionmaker(engine), Policy.of([HOME]))
    try:
        async with TestClient(TestServer(create_app(services, registry=CollectorRegistry()))) as client:
            response = await client.get("/readyz")
            assert response.status == 503
            body = await response.json()
            assert body["status"] == "unavailable"
            assert body["reason"].startswith("database unreachable")
            assert (await client.get("/healthz")).status == 200
            # Data endpoints say so in JSON instead of failing with a traceback.
            response = await client.get("/api/events")
            assert response.status == 503
            assert "database" in (await response.json())["error"]["message"]
    finally:
        await engine.dispose()


class FakeGateway:
    def __init__(self) -> None:
        self.ready = False
        self.closed = False

    def is_ready(self) -> bool:
        return self.ready

    def is_closed(self) -> bool:
        return self.closed


async def test_readiness_follows_the_gateway(database: Database) -> None:
    services = Services.build(database.sessionmaker, Policy.of([HOME]))
    gateway = FakeGateway()
    app = create_app(
        services, readiness=gateway_readiness(database.sessionmaker, gateway), registry=CollectorRegistry()
    )
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["reason"] == "gateway not connected"
        gateway.ready = True
        assert (await client.get("/readyz")).status == 200
        gateway.closed = True
        response = await client.get("/readyz")
        assert (await response.json()) == {
            "status": "unavailable",
            "reason": "gateway closed",
            "mode": "run",
            "checks": {"database": "ok", "gateway": "gateway closed"},
        }


# Metrics --------------------------------------------------------------------------------------


async def test_metrics_exposition(site: Site) -> None:
    m = metrics.for_registry(site.registry)
    m.commands.labels(command="brief", outcome="ok").inc()
    m.command_seconds.labels(command="brief").observe(0.2)
    m.deliveries.labels(outcome="sent").inc(3)
    await site.services.subscriptions.subscribe(curator(HOME).in_channel(10), 10, Filters(programs=["icbm"]))
    await site.services.curation.create(
        curator(HOME), event_input(title="Another ICBM launch", date="2018-01")
    )

    response = await site.client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert 'peninsula_commands_total{command="brief",outcome="ok"} 1.0' in text
    assert 'peninsula_command_seconds_bucket{command="brief",le="0.25"} 1.0' in text
    assert 'peninsula_deliveries_total{outcome="sent"} 3.0' in text
    assert "peninsula_outbox_depth 1.0" in text
    assert "peninsula_gateway_latency_seconds 0.0" in text


async def test_gateway_latency_is_read_on_scrape(database: Database) -> None:
    services = Services.build(database.sessionmaker, Policy.of([HOME]))
    app = create_app(services, registry=CollectorRegistry(), gateway_latency=lambda: 0.125)
    async with TestClient(TestServer(app)) as client:
        text = await (await client.get("/metrics")).text()
    assert "peninsula_gateway_latency_seconds 0.125" in text


def test_module_functions_record_on_the_process_registry() -> None:
    labels = {"command": "web-test", "outcome": "ok"}
    before = REGISTRY.get_sample_value("peninsula_commands_total", labels) or 0.0
    metrics.observe_command("web-test", "ok", 0.05)
    metrics.count_delivery("web-test")
    metrics.set_gateway_latency(float("nan"))  # ignored: no heartbeat yet
    metrics.set_gateway_latency(0.25)
    assert REGISTRY.get_sample_value("peninsula_commands_total", labels) == before + 1
    assert REGISTRY.get_sample_value("peninsula_deliveries_total", {"outcome": "web-test"}) == 1.0
    assert REGISTRY.get_sample_value("peninsula_gateway_latency_seconds") == 0.25


# Atom feed ------------------------------------------------------------------------------------


async def test_feed_is_valid_atom_newest_first_with_categories(site: Site) -> None:
    parsed = await parse_feed(site)
    ids = [e.id for e in parsed.entries]
    # Hwasong-15 (2017), Unha-3 (2012), six-party (2008), first test (2006).
    assert len(ids) == 4
    assert ids[0] == f"{SCHEME}event/{site.shared.id}"
    titles = [e.title for e in parsed.entries]
    assert titles[1:] == [
        "Unha-3 places a satellite in orbit from Sohae",
        "Six-party heads of delegation meeting ends without verification deal",
        "First nuclear test at Punggye-ri",
    ]
    top = parsed.entries[0]
    terms = {(t.scheme, t.term) for t in top.tags}
    assert terms == {
        (f"{SCHEME}kind", "missile_launch"),
        (f"{SCHEME}program", "icbm"),
        (f"{SCHEME}party", "dprk"),
    }
    assert top.summary.endswith("An ICBM flight test.")
    related = [link.href for link in top.links if link.rel == "related"]
    assert related == ["https://example.org/hwasong-15"]
    alternate = [link.href for link in top.links if link.rel == "alternate"]
    assert alternate and alternate[0].endswith(f"/api/events/{site.shared.id}")
    assert top.updated_parsed is not None
    six_party = parsed.entries[2]
    assert (f"{SCHEME}track", "six-party") in {(t.scheme, t.term) for t in six_party.tags}
    assert parsed.feed.updated_parsed == top.updated_parsed
    assert LOCAL_TITLE not in json.dumps(parsed)


async def test_feed_filters_by_slug_or_alias(site: Site) -> None:
    by_alias = await parse_feed(site, program="Hwasong-13", party="Pyongyang")
    assert [e.id for e in by_alias.entries] == [f"{SCHEME}event/{site.shared.id}"]
    assert "Intercontinental ballistic missiles" in by_alias.feed.title
    assert [e.title for e in (await parse_feed(site, kind="nuclear-test")).entries] == [
        "First nuclear test at Punggye-ri"
    ]
    assert [e.title for e in (await parse_feed(site, track="six-party")).entries] == [
        "Six-party heads of delegation meeting ends without verification deal"
    ]
    assert len((await parse_feed(site, min_significance=5)).entries) == 2
    assert len((await parse_feed(site, since="2008", until="2012")).entries) == 2
    assert [e.title for e in (await parse_feed(site, q="satellite orbit")).entries] == [
        "Unha-3 places a satellite in orbit from Sohae"
    ]
    # Feed ids differ per slice and stay the same across requests.
    assert by_alias.feed.id == (await parse_feed(site, party="dprk", program="icbm")).feed.id
    assert by_alias.feed.id != (await parse_feed(site)).feed.id


async def test_feed_conditional_get(site: Site) -> None:
    first = await site.client.get("/feed.atom", params={"program": "icbm"})
    assert first.status == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    same = await site.client.get("/feed.atom", params={"program": "icbm"}, headers={"If-None-Match": etag})
    assert same.status == 304
    assert same.headers["ETag"] == etag
    assert await same.read() == b""
    weak = await site.client.get(
        "/feed.atom", params={"program": "icbm"}, headers={"If-None-Match": f"W/{etag}"}
    )
    assert weak.status == 304
    dated = await site.client.get(
        "/feed.atom", params={"program": "icbm"}, headers={"If-Modified-Since": modified}
    )
    assert dated.status == 304
    other = await site.client.get(
        "/feed.atom", params={"program": "icbm"}, headers={"If-None-Match": '"nope"'}
    )
    assert other.status == 200

    # An edit changes the document, its tag and its date; the entry keeps its id.
    await site.services.curation.edit(
        curator(HOME), site.shared.id, event_input(title="Hwasong-15 test, corrected")
    )
    changed = await site.client.get(
        "/feed.atom",
        params={"program": "icbm"},
        headers={"If-None-Match": etag, "If-Modified-Since": modified},
    )
    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    parsed = feedparser.parse(await changed.read())
    assert parsed.entries[0].id == f"{SCHEME}event/{site.shared.id}"
    assert parsed.entries[0].title == "Hwasong-15 test, corrected"

    # A retraction removes the entry and is seen by a reader that only sends If-Modified-Since.
    newer = changed.headers["Last-Modified"]
    await site.services.curation.retract(curator(HOME), site.shared.id, "Duplicate entry")
    after = await site.client.get(
        "/feed.atom", params={"program": "icbm"}, headers={"If-Modified-Since": newer}
    )
    if after.status == 304:  # both changes fell within one second: compare by tag instead
        after = await site.client.get("/feed.atom", params={"program": "icbm"})
    assert after.status == 200
    assert feedparser.parse(await after.read()).entries == []


async def test_an_empty_feed_is_still_valid(site: Site) -> None:
    parsed = await parse_feed(site, since="2025")
    assert parsed.entries == []
    assert parsed.feed.updated_parsed is not None


# JSON API -------------------------------------------------------------------------------------


async def test_events_pages_cover_everything_once(site: Site) -> None:
    items = await all_events(site, limit=1)
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == 4
    assert ids[0] == site.shared.id
    assert site.local.id not in ids
    dates = [i["date"] for i in items]
    assert dates == sorted(dates, reverse=True)
    first = (await get_json(site, "/api/events"))["items"]
    assert [i["id"] for i in first] == ids
    top = first[0]
    assert top["programs"] == [{"slug": "icbm", "name": "Intercontinental ballistic missiles"}]
    assert top["sources"][0]["url"] == "https://example.org/hwasong-15"
    assert top["sources"][1]["url"] is None
    assert top["date"] == "2017-11-29" and top["precision"] == "day"


async def test_events_filters_and_search(site: Site) -> None:
    icbm = await get_json(site, "/api/events", program="ICBM", min_significance="5")
    assert [i["id"] for i in icbm["items"]] == [site.shared.id]
    assert [i["title"] for i in (await all_events(site, since="2008-12", until="2008-12"))] == [
        "Six-party heads of delegation meeting ends without verification deal"
    ]
    found = await all_events(site, q="launched", limit=1)
    assert [i["id"] for i in found] == [site.shared.id]
    # The text search pages with the same cursors and honours the other filters.
    dprk = await all_events(site, q="north korean", party="dprk", limit=1)
    assert [i["title"] for i in dprk] == ["Unha-3 places a satellite in orbit from Sohae"]
    assert await all_events(site, q="launched", kind="nuclear_test") == []


async def test_local_events_never_leak(site: Site) -> None:
    local = site.local.id
    assert await all_events(site, q="Sinpo shipyard") == []
    assert await all_events(site, q="secret local drill") == []
    assert local not in [i["id"] for i in await all_events(site, party="dprk")]
    body = await get_json(site, f"/api/events/{local}", 404)
    assert "message" in body["error"]
    feed = await site.client.get("/feed.atom", params={"q": "Sinpo"})
    text = await feed.text()
    assert LOCAL_TITLE not in text and f"event/{local}<" not in text
    assert LOCAL_TITLE not in await (await site.client.get("/feed.atom")).text()


async def test_one_event_and_not_found(site: Site) -> None:
    body = await get_json(site, f"/api/events/{site.shared.id}")
    assert body["title"] == site.shared.title
    assert body["revision"] == 1
    assert URL(body["url"]).path == f"/api/events/{site.shared.id}"
    await site.services.curation.retract(curator(HOME), site.shared.id, "Duplicate entry")
    await get_json(site, f"/api/events/{site.shared.id}", 404)
    await get_json(site, "/api/events/999999", 404)
    bad = await get_json(site, "/api/events/abc", 400)
    assert bad["error"]["parameter"] == "id"


async def test_catalog_endpoints(site: Site) -> None:
    programs = (await get_json(site, "/api/programs"))["items"]
    assert [p["slug"] for p in programs] == ["icbm", "space-launch"]
    assert programs[0]["status_since"] == "2017-07"
    assert programs[0]["systems"][0]["name"] == "KN-08"
    systems = (await get_json(site, "/api/systems"))["items"]
    assert [(s["slug"], s["program"]["slug"]) for s in systems] == [("kn-08", "icbm"), ("hwasong-15", "icbm")]
    assert systems[0]["status_since"] == "2012-04" and systems[0]["aliases"] == ["Hwasong-13"]
    assert systems[0]["key_dates"] == [{"date": "2012-04-15", "text": "First shown at a parade"}]
    assert "location" not in systems[0]
    [sohae] = (await get_json(site, "/api/facilities"))["items"]
    assert (sohae["slug"], sohae["location"], sohae["program"]["slug"]) == (
        "sohae",
        "North Pyongan Province",
        "space-launch",
    )
    linked = (await get_json(site, "/api/events", facility="Tongchang-ri"))["items"]
    assert [e["title"] for e in linked] == ["Unha-3 places a satellite in orbit from Sohae"]
    assert linked[0]["facilities"] == [{"slug": "sohae", "name": "Sohae Satellite Launching Station"}]
    assert linked[0]["systems"] == []
    assert (await get_json(site, "/api/events", system="Hwasong-13"))["items"] == []
    tracks = (await get_json(site, "/api/tracks"))["items"]
    assert tracks[0]["slug"] == "six-party" and len(tracks[0]["participants"]) == 4
    actors = (await get_json(site, "/api/actors"))["items"]
    assert {a["slug"] for a in actors} >= {"dprk", "wang-yi"}
    positions = (await get_json(site, "/api/positions", party="Beijing"))["items"]
    assert [(p["party"]["slug"], p["topic"]["slug"]) for p in positions] == [("china", "talks-format")]
    assert positions[0]["speaker"] == {"slug": "wang-yi", "name": "Wang Yi"}
    assert len((await get_json(site, "/api/positions"))["items"]) == 2
    assert (await get_json(site, "/api/positions", topic="Peace treaty"))["items"][0]["quote"] == (
        "before anything else"
    )


BAD_PARAMETERS = [
    ("/api/events", {"program": "nope"}, "program"),
    ("/api/events", {"party": "Atlantis"}, "party"),
    ("/api/events", {"track": "seven-party"}, "track"),
    ("/api/events", {"system": "Hwasong-99"}, "system"),
    ("/api/events", {"facility": "Atlantis"}, "facility"),
    ("/api/events", {"kind": "picnic"}, "kind"),
    ("/api/events", {"min_significance": "9"}, "min_significance"),
    ("/api/events", {"min_significance": "high"}, "min_significance"),
    ("/api/events", {"since": "2012-13"}, "since"),
    ("/api/events", {"until": "yesterday"}, "until"),
    ("/api/events", {"since": "2015", "until": "2012"}, "until"),
    ("/api/events", {"q": "x" * 201}, "q"),
    ("/api/events", {"limit": "0"}, "limit"),
    ("/api/events", {"limit": "101"}, "limit"),
    ("/api/events", {"cursor": "not-a-cursor"}, "cursor"),
    ("/feed.atom", {"program": "nope"}, "program"),
    ("/feed.atom", {"since": "1850"}, "since"),
    ("/api/positions", {"party": "Atlantis"}, "party"),
    ("/api/positions", {"topic": "weather"}, "topic"),
    ("/api/events", {"lang": "fr"}, "lang"),
    ("/feed.atom", {"lang": "zh-TW"}, "lang"),
    ("/api/events/1", {"lang": "klingon"}, "lang"),
    ("/charts/launches.png", {"lang": "de"}, "lang"),
]


async def test_lang_gives_the_human_readable_fields_in_that_language(site: Site) -> None:
    korean = {"title": "화성-15형, 고각 궤도로 발사", "summary": "ICBM 비행시험."}
    translated = await site.services.curation.create(
        curator(HOME),
        event_input(title="Hwasong-15 again", date="2017-11-30", i18n={"ko": korean}),
    )
    body = await get_json(site, f"/api/events/{translated.id}", lang="ko")
    assert (body["title"], body["summary"]) == (korean["title"], korean["summary"])
    assert body["date_label"] == "2017년 11월 30일" and body["date"] == "2017-11-30"
    english = await get_json(site, f"/api/events/{translated.id}")
    assert english["title"] == "Hwasong-15 again" and english["date_label"] == "30 Nov 2017"
    # No Japanese translation: the English title and summary whole, the date the Japanese way.
    japanese = await get_json(site, f"/api/events/{translated.id}", lang="ja")
    assert japanese["title"] == "Hwasong-15 again" and japanese["date_label"] == "2017年11月30日"
    listed = {e["id"]: e for e in (await get_json(site, "/api/events", lang="ko"))["items"]}
    assert listed[translated.id]["title"] == korean["title"]
    assert listed[site.shared.id]["title"] == site.shared.title
    feed = await parse_feed(site, lang="ko", kind="missile_launch")
    assert feed.feed.language == "ko" and feed.feed.subtitle.startswith("북한의 핵·미사일")
    assert feed.feed.title == "Peninsula Brief — 미사일 발사"
    entry = next(e for e in feed.entries if e.id.endswith(f"/{translated.id}"))
    assert entry.title == korean["title"] and entry.summary == f"2017년 11월 30일 — {korean['summary']}"
    assert "미사일 발사" in {t.get("label") for t in entry.tags}
    assert "lang=ko" in next(link.href for link in feed.feed.links if link.rel == "self")
    # Case and "_" do not matter; anything else is a 400 that names the languages.
    assert (await get_json(site, f"/api/events/{translated.id}", lang="KO"))["title"] == korean["title"]
    refused = await get_json(site, "/api/events", 400, lang="fr")
    assert refused["error"]["message"] == "“fr” is not a language the API speaks (en, ko, ja, zh-CN)"
    png = await site.client.get("/charts/launches.png", params={"lang": "ko"})
    plain = await site.client.get("/charts/launches.png")
    assert png.status == plain.status == 200
    assert png.headers["ETag"] != plain.headers["ETag"] and await png.read() != await plain.read()


@pytest.mark.parametrize(("path", "params", "parameter"), BAD_PARAMETERS)
async def test_bad_parameters_answer_400_naming_it(
    site: Site, path: str, params: dict[str, str], parameter: str
) -> None:
    body = await get_json(site, path, 400, **params)
    assert body["error"]["parameter"] == parameter
    assert body["error"]["message"]


@pytest.mark.parametrize(("path", "params", "parameter"), BAD_PARAMETERS)
async def test_a_refused_parameter_is_explained_in_each_language(
    site: Site, path: str, params: dict[str, str], parameter: str
) -> None:
    english = (await get_json(site, path, 400, **params))["error"]["message"]
    for locale in ("ko", "ja", "zh-CN"):
        body = await get_json(site, path, 400, **{"lang": locale, **params})
        message = body["error"]["message"]
        assert body["error"]["parameter"] == parameter
        if parameter == "lang":  # the language asked for is the one refused: English
            assert message == english
            continue
        assert CJK.search(message) and message != english, (locale, message)
        assert "{" not in message and "is not" not in message and "must be" not in message, message


async def test_errors_follow_lang_then_accept_language(site: Site) -> None:
    missing = await get_json(site, "/api/events/99999", 404, lang="ja")
    assert missing["error"]["message"] == "公開済みの出来事 #99999 はありません。"
    chart = await get_json(site, "/charts/picnics.png", 404, lang="zh-CN")
    assert chart["error"]["message"].startswith("没有“picnics”图表")
    date = await get_json(site, "/api/events", 400, since="2012-13", lang="ko")
    assert "“2012-13”" in date["error"]["message"] and CJK.search(date["error"]["message"])
    for header, expected in (
        ("ko-KR,ko;q=0.9,en;q=0.8", "ko"),
        ("fr-FR, ja;q=0.5", "ja"),
        ("en-US, ko;q=0.5", "en"),
        ("zh-TW", "en"),
        ("zh-CN;q=0.2, de", "zh-CN"),
    ):
        response = await site.client.get(
            "/api/events", params={"kind": "picnic"}, headers={"Accept-Language": header}
        )
        message = (await response.json())["error"]["message"]
        assert response.status == 400 and bool(CJK.search(message)) == (expected != "en"), (header, message)
        if expected != "en":
            assert message == tr(
                expected, "“{value}” is not one of {known}", value="picnic", known=KNOWN_KINDS
            )
    # lang wins over the header.
    response = await site.client.get(
        "/api/events", params={"kind": "picnic", "lang": "en"}, headers={"Accept-Language": "ko"}
    )
    assert (await response.json())["error"]["message"].startswith("“picnic” is not one of")


async def test_repeated_parameter_with_different_values_is_refused(site: Site) -> None:
    response = await site.client.get("/api/events?kind=summit&kind=statement")
    assert response.status == 400
    assert (await response.json())["error"]["parameter"] == "kind"


async def test_unknown_paths_and_methods_answer_json(site: Site) -> None:
    response = await site.client.get("/api/nothing")
    assert response.status == 404
    assert "message" in (await response.json())["error"]
    response = await site.client.post("/api/events")
    assert response.status == 405
    assert "GET" in response.headers["Allow"]


# OpenAPI conformance --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> OpenAPI:
    return OpenAPI.from_dict(json.loads(OPENAPI_PATH.read_text(encoding="utf-8")))


async def test_responses_conform_to_the_openapi_document(site: Site, spec: OpenAPI) -> None:
    cursor = (await get_json(site, "/api/events", limit="1"))["next_cursor"]
    requests: list[tuple[str, dict[str, str], int]] = [
        ("/metrics", {}, 200),
        ("/feed.atom", {"program": "icbm"}, 200),
        ("/healthz", {}, 200),
        ("/readyz", {}, 200),
        ("/api/events", {}, 200),
        ("/api/events", {"limit": "2", "cursor": cursor}, 200),
        ("/api/events", {"q": "launched", "program": "icbm"}, 200),
        (f"/api/events/{site.shared.id}", {}, 200),
        (f"/api/events/{site.local.id}", {}, 404),
        ("/api/events/abc", {}, 400),
        ("/api/programs", {}, 200),
        ("/api/systems", {}, 200),
        ("/api/facilities", {}, 200),
        ("/api/events", {"facility": "sohae", "system": "kn-08"}, 200),
        ("/feed.atom", {"facility": "Sohae"}, 200),
        ("/api/tracks", {}, 200),
        ("/api/actors", {}, 200),
        ("/api/positions", {}, 200),
        ("/api/openapi.json", {}, 200),
        ("/charts/launches.png", {}, 200),
        ("/charts/events.png", {"by": "program", "program": "icbm", "since": "2000"}, 200),
        ("/charts/rockets.png", {}, 404),
        ("/api/events", {"lang": "ko"}, 200),
        (f"/api/events/{site.shared.id}", {"lang": "zh-CN"}, 200),
        ("/feed.atom", {"lang": "ja"}, 200),
        ("/charts/launches.png", {"lang": "ko"}, 200),
        ("/charts/launches.png", {"by": "week"}, 400),
        *((path, params, 400) for path, params, _ in BAD_PARAMETERS),
    ]
    etag = (await site.client.get("/feed.atom")).headers["ETag"]
    chart_etag = (await site.client.get("/charts/launches.png")).headers["ETag"]
    conditional: list[tuple[str, dict[str, str], dict[str, str], int]] = [
        ("/feed.atom", {}, {"If-None-Match": etag}, 304),
        ("/charts/launches.png", {}, {"If-None-Match": chart_etag}, 304),
    ]
    for path, params, headers, status in [*((p, q, {}, s) for p, q, s in requests), *conditional]:
        response = await site.client.get(path, params=params, headers=headers)
        assert response.status == status, (path, params)
        body = await response.read()
        request = MockRequest("http://localhost", "get", path, args=params, headers=headers)
        spec.validate_response(
            request,
            MockResponse(
                body,
                status_code=response.status,
                content_type=response.headers.get("Content-Type", ""),
                headers=dict(response.headers),
            ),
        )


async def test_served_document_is_the_one_in_the_repository(site: Site) -> None:
    served = await get_json(site, "/api/openapi.json")
    assert served == json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    assert set(served["paths"]) >= {"/api/events", "/api/events/{id}", "/feed.atom", "/readyz"}


# Running it -----------------------------------------------------------------------------------


async def test_start_and_stop_on_a_real_port(database: Database) -> None:
    import aiohttp

    services = Services.build(database.sessionmaker, Policy.of([HOME]))
    runner = await start_web(create_app(services, registry=CollectorRegistry()), "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://{host}:{port}/healthz") as response:
            assert response.status == 200
    finally:
        await stop_web(runner)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"http://{host}:{port}/healthz")


def test_tag_prefix_is_stable() -> None:
    # Changing it would make every feed reader see every entry as new.
    assert TAG == SCHEME


async def test_an_unexpected_failure_is_a_json_500_without_traceback(database: Database) -> None:
    async def broken() -> str | None:
        raise RuntimeError("secret internals")

    services = Services.build(database.sessionmaker, Policy.of([HOME]))
    app = create_app(services, readiness=broken, registry=CollectorRegistry())
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/readyz")
        assert response.status == 500
        text = await response.text()
    assert json.loads(text) == {"error": {"message": "Internal error."}}
    assert "secret" not in text and "Traceback" not in text
