"""The launch record is complete: every launch day of the two public datasets has a curated event.

The CNS missile-test database (1984-2023) and the CSIS provocations database (its missile provocations from
2022 on) sit in ``../shared/datasets``; these tests skip cleanly when that folder is absent. The datasets mix
UTC and Korean local dates, so a curated event within one day of a dataset date covers it; an event known
only to the month covers every day of that month.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from bot.services.dates import parse_date
from bot.services.seed import read_corpus

CNS = Path("datasets/cns-missile-tests/north_korea_missile_test_database.csv")
CSIS = Path("datasets/csis-provocations/north_korea_provocations_1958_present.json")
# Kinds that record a launch day; artillery salvoes and engine tests, which CSIS files under missile
# provocations, are recorded as military actions and facility activity.
LAUNCH_KINDS = {"missile_launch", "satellite_launch", "military_action", "facility_activity"}


def cns_dates(shared: Path) -> set[tuple[dt.date, str]]:
    """(date, precision) of every CNS row: ``9-Apr-84`` is a day, ``Sep-84`` a month."""
    text = (shared / CNS).read_bytes().decode("utf-8", errors="replace")
    out: set[tuple[dt.date, str]] = set()
    for row in csv.DictReader(text.splitlines(keepends=True)):
        raw = row["Date"].strip()
        for fmt, precision in (("%d-%b-%y", "day"), ("%b-%y", "month")):
            try:
                day = dt.datetime.strptime(raw, fmt).date()
            except ValueError:
                continue
            out.add((day, precision))
            break
        else:
            pytest.fail(f"unreadable CNS date {raw!r}")
    return out


def csis_missile_dates(shared: Path, since: int = 2022) -> set[dt.date]:
    rows = json.loads((shared / CSIS).read_text(encoding="utf-8"))
    return {
        dt.date.fromisoformat(r["date"])
        for r in rows
        if r["type"] == "Missile Provocation" and int(r["date"][:4]) >= since
    }


def launch_events() -> list[tuple[dt.date, str, str]]:
    events = read_corpus().sections["events"]
    return [(*parse_date(e["date"]), e["id"]) for e in events if e["kind"] in LAUNCH_KINDS]


def covered(day: dt.date, precision: str, events: list[tuple[dt.date, str, str]]) -> bool:
    for when, event_precision, _ in events:
        if precision == "month" or event_precision == "month":
            if (when.year, when.month) == (day.year, day.month):
                return True
        elif event_precision == "day" and abs((when - day).days) <= 1:
            return True
    return False


def test_every_cns_launch_day_has_a_curated_event(shared_dir: Path) -> None:
    events = launch_events()
    missing = sorted(f"{d} ({p})" for d, p in cns_dates(shared_dir) if not covered(d, p, events))
    assert not missing, f"CNS launch days with no curated event: {missing}"


def test_every_csis_missile_provocation_since_2022_has_a_curated_event(shared_dir: Path) -> None:
    events = launch_events()
    dates = csis_missile_dates(shared_dir)
    assert len(dates) > 100  # the dataset really was read
    missing = sorted(str(d) for d in dates if not covered(d, "day", events))
    assert not missing, f"CSIS missile provocations with no curated event: {missing}"


def test_the_coverage_check_can_fail() -> None:
    events = [(dt.date(2017, 4, 16), "day", "x"), (dt.date(1984, 4, 1), "month", "y")]
    assert covered(dt.date(2017, 4, 15), "day", events)
    assert not covered(dt.date(2017, 4, 18), "day", events)
    assert covered(dt.date(1984, 4, 9), "day", events)
    assert not covered(dt.date(1984, 9, 1), "month", events)


def test_one_event_per_launch_day() -> None:
    """A salvo is one event: no two curated launches share a day."""
    seen: dict[tuple[dt.date, str], str] = {}
    clashes: list[str] = []
    for when, precision, event_id in launch_events():
        if precision != "day":
            continue
        if (when, precision) in seen:
            clashes.append(f"{seen[(when, precision)]} and {event_id} on {when}")
        seen[(when, precision)] = event_id
    assert not clashes, clashes
