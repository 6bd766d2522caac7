"""Curated selection: the milestone flag and the primary track, as curation and the seed write them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.services.errors import NotFound, ValidationFailed
from bot.services.filters import EventFilter
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
    form = (await services.curation.edit_input(curator(HOME), created.id)).data
    assert (form.milestone, form.primary_track, list(form.tracks)) == (True, "six-party", ["six-party"])
    same = await services.curation.edit(curator(HOME), created.id, form)
    assert same.revision == 1
    unflagged = await services.curation.edit(curator(HOME), created.id, replace(form, milestone=False))
    assert unflagged.revision == 2
    assert (await services.curation.edit_input(curator(HOME), created.id)).data.milestone is False


async def test_unknown_primary_track_is_refused(services: Services) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await services.curation.create(curator(HOME), talks_session(primary_track="four-party"), alert=False)
    assert any("four-party" in p.message for p in caught.value.problems)
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


def event(title: str, date: str, kind: str, **kw: object) -> EventInput:
    return replace(talks_session(), title=title, date=date, kind=kind, **kw)  # type: ignore[arg-type]


async def test_last_session_is_of_the_primary_track_only(services: Services) -> None:
    create = services.curation.create
    await create(curator(HOME), event("Putin-Kim summit", "2019-04-25", "summit", tracks=["six-party"]))
    await create(curator(HOME), event("A statement", "2020-01-01", "statement", primary_track="six-party"))
    last = await services.events.last_session("six-party")
    assert last is not None and last.date_label == "Dec 2008"
    latest = await services.events.track_latest("six-party")
    assert "Putin-Kim summit" in [e.title for e in latest]  # related, and no other track's own
    await create(curator(HOME), event("New round", "2021-05-01", "talks_session", primary_track="six-party"))
    last = await services.events.last_session("six-party")
    assert last is not None and last.title == "New round"


async def test_agreements_are_every_agreement_and_summit_statement_of_the_track(services: Services) -> None:
    create = services.curation.create
    for n in range(7):  # more than any fixed cap
        await create(
            curator(HOME),
            event(f"Agreement {n}", f"{2000 + n}-02-13", "agreement", primary_track="six-party"),
        )
    statement = {"agreement": "Joint Statement of the summit"}
    await create(
        curator(HOME), event("Summit A", "2010-06-12", "summit", primary_track="six-party", details=statement)
    )
    await create(curator(HOME), event("Summit B", "2011-02-27", "summit", primary_track="six-party"))
    await create(curator(HOME), event("Related deal", "2012-01-01", "agreement", tracks=["six-party"]))
    found = await services.events.agreements("six-party")
    assert [e.title for e in found] == [f"Agreement {n}" for n in range(7)] + ["Summit A"]
    assert found[-1].agreement == "Joint Statement of the summit"


async def test_milestones_are_flagged_first_then_significance(services: Services) -> None:
    flagged = await services.events.milestones(EventFilter.of(party="dprk"))
    assert [e.title for e in flagged] == ["First nuclear test at Punggye-ri"]
    fallback = await services.events.milestones(EventFilter.of(program="space-launch"))
    assert [e.title for e in fallback] == ["Unha-3 places a satellite in orbit from Sohae"]
    assert (
        await services.events.milestones(EventFilter.of(program="space-launch"), fallback_significance=5)
        == []
    )


async def test_a_person_resolves_to_their_statements_then_their_state(services: Services) -> None:
    said = await services.catalog.statements("Wang Yi")
    assert said.actor.slug == "wang-yi" and [p.stance for p in said.own] == ["Resume talks"]
    assert said.state is not None and said.state.slug == "china" and said.state_positions == []
    china = await services.catalog.statements("China")
    assert china.state is None and [p.party.slug for p in china.own] == ["china"]


async def test_comparison_has_a_block_per_state_and_lists_topics_when_unknown(services: Services) -> None:
    compared = await services.catalog.comparison("peace treaty")
    assert [a.name for a, _ in compared.states] == ["China", "North Korea", "South Korea", "United States"]
    assert [len(h) for _, h in compared.states] == [0, 1, 0, 0] and compared.voices == []
    with pytest.raises(NotFound) as caught:
        await services.catalog.comparison("zzz")
    assert caught.value.suggestions == ["Format of talks", "Peace treaty"]
