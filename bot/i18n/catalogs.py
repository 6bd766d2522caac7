"""Message catalogs: English msgids, one gettext ``.po`` file per language, read once with Babel."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.i18n.locales import BABEL, DEFAULT, LOCALES, negotiate

DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; translate it later where it is shown."""
    return message


@cache
def catalog(locale: str) -> Catalog:
    """The parsed catalog of one of ``LOCALES`` (English has an empty one: msgids are English)."""
    if locale not in LOCALES:
        raise KeyError(locale)
    if locale == DEFAULT:
        return Catalog(locale=BABEL[DEFAULT], domain=DOMAIN)
    with _path(locale).open("rb") as handle:
        return read_po(handle, locale=BABEL[locale], domain=DOMAIN)


def _path(locale: str) -> Traversable:
    return resources.files("bot.i18n") / "locale" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog_digest() -> str:
    """A digest of every catalog file: the command tree is synced again when a translation changes."""
    digest = hashlib.sha256()
    for locale in LOCALES:
        if locale != DEFAULT:
            digest.update(_path(locale).read_bytes())
    return digest.hexdigest()


@cache
def _table(locale: str) -> dict[str, str | tuple[str, ...]]:
    table: dict[str, str | tuple[str, ...]] = {}
    for entry in catalog(locale):
        if not entry.id or entry.fuzzy:
            continue
        key = entry.id if isinstance(entry.id, str) else entry.id[0]
        if entry.context:
            key = f"{entry.context}\x04{key}"  # gettext's own joining of msgctxt and msgid
        string = entry.string
        if isinstance(string, str):
            if string:
                table[key] = string
        elif string and all(string):
            table[key] = tuple(string)
    return table


def gettext(locale: str | None, message: str) -> str:
    """``message`` (English) in ``locale``'s language; English when it has no translation."""
    code = negotiate(locale) if locale not in LOCALES else locale
    if code == DEFAULT:
        return message
    found = _table(code).get(message)
    if isinstance(found, str):
        return found
    return message


def pgettext(locale: str | None, context: str, message: str) -> str:
    """``message`` in ``context`` (a ``msgctxt``): one English word meaning two things, such as a
    talks track's "Active" (under way) and a subscription's "Active" (switched on)."""
    key = f"{context}\x04{message}"
    found = gettext(locale, key)
    return message if found == key else found


def ngettext(locale: str | None, singular: str, plural: str, n: int) -> str:
    """The form of a message for ``n``: English has two; Korean, Japanese and Chinese one."""
    code = negotiate(locale) if locale not in LOCALES else locale
    if code != DEFAULT:
        found = _table(code).get(singular)
        if isinstance(found, tuple):
            return found[0]  # nplurals=1 in every catalog we ship (checked by tests/test_i18n.py)
        if isinstance(found, str):
            return found
    return singular if n == 1 else plural


def tr(locale: str | None, message: str, /, **values: object) -> str:
    """``gettext`` then ``str.format(**values)``: ``tr(loc, "Page {page}/{pages}", page=2, pages=5)``."""
    text = gettext(locale, message)
    return text.format(**values) if values else text
