"""Curated selection: the milestone flag and the primary track, as curation and the seed write them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.services.errors import ValidationFailed
from bot.services.seed import load, read_corpus
from bot.services.validation import EventInput, SourceInput
from tests.services.conftest import HOME, Services, curator


def talks_session(**kw: object) -> EventInput:
    data = EventInput(
        "Six-party plenary in Beijing",
        "Heads of delegation meet.",
        "2007-02-13",
        "talks_session",
        4,
        actors=["dprk", "china"],
        sources=[SourceInput("Xinhua", "Joint document", "2007-02-13", "https://example.org/x")],
    )
    return replace(data, **kw)  # type: ignore[arg-type]


async def test_edit_keeps_the_flags_and_unflagging_is_a_revision(services: Services) -> None:
    created = await services.curation.create(
        curator(HOME), talks_session(milestone=True, primary_track="six-party"), alert=False
    )
    form = await services.curation.edit_input(curator(HOME), created.id)
    assert (form.milestone, form.primary_track, list(form.tracks)) == (True, "six-party", ["six-party"])
    same = await services.curation.edit(curator(HOME), created.id, form)
    assert same.revision == 1
    unflagged = await services.curation.edit(curator(HOME), created.id, replace(form, milestone=False))
    assert unflagged.revision == 2
    assert (await services.curation.edit_input(curator(HOME), created.id)).milestone is False


async def test_unknown_primary_track_is_refused(services: Services) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await services.curation.create(curator(HOME), talks_session(primary_track="four-party"), alert=False)
    assert any("four-party" in p.problem for p in caught.value.problems)
    with pytest.raises(ValidationFailed) as caught:
        await services.curation.create(curator(HOME), talks_session(primary_track="Six Party!"), alert=False)
    assert [p.field for p in caught.value.problems] == ["primary track"]


async def test_corpus_milestone_must_be_true(tmp_path: Path, services: Services) -> None:
    path = tmp_path / "events.yaml"
    path.write_text(
        "events:\n  - {id: x, kind: other, date: '2001', title: Something, summary: S, significance: 1,"
        " milestone: false, sources: [{publisher: P, title: T}]}\n",
        "utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        await load(services.db.sessionmaker, read_corpus(files=[path]))
    assert any("milestone" in p.field for p in caught.value.problems)
