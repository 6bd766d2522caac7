"""Dates written the reader's way and times in the server's IANA zone (Babel's CLDR data)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from babel.dates import format_skeleton, get_day_names

from bot.i18n.catalogs import N_, gettext
from bot.i18n.locales import BABEL, DEFAULT, LOCALES, negotiate
from bot.services import dates as plain

UNKNOWN = N_("date unknown")  # the English text of bot.services.dates.format_date(None)
_SKELETON = {"day": "yMMMd", "month": "yMMM", "year": "y"}


def _code(locale: str | None) -> str:
    return locale if locale in LOCALES else negotiate(locale)


def format_date(value: dt.date | None, precision: str = "day", locale: str | None = DEFAULT) -> str:
    """``3 Sep 2017`` / ``2017년 9월 3일`` / ``2017年9月3日``, as precisely as the date is known."""
    code = _code(locale)
    if value is None:
        return gettext(code, UNKNOWN)
    if code == DEFAULT:
        return plain.format_date(value, precision)
    return format_skeleton(_SKELETON.get(precision, "yMMMd"), value, locale=BABEL[code])


def zone(name: str | None) -> dt.tzinfo:
    """The IANA zone ``name`` (UTC when empty or unknown: a stored setting never breaks a reply)."""
    if not name:
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def format_datetime(value: dt.datetime, locale: str | None = DEFAULT, timezone: str | None = "UTC") -> str:
    """A moment in ``timezone``: ``3 Sep 2017 12:29 KST`` / ``2017年9月3日 12:29 KST``.

    A naive ``value`` is taken as UTC (the database's convention).
    """
    code = _code(locale)
    moment = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone(timezone))
    label = moment.tzname() or "UTC"
    if label.startswith(("+", "-")):
        label = f"UTC{label}"
    if code == DEFAULT:
        return f"{plain.format_date(moment.date())} {moment:%H:%M} {label}"
    day = format_skeleton("yMMMd", moment, locale=BABEL[code])
    return f"{day} {moment:%H:%M} {label}"


def weekday_name(index: int, locale: str | None = DEFAULT) -> str:
    """The name of weekday ``index`` (0 = Monday): ``Monday`` / ``월요일`` / ``月曜日`` / ``星期一``."""
    return str(get_day_names("wide", locale=BABEL[_code(locale)])[index])
