"""All services, built once from a sessionmaker and the settings that shape them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.db import Sessionmaker
from bot.services.access import Policy
from bot.services.catalog import CatalogService
from bot.services.curation import CurationService
from bot.services.events import EventService
from bot.services.search import SearchService
from bot.services.subscriptions import SubscriptionService


@dataclass
class Services:
    sessionmaker: Sessionmaker
    policy: Policy
    catalog: CatalogService
    events: EventService
    search: SearchService
    curation: CurationService
    subscriptions: SubscriptionService

    @classmethod
    def build(
        cls, sessionmaker: Sessionmaker, policy: Policy, *, on_enqueue: Callable[[], None] | None = None
    ) -> Services:
        catalog = CatalogService(sessionmaker)
        return cls(
            sessionmaker=sessionmaker,
            policy=policy,
            catalog=catalog,
            events=EventService(sessionmaker),
            search=SearchService(sessionmaker, catalog),
            curation=CurationService(sessionmaker, policy, on_enqueue=on_enqueue),
            subscriptions=SubscriptionService(sessionmaker, catalog, policy),
        )
