"""Translations (``i18n``) of catalog records and events: stored by the seed, shown on the views,
carried through export and import, and never news: a change of translations alone edits no alert."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot import models
from bot.services.access import Caller, Policy
from bot.services.errors import ValidationFailed
from bot.services.export import export_events
from bot.services.importing import import_file
from bot.services.seed import load, read_corpus
from bot.services.validation import EventInput, SourceInput
from tests.services.conftest import FIXTURES, HOME, Services, curator, posted_alert

SAMPLE = FIXTURES / "corpus" / "sample.yaml"
UNHA = "seed:unha-3-2012-12"
KO_TITLE = "은하-3호, 서해위성발사장에서 위성 궤도 진입"


def edited_sample(tmp_path: Path, edit: object) -> Path:
    """The sample corpus with ``edit(doc)`` applied, as a file of the same name."""
    doc = yaml.safe_load(SAMPLE.read_text("utf-8"))
    edit(doc)  # type: ignore[operator]
    path = tmp_path / "sample.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def unha_of(doc: dict[str, object]) -> dict[str, object]:
    return next(e for e in doc["events"] if e["id"] == "unha-3-2012-12")  # type: ignore[attr-defined]


async def unha_row(services: Services) -> models.Event:
    async with services.db.sessionmaker() as s:
        row = await s.scalar(select(models.Event).where(models.Event.external_id == UNHA))
    assert row is not None
    return row


async def rows(services: Services, model: type[models.Base]) -> list[object]:
    async with services.db.sessionmaker() as s:
        return list((await s.scalars(select(model).order_by(model.id))).all())  # type: ignore[attr-defined]


async def test_seeded_translations_are_on_the_views(services: Services) -> None:
    topic = await services.catalog.topic("peace-treaty")
    assert topic.i18n["ko"] == {
        "name": "평화협정",
        "summary": "1953년 정전협정을 평화협정으로 대체하는 문제.",
    }
    assert topic.i18n["zh-CN"]["name"] == "和平协定"
    assert "平和協定" in topic.names()
    assert (await services.catalog.actor("dprk")).i18n == {}  # nothing translated: the English stands
    unha = await services.events.get((await unha_row(services)).id)
    assert unha.i18n["ko"]["title"] == KO_TITLE
    assert set(unha.i18n) == {"ko", "ja", "zh-CN"}


async def test_a_translation_alone_is_updated_in_place_without_alert_edits(
    services: Services, tmp_path: Path
) -> None:
    await posted_alert(services, UNHA)
    audits = len(await rows(services, models.AuditLog))

    def retranslate(doc: dict[str, object]) -> None:
        unha_of(doc)["i18n"]["ko"]["summary"] = "북한의 위성이 처음으로 궤도에 올랐다."  # type: ignore[index]
        doc["topics"][0]["i18n"]["ja"]["summary"] = "1953年の休戦協定に代わる平和協定。"  # type: ignore[index]

    changed = edited_sample(tmp_path, retranslate)
    report = await load(services.db.sessionmaker, read_corpus(files=[changed]))
    assert report.updated["events"] == 1 and report.updated["topics"] == 1 and report.alerts == 0
    assert len(await rows(services, models.Delivery)) == 1  # only the posted alert: no edit queued
    unha = await unha_row(services)
    assert unha.revision == 1 and unha.i18n["ko"]["summary"] == "북한의 위성이 처음으로 궤도에 올랐다."
    assert unha.i18n["ko"]["title"] == KO_TITLE
    [audit] = (await rows(services, models.AuditLog))[audits:]
    assert (audit.action, audit.record_id, audit.details["revision"]) == (  # type: ignore[attr-defined]
        "event.translate",
        str(unha.id),
        1,
    )
    assert (await services.catalog.topic("peace-treaty")).i18n["ja"][
        "summary"
    ] == "1953年の休戦協定に代わる平和協定。"
    again = await load(services.db.sessionmaker, read_corpus(files=[changed]))
    assert again.unchanged["events"] == 3 and again.unchanged["topics"] == 2 and again.alerts == 0


async def test_an_english_change_still_edits_the_alert_and_keeps_the_new_translations(
    services: Services, tmp_path: Path
) -> None:
    await posted_alert(services, UNHA)

    def reword(doc: dict[str, object]) -> None:
        unha_of(doc)["title"] = "Unha-3 puts a satellite in orbit from Sohae"
        unha_of(doc)["i18n"]["ja"]["title"] = "銀河3号が西海衛星発射場から衛星を軌道に乗せる"  # type: ignore[index]

    report = await load(services.db.sessionmaker, read_corpus(files=[edited_sample(tmp_path, reword)]))
    assert report.updated["events"] == 1 and report.alerts == 1
    unha = await unha_row(services)
    assert unha.revision == 2 and unha.i18n["ja"]["title"] == "銀河3号が西海衛星発射場から衛星を軌道に乗せる"


async def test_a_curator_rewording_drops_only_the_stale_translations(services: Services) -> None:
    unha = await services.events.get((await unha_row(services)).id)
    src = [SourceInput(s.publisher, s.title, None, s.url) for s in unha.sources]
    data = EventInput(
        "Unha-3 reaches orbit from Sohae",
        unha.summary,
        "2012-12-12",
        unha.kind,
        unha.significance,
        programs=["space-launch"],
        facilities=["sohae"],
        actors=["dprk"],
        sources=src,
    )
    await services.curation.edit(curator(HOME), unha.id, data)
    after = await services.events.get(unha.id)
    # The English title changed, so the translated titles would say what it no longer says.
    assert after.i18n["ko"] == {"summary": "북한 위성으로는 처음으로 궤도에 진입했다."}
    assert all("title" not in entry for entry in after.i18n.values())


async def test_export_carries_translations_and_a_translation_only_import_edits_no_alert(
    services: Services,
) -> None:
    await posted_alert(services, UNHA)
    policy = Policy.of([HOME])
    doc = json.loads(await export_events(services.db.sessionmaker, "json"))
    unha = next(e for e in doc["events"] if e["external_id"] == UNHA)
    assert unha["i18n"]["ko"]["title"] == KO_TITLE
    unha["i18n"]["zh-CN"]["title"] = "银河-3号从西海卫星发射场发射，卫星进入轨道"
    text = json.dumps(doc, ensure_ascii=False).encode()
    report = await import_file(
        services.db.sessionmaker, text, "native", caller=Caller.system(), policy=policy
    )
    assert report.ok, report.problems
    assert (report.updated, report.unchanged) == (1, 2)
    assert len(await rows(services, models.Delivery)) == 1
    row = await unha_row(services)
    assert row.revision == 1 and row.i18n["zh-CN"]["title"] == "银河-3号从西海卫星发射场发射，卫星进入轨道"
    # A CSV row with an empty i18n cell keeps what is stored.
    records = list(csv.DictReader(io.StringIO(await export_events(services.db.sessionmaker, "csv"))))
    for record in records:
        record["i18n"] = ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    kept = await import_file(
        services.db.sessionmaker, out.getvalue().encode(), "native", caller=Caller.system(), policy=policy
    )
    assert kept.ok and (kept.updated, kept.unchanged) == (0, 3), kept.problems
    assert (await unha_row(services)).i18n == row.i18n


@pytest.mark.parametrize(
    ("i18n", "problem"),
    [
        ({"fr": {"title": "Essai"}}, "is not one of ko, ja, zh-CN"),
        ({"ko": {"title": "시험", "name": "x"}}, "must hold a title and a summary only"),
        ({"ja": {"title": ""}}, "is required"),
    ],
)
async def test_bad_translations_are_refused_clearly(services: Services, i18n: object, problem: str) -> None:
    data = EventInput(
        "A test launch",
        "A test.",
        "2024-05-01",
        "missile_launch",
        3,
        actors=["dprk"],
        sources=[SourceInput("Reuters", "A report", "2024-05-01", "https://example.org/r")],
        i18n=i18n,  # type: ignore[arg-type]
    )
    with pytest.raises(ValidationFailed) as failed:
        await services.curation.create(curator(HOME), data, alert=False)
    assert any(problem in p.message for p in failed.value.problems), failed.value.problems
