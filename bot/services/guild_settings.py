"""Per-guild settings: the curator role, the locale, the time zone and the review channel. Manage
Server to change."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.clock import SYSTEM_CLOCK, Clock
from bot.db import Sessionmaker
from bot.i18n import LOCALES as LANGUAGES
from bot.i18n import N_, negotiate
from bot.services.access import VIEW_CHANNEL, Caller, Policy
from bot.services.audit import audit_row
from bot.services.catalog import Choice, normalize
from bot.services.digests import follow_zone
from bot.services.errors import FieldProblem, ValidationFailed

MANAGE_GUILD = ("manage_guild", "Manage Server")
DEFAULT_LOCALE = "en-US"
DEFAULT_TIMEZONE = "UTC"
#: How long a process keeps a server's language and time zone before reading them again. A change
#: made through this process is seen at once; one made by another process (another shard) within
#: this many seconds.
PRESENTATION_TTL = dt.timedelta(seconds=30)
#: How many servers' presentations a process keeps.
PRESENTATION_CACHE = 10_000


#: What ``/settings locale`` offers: the bot's languages, and ``auto`` (the stored default, meaning
#: "not chosen": public replies and alerts then follow the server's Discord language).
AUTO = "auto"
LANGUAGE_LABELS: dict[str, str] = {
    "en": "English",
    "ko": "한국어 Korean",
    "ja": "日本語 Japanese",
    "zh-CN": "简体中文 Chinese (Simplified)",
    AUTO: "the server's Discord language",
}


@dataclass(frozen=True)
class Presentation:
    """How a server's public replies and alerts are written: its chosen language (``None``: not
    chosen, follow the server's Discord language) and its time zone."""

    locale: str | None
    timezone: str


@dataclass(frozen=True)
class GuildSettingsView:
    guild_id: int
    curator_role_id: int | None
    locale: str
    timezone: str
    #: Where new drafts the server's curators may review are posted (None: nowhere).
    review_channel_id: int | None = None


@cache
def timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _suggest(names: tuple[str, ...], labels: dict[str, str], text: str, limit: int = 25) -> list[Choice]:
    query = normalize(text)
    prefix = [
        n for n in names if normalize(n).startswith(query) or normalize(labels.get(n, "")).startswith(query)
    ]
    inner = [
        n
        for n in names
        if n not in prefix and (query in normalize(n) or query in normalize(labels.get(n, "")))
    ]
    return [Choice(f"{n} — {labels[n]}" if n in labels else n, n) for n in (prefix + inner)[:limit]]


#: Work done in a settings change's transaction: ``then(session, guild_id)``.
After = Callable[[AsyncSession, int], Awaitable[None]]


