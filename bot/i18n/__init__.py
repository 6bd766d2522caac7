"""The reader's language: locales, message catalogs, dates and times, translated record fields.

No discord import: services, renderers, the web surface and the cogs all use it.

- ``LOCALES`` are the languages the bot speaks; ``negotiate`` maps any Discord locale (or ``None``)
  to one of them, English when nothing fits.
- ``gettext`` / ``tr`` translate an English message through the gettext catalogs in
  ``bot/i18n/locale/<lang>/LC_MESSAGES/messages.po`` (read with Babel, shipped in the wheel);
  a message with no translation stays English. ``N_`` marks a message for the catalog without
  translating it (module-level constants, translated where they are shown).
- ``format_date`` / ``format_datetime`` write dates the reader's way and times in an IANA zone.
- ``local`` picks a translated field of a record's ``i18n`` mapping, English when it has none.
"""

from __future__ import annotations

from bot.i18n.catalogs import N_, catalog, catalog_digest, gettext, ngettext, pgettext, tr
from bot.i18n.dates import format_date, format_datetime, weekday_name, zone
from bot.i18n.locales import DEFAULT, LOCALES, negotiate
from bot.i18n.records import local

__all__ = [
    "DEFAULT",
    "LOCALES",
    "N_",
    "catalog",
    "catalog_digest",
    "format_date",
    "format_datetime",
    "gettext",
    "local",
    "negotiate",
    "ngettext",
    "pgettext",
    "tr",
    "weekday_name",
    "zone",
]
