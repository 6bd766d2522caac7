"""A record's translated fields: ``i18n = {"ko": {"name": …, "aliases": […], "summary": …}, …}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from bot.i18n.locales import DEFAULT, LOCALES, negotiate

T = TypeVar("T")


def local(i18n: Mapping[str, Any] | None, locale: str | None, field: str, default: T) -> T:
    """``i18n[locale][field]`` when it is there and not empty, else ``default`` (the English value).

    Each field falls back on its own and whole: a summary with no translation stands in English,
    never half translated.
    """
    code = locale if locale in LOCALES else negotiate(locale)
    if code == DEFAULT or not i18n:
        return default
    entry = i18n.get(code)
    if not isinstance(entry, Mapping):
        return default
    value = entry.get(field)
    if value is None or value in ("", [], ()):
        return default
    return value  # type: ignore[no-any-return]
