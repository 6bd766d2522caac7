"""All services, built once from a sessionmaker and the settings that shape them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.clock import SYSTEM_CLOCK, Clock
from bot.db import Sessionmaker, dialect_of
from bot.services.access import Policy
from bot.services.catalog import CatalogService
from bot.services.charts import ChartService
from bot.services.curation import CurationService
from bot.services.deliveries import DeliveryService
from bot.services.events import EventService
from bot.services.follow import FollowService
from bot.services.guild_settings import GuildSettingsService
from bot.services.importing.gate import ImportGate, ImportLimits
from bot.services.review import ReviewService
from bot.services.search import SearchService
from bot.services.subscriptions import SubscriptionService
from bot.services.watch import WatchService


@dataclass
class Services:
    sessionmaker: Sessionmaker
    policy: Policy
    catalog: CatalogService
    events: EventService
    search: SearchService
    curation: CurationService
    subscriptions: SubscriptionService
    guild_settings: GuildSettingsService
    watch: WatchService
    charts: ChartService
    review: ReviewService
    follow: FollowService
    #: Resolved once here and handed to the services whose SQL differs by dialect.
    dialect: str
    # Called after a write enqueued deliveries (the dispatcher registers here to wake at once).
    enqueue_listeners: list[Callable[[], None]] = field(default_factory=list)
    #: One import per guild at a time, a cooldown between two, and the alert cap of an import.
    imports: ImportGate = field(default_factory=ImportGate)
    #: What time it is for schedules (digests); tests pass a clock they move.
    clock: Clock = SYSTEM_CLOCK
    #: What became of a channel's alerts (``/alerts why``, ``/alerts log``).
    deliveries: DeliveryService = field(init=False)

    def __post_init__(self) -> None:
        self.deliveries = DeliveryService(self.sessionmaker, self.policy)

    def add_enqueue_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Register ``callback``; returns the function that removes it again."""
        self.enqueue_listeners.append(callback)
        return lambda: self.enqueue_listeners.remove(callback) if callback in self.enqueue_listeners else None

    def notify_enqueued(self) -> None:
        for callback in list(self.enqueue_listeners):
            callback()

    @classmethod
    def build(
        cls,
        sessionmaker: Sessionmaker,
        policy: Policy,
        *,
        on_enqueue: Callable[[], None] | None = None,
        import_limits: ImportLimits | None = None,
        watch_interval: float = 900.0,
        watch_allow_private: bool = False,
        watch_allow_hosts: Sequence[str] = (),
        clock: Clock = SYSTEM_CLOCK,
    ) -> Services:
        dialect = dialect_of(sessionmaker)
        catalog = CatalogService(sessionmaker)
        listeners: list[Callable[[], None]] = [on_enqueue] if on_enqueue is not None else []

        def enqueued() -> None:
            for callback in list(listeners):
                callback()

        return cls(
            sessionmaker=sessionmaker,
            policy=policy,
            catalog=catalog,
            events=EventService(sessionmaker, dialect=dialect),
            search=SearchService(sessionmaker, catalog, dialect=dialect),
            curation=CurationService(sessionmaker, policy, on_enqueue=enqueued),
            subscriptions=SubscriptionService(
                sessionmaker, catalog, policy, on_enqueue=enqueued, clock=clock
            ),
            guild_settings=GuildSettingsService(sessionmaker, policy, clock=clock),
            watch=WatchService(
                sessionmaker,
                policy,
                catalog,
                interval=watch_interval,
                allow_private=watch_allow_private,
                allow_hosts=watch_allow_hosts,
                on_enqueue=enqueued,
            ),
            charts=ChartService(sessionmaker),
            review=ReviewService(sessionmaker, policy, catalog, on_enqueue=enqueued),
            follow=FollowService(sessionmaker, policy),
            dialect=dialect,
            enqueue_listeners=listeners,
            imports=ImportGate(import_limits),
            clock=clock,
        )
