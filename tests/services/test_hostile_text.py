"""Text no reader can see is refused in every field, by name, with the character named."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import models
from bot.services.errors import NotFound, ValidationFailed
from bot.services.seed import read_corpus
from bot.services.validation import (
    ID_MAX,
    EventInput,
    SourceInput,
    id_in_range,
    parse_id,
    require_id,
    validate_event,
)

from .conftest import FIXTURES, HOME, Services, curator
from .test_services import event_input

#: Each invisible or unstorable character, with the way its refusal names it.
INVISIBLE = [
    ("\u200b", "U+200B (ZERO WIDTH SPACE)"),
    ("\u200e", "U+200E (LEFT-TO-RIGHT MARK)"),
    ("\u061c", "U+061C (ARABIC LETTER MARK)"),
    ("\ufff9", "U+FFF9 (INTERLINEAR ANNOTATION ANCHOR)"),
    ("\u00ad", "U+00AD (SOFT HYPHEN)"),
    ("\u034f", "U+034F (COMBINING GRAPHEME JOINER)"),
    ("\U000e0041", "U+E0041 (TAG LATIN CAPITAL LETTER A)"),
    ("\u2028", "U+2028 (LINE SEPARATOR)"),
    ("\u2029", "U+2029 (PARAGRAPH SEPARATOR)"),
    ("\ufdd0", "U+FDD0"),
    ("\uffff", "U+FFFF"),
    ("\U0001fffe", "U+1FFFE"),
    ("\ud800", "U+D800"),
    ("\x01", "U+0001"),
    ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
]


def with_char(field: str, ch: str) -> EventInput:
    text = f"North{ch}Korea launch"
    if field == "title":
        return event_input(title=text)
    if field == "summary":
        return event_input(summary=text)
    if field == "source 1 publisher":
        return event_input(sources=[SourceInput(text, "A title", None, None)])
    return event_input(sources=[SourceInput("Reuters", text, None, None)])


@pytest.mark.parametrize(("ch", "named"), INVISIBLE, ids=[n.split()[0] for _c, n in INVISIBLE])
@pytest.mark.parametrize("field", ["title", "summary", "source 1 publisher", "source 1 title"])
def test_every_text_field_refuses_the_character_by_name(field: str, ch: str, named: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_event(with_char(field, ch))
    [problem] = caught.value.problems
    assert problem.field == field
    assert problem.message.startswith(f"contains {named}")


def test_ordinary_text_in_every_script_still_passes() -> None:
    clean = validate_event(
        event_input(
            title="북한 화성-15형 발사 — 北朝鮮 火星15 — 朝鲜 “火星-15”",
            summary="Line one.\n\tLine two, with an emoji 🚀 and é (combining: e\u0301).",
        )
    )
    assert clean.title.startswith("북한")


async def test_a_retract_reason_is_checked_the_same_way(services: Services) -> None:
    published = await services.curation.create(curator(HOME), event_input())
    with pytest.raises(ValidationFailed) as caught:
        await services.curation.retract(curator(HOME), published.id, "dup\u200blicate")
    assert str(caught.value) == (
        "Invalid input — reason: contains U+200B (ZERO WIDTH SPACE), an invisible formatting character"
    )
    async with services.db.sessionmaker() as s:
        retracted = await s.scalar(
            select(func.count()).select_from(models.Event).where(models.Event.status == "retracted")
        )
    assert retracted == 0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("17", 17),
        ("#17", 17),
        (" 0042 ", 42),
        ("²", None),
        ("١٧", None),
        ("1e3", None),
        ("-1", None),
        ("", None),
    ],
)
def test_parse_id_takes_ascii_digits_only(text: str, value: int | None) -> None:
    assert parse_id(text) == value


def test_ids_beyond_the_column_are_not_found() -> None:
    assert id_in_range(ID_MAX) and not id_in_range(ID_MAX + 1) and not id_in_range(0)
    with pytest.raises(NotFound) as caught:
        require_id(2**31, "event")
    assert caught.value.message == "No event matches “#2147483648”."


async def test_services_answer_not_found_for_ids_beyond_the_column(services: Services) -> None:
    for ident in (2**31, 10**22):
        with pytest.raises(NotFound):
            await services.events.get(ident)
        with pytest.raises(NotFound):
            await services.curation.edit_input(curator(HOME), ident)
        with pytest.raises(NotFound):
            await services.curation.retract(curator(HOME), ident, "a reason")
    assert await services.events.autocomplete(str(2**31)) == []
    assert await services.events.autocomplete("²") == []


def test_corpus_names_and_aliases_are_checked_too(tmp_path: Path) -> None:
    sample = (FIXTURES / "corpus" / "sample.yaml").read_text("utf-8")
    assert "name: North Korea," in sample
    hostile = tmp_path / "sample.yaml"
    hostile.write_text(sample.replace("name: North Korea,", "name: North\u00adKorea,", 1), "utf-8")
    assert read_corpus(files=[FIXTURES / "corpus" / "sample.yaml"])
    with pytest.raises(ValidationFailed) as caught:
        read_corpus(files=[hostile])
    [problem] = caught.value.problems
    assert problem.field.startswith("sample.yaml/actors/")
    assert problem.field.endswith("/name")
    assert problem.message.startswith("contains U+00AD (SOFT HYPHEN)")
