"""Export in the native format, and the round trip export → import → export."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from bot import db as dbmod
from bot import models
from bot.services.access import Caller, Policy
from bot.services.curation import CurationService
from bot.services.export import export_events
from bot.services.importing import import_file, native_schema
from bot.services.seed import load, read_corpus
from bot.services.validation import EventInput, SourceInput
from tests.conftest import Database
from tests.services.conftest import FIXTURES, HOME, OTHER, THIRD, curator

POLICY = Policy.of([HOME])
SAMPLE = FIXTURES / "corpus" / "sample.yaml"


async def populate(database: Database) -> None:
    """The sample corpus, both excerpts, and curator events: one edited, one retracted, two local.
    The CNS excerpt's Unha-3 row merges into the sample's event: 27 events in all."""
    await load(database.sessionmaker, read_corpus(files=[SAMPLE]))
    for path, fmt in ((FIXTURES / "cns-excerpt.csv", "cns"), (FIXTURES / "csis-excerpt.json", "csis")):
        report = await import_file(
            database.sessionmaker, path.read_bytes(), fmt, caller=Caller.system(), policy=POLICY
        )
        assert report.ok, report.problems
    curation = CurationService(database.sessionmaker, POLICY)
    src = [SourceInput("Reuters", "Report", "2024-05-01", "https://example.org/r")]

    def item(title: str) -> EventInput:
        return EventInput(title, "Summary.", "2024-05", "statement", 2, actors=["dprk"], sources=src)

    kept = await curation.create(curator(HOME), item("A global statement"), alert=False)
    await curation.edit(curator(HOME), kept.id, item("A global statement, revised"))
    gone = await curation.create(curator(HOME), item("A retracted statement"), alert=False)
    await curation.retract(curator(HOME), gone.id, "Wrong date")
    await curation.create(curator(OTHER), item("A local statement"), alert=False)
    await curation.create(curator(THIRD), item("Another guild's statement"), alert=False)


async def wipe_events(database: Database) -> None:
    async with database.sessionmaker() as s, s.begin():
        await s.execute(delete(models.Event))
        await s.execute(delete(models.AuditLog))


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_round_trip_is_identical(database: Database, fmt: str) -> None:
    await populate(database)
    first = await export_events(database.sessionmaker, fmt)
    await wipe_events(database)
    report = await import_file(
        database.sessionmaker, first.encode(), "native", caller=Caller.system(), policy=POLICY
    )
    assert report.ok, report.problems[:5]
    assert report.created == 3 + 10 + 10 + 4
    second = await export_events(database.sessionmaker, fmt)
    assert second == first
    again = await import_file(
        database.sessionmaker, second.encode(), "native", caller=Caller.system(), policy=POLICY
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 27)


@pytest.fixture
async def fresh_sqlite(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """A second, empty database next to ``sqlite_db``."""
    path = tmp_path / "fresh.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    engine = dbmod.create_engine(url)
    yield Database(url, engine, dbmod.make_sessionmaker(engine))
    await engine.dispose()


async def test_round_trip_into_a_fresh_database(sqlite_db: Database, fresh_sqlite: Database) -> None:
    await populate(sqlite_db)
    exported = await export_events(sqlite_db.sessionmaker, "json")
    await load(fresh_sqlite.sessionmaker, read_corpus(files=[SAMPLE]))
    report = await import_file(
        fresh_sqlite.sessionmaker, exported.encode(), "native", caller=Caller.system(), policy=POLICY
    )
    assert report.ok and report.created == 24 and report.unchanged == 3
    # The merged CNS row is not one of the Unha-3 event's own sources, so the export does not carry
    # it: the restored event is the seeded one, at the revision before the merge (1, not 2).
    restored = json.loads(await export_events(fresh_sqlite.sessionmaker, "json"))
    original = json.loads(exported)
    unha = next(e for e in original["events"] if e["external_id"] == "seed:unha-3-2012-12")
    assert unha["revision"] == 2
    unha["revision"] = 1
    assert restored == original
    # The CSV of one database is the native input of the other too.
    as_csv = await export_events(sqlite_db.sessionmaker, "csv")
    again = await import_file(
        fresh_sqlite.sessionmaker, as_csv.encode(), "native", caller=Caller.system(), policy=POLICY
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 27)


async def test_json_export_fields_scopes_and_schema(sqlite_db: Database) -> None:
    await populate(sqlite_db)
    doc = json.loads(await export_events(sqlite_db.sessionmaker, "json"))
    assert list(Draft202012Validator(native_schema()).iter_errors(doc)) == []
    assert (doc["format"], doc["version"]) == ("peninsula-brief/events", 1)
    by_title = {e["title"]: e for e in doc["events"]}
    assert by_title["A local statement"]["scope"] == str(OTHER)
    assert by_title["Another guild's statement"]["scope"] == str(THIRD)
    revised = by_title["A global statement, revised"]
    assert (revised["scope"], revised["revision"], revised["date"]) == ("global", 2, "2024-05")
    assert revised["external_id"].startswith("pb:")
    retracted = by_title["A retracted statement"]
    assert (retracted["status"], retracted["retract_reason"]) == ("retracted", "Wrong date")
    month = next(e for e in doc["events"] if e["external_id"] == "cns:4")
    assert month["date"] == "1984-09" and month["details"]["missile_name"] == "Scud-B"
    assert month["sources"][0]["date"] == "2016-12-23"
    assert all(e["sources"] for e in doc["events"])
    seeded = {e["external_id"]: e for e in doc["events"] if e["external_id"].startswith("seed:")}
    assert seeded["seed:nuclear-test-2006"]["milestone"] is True
    assert seeded["seed:unha-3-2012-12"]["milestone"] is False
    # The seed names only the primary track; it is one of the event's tracks too.
    session = seeded["seed:six-party-dormant"]
    assert (session["primary_track"], session["tracks"]) == ("six-party", ["six-party"])
    assert seeded["seed:unha-3-2012-12"]["primary_track"] is None
    # Systems and facilities are links like programs: exported by slug (and read back below).
    assert (seeded["seed:unha-3-2012-12"]["facilities"], seeded["seed:unha-3-2012-12"]["systems"]) == (
        ["sohae"],
        [],
    )
    assert len(doc["events"]) == 27
    # A merged dataset row is not one of the event's own sources: the export leaves it out.
    unha = seeded["seed:unha-3-2012-12"]["sources"]
    assert unha and all("record 33" not in s["title"] for s in unha)
    # Importing the export into the same database finds every event again, pb: ids included.
    same = await import_file(
        sqlite_db.sessionmaker, json.dumps(doc).encode(), "native", caller=Caller.system(), policy=POLICY
    )
    assert (same.created, same.updated, same.unchanged) == (0, 0, 27)


async def test_guild_export_holds_global_and_its_own(sqlite_db: Database) -> None:
    await populate(sqlite_db)
    text = await export_events(sqlite_db.sessionmaker, "json", guild_id=OTHER, all_scopes=False)
    scopes = {e["scope"] for e in json.loads(text)["events"]}
    assert scopes == {"global", str(OTHER)}
    rows = list(csv.DictReader(io.StringIO(await export_events(sqlite_db.sessionmaker, "csv"))))
    assert len(rows) == 27
    cns = next(r for r in rows if r["external_id"] == "cns:16")
    assert cns["programs"] == "space-launch" and cns["actors"] == "dprk"
    assert json.loads(cns["sources"])[0]["title"] == "CNS North Korea Missile Test Database"
    assert json.loads(cns["details"])["distance_km"] == 1380.0


async def test_csv_import_links_systems_and_facilities(sqlite_db: Database) -> None:
    await load(sqlite_db.sessionmaker, read_corpus(files=[SAMPLE]))
    header = "title,date,kind,programs,systems,facilities,sources\n"
    sources = '"[{""publisher"": ""KCNA"", ""title"": ""Report""}]"'
    row = f"Engine test at Sohae for the KN-08,2016-04-09,facility_activity,icbm,kn-08,sohae,{sources}\n"
    report = await import_file(
        sqlite_db.sessionmaker, (header + row).encode(), "native", caller=Caller.system(), policy=POLICY
    )
    assert report.ok, report.problems
    doc = json.loads(await export_events(sqlite_db.sessionmaker, "json"))
    [made] = [e for e in doc["events"] if e["title"].startswith("Engine test at Sohae")]
    assert (made["systems"], made["facilities"]) == (["kn-08"], ["sohae"])
    unknown = row.replace(",kn-08,", ",hwasong-99,")
    refused = await import_file(
        sqlite_db.sessionmaker, (header + unknown).encode(), "native", caller=Caller.system(), policy=POLICY
    )
    assert not refused.ok and "hwasong-99" in str(refused.problems)


FORMULA_TITLES = [
    '=HYPERLINK("https://evil.example/x","Official KCNA")',
    "-10 °C: a cold-weather launch at Sohae",
    "+1 launch counted twice by KCNA",
    "@SUM(A1:A9) appears in a leaked sheet",
    "'=already quoted in the source",
]


@pytest.mark.parametrize("title", FORMULA_TITLES)
async def test_csv_guards_formulas_and_the_round_trip_is_lossless(database: Database, title: str) -> None:
    await load(database.sessionmaker, read_corpus(files=[SAMPLE]))
    curation = CurationService(database.sessionmaker, POLICY)
    src = [SourceInput("=cmd|' /C calc'!A0", "-2 sources", "2024-05-01", "https://example.org/r")]
    made = await curation.create(
        curator(HOME), EventInput(title, "Summary.", "2024-05", "statement", 2, sources=src), alert=False
    )
    await curation.retract(curator(HOME), made.id, "=1+1 is not a reason")
    exported = await export_events(database.sessionmaker, "csv")
    [row] = [r for r in csv.DictReader(io.StringIO(exported)) if r["external_id"] == f"pb:{made.id}"]
    assert row["title"] == "'" + title  # a spreadsheet shows it; it does not run it
    assert row["retract_reason"] == "'=1+1 is not a reason"
    assert row["sources"].startswith("[")  # JSON text: never a formula
    await wipe_events(database)
    report = await import_file(
        database.sessionmaker, exported.encode(), "native", caller=Caller.system(), policy=POLICY
    )
    assert report.ok and report.created == 4, report.problems  # the sample's three and this one
    async with database.sessionmaker() as s:
        event = await s.scalar(
            select(models.Event)
            .where(models.Event.status == "retracted")
            .options(selectinload(models.Event.sources))
        )
    assert event is not None
    assert (event.title, event.retract_reason) == (title, "=1+1 is not a reason")
    assert (event.sources[0].publisher, event.sources[0].title) == ("=cmd|' /C calc'!A0", "-2 sources")
    assert await export_events(database.sessionmaker, "csv") == exported
