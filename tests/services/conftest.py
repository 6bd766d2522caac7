"""Services wired to a real, migrated database holding the small sample corpus."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import models
from bot.services.access import Caller, Policy
from bot.services.catalog import CatalogService
from bot.services.curation import CurationService
from bot.services.events import EventService
from bot.services.search import SearchService
from bot.services.seed import load, read_corpus
from bot.services.subscriptions import Filters, SubscriptionService
from tests.conftest import Database

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HOME, OTHER, THIRD = 1001, 2002, 3003


@dataclass
class Services:
    db: Database
    catalog: CatalogService
    events: EventService
    search: SearchService
    curation: CurationService
    subscriptions: SubscriptionService


def curator(guild: int, user: int = 42) -> Caller:
    return Caller(user, guild, frozenset({"manage_guild", "manage_channels"}))


def member(guild: int, user: int = 43) -> Caller:
    return Caller(user, guild, frozenset())


@pytest.fixture
async def services(database: Database) -> Services:
    await load(database.sessionmaker, read_corpus(files=[FIXTURES / "corpus" / "sample.yaml"]))
    policy = Policy.of([HOME])
    catalog = CatalogService(database.sessionmaker, ttl=0)
    return Services(
        database,
        catalog,
        EventService(database.sessionmaker, dialect=database.dialect),
        SearchService(database.sessionmaker, catalog, dialect=database.dialect),
        CurationService(database.sessionmaker, policy),
        SubscriptionService(database.sessionmaker, catalog, policy),
    )


async def posted_alert(services: Services, external_id: str, channel: int = 555) -> models.Event:
    """A channel of HOME subscribed to everything, holding the alert the dispatcher posted (as it
    records one) for the event ``external_id``; returns the event."""
    await services.subscriptions.subscribe(curator(HOME).in_channel(channel), channel, Filters())
    async with services.db.sessionmaker() as s, s.begin():
        event = await s.scalar(select(models.Event).where(models.Event.external_id == external_id))
        sub = await s.scalar(select(models.Subscription).where(models.Subscription.channel_id == channel))
        assert event is not None and sub is not None
        s.add(
            models.Delivery(
                event_id=event.id,
                subscription_id=sub.id,
                guild_id=HOME,
                channel_id=channel,
                revision=1,
                action="post",
                state="sent",
                message_id=9001,
            )
        )
    return event
