"""A server's language and time zone as replies read them: kept per process, a change seen at once."""

from __future__ import annotations

import datetime as dt

from bot.clock import Clock
from bot.services.access import Policy
from bot.services.guild_settings import PRESENTATION_TTL, GuildSettingsService
from tests.conftest import Database
from tests.services.conftest import HOME, curator


class Moved(Clock):
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.at


async def test_a_change_here_is_seen_at_once_and_another_process_within_the_ttl(database: Database) -> None:
    clock = Moved()
    here = GuildSettingsService(database.sessionmaker, Policy.of([HOME]), clock=clock)
    elsewhere = GuildSettingsService(database.sessionmaker, Policy.of([HOME]))  # another shard process

    assert (await here.presentation(HOME)).locale is None
    await here.set_locale(curator(HOME), "ko")
    shown = await here.presentation(HOME)
    assert (shown.locale, shown.timezone) == ("ko", "UTC")

    await elsewhere.set_timezone(curator(HOME), "Asia/Seoul")
    clock.at += PRESENTATION_TTL - dt.timedelta(seconds=1)
    assert (await here.presentation(HOME)).timezone == "UTC"  # kept: no read per reply
    clock.at += dt.timedelta(seconds=2)
    assert (await here.presentation(HOME)).timezone == "Asia/Seoul"


async def test_servers_are_kept_apart(database: Database) -> None:
    service = GuildSettingsService(database.sessionmaker, Policy.of([HOME]))
    await service.set_locale(curator(HOME), "ja")
    assert (await service.presentation(HOME)).locale == "ja"
    assert (await service.presentation(HOME + 1)).locale is None
    assert (await service.presentation(None)).locale is None
