"""The corpus's translations (data/TRANSLATIONS.md): every catalog record has its name and summary in
Korean, Japanese and Simplified Chinese (and its status, where one is shown), every significant
event its title and summary; no translated text is an English sentence, and none drops a number."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from bot.i18n import local
from bot.services.container import Services
from bot.services.seed import read_corpus
from tests.corpus.test_names import LANGUAGES, records

SECTIONS = read_corpus().sections
#: Four Latin-script words in a row: an English phrase left in a translation. Designations
#: (KN-23, ICBM, ATACMS, 5MWe) are single words and pass.
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[\s,'’]+[A-Za-z]+){3,}")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
#: A number written with a CJK unit of ten thousand or a hundred million, as the press writes large
#: numbers (50만 톤, 1만 5,000km, 2500万ドル, 4억 달러, 1.5万公里).
CJK_UNITS = {"만": 1e4, "万": 1e4, "萬": 1e4, "억": 1e8, "億": 1e8, "亿": 1e8}
CJK_UNIT = re.compile(r"(?P<n>\d+(?:[.,]\d+)*)\s?(?P<unit>[만万萬억億亿])(?:\s?(?P<rest>\d+(?:,\d+)*))?")
#: An English number with the scale word after it (a range's first number takes the scale too).
ENGLISH_SCALES = {"million": 1e6, "billion": 1e9, "kilotons": 1e3, "kiloton": 1e3}
ENGLISH_SCALED = re.compile(
    r"(?P<n>\d+(?:[.,]\d+)*)(?:(?:-\d+(?:[.,]\d+)*)?\s(?P<scale>million|billion|kilotons?)\b)?", re.IGNORECASE
)
STATUS_SHOWN = ("programs:", "systems:", "facilities:")


def significant_events() -> list[dict[str, Any]]:
    return [e for e in SECTIONS["events"] if e["significance"] >= 4]


def numbers(text: str) -> set[str]:
    """The numbers written in ``text``, as digits: ``1,300`` and ``1300`` are the same, ``08`` is ``8``;
    a number written with a CJK unit also counts as its value (``50만``, ``50万`` are ``500000``)."""
    out = set()
    for match in NUMBER.findall(text):
        out.add(plain(match))
    for match in CJK_UNIT.finditer(text):
        value = float(plain(match["n"])) * CJK_UNITS[match["unit"]]
        if match["rest"] and float(plain(match["rest"])) < CJK_UNITS[match["unit"]]:
            value += float(plain(match["rest"]))
        out.add(as_digits(value))
    return out


def plain(match: str) -> str:
    plain = match.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", match) else match
    return plain.lstrip("0") or "0"


def as_digits(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def english_numbers(text: str) -> list[set[str]]:
    """Each number of an English text with the forms a translation may give it: ``25 million`` may be
    ``25`` or ``25000000`` (2,500만 / 2500万), ``10 kilotons`` ``10`` or ``10000`` (1万吨)."""
    out = []
    for match in ENGLISH_SCALED.finditer(text):
        forms = {plain(match["n"])}
        scale = ENGLISH_SCALES.get((match["scale"] or "").lower())
        if scale:
            forms.add(as_digits(float(plain(match["n"])) * scale))
        out.append(forms)
    return out


def dropped_numbers(english: str, text: str) -> list[str]:
    kept = numbers(text)
    return sorted(min(forms) for forms in english_numbers(english) if not forms & kept)


def translated_texts() -> Iterator[tuple[str, str, str, str]]:
    """(where, field, English, translation) for every translated text of the corpus."""
    for key, item in records():
        for lang in LANGUAGES:
            entry = item.get("i18n", {}).get(lang, {})
            for field in ("summary", "status"):
                if field in entry:
                    yield f"{key} {lang}", field, str(item.get(field, "")), entry[field]
    for event in SECTIONS["events"]:
        for lang, entry in (event.get("i18n") or {}).items():
            for field in ("title", "summary"):
                if field in entry:
                    yield f"event {event['id']} {lang}", field, event[field], entry[field]


def test_every_catalog_record_has_its_name_and_summary_in_three_languages() -> None:
    missing = [
        f"{key} ({lang}: {field})"
        for key, item in records()
        for lang in LANGUAGES
        for field in ("name", "summary")
        if item.get(field) and not item.get("i18n", {}).get(lang, {}).get(field, "").strip()
    ]
    assert not missing, missing


def test_every_shown_status_is_translated() -> None:
    # Programs, systems and facilities show a status line of free text; a track's status is one of
    # three words, translated with the interface.
    missing = [
        f"{key} ({lang})"
        for key, item in records()
        if key.startswith(STATUS_SHOWN) and item.get("status")
        for lang in LANGUAGES
        if not item.get("i18n", {}).get(lang, {}).get("status", "").strip()
    ]
    assert not missing, missing


def test_every_significant_event_has_its_title_and_summary_in_three_languages() -> None:
    events = significant_events()
    if not any(e.get("i18n") for e in SECTIONS["events"]):
        pytest.skip("no event translations in the corpus yet (data/events-*.yaml)")
    missing = [
        f"{e['id']} ({lang}: {field})"
        for e in events
        for lang in LANGUAGES
        for field in ("title", "summary")
        if not (e.get("i18n") or {}).get(lang, {}).get(field, "").strip()
    ]
    assert not missing, missing


def test_no_translation_holds_an_english_sentence() -> None:
    assert ENGLISH_RUN.search("북한은 announced a halt to testing")  # the check can fail
    assert not ENGLISH_RUN.search("KN-23 and ATACMS")  # three words: a list of names passes
    english = [
        f"{where} {field}: {found.group(0)}"
        for where, field, _, text in translated_texts()
        if (found := ENGLISH_RUN.search(text))
    ]
    assert not english, english


def test_translations_keep_every_number_of_the_english() -> None:
    found = numbers("about 1,300 km in 2017-2018, the 08 and 4.5-tonne")
    assert found == {"1300", "2017", "2018", "8", "4.5"}
    cjk = numbers("50만 톤, 1만 5,000km, 2500万ドル, 4억 달러, 1.5万公里")
    assert cjk >= {"500000", "15000", "25000000", "400000000"}
    assert dropped_numbers("$25 million and 500,000 tonnes", "2,500만 달러와 50만 톤") == []
    assert dropped_numbers("$25 million and 500,000 tonnes", "2,500만 달러와 5만 톤") == ["500000"]
    assert dropped_numbers("50-60 kilotons", "5万至6万吨") == []
    dropped = [
        f"{where} {field}: {missing}"
        for where, field, english, text in translated_texts()
        if (missing := dropped_numbers(english, text))
    ]
    assert not dropped, dropped


def test_the_checks_see_the_whole_catalog() -> None:
    texts = list(translated_texts())
    assert len({where for where, *_ in texts}) >= 3 * 150
    assert any(where == "systems:Hwasong-17 ja" for where, *_ in texts)


async def test_the_seeded_catalog_reads_in_each_language(corpus: Services) -> None:
    # What a renderer gets: the seeded record's translated summary and status, English as fallback.
    system = await corpus.catalog.page("Hwasong-17")
    assert "11축" in local(system.i18n, "ko", "summary", system.summary)
    assert local(system.i18n, "ja", "status", system.status).startswith("2020年に公開")
    party = await corpus.catalog.actor("dprk")
    assert "朝鲜民主主义人民共和国" in local(party.i18n, "zh-CN", "summary", party.summary)
    track = await corpus.catalog.track("six-party")
    assert "2005년 9월 19일" in local(track.i18n, "ko", "summary", track.summary)
    assert local(track.i18n, "en", "summary", track.summary) == track.summary
