"""Absolute links in the feed and the API come from PUBLIC_URL, never from the request's Host header."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import feedparser
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from bot.config import Settings, SettingsError, load_settings
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from bot.web import app_for, create_app
from tests.conftest import Database
from tests.services.conftest import FIXTURES
from tests.web.conftest import HOME, curator, event_input

PUBLIC = "https://brief.example.org/pb"
FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


@pytest.fixture
async def services(sqlite_db: Database) -> Services:
    await load(sqlite_db.sessionmaker, read_corpus(files=[FIXTURES / "corpus" / "sample.yaml"]))
    built = Services.build(sqlite_db.sessionmaker, Policy.of([HOME]))
    await built.curation.create(curator(HOME), event_input())
    return built


@asynccontextmanager
async def client_for(services: Services, **options: object) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(services, registry=CollectorRegistry(), **options)  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        yield client


async def links(client: TestClient, headers: dict[str, str]) -> tuple[list[str], bytes]:  # type: ignore[type-arg]
    """Every absolute link of the API's first page and of the feed, and the feed's body."""
    page = await (await client.get("/api/events", headers=headers)).json()
    feed = await (await client.get("/feed.atom", headers=headers)).read()
    parsed = feedparser.parse(feed)
    assert parsed.bozo == 0 and page["items"]
    found = [item["url"] for item in page["items"]]
    found += [link.href for link in parsed.feed.links]
    found += [link.href for e in parsed.entries for link in e.links if link.rel == "alternate"]
    return found, feed


async def test_a_forged_host_changes_nothing(services: Services) -> None:
    async with client_for(services, public_url=PUBLIC) as client:
        honest, honest_feed = await links(client, {})
        forged, forged_feed = await links(client, {**FORGED, "X-Forwarded-Proto": "http"})
    assert honest and all(url.startswith(f"{PUBLIC}/") for url in honest), honest
    assert f"{PUBLIC}/feed.atom" in honest and f"{PUBLIC}/api/events" in honest
    assert forged == honest
    assert forged_feed == honest_feed  # same bytes, so the same ETag for every cache
    assert b"evil.example" not in forged_feed


async def test_a_trusted_proxy_may_set_the_scheme_only(services: Services) -> None:
    async with client_for(services, public_url="http://brief.example.org", trust_proxy=True) as client:
        https, _ = await links(client, {**FORGED, "X-Forwarded-Proto": "https"})
        odd, _ = await links(client, {"X-Forwarded-Proto": "javascript"})
    assert all(url.startswith("https://brief.example.org/") for url in https), https
    assert all(url.startswith("http://brief.example.org/") for url in odd), odd


async def test_settings_give_the_web_surface_its_public_url_and_mode(services: Services) -> None:
    settings = Settings(web_host="10.1.2.3", web_port=9000, _env_file=None)
    assert settings.public_base() == "http://10.1.2.3:9000"
    app = app_for(Settings(public_url=f"{PUBLIC}/", _env_file=None), services)
    async with TestClient(TestServer(app)) as client:
        found, _ = await links(client, FORGED)
        ready = await (await client.get("/readyz")).json()
    assert all(url.startswith(f"{PUBLIC}/") for url in found), found
    assert ready == {"status": "ready", "mode": "web", "checks": {"database": "ok"}}


@pytest.mark.parametrize("value", ["ftp://brief.example.org", "brief.example.org", "https://x.org/?a=1"])
def test_a_bad_public_url_is_one_line_naming_it(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", value)
    with pytest.raises(SettingsError, match=r"^PUBLIC_URL: .*absolute http\(s\) URL"):
        load_settings(_env_file=None)
