"""Importing both shared datasets after seeding the real corpus creates no second copy of a curated
event: every CNS or CSIS row dated within a day of a curated event of its kind family that shares
a program, system or facility with it merges into that event (importing.merge)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from sqlalchemy import select

from bot import models
from bot.services.access import Caller
from bot.services.container import Services
from bot.services.dates import period_end
from bot.services.events import with_links
from bot.services.importing import ImportReport, import_file
from bot.services.importing.merge import FAMILIES, SHARED, curated

DATASETS = {
    "cns": ("cns-missile-tests", "north_korea_missile_test_database.csv"),
    "csis": ("csis-provocations", "north_korea_provocations_1958_present.json"),
}


async def _import(services: Services, shared: Path, fmt: str) -> ImportReport:
    folder, name = DATASETS[fmt]
    data = (shared / "datasets" / folder / name).read_bytes()
    return await import_file(
        services.sessionmaker, data, fmt, caller=Caller.system(), policy=services.policy, filename=name
    )


def _near(a: models.Event, b: models.Event) -> bool:
    gap = max((b.occurred_on - period_end(a.occurred_on, a.precision)).days, 0)
    gap = max(gap, (a.occurred_on - period_end(b.occurred_on, b.precision)).days)
    return gap <= 1


def _shared_links(a: models.Event, b: models.Event) -> set[tuple[str, int]]:
    def of(e: models.Event) -> set[tuple[str, int]]:
        return {(k.field, r.id) for k in SHARED for r in getattr(e, k.field)}

    return of(a) & of(b)


async def test_importing_both_datasets_after_seeding_duplicates_no_curated_event(
    corpus: Services, shared_dir: Path
) -> None:
    started = time.perf_counter()
    cns = await _import(corpus, shared_dir, "cns")
    csis = await _import(corpus, shared_dir, "csis")
    elapsed = time.perf_counter() - started
    assert cns.ok and csis.ok, (cns.problems[:3], csis.problems[:3])
    assert cns.merged > 100 and csis.merged > 50, (cns.summary(), csis.summary())

    async with corpus.sessionmaker() as session:
        events = list((await session.scalars(with_links(select(models.Event)))).all())
    imported = [e for e in events if not curated(e)]
    kept = [e for e in events if curated(e) and e.status == "published" and e.precision != "year"]
    duplicates = [
        (new.external_id, new.occurred_on, old.id, old.title)
        for new in imported
        if new.kind in FAMILIES and new.precision != "year"
        for old in kept
        if FAMILIES.get(old.kind) == FAMILIES[new.kind] and _near(new, old) and _shared_links(new, old)
    ]
    assert duplicates == []

    # The two cases the issue names: the sixth nuclear test and the nuclear-powered submarine.
    by_date = {
        day: [e for e in events if e.occurred_on == day and e.kind in FAMILIES]
        for day in (dt.date(2017, 9, 3), dt.date(2025, 12, 25))
    }
    for day, found in by_date.items():
        assert len(found) == 1, (day, [(e.external_id, e.title) for e in found])
        merged = [s for s in found[0].sources if s.external_id]
        assert merged and all(s.details for s in merged), day
    test_rows = [s for s in by_date[dt.date(2017, 9, 3)][0].sources if s.external_id]
    assert any((s.details or {}).get("csis_type") == "Nuclear Provocation" for s in test_rows)

    # Importing both again adds nothing: every row is found where it went the first time.
    again = [await _import(corpus, shared_dir, fmt) for fmt in ("cns", "csis")]
    for report in again:
        assert (report.created, report.merged, report.updated) == (0, 0, 0), report.summary()
    async with corpus.sessionmaker() as session:
        assert len((await session.scalars(select(models.Event.id))).all()) == len(events)
    print(f"\n{cns.summary()}\n{csis.summary()}\nfirst imports of both datasets: {elapsed:.2f} s")
