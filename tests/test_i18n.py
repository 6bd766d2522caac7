"""The language framework: locale choice, catalogs (complete in every language), dates, record fields."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir

from bot import i18n
from bot.config import Settings
from bot.discord.client import EXTENSIONS, PeninsulaBot
from bot.discord.translator import CatalogTranslator
from bot.i18n import LOCALES, format_date, format_datetime, gettext, local, negotiate, ngettext, tr
from bot.services.access import Policy
from bot.services.container import Services
from testing.fake_discord import check_command_definitions
from tests.conftest import Database

REPO = Path(__file__).resolve().parents[1]
# gettext(locale, message), tr(locale, message, **values), ngettext(locale, one, many, n), N_(message)
KEYWORDS = {"gettext": (2,), "tr": (2,), "ngettext": (2, 3), "pgettext": ((2, "c"), 3), "N_": None}
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def used_messages() -> dict[str, str]:
    """Every message literal the code passes to the catalog functions, with where it is."""
    found: dict[str, str] = {}
    for top in ("bot", "cogs"):
        for filename, lineno, message, _comments, context in extract_from_dir(
            REPO / top, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=()
        ):
            text = message[0] if isinstance(message, tuple) else message  # a plural: its singular
            if text and context:
                text = f"{context}\x04{text}"  # a pgettext message: looked up with its context
            if text:
                found.setdefault(text, f"{top}/{filename}:{lineno}")
    return found


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ko", "ko"),
        ("ja", "ja"),
        ("zh-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("zh-TW", "en"),  # Traditional script and Taiwan's usage: not the zh-CN catalog
        ("en-US", "en"),
        ("en-GB", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_negotiate_maps_discord_locales(value: str | None, expected: str) -> None:
    assert negotiate(value) == expected


def test_dates_are_written_the_readers_way() -> None:
    day = dt.date(2017, 9, 3)
    assert [format_date(day, "day", loc) for loc in LOCALES] == [
        "3 Sep 2017",
        "2017년 9월 3일",
        "2017年9月3日",
        "2017年9月3日",
    ]
    assert format_date(day, "month", "ko") == "2017년 9월"
    assert format_date(day, "year", "ja") == "2017年"
    assert format_date(day, "month", "en") == "Sep 2017"
    assert format_date(None, "day", "ja") == gettext("ja", "date unknown") != "date unknown"


def test_times_are_shown_in_the_given_zone() -> None:
    moment = dt.datetime(2017, 9, 3, 3, 29, tzinfo=dt.UTC)
    assert format_datetime(moment, "en", "Asia/Seoul") == "3 Sep 2017 12:29 KST"
    assert format_datetime(moment, "en", "UTC") == "3 Sep 2017 03:29 UTC"
    assert format_datetime(moment, "ko", "America/New_York") == "2017년 9월 2일 23:29 EDT"
    assert format_datetime(moment.replace(tzinfo=None), "zh-CN", "Nowhere/City").endswith("03:29 UTC")


def test_local_falls_back_per_field() -> None:
    record = {"ko": {"name": "화성-17형", "summary": ""}, "ja": {"name": "火星17型"}}
    assert local(record, "ko", "name", "Hwasong-17") == "화성-17형"
    assert local(record, "ko", "summary", "An ICBM.") == "An ICBM."  # empty: English, whole
    assert local(record, "zh-CN", "name", "Hwasong-17") == "Hwasong-17"
    assert local(record, "en", "name", "Hwasong-17") == "Hwasong-17"
    assert local({}, "ja", "aliases", ["KN-28"]) == ["KN-28"]


def test_untranslated_message_stays_english() -> None:
    assert gettext("ko", "a message no catalog has") == "a message no catalog has"
    assert tr("ja", "Page {page}/{pages}", page=2, pages=5) == "2/5ページ"


def test_catalogs_translate_every_message_the_code_uses() -> None:
    used = used_messages()
    assert used, "no message found: the extraction keywords no longer match the code"
    for locale in LOCALES[1:]:
        catalog = i18n.catalog(locale)
        assert catalog.num_plurals == 1, locale
        missing = [
            f"{where}: {text!r}"
            for text, where in used.items()
            if not _translated(locale, text)
            or (_translated(locale, text) == text and not _same_in(locale, text))
        ]
        assert not missing, f"{locale}: no translation for\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    for locale in LOCALES[1:]:
        for entry in i18n.catalog(locale):
            if not entry.id or not isinstance(entry.id, str):
                continue
            assert sorted(PLACEHOLDER.findall(entry.id)) == sorted(PLACEHOLDER.findall(str(entry.string))), (
                f"{locale}: {entry.id!r} → {entry.string!r}"
            )


def _translated(locale: str, text: str) -> str:
    """A message's translation, a plural one's (``ngettext``) too."""
    found = gettext(locale, text)
    return found if found != text else ngettext(locale, text, text, 1)


def _same_in(locale: str, text: str) -> bool:
    """A msgstr equal to its msgid on purpose (a proper name, a code such as ``UTC``)."""
    context, _, message = text.rpartition("\x04")
    entry = i18n.catalog(locale).get(message, context or None)
    return entry is not None and entry.string == text


async def test_every_command_text_is_translated(sqlite_db: Database) -> None:
    settings = Settings(database_url=sqlite_db.url, _env_file=None)
    services = Services.build(sqlite_db.sessionmaker, Policy.of([]))
    bot = PeninsulaBot(settings=settings, services=services, sync_commands=False)
    try:
        for extension in EXTENSIONS:
            await bot.load_extension(extension)
        translator = CatalogTranslator()
        await bot.tree.set_translator(translator)
        payload = [await c.get_translated_payload(bot.tree, translator) for c in bot.tree.get_commands()]
        assert check_command_definitions(payload) == []
        missing: list[str] = []
        for where, node in _walk(payload):
            if "description" in node and node.get("description"):
                got = node.get("description_localizations") or {}
                missing += [f"{where} description in {loc}" for loc in LOCALES[1:] if loc not in got]
            if node.get("name_localizations"):
                assert where.count("choice"), f"{where}: command and option names stay English"
        choices = [node for where, node in _walk(payload) if "choice" in where]
        assert choices
        for choice in choices:
            same = all(gettext(loc, choice["name"]) == choice["name"] for loc in LOCALES[1:])
            if not same:  # a code such as "csv" is the same in every language
                got = choice.get("name_localizations") or {}
                missing += [f"choice {choice['name']!r} in {loc}" for loc in LOCALES[1:] if loc not in got]
        assert not missing, "\n".join(missing)
        timeline = next(p for p in payload if p["name"] == "timeline")
        assert timeline["description_localizations"]["ko"] == "날짜순 사건 목록 (최신순, 페이지별)"
    finally:
        await bot.close()


def _walk(nodes: list[dict[str, Any]], where: str = "") -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for node in nodes:
        here = f"{where}/{node['name']}"
        out.append((here, node))
        out += _walk(node.get("options") or [], here)
        out += [(f"{here} choice", c) for c in node.get("choices") or []]
    return out