class GuildSettingsService:
    def __init__(self, sessionmaker: Sessionmaker, policy: Policy, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._sessionmaker = sessionmaker
        self._policy = policy
        self._clock = clock
        # guild id → (read at, presentation): every reply reads it, a change is rare.
        self._shown: OrderedDict[int, tuple[dt.datetime, Presentation]] = OrderedDict()

    async def require_curator(self, caller: Caller) -> None:
        """Raise PermissionDenied unless ``caller`` has Manage Server or the curator role."""
        async with self._sessionmaker() as session:
            await self._policy.require_curator(session, caller)

    async def _update(
        self, caller: Caller, action: str, *, then: After | None = None, **values: object
    ) -> GuildSettingsView:
        """Change the caller's guild's settings (Manage Server), audited; ``then`` runs in the same
        transaction."""
        self._policy.require(caller, *MANAGE_GUILD)
        if caller.guild_id is None:
            raise ValidationFailed([FieldProblem("server", N_("settings belong to a server"))])
        async with self._sessionmaker() as session, session.begin():
            row = await session.get(models.GuildSettings, caller.guild_id)
            if row is None:
                row = models.GuildSettings(
                    guild_id=caller.guild_id, locale=DEFAULT_LOCALE, timezone=DEFAULT_TIMEZONE
                )
                session.add(row)
            before = {k: getattr(row, k) for k in values}
            for key, value in values.items():
                setattr(row, key, value)
            details = {"before": before, "after": dict(values)}
            session.add(
                audit_row(f"settings.{action}", "guild_settings", caller.guild_id, details, caller=caller)
            )
            if then is not None:
                await then(session, caller.guild_id)
            view = GuildSettingsView(
                row.guild_id, row.curator_role_id, row.locale, row.timezone, row.review_channel_id
            )
        self._shown.pop(caller.guild_id, None)
        return view

    async def set_curator_role(self, caller: Caller, role_id: int | None) -> GuildSettingsView:
        """``None`` goes back to the default: members with a role named like ``CURATOR_ROLE``."""
        if role_id is not None and role_id == caller.guild_id:
            raise ValidationFailed([FieldProblem("role", N_("@everyone cannot be the curator role"))])
        return await self._update(caller, "curator_role", curator_role_id=role_id)

    async def set_review_channel(self, caller: Caller, channel_id: int | None) -> GuildSettingsView:
        """The channel new drafts are posted in for the server's curators (the caller must see
        it); ``None``: nowhere. Drafts already offered keep their posts."""
        if channel_id is not None:
            self._policy.require_in(caller, channel_id, *VIEW_CHANNEL)
        return await self._update(caller, "review_channel", review_channel_id=channel_id)

    async def set_locale(self, caller: Caller, locale: str) -> GuildSettingsView:
        """One of the bot's languages (en, ko, ja, zh-CN), or ``auto``/empty: not chosen."""
        wanted = locale.strip()
        if wanted.casefold() in ("", AUTO):
            return await self._update(caller, "locale", locale=DEFAULT_LOCALE)
        match = next((code for code in LANGUAGES if code.casefold() == wanted.casefold()), None)
        if match is None:
            known = ", ".join(LANGUAGES)
            raise ValidationFailed(
                [
                    FieldProblem(
                        "locale",
                        N_("“{value}” is not a language the bot speaks ({known} or auto)"),
                        params={"value": wanted[:40], "known": known},
                    )
                ]
            )
        return await self._update(caller, "locale", locale=match)

    async def presentation(self, guild_id: int | None) -> Presentation:
        """The server's chosen language and time zone (anyone may read them: they shape replies)."""
        if guild_id is None:
            return Presentation(None, DEFAULT_TIMEZONE)
        now = self._clock.now()
        if (kept := self._shown.get(guild_id)) is not None and now - kept[0] < PRESENTATION_TTL:
            return kept[1]
        async with self._sessionmaker() as session:
            row = await session.get(models.GuildSettings, guild_id)
        if row is None:
            shown = Presentation(None, DEFAULT_TIMEZONE)
        else:
            chosen = None if row.locale == DEFAULT_LOCALE else negotiate(row.locale)
            shown = Presentation(chosen, row.timezone or DEFAULT_TIMEZONE)
        self._shown[guild_id] = (now, shown)
        self._shown.move_to_end(guild_id)
        while len(self._shown) > PRESENTATION_CACHE:
            self._shown.popitem(last=False)
        return shown

    async def set_timezone(self, caller: Caller, timezone: str) -> GuildSettingsView:
        wanted = timezone.strip()
        match = next((name for name in timezones() if name.casefold() == wanted.casefold()), None)
        if match is None:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "timezone",
                        N_("“{value}” is not an IANA time zone (for example Asia/Seoul)"),
                        params={"value": wanted[:40]},
                    )
                ]
            )
        now = self._clock.now()

        async def reschedule(session: AsyncSession, guild_id: int) -> None:
            await follow_zone(session, guild_id, match, now)

        # The digests that follow the server's zone move to its next boundary in the new zone.
        return await self._update(caller, "timezone", then=reschedule, timezone=match)

    @staticmethod
    def locale_choices(text: str) -> list[Choice]:
        return _suggest(tuple(LANGUAGE_LABELS), LANGUAGE_LABELS, text)

    @staticmethod
    def timezone_choices(text: str) -> list[Choice]:
        return _suggest(timezones(), {}, text)
