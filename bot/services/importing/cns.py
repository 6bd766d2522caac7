"""The CNS North Korea Missile Test Database (James Martin Center for Nonproliferation Studies,
published by NTI): one CSV row per launch, each an event in our words."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

from bot.i18n import N_
from bot.services.errors import FieldProblem
from bot.services.importing.cells import (
    ImportRow,
    cell_text,
    cut,
    dataset_date,
    km_text,
    parse_float,
    parse_km,
    read_csv,
    source_for,
    split_sources,
    time_utc,
)
from bot.services.validation import SUMMARY_MAX, TITLE_MAX, EventInput, SourceInput

CNS_REQUIRED = (
    "F1",
    "Date",
    "Missile Name",
    "Missile Type",
    "Facility Name",
    "Apogee",
    "Distance Travelled",
    "Test Outcome",
    "Source(s)",
)
CNS_SOURCE = "James Martin Center for Nonproliferation Studies (CNS) / NTI"
CNS_TITLE = "CNS North Korea Missile Test Database"
CNS_PROGRAMS = {
    "ICBM": "icbm",
    "IRBM": "irbm",
    "SLBM": "slbm",
    "SLV": "space-launch",
    "SRBM": "short-range-ballistic",
    "MRBM": "short-range-ballistic",
    "HGV": "hypersonic",
    "CRUISE": "cruise-missiles",
}
# Significance by missile type, kept simple: long range and space launches matter most; a failed
# test is not rated lower (a failure of a new system is news too).
CNS_SIGNIFICANCE = {"ICBM": 4, "SLV": 4, "IRBM": 3, "SLBM": 3}
# Text cells read as they stand (trimmed, empty as None): the record's field ← the CSV column.
CNS_TEXT_CELLS = {
    "missile_name": "Missile Name",
    "missile_type": "Missile Type",
    "facility": "Facility Name",
    "facility_location": "Facility Location",
    "landing_location": "Landing Location",
    "outcome": "Test Outcome",
    "confirmation": "Confirmation Status",
}
# Lengths in kilometres, kept as the figure (``<key>_km``) and as reported (``<key>_reported``).
CNS_KM_CELLS = {"apogee": "Apogee", "distance": "Distance Travelled"}
# The cells of a record kept in the event's details, as cleaned by ``_cns_record`` (the publisher's
# own prose in ``additional_information`` is attributed by the dataset source, never our summary).
CNS_DETAILS = (
    "record",
    "missile_name",
    "missile_type",
    "facility",
    "facility_location",
    "latitude",
    "longitude",
    "landing_location",
    "apogee_km",
    "apogee_reported",
    "distance_km",
    "distance_reported",
    "outcome",
    "confirmation",
    "launch_time_utc",
    "additional_information",
)
_SLV_NAMES = re.compile(r"\b(unha|chollima|safir|taepodong-1|paektusan)\b", re.I)


def _cns_programs(mtype: str | None, name: str | None) -> list[str]:
    out = []
    if mtype and mtype.upper() in CNS_PROGRAMS:
        out.append(CNS_PROGRAMS[mtype.upper()])
    lowered = (name or "").lower()
    if "cruise" in lowered or (mtype or "").lower().startswith("cruise"):
        out.append("cruise-missiles")
    if "hwasong-8" in lowered or "hypersonic" in lowered:
        out.append("hypersonic")
    if not out and re.search(r"scud|nodong|kn-\d", lowered):
        out.append("short-range-ballistic")
    return list(dict.fromkeys(out))


def _cns_title(r: dict[str, Any]) -> str:
    name, mtype, facility = r["missile_name"], r["missile_type"], r["facility"]
    if r["satellite"]:
        head = f"{name} satellite launch" if name else "Satellite launch"
    else:
        head = " ".join(p for p in (name, mtype) if p) + " launch" if (name or mtype) else "Missile launch"
    return f"{head} from {facility}" if facility else head


def _cns_summary(r: dict[str, Any]) -> str:
    parts: list[str] = []
    outcome = (r["outcome"] or "").lower()
    what = "satellite launch" if r["satellite"] else "launch"
    if outcome == "success":
        parts.append(f"The {what} succeeded.")
    elif outcome == "failure":
        parts.append(f"The {what} failed.")
    else:
        parts.append(f"The outcome of the {what} is not known.")
    if (r["confirmation"] or "").lower() == "unconfirmed":
        parts.append("The launch itself is unconfirmed.")
    flight = []
    if r["apogee_km"] is not None:
        flight.append(f"apogee about {km_text(r['apogee_km'])} km")
    if r["distance_km"] is not None:
        flight.append(f"distance travelled about {km_text(r['distance_km'])} km")
    if flight:
        parts.append(flight[0][0].upper() + "; ".join(flight)[1:] + ".")
    if r["facility"]:
        where = f" ({r['facility_location']})" if r["facility_location"] else ""
        parts.append(f"Launched from {r['facility']}{where}.")
    if r["landing_location"]:
        parts.append(f"Landing area: {r['landing_location']}.")
    if r["launch_time_utc"]:
        parts.append(f"Launch time {r['launch_time_utc'][:5]} UTC.")
    parts.append(f"Record {r['record']} of the {CNS_TITLE}.")
    return cut(" ".join(parts), SUMMARY_MAX)


def _cns_record(
    rec: dict[str, str], number: int, problems: list[FieldProblem], today: dt.date | None
) -> dict[str, Any]:
    """One CSV record's cells, cleaned; a missing id or date is a problem of the row."""
    record = cell_text(rec["F1"])
    date_text = rec["Date"].strip()
    date = dataset_date(date_text, today=today)
    if record is None:
        problems.append(FieldProblem("F1", N_("is required (it is the record's id)"), number))
    if date is None:
        problems.append(
            FieldProblem(
                "Date",
                N_("“{value}” is not a date such as 9-Apr-84 or Sep-84"),
                number,
                params={"value": date_text[:40]},
            )
        )
    entered = cell_text(rec.get("Date Entered/Updated"))
    r: dict[str, Any] = {
        "record": record,
        "date": date,
        "entered": dataset_date(entered, today=today) if entered else None,
    }
    r.update((key, cell_text(rec.get(column))) for key, column in CNS_TEXT_CELLS.items())
    for key, column in CNS_KM_CELLS.items():
        r[f"{key}_km"], r[f"{key}_reported"] = parse_km(rec[column])
    name, mtype = r["missile_name"], r["missile_type"]
    r["satellite"] = (mtype or "").upper() == "SLV" or bool(name and _SLV_NAMES.search(name))
    r["latitude"] = parse_float(rec.get("Facility Latitude"))
    r["longitude"] = parse_float(rec.get("Facility Longitude"))
    r["launch_time_utc"] = time_utc(rec.get("Launch Time (UTC)"))
    r["additional_information"] = (rec.get("Additional Information") or "").strip() or None
    r["sources"] = rec["Source(s)"]
    return r


