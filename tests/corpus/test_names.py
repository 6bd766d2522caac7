"""Every catalog record carries its name in Korean, Japanese and Simplified Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bot.services.seed import read_corpus

LANGUAGES = ("ko", "ja", "zh-CN")
# The script each language's press writes names in (Latin designations such as KN-23 or SLBM may appear too).
SCRIPTS = {
    "ko": re.compile(r"[\uac00-\ud7a3]"),
    "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"),
    "zh-CN": re.compile(r"[\u4e00-\u9fff]"),
}
DESIGNATION = re.compile(r"^[A-Z]{2,4}-?\d{2}$")  # KN-08, KN14: written the same in every language


def records() -> Iterator[tuple[str, dict[str, Any]]]:
    sections = read_corpus().sections
    for section in ("actors", "tracks", "topics", "programs"):
        for item in sections[section]:
            yield f"{section}:{item['slug']}", item
    for program in sections["programs"]:
        for kind in ("systems", "facilities"):
            for item in program.get(kind, []):
                yield f"{kind}:{item['name']}", item


def test_every_catalog_record_has_names_in_four_languages() -> None:
    missing = [
        f"{key} ({lang})" for key, item in records() for lang in LANGUAGES if lang not in item.get("i18n", {})
    ]
    assert not missing, missing


def test_localised_names_are_written_in_their_language() -> None:
    wrong = [
        f"{key} {lang}: {item['i18n'][lang]['name']}"
        for key, item in records()
        for lang in LANGUAGES
        if lang in item.get("i18n", {})
        and not SCRIPTS[lang].search(item["i18n"][lang]["name"])
        and not DESIGNATION.match(item["i18n"][lang]["name"])
    ]
    assert not wrong, wrong


def test_at_least_the_whole_catalog_is_checked() -> None:
    keys = [key for key, _ in records()]
    assert len(keys) >= 110
    assert "systems:Hwasong-17" in keys and "facilities:Punggye-ri Nuclear Test Site" in keys
