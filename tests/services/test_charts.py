"""Chart counts from the services: by year, month and program, scoped to the reader's guild, and the
image cache keyed by the data version."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import update

from bot import models
from bot.services.charts import ChartQuery, ChartService, figure_for
from bot.services.errors import ValidationFailed
from bot.services.seed import read_corpus
from tests.services.conftest import FIXTURES, HOME, OTHER, THIRD, Services, curator
from tests.services.test_services import event_input

PNG = b"\x89PNG\r\n\x1a\n"


def sample_years(*kinds: str) -> Counter[int]:
    corpus = read_corpus(files=[FIXTURES / "corpus" / "sample.yaml"])
    events = corpus.sections["events"]
    return Counter(int(str(e["date"])[:4]) for e in events if not kinds or e["kind"] in kinds)


async def test_counts_by_year_match_the_corpus_and_fill_empty_years(services: Services) -> None:
    charts = ChartService(services.db.sessionmaker)
    data = await charts.counts(ChartQuery("events", "year"))
    expected = sample_years()
    assert {int(b.key): b.value for b in data.bars if b.value} == dict(expected)
    assert [int(b.key) for b in data.bars] == list(range(min(expected), max(expected) + 1))
    assert data.total == sum(expected.values())
    assert data.as_of is not None


async def test_local_events_count_only_for_their_guild(services: Services) -> None:
    charts = ChartService(services.db.sessionmaker)
    before = await charts.counts(ChartQuery("launches", "year", guild_id=THIRD))
    local = await services.curation.create(curator(OTHER), event_input(date="2024-05-01"))
    assert local.guild_id == OTHER
    mine = await charts.counts(ChartQuery("launches", "year", guild_id=OTHER))
    third = await charts.counts(ChartQuery("launches", "year", guild_id=THIRD))
    everyone = await charts.counts(ChartQuery("launches", "year"))
    assert mine.total == before.total + 1
    assert third.total == before.total == everyone.total
    assert {b.key: b.value for b in mine.bars}["2024"] == 1
    assert "2024" not in {b.key for b in third.bars}
    assert third.version != mine.version


async def test_counts_by_program_and_month(services: Services) -> None:
    charts = ChartService(services.db.sessionmaker)
    for day in ("2020-01-05", "2020-03-07", "2020-03-20"):
        await services.curation.create(curator(HOME), event_input(date=day))
    by_program = await charts.counts(ChartQuery("launches", "program", guild_id=HOME))
    assert {b.key: b.value for b in by_program.bars}["icbm"] == 3
    narrowed = await charts.counts(ChartQuery("launches", "program", program="icbm", guild_id=HOME))
    assert [(b.key, b.value) for b in narrowed.bars] == [("icbm", 3)]
    monthly = await charts.counts(
        ChartQuery("launches", "month", program="icbm", since=dt.date(2020, 1, 1), guild_id=HOME)
    )
    assert [(b.key, b.value) for b in monthly.bars] == [("2020-01", 1), ("2020-02", 0), ("2020-03", 2)]


async def test_bad_options_are_refused_by_name() -> None:
    with pytest.raises(ValidationFailed, match="metric"):
        ChartQuery("rockets", "year")
    with pytest.raises(ValidationFailed, match="until"):
        ChartQuery("events", "year", since=dt.date(2020, 1, 1), until=dt.date(2019, 1, 1))


async def test_the_image_is_cached_until_the_data_changes(services: Services) -> None:
    charts = ChartService(services.db.sessionmaker)
    query = ChartQuery("launches", "year", guild_id=HOME)

    def figure(data):  # type: ignore[no-untyped-def]
        return figure_for(data, {})

    first = await charts.chart(query, figure)
    again = await charts.chart(query, figure)
    assert first.png.startswith(PNG) and not first.cached and again.cached
    await services.curation.create(curator(HOME), event_input())
    changed = await charts.chart(query, figure)
    assert not changed.cached and changed.data.total == first.data.total + 1


async def test_a_chart_is_cached_per_language_and_names_its_bars_in_it(services: Services) -> None:
    async with services.db.sessionmaker() as session, session.begin():
        await session.execute(
            update(models.Program)
            .where(models.Program.slug == "icbm")
            .values(i18n={"ko": {"name": "대륙간탄도미사일"}})
        )
    await services.curation.create(curator(HOME), event_input(date="2020-01-05"))
    charts = ChartService(services.db.sessionmaker)
    query = ChartQuery("launches", "program", guild_id=HOME)
    korean = await charts.chart(query, lambda data: figure_for(data, {}, "ko"), "ko")
    english = await charts.chart(query, lambda data: figure_for(data, {}, "en"), "en")
    again = await charts.chart(query, lambda data: figure_for(data, {}, "ko"), "ko")
    assert not korean.cached and not english.cached and again.cached
    assert korean.png != english.png and again.png == korean.png
    assert {b.key: b.label for b in korean.data.bars}["icbm"] == "대륙간탄도미사일"
    assert {b.key: b.label for b in english.data.bars}["icbm"] == "Intercontinental ballistic missiles"
