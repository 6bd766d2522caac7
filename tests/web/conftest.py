"""The web surface served over a real socket, on both databases, with the sample corpus loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from bot.services.access import Caller, Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from bot.services.validation import EventInput, SourceInput
from bot.services.views import EventView
from bot.web import create_app
from tests.conftest import Database
from tests.services.conftest import FIXTURES

HOME, OTHER = 1001, 2002
LOCAL_TITLE = "Secret local drill near Sinpo shipyard"


def curator(guild: int, user: int = 42) -> Caller:
    return Caller(user, guild, frozenset({"manage_guild", "manage_channels"}))


def event_input(**kw: object) -> EventInput:
    base: dict[str, object] = {
        "title": "Hwasong-15 launched on a lofted trajectory",
        "summary": "An ICBM flight test.",
        "date": "2017-11-29",
        "kind": "missile_launch",
        "significance": 5,
        "programs": ["icbm"],
        "actors": ["dprk"],
        "sources": [
            SourceInput("Reuters", "North Korea fires ICBM", "2017-11-29", "https://example.org/hwasong-15"),
            SourceInput("KCNA", "Statement", "2017-11-29", None),
        ],
    }
    base.update(kw)
    return EventInput(**base)  # type: ignore[arg-type]


@dataclass
class Site:
    db: Database
    services: Services
    client: TestClient  # type: ignore[type-arg]
    registry: CollectorRegistry
    shared: EventView  # published by a home-guild curator: global
    local: EventView  # published by another guild's curator: never exposed


@pytest.fixture
async def site(database: Database) -> AsyncIterator[Site]:
    await load(database.sessionmaker, read_corpus(files=[FIXTURES / "corpus" / "sample.yaml"]))
    services = Services.build(database.sessionmaker, Policy.of([HOME]))
    shared = await services.curation.create(curator(HOME), event_input())
    local = await services.curation.create(
        curator(OTHER),
        event_input(title=LOCAL_TITLE, summary="Only this server should know.", date="2017-12-01"),
    )
    assert local.guild_id == OTHER and shared.guild_id is None
    registry = CollectorRegistry()
    app = create_app(services, registry=registry)
    async with TestClient(TestServer(app)) as client:
        yield Site(database, services, client, registry, shared, local)
