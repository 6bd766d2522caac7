"""CSIS Beyond Parallel's Database of North Korean Provocations (CSV or JSON): one record per
provocation, each an event in our words."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter

from bot.i18n import N_
from bot.services.dates import format_date
from bot.services.errors import FieldProblem
from bot.services.importing.cells import (
    ImportRow,
    cut,
    dataset_date,
    load_json,
    read_csv,
    source_for,
    split_sources,
)
from bot.services.validation import SUMMARY_MAX, TITLE_MAX, EventInput, SourceInput

CSIS_REQUIRED = ("date", "type", "event", "description", "resources")
CSIS_SOURCE = "CSIS Beyond Parallel"
CSIS_TITLE = "Database of North Korean Provocations"
_MILITARY = re.compile(
    r"fire|infiltrat|incursion|attack|sink|shot|ambush|bomb|assault|seiz|hijack|captur|exercise|drone|"
    r"shell|campaign|naval|killing|murder|assassinat|explosion|detain|intercept|enroach|encroach|mine|"
    r"artillery|raid|deploy|manhunt|jamming|uav|submarine|barracks|clash",
    re.I,
)
_FACILITY = re.compile(r"engine test|uranium|reactor|nuclear fuel|rocket experiment", re.I)


def csis_kind(ptype: str, event: str) -> str:
    e = event.lower()
    if "nuclear test" in e:
        return "nuclear_test"
    if "satellite" in e or "space launch" in e:
        return "satellite_launch"
    if "missile" in e or "mlrs" in e or "rocket system" in e or "mirv" in e or "rentry vehicle" in e:
        return "missile_launch"
    if _FACILITY.search(e):
        return "facility_activity"
    if "npt" in e or "declar" in e:
        return "statement"
    if ptype.lower().startswith("nuclear") and "detonation" in e:
        return "nuclear_test"
    if _MILITARY.search(e):
        return "military_action"
    return "other"


def csis_programs(event: str) -> list[str]:
    e = event.lower()
    out = []
    rules = (
        (r"intercontinental|inter-continental|\bicbm\b", "icbm"),
        (r"intermediate-range|\birbm\b", "irbm"),
        (r"submarine launched|submarine-launched|\bslbm\b|nuclear-powered submarine", "slbm"),
        (r"satellite|space launch", "space-launch"),
        (
            r"short-range ballistic|short-range missile|medium-range|\bsrbm\b|\bmrbm\b",
            "short-range-ballistic",
        ),
        (r"^ballistic missile launch", "short-range-ballistic"),
        (r"cruise", "cruise-missiles"),
        (r"hypersonic", "hypersonic"),
        (r"nuclear test|nuclear detonation", "nuclear-weapons"),
        (r"uranium|reactor|nuclear fuel", "fissile-material"),
    )
    for pattern, slug in rules:
        if re.search(pattern, e) and slug not in out:
            out.append(slug)
    return out


def csis_significance(kind: str, event: str) -> int:
    """Nuclear tests 5; ICBMs and satellite launches 4; IRBMs, SLBMs and armed clashes 3; other
    missile launches 2; everything else 1."""
    e = event.lower()
    if kind == "nuclear_test":
        return 5
    if kind == "satellite_launch" or re.search(r"intercontinental|inter-continental|icbm", e):
        return 4
    if re.search(r"intermediate|submarine launched|slbm", e) or kind == "military_action":
        return 3
    if kind == "missile_launch":
        return 2
    return 1


def csis_external_id(date: str, ptype: str, event: str, description: str) -> str:
    key = f"{date}|{ptype}|{event}|{description[:80]}"
    return "csis:" + hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def _csis_records(text: str, problems: list[FieldProblem]) -> list[tuple[int, dict[str, str]]]:
    if text.lstrip()[:1] not in ("[", "{"):
        return read_csv(text, CSIS_REQUIRED, problems)
    try:
        doc = load_json(text)
    except json.JSONDecodeError as exc:
        problems.append(
            FieldProblem(
                "file",
                N_("is not valid JSON: {error} at line {line}"),
                params={"error": exc.msg, "line": exc.lineno},
            )
        )
        return []
    if isinstance(doc, dict):  # tolerate {"records": [...]} or any single list of records
        lists = [v for v in doc.values() if isinstance(v, list)]
        doc = lists[0] if len(lists) == 1 else None
    if not isinstance(doc, list):
        problems.append(FieldProblem("file", N_("must be a JSON list of records")))
        return []
    out: list[tuple[int, dict[str, str]]] = []
    for number, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            problems.append(FieldProblem("row", N_("is not an object"), number))
            continue
        missing = [c for c in CSIS_REQUIRED if c not in item]
        if missing:
            problems.append(
                FieldProblem(
                    "columns",
                    N_("missing required field(s): {names}"),
                    number,
                    params={"names": ", ".join(missing)},
                )
            )
            continue
        out.append((number, {k: "" if v is None else str(v) for k, v in item.items()}))
    return out


def parse_csis(text: str, problems: list[FieldProblem], *, today: dt.date | None = None) -> list[ImportRow]:
    """Rows of the CSIS provocations database (its CSV or JSON form give the same events)."""
    records = _csis_records(text, problems)
    if not records:
        return []
    names = Counter(" ".join(rec["event"].split()).casefold() for _, rec in records)
    occurrences: Counter[str] = Counter()
    rows: list[ImportRow] = []
    for number, rec in records:
        date_text = rec["date"].strip()
        date = dataset_date(date_text, today=today)
        if date is None:
            problems.append(
                FieldProblem(
                    "date",
                    N_("“{value}” is not a date (YYYY-MM-DD)"),
                    number,
                    params={"value": date_text[:40]},
                )
            )
            continue
        ptype = " ".join(rec["type"].split())
        event = " ".join(rec["event"].split())
        description = rec["description"].strip()
        if not event:
            problems.append(FieldProblem("event", N_("is required"), number))
            continue
        external_id = csis_external_id(date_text, ptype, event, description)
        occurrences[external_id] += 1
        if occurrences[external_id] > 1:  # identical rows stay distinct, in file order
            external_id += f"-{occurrences[external_id]}"
        day = format_date(dt.date.fromisoformat(date), "day")
        # A generic name ("Artillery Fire") recurs; the date tells the occurrences apart.
        title = event if names[event.casefold()] == 1 else f"{event} ({day})"
        kind = csis_kind(ptype, event)
        sources = [SourceInput(CSIS_SOURCE, CSIS_TITLE)]
        sources += [source_for(k, v) for k, v in split_sources(rec["resources"])]
        summary = f"{CSIS_SOURCE} lists “{event}” on {day}" + (f" ({ptype})." if ptype else ".")
        rows.append(
            ImportRow(
                number,
                EventInput(
                    title=cut(title, TITLE_MAX),
                    summary=cut(summary, SUMMARY_MAX),
                    date=date,
                    kind=kind,
                    significance=csis_significance(kind, event),
                    programs=csis_programs(event),
                    actors=["dprk"],
                    sources=sources,
                    external_id=external_id,
                    details={
                        "dataset": "csis-provocations",
                        "csis_type": ptype or None,
                        "csis_event": event,
                        # CSIS's own prose, attributed by the dataset source; never our summary.
                        "description": description or None,
                        "resources": rec["resources"].strip() or None,
                    },
                ),
                strict_links=False,
                merged_title=f"{CSIS_TITLE}: {event} ({day})",
            )
        )
    return rows