def _cns_row(number: int, r: dict[str, Any], title: str) -> ImportRow:
    sources = [SourceInput(CNS_SOURCE, CNS_TITLE, r["entered"])]
    sources += [source_for(k, v) for k, v in split_sources(r["sources"])]
    details = {"dataset": "cns-missile-tests", **{key: r[key] for key in CNS_DETAILS}}
    return ImportRow(
        number,
        EventInput(
            title=cut(title, TITLE_MAX),
            summary=_cns_summary(r),
            date=r["date"],
            kind="satellite_launch" if r["satellite"] else "missile_launch",
            significance=CNS_SIGNIFICANCE.get((r["missile_type"] or "").upper(), 2),
            programs=_cns_programs(r["missile_type"], r["missile_name"]),
            actors=["dprk"],
            sources=sources,
            external_id=f"cns:{r['record']}",
            details=details,
        ),
        strict_links=False,
        merged_title=f"{CNS_TITLE}, record {r['record']}",
    )


def parse_cns(text: str, problems: list[FieldProblem], *, today: dt.date | None = None) -> list[ImportRow]:
    """Rows of the CNS missile test database; each becomes an event."""
    parsed = [
        (number, _cns_record(rec, number, problems, today))
        for number, rec in read_csv(text, CNS_REQUIRED, problems)
    ]
    # Salvos are several rows with the same date and system: number them so titles tell them apart.
    titles = {n: _cns_title(r) for n, r in parsed if r["date"]}
    groups = Counter((r["date"], titles[n]) for n, r in parsed if r["date"])
    seen: Counter[tuple[str, str]] = Counter()
    rows: list[ImportRow] = []
    for number, r in parsed:
        if r["date"] is None or r["record"] is None:
            continue
        key = (r["date"], titles[number])
        seen[key] += 1
        title = titles[number]
        if groups[key] > 1:
            title = f"{title} ({seen[key]} of {groups[key]})"
        rows.append(_cns_row(number, r, title))
    return rows
