"""Importers on real SQLite and PostgreSQL: the CNS and CSIS datasets, the native format, bad input."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import models
from bot.services.access import Caller, Policy
from bot.services.errors import PermissionDenied
from bot.services.events import EventService, with_links
from bot.services.importing import MAX_BYTES, ImportReport, import_file, write
from bot.services.importing.cells import dataset_date, parse_km, split_sources
from bot.services.importing.cells import decode as _decode
from bot.services.importing.csis import parse_csis
from bot.services.seed import load, read_corpus
from tests.conftest import Database
from tests.services.conftest import FIXTURES, HOME, OTHER, THIRD, curator, member

CNS_EXCERPT = FIXTURES / "cns-excerpt.csv"
CSIS_CSV = FIXTURES / "csis-excerpt.csv"
CSIS_JSON = FIXTURES / "csis-excerpt.json"
POLICY = Policy.of([HOME])
SYSTEM = Caller.system()


async def run(db: Database, data: bytes, fmt: str, caller: Caller = SYSTEM, **kw: Any) -> ImportReport:
    return await import_file(db.sessionmaker, data, fmt, caller=caller, policy=POLICY, **kw)


async def count(db: Database, model: type[models.Base]) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def events(db: Database) -> dict[str, models.Event]:
    async with db.sessionmaker() as s:
        rows = (await s.scalars(with_links(select(models.Event)))).all()
    return {e.external_id or f"#{e.id}": e for e in rows}


@pytest.fixture
async def catalog_db(database: Database) -> Database:
    """A database holding the sample corpus (catalog and three events)."""
    await load(database.sessionmaker, read_corpus(files=[FIXTURES / "corpus" / "sample.yaml"]))
    return database


def native(*items: dict[str, Any]) -> bytes:
    return json.dumps({"format": "peninsula-brief/events", "version": 1, "events": list(items)}).encode()


def native_event(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "external_id": "test:1",
        "title": "Hwasong-15 launch",
        "summary": "A test.",
        "date": "2017-11-29",
        "kind": "missile_launch",
        "significance": 4,
        "programs": ["icbm"],
        "actors": ["dprk"],
        "sources": [{"publisher": "Reuters", "title": "A report", "url": "https://example.org/a"}],
    }
    base.update(kw)
    return base


# --- pure parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9-Apr-84", "1984-04-09"),
        ("Sep-84", "1984-09"),
        ("12-Apr-23", "2023-04-12"),
        ("4/19/2023", "2023-04-19"),
        ("2026-08-20", "2026-08-20"),
        ("31-Feb-99", None),
        ("Foo-84", None),
        ("yesterday", None),
    ],
)
def test_dataset_dates(text: str, expected: str | None) -> None:
    assert dataset_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,380 km", (1380.0, None)),
        ("2111.5 km", (2111.5, None)),
        ("330 lm", (330.0, None)),
        ("0 km", (0.0, None)),
        ("Unknown", (None, None)),
        ("N/A", (None, None)),
        ("", (None, None)),
        ("between 25 and 90 km", (None, "between 25 and 90 km")),
    ],
)
def test_numbers_with_units(text: str, expected: tuple[float | None, str | None]) -> None:
    assert parse_km(text) == expected


def test_sources_split_glued_urls_and_citations() -> None:
    assert split_sources("https://goo.gl/Xn9Wr4The US Military Experience in Korea 1871-1982, page 108.") == [
        ("url", "https://goo.gl/Xn9Wr4"),
        ("text", "The US Military Experience in Korea 1871-1982, page 108."),
    ]
    assert split_sources("http://a.org/x/index.htmlVideo:https://www.youtube.com/watch?v=1") == [
        ("url", "http://a.org/x/index.html"),
        ("url", "https://www.youtube.com/watch?v=1"),
    ]
    assert split_sources('https://a.org/1">https://a.org/1">https://a.org/1') == [("url", "https://a.org/1")]
    # Mixed separators, a bare domain and a name on its own line (all seen in the CNS file).
    assert split_sources("https://a.org/x;https://b.org/y\nmod.go.jp/j/05b.html\nJoseph Dempsey") == [
        ("url", "https://a.org/x"),
        ("url", "https://b.org/y"),
        ("url", "http://mod.go.jp/j/05b.html"),
        ("text", "Joseph Dempsey"),
    ]
    assert split_sources("https://goo.gl/ClNyro; https://goo.gl/AbcDef") == [
        ("url", "https://goo.gl/ClNyro"),
        ("url", "https://goo.gl/AbcDef"),
    ]


def test_csis_identical_rows_get_distinct_ids() -> None:
    row = {"date": "2020-01-01", "type": "Other Provocation", "event": "Artillery Fire", "description": "x"}
    text = json.dumps([{**row, "resources": ""}, {**row, "resources": ""}])
    problems: list[Any] = []
    rows = parse_csis(text, problems)
    ids = [r.data.external_id for r in rows]
    assert not problems
    assert ids[0] is not None and ids[1] == f"{ids[0]}-2"


def test_csv_and_json_excerpts_parse_alike() -> None:
    problems: list[Any] = []
    from_csv = parse_csis(_decode(CSIS_CSV.read_bytes(), problems) or "", problems)
    from_json = parse_csis(_decode(CSIS_JSON.read_bytes(), problems) or "", problems)
    assert not problems
    assert len(from_csv) == 10
    assert [r.data for r in from_csv] == [r.data for r in from_json]


# --- importing the excerpts ---------------------------------------------------------------------


async def test_cns_excerpt_import(catalog_db: Database) -> None:
    report = await run(catalog_db, CNS_EXCERPT.read_bytes(), "cns")
    assert report.ok, report.problems
    # Record 33 (Unha-3, 12 December 2012) is the sample corpus's satellite launch: it merges.
    assert (report.created, report.updated, report.unchanged, report.merged) == (10, 0, 0, 1)
    stored = await events(catalog_db)
    assert "cns:33" not in stored
    month = stored["cns:4"]
    assert (month.occurred_on.isoformat(), month.precision) == ("1984-09-01", "month")
    taepodong = stored["cns:16"]
    assert taepodong.kind == "satellite_launch"
    assert taepodong.details["distance_km"] == 1380.0
    assert [p.slug for p in taepodong.programs] == ["space-launch"]
    hwasong = stored["cns:118"]
    assert (hwasong.details["apogee_km"], hwasong.details["distance_km"]) == (4475.0, 950.0)
    assert hwasong.title == "Hwasong-15 ICBM launch from Pyongsong Field"
    assert hwasong.significance == 4 and [p.slug for p in hwasong.programs] == ["icbm"]
    assert [a.slug for a in hwasong.actors] == ["dprk"]
    # irbm is not in the sample catalog: linked to nothing, not a failure.
    assert stored["cns:159"].programs == []
    # The Windows-1252 bytes (no-break space, degree sign) decode as text.
    assert any("°" in (e.details.get("additional_information") or "") for e in stored.values())
    for key in ("cns:1", "cns:4", "cns:16", "cns:118", "cns:187"):
        event = stored[key]
        first = event.sources[0]
        assert (
            first.publisher.startswith("James Martin Center")
            and first.title == "CNS North Korea Missile Test Database"
        )
        assert first.published_on is not None
        info = event.details.get("additional_information")
        if info:
            assert info[:60] not in event.summary  # the publisher's prose is kept apart from ours
    assert stored["cns:187"].details["apogee_reported"] == "between 25 and 90 km"
    assert stored["cns:1"].sources[0].published_on.isoformat() == "2016-12-23"  # type: ignore[union-attr]
    assert stored["cns:173"].sources[0].published_on.isoformat() == "2022-03-24"  # type: ignore[union-attr]
    urls = [s.url for s in stored["cns:1"].sources]
    assert "http://www.nti.org/media/pdfs/north_korea_missile_2.pdf?_=1327534760" in urls
    assert any(s.url is None and s.publisher == "Joseph S. Bermudez" for s in stored["cns:1"].sources)
    # One audit row for the import and one per event it wrote (the seed wrote one per event too).
    async with catalog_db.sessionmaker() as s:
        rows = (await s.scalars(select(models.AuditLog).order_by(models.AuditLog.id))).all()
    audit = [a for a in rows if a.details.get("via") != "seed"]
    assert len([a for a in audit if a.action == "event.import"]) == 1
    assert [a.action for a in audit] == ["event.create"] * 4 + ["event.merge"] + ["event.create"] * 6 + [
        "event.import"
    ]
    assert all(a.details["via"] == "import" and a.details["format"] == "cns" for a in audit[:-1])
    written = {k for k in stored if k.startswith("cns:")} | {"seed:unha-3-2012-12"}
    assert {a.record_id for a in audit[:-1]} == {str(stored[k].id) for k in written}
    assert await count(catalog_db, models.AuditLog) == len(audit) + 3


async def test_reimport_is_unchanged_and_dry_run_writes_nothing(sqlite_db: Database) -> None:
    seen: list[tuple[int, int]] = []
    dry = await run(
        sqlite_db, CNS_EXCERPT.read_bytes(), "cns", dry_run=True, progress=lambda d, t: seen.append((d, t))
    )
    assert dry.ok and dry.created == 11
    assert seen[-1] == (11, 11)
    assert "dry run" in dry.summary()
    assert await count(sqlite_db, models.Event) == 0
    assert await count(sqlite_db, models.AuditLog) == 0
    first = await run(sqlite_db, CNS_EXCERPT.read_bytes(), "cns")
    again = await run(sqlite_db, CNS_EXCERPT.read_bytes(), "cns")
    assert (first.created, again.created, again.updated, again.unchanged) == (11, 0, 0, 11)
    assert await count(sqlite_db, models.Event) == 11
    # The first import wrote an audit row per event and one for itself; the unchanged one, one.
    assert await count(sqlite_db, models.AuditLog) == 2 + 11
    async with sqlite_db.sessionmaker() as s:
        rows = (await s.scalars(select(models.AuditLog).order_by(models.AuditLog.id))).all()
    assert [a.action for a in rows] == ["event.create"] * 11 + ["event.import", "event.import"]
    audit = [a for a in rows if a.action == "event.import"]
    assert [a.action for a in audit] == ["event.import", "event.import"]
    assert audit[0].details["created"] == 11 and audit[0].details["format"] == "cns"
    assert audit[1].details["unchanged"] == 11
    assert await count(sqlite_db, models.Event) == 11
    # An empty catalog links nothing and does not fail.
    assert all(not e.programs and not e.actors for e in (await events(sqlite_db)).values())


async def test_csis_csv_and_json_give_the_same_events(catalog_db: Database) -> None:
    report = await run(catalog_db, CSIS_CSV.read_bytes(), "csis")
    assert report.ok and report.created == 10
    again = await run(catalog_db, CSIS_JSON.read_bytes(), "csis")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)
    stored = {e.details.get("csis_event"): e for e in (await events(catalog_db)).values()}
    hijack = stored["Hijacking of South Korean Plane"]
    assert [(s.url, s.title) for s in hijack.sources[:2]] == [
        (None, "Database of North Korean Provocations"),
        ("https://goo.gl/Xn9Wr4", "Xn9Wr4"),
    ]
    assert hijack.sources[2].url is None and hijack.sources[2].title.startswith("The US Military Experience")
    assert hijack.kind == "military_action"
    nuclear = stored["Nuclear Test"]
    assert nuclear.kind == "nuclear_test" and nuclear.significance == 5
    assert nuclear.details["description"] and nuclear.details["description"][:50] not in nuclear.summary
    assert nuclear.summary.startswith("CSIS Beyond Parallel lists “Nuclear Test” on ")
    satellite = stored["Satellite Launch"]
    assert satellite.kind == "satellite_launch" and [p.slug for p in satellite.programs] == ["space-launch"]
    artillery = [
        e for e in (await events(catalog_db)).values() if e.details.get("csis_event") == "Artillery Fire"
    ]
    assert len(artillery) == 2 and artillery[0].title != artillery[1].title  # dated to tell them apart
    no_resources = [e for e in stored.values() if not e.details.get("resources")]
    assert all(len(e.sources) >= 1 for e in stored.values()) and no_resources


async def test_scope_follows_the_caller(catalog_db: Database) -> None:
    local = await run(catalog_db, CSIS_CSV.read_bytes(), "csis", caller=curator(OTHER))
    home = await run(catalog_db, CSIS_CSV.read_bytes(), "csis", caller=curator(HOME))
    assert local.ok and home.ok and local.created == home.created == 10
    stored = (await events(catalog_db)).values()
    imported = [e for e in stored if e.details.get("dataset") == "csis-provocations"]
    assert {e.guild_id for e in imported} == {None, OTHER}
    assert all(e.external_id.startswith(f"g{OTHER}:csis:") for e in imported if e.guild_id == OTHER)  # type: ignore[union-attr]
    # Another import by the same guild updates its own copies, not the global ones.
    again = await run(catalog_db, CSIS_JSON.read_bytes(), "csis", caller=curator(OTHER))
    assert again.unchanged == 10
    with pytest.raises(PermissionDenied):
        await run(catalog_db, CSIS_CSV.read_bytes(), "csis", caller=member(OTHER))
    assert await count(catalog_db, models.Event) == 3 + 20


async def test_alerts_only_when_asked(catalog_db: Database) -> None:
    async with catalog_db.sessionmaker() as s, s.begin():
        s.add(models.Subscription(guild_id=HOME, channel_id=5, created_by=1))
    quiet = await run(catalog_db, CNS_EXCERPT.read_bytes(), "cns")
    assert quiet.alerts == 0 and await count(catalog_db, models.Delivery) == 0
    loud = await run(catalog_db, CSIS_CSV.read_bytes(), "csis", alert=True)
    assert loud.alerts == 10 and await count(catalog_db, models.Delivery) == 10


async def test_an_import_caps_its_alerts_per_channel(catalog_db: Database) -> None:
    async with catalog_db.sessionmaker() as s, s.begin():
        s.add_all(
            [
                models.Subscription(guild_id=HOME, channel_id=5, created_by=1),
                models.Subscription(guild_id=OTHER, channel_id=6, created_by=1),
                models.Subscription(guild_id=OTHER, channel_id=7, created_by=1, min_significance=5),
            ]
        )
    data = native(*(native_event(external_id=f"cap:{i}", title=f"Launch {i}") for i in range(7)))
    report = await run(catalog_db, data, "native", alert=True, alert_cap=3)
    assert (report.alerts, report.held_back, report.summaries) == (6, 8, 2)
    assert "at most 3 per channel per import: 2 channels get one" in report.summary()
    D = models.Delivery
    async with catalog_db.sessionmaker() as s:
        rows = (await s.execute(select(D.channel_id, D.action, D.summary_count).order_by(D.id))).all()
        last = await s.scalar(select(models.Event.id).where(models.Event.external_id == "cap:6"))
        summary_events = set((await s.scalars(select(D.event_id).where(D.action == "summary"))).all())
    for channel in (5, 6):
        mine = [(action, n) for c, action, n in rows if c == channel]
        assert mine == [("post", None)] * 3 + [("summary", 4)]
    assert not [r for r in rows if r.channel_id == 7]  # its filter still applies
    assert summary_events == {last}
    # The cap is per import: the next one may alert again.
    again = await run(
        catalog_db, native(native_event(external_id="cap:7", title="Launch 7")), "native", alert=True
    )
    assert (again.alerts, again.summaries) == (2, 0)


async def test_a_problem_in_a_late_batch_writes_nothing(
    catalog_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(write, "BATCH_ROWS", 2)  # five rows, three batches
    local = await run(catalog_db, native(native_event(external_id="x:1")), "native", caller=curator(OTHER))
    assert local.created == 1
    rows = [native_event(external_id=f"late:{i}", title=f"Launch {i}") for i in range(4)]
    rows.append(native_event(external_id=f"g{OTHER}:x:1", title="Not yours"))
    report = await run(catalog_db, native(*rows), "native")
    assert [(p.row, p.field) for p in report.problems] == [(5, "external id")]
    assert report.summary().endswith("nothing was written.")
    assert await count(catalog_db, models.Event) == 3 + 1


# --- native -------------------------------------------------------------------------------------


async def test_native_without_external_id_updates_on_reimport(catalog_db: Database) -> None:
    item = native_event()
    del item["external_id"]
    first = await run(catalog_db, native(item), "native")
    second = await run(catalog_db, json.dumps([{**item, "summary": "Revised."}]).encode(), "native")
    assert (first.created, second.created, second.updated) == (1, 0, 1)
    assert await count(catalog_db, models.Event) == 4


async def test_native_retracted_and_local_scope_restore(catalog_db: Database) -> None:
    item = native_event(status="retracted", retract_reason="Duplicate", scope=str(OTHER), revision=3)
    report = await run(catalog_db, native(item), "native")
    assert report.ok
    event = (await events(catalog_db))[f"g{OTHER}:test:1"]
    assert (event.status, event.retract_reason, event.guild_id, event.revision) == (
        "retracted",
        "Duplicate",
        OTHER,
        3,
    )


async def test_native_milestone_and_primary_track(catalog_db: Database) -> None:
    item = native_event(kind="talks_session", programs=[], primary_track="six-party", milestone=True)
    report = await run(catalog_db, native(item), "native")
    assert report.ok, report.problems
    event = (await events(catalog_db))["test:1"]
    assert event.milestone is True
    assert event.primary_track is not None and event.primary_track.slug == "six-party"
    assert [t.slug for t in event.tracks] == ["six-party"]
    # Unflagging it and moving the track to "related" is a revision like any other.
    related = {**item, "milestone": False, "primary_track": None, "tracks": ["six-party"]}
    again = await run(catalog_db, native(related), "native")
    assert again.updated == 1
    event = (await events(catalog_db))["test:1"]
    assert (event.milestone, event.primary_track) == (False, None)
    assert [t.slug for t in event.tracks] == ["six-party"]


async def test_native_unknown_primary_track_is_a_problem(catalog_db: Database) -> None:
    report = await run(catalog_db, native(native_event(primary_track="four-party")), "native")
    assert not report.ok
    assert any("four-party" in p.message for p in report.problems)
    assert await count(catalog_db, models.Event) == 3


# --- bad input: a clear report, and the database unchanged ---------------------------------------


def _cns_with(edit: str) -> bytes:
    text = CNS_EXCERPT.read_bytes().decode("cp1252")
    if edit == "columns":
        text += "999,1-Jan-99,oops\r\n"
    elif edit == "date":
        text = text.replace("\r\n4,Sep-84,", "\r\n4,13-Foo-84,", 1)
    return text.encode("cp1252")


BAD_INPUTS: list[tuple[str, bytes, str, str, str]] = [
    ("wrong column count", _cns_with("columns"), "cns", "row", "has 3 columns; the header has 19"),
    ("bad date", _cns_with("date"), "cns", "Date", "is not a date"),
    (
        "random bytes",
        random.Random(7).randbytes(4000) + b"\x00\x81",
        "cns",
        "file",
        "text",
    ),
    (
        "missing columns",
        b"date,type,event\n2020-01-01,Other,Thing\n",
        "csis",
        "columns",
        "description, resources",
    ),
    ("invalid json", b'{"format": "peninsula-brief/events", "events": [', "native", "file", "not valid JSON"),
    ("long title", native(native_event(title="x" * 5000)), "native", "title", "5000 characters"),
    ("unknown slug", native(native_event(programs=["no-such-program"])), "native", "programs", "not known"),
    (
        "javascript url",
        native(native_event(sources=[{"publisher": "X", "title": "Y", "url": "javascript:alert(1)"}])),
        "native",
        "sources.0.url",
        "http",
    ),
    ("bad kind", native(native_event(kind="coup")), "native", "kind", "must be one of"),
    (
        "wrong format tag",
        json.dumps({"format": "other", "version": 1, "events": []}).encode(),
        "native",
        "format",
        "",
    ),
]


@pytest.mark.parametrize(
    ("data", "fmt", "field", "message"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
async def test_bad_input_changes_nothing(
    catalog_db: Database, data: bytes, fmt: str, field: str, message: str
) -> None:
    before = await count(catalog_db, models.Event)
    audit_before = await count(catalog_db, models.AuditLog)  # the seed's rows, one per event
    report = await run(catalog_db, data, fmt)
    assert not report.ok
    assert any(p.field == field and message in p.message for p in report.problems), report.problems
    assert "nothing was written" in report.summary()
    assert await count(catalog_db, models.Event) == before == 3
    assert await count(catalog_db, models.AuditLog) - audit_before == 0


async def test_one_bad_row_means_nothing_is_written(catalog_db: Database) -> None:
    data = native(native_event(external_id="a:1"), native_event(external_id="a:2", date="2017-13-01"))
    report = await run(catalog_db, data, "native")
    assert [(p.row, p.field) for p in report.problems] == [(2, "date")]
    assert await count(catalog_db, models.Event) == 3
    csv_bad = (
        b"title,date,kind,sources\n"
        b'Good title,2020-01-01,missile_launch,"[{""publisher"": ""A"", ""title"": ""B""}]"\n'
        b"No,2020-01-01,missile_launch,[]\n"
    )
    report = await run(catalog_db, csv_bad, "native")
    assert {p.row for p in report.problems} == {2}
    assert await count(catalog_db, models.Event) == 3


async def test_oversized_file_is_refused_unread(sqlite_db: Database) -> None:
    report = await run(sqlite_db, b"\xff" * (MAX_BYTES + 1), "cns")
    assert [(p.field, p.message) for p in report.problems] == [("file", "is 20.0 MB; at most 20 MB allowed")]
    assert report.rows == 0


# --- the real datasets (../shared) ---------------------------------------------------------------


async def test_real_cns_dataset(catalog_db: Database, shared_dir: Path) -> None:
    data = (shared_dir / "datasets/cns-missile-tests/north_korea_missile_test_database.csv").read_bytes()
    report = await run(catalog_db, data, "cns")
    assert report.ok, report.problems[:5]
    # Record 33, the Unha-3 launch of 12 December 2012, merges into the sample corpus's event.
    assert (report.created, report.merged) == (244, 1)
    assert report.notes == ["row 33 (cns:33): merged into #2 (Unha-3 places a satellite in orbit from Sohae)"]
    stored = {k: e for k, e in (await events(catalog_db)).items() if k.startswith("cns:")}
    assert len(stored) == 244
    assert all(
        e.sources and e.sources[0].title == "CNS North Korea Missile Test Database" for e in stored.values()
    )
    assert sum(len(e.sources) > 1 for e in stored.values()) >= 240
    months = {k for k, e in stored.items() if e.precision == "month"}
    assert months == {f"cns:{n}" for n in range(4, 12)}
    assert stored["cns:16"].details["distance_km"] == 1380.0
    assert stored["cns:173"].details["apogee_km"] == 6248.0
    assert all(len(e.title) <= 200 and len(e.summary) <= 1500 for e in stored.values())
    assert sum(e.kind == "satellite_launch" for e in stored.values()) == 5


async def test_real_csis_dataset(catalog_db: Database, shared_dir: Path) -> None:
    folder = shared_dir / "datasets/csis-provocations"
    report = await run(
        catalog_db, (folder / "north_korea_provocations_1958_present.csv").read_bytes(), "csis"
    )
    assert report.ok, report.problems[:5]
    # The Unha-3 launch of 12 December 2012 and the nuclear test of 9 October 2006 (which links no
    # program in the sample catalog, like the row) merge into the sample corpus's events.
    assert (report.created, report.merged) == (491, 2)
    assert [n.split(": ", 1)[1] for n in report.notes] == [
        "merged into #2 (Unha-3 places a satellite in orbit from Sohae)",
        "merged into #1 (First nuclear test at Punggye-ri)",
    ]
    again = await run(
        catalog_db, (folder / "north_korea_provocations_1958_present.json").read_bytes(), "csis"
    )
    assert (again.created, again.updated, again.unchanged, again.merged) == (0, 0, 493, 0)
    stored = [e for e in (await events(catalog_db)).values() if (e.external_id or "").startswith("csis:")]
    assert len(stored) == 491 and all(e.sources for e in stored)
    assert sum(e.kind == "nuclear_test" for e in stored) == 5


async def test_import_audit_rows_name_the_file(catalog_db: Database) -> None:
    data = native(native_event(external_id="f:1"), native_event(external_id="f:2", title="Another launch"))
    report = await run(catalog_db, data, "native", filename="events.json")
    assert report.ok and report.created == 2
    again = await run(
        catalog_db, native(native_event(external_id="f:1", significance=5)), "native", filename="fix.json"
    )
    assert (again.updated, again.unchanged) == (1, 0)
    async with catalog_db.sessionmaker() as s:
        rows = (await s.scalars(select(models.AuditLog).order_by(models.AuditLog.id))).all()
    mine = [(a.action, a.details.get("file"), a.details.get("revision")) for a in rows[3:]]
    assert mine == [
        ("event.create", "events.json", 1),
        ("event.create", "events.json", 1),
        ("event.import", "events.json", None),
        ("event.edit", "fix.json", 2),
        ("event.import", "fix.json", None),
    ]
    assert all(
        a.details["format"] == "native" and a.details["via"] == "import"
        for a in rows[3:]
        if a.record_type == "event"
    )


# --- dataset rows merge into the events already recorded ------------------------------------------


async def _unha(db: Database) -> models.Event:
    return (await events(db))["seed:unha-3-2012-12"]


async def test_dataset_row_merges_into_the_curated_event(catalog_db: Database) -> None:
    before = await _unha(catalog_db)
    dry = await run(catalog_db, CNS_EXCERPT.read_bytes(), "cns", dry_run=True)
    note = f"row 5 (cns:33): merged into #{before.id} (Unha-3 places a satellite in orbit from Sohae)"
    assert (dry.created, dry.merged) == (10, 1) and dry.notes == [note]
    assert "1 merged into events already recorded" in dry.summary()
    assert [s.external_id for s in (await _unha(catalog_db)).sources] == [None]  # a dry run writes nothing

    report = await run(catalog_db, CNS_EXCERPT.read_bytes(), "cns")
    assert (report.created, report.merged) == (10, 1) and report.notes == [note]
    unha = await _unha(catalog_db)
    assert unha.revision == before.revision + 1
    merged = unha.sources[-1]
    assert (merged.external_id, merged.publisher) == (
        "cns:33",
        "James Martin Center for Nonproliferation Studies (CNS) / NTI",
    )
    assert merged.title == "CNS North Korea Missile Test Database, record 33"
    assert merged.details is not None and merged.details["dataset"] == "cns-missile-tests"
    assert merged.details["missile_name"] == "Unha-3" and merged.details["outcome"] == "Success"
    assert merged.position >= 1000 and unha.sources[0].title == before.sources[0].title
    # The event page shows the merged source with what the row records.
    view = await EventService(catalog_db.sessionmaker, dialect=catalog_db.dialect).get(unha.id)
    assert view.sources[-1].facts is not None and "Success" in view.sources[-1].facts
    async with catalog_db.sessionmaker() as s:
        audit = (
            await s.scalars(select(models.AuditLog).where(models.AuditLog.action == "event.merge"))
        ).all()
    assert [(a.record_id, a.details["source"]) for a in audit] == [(str(unha.id), "cns:33")]

    again = await run(catalog_db, CNS_EXCERPT.read_bytes(), "cns")
    assert (again.created, again.merged, again.updated, again.unchanged) == (0, 0, 0, 11)
    assert again.notes == [f"row 5 (cns:33): already merged into #{unha.id}"]
    assert (await _unha(catalog_db)).revision == unha.revision

    # A re-seed revises the event's own content and leaves the merged source alone.
    seeded = await load(catalog_db.sessionmaker, read_corpus(files=[FIXTURES / "corpus" / "sample.yaml"]))
    assert seeded.updated["events"] == 0
    assert [s.external_id for s in (await _unha(catalog_db)).sources] == [None, "cns:33"]


async def test_a_guild_import_merges_only_into_its_own_events(catalog_db: Database) -> None:
    local = native_event(external_id="local:hwasong-15", date="2017-11-29", programs=["icbm"])
    assert (await run(catalog_db, native(local), "native", caller=curator(THIRD))).created == 1
    mine = (await events(catalog_db))[f"g{THIRD}:local:hwasong-15"]

    # Another guild sees neither THIRD's event nor writes the shared one.
    other = await run(catalog_db, CNS_EXCERPT.read_bytes(), "cns", caller=curator(OTHER))
    unha = await _unha(catalog_db)
    assert (other.created, other.merged, other.skipped) == (10, 0, 1)
    assert other.notes == [
        f"row 5 (g{OTHER}:cns:33): already in the shared timeline as #{unha.id} "
        "(Unha-3 places a satellite in orbit from Sohae); not imported"
    ]
    assert [s.external_id for s in unha.sources] == [None]
    stored = await events(catalog_db)
    assert stored[f"g{OTHER}:cns:118"].guild_id == OTHER and len(stored[mine.external_id or ""].sources) == 1

    # THIRD's own import merges the Hwasong-15 row (a day before, by the dataset's date) into its event.
    third = await run(catalog_db, CNS_EXCERPT.read_bytes(), "cns", caller=curator(THIRD))
    assert (third.created, third.merged, third.skipped) == (9, 1, 1)
    assert f"row 6 (g{THIRD}:cns:118): merged into #{mine.id} (Hwasong-15 launch)" in third.notes
    mine = (await events(catalog_db))[mine.external_id or ""]
    assert [s.external_id for s in mine.sources] == [None, f"g{THIRD}:cns:118"]
    assert mine.sources[-1].details is not None and mine.sources[-1].details["apogee_km"] == 4475.0


async def test_rows_of_another_family_or_sharing_nothing_stay_events(catalog_db: Database) -> None:
    unha = await _unha(catalog_db)
    # A CSIS nuclear test the day after the satellite launch: another family.
    rows = [
        {
            "date": "2012-12-13",
            "type": "Nuclear Provocation",
            "event": "Nuclear Test",
            "description": "x",
            "resources": "",
        },
        # A launch of the same day that links no program the event has.
        {
            "date": "2012-12-12",
            "type": "Missile Provocation",
            "event": "Cruise Missile Launch",
            "description": "y",
            "resources": "",
        },
        # A satellite launch three days later: too far.
        {
            "date": "2012-12-15",
            "type": "Missile Provocation",
            "event": "Satellite Launch",
            "description": "z",
            "resources": "",
        },
    ]
    report = await run(catalog_db, json.dumps(rows).encode(), "csis")
    assert (report.created, report.merged, report.notes) == (3, 0, [])
    assert [s.external_id for s in (await _unha(catalog_db)).sources] == [None]
    assert (await _unha(catalog_db)).revision == unha.revision
