"""The native format, what ``export_events`` writes: the JSON export document, a bare JSON list
of events, or the CSV export (data/schema/events.schema.json)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from bot.i18n import N_
from bot.resources import data_dir
from bot.services.errors import FieldProblem, Term
from bot.services.importing.cells import ImportRow, load_json, read_csv, unguard_formula
from bot.services.links import LINK_FIELDS
from bot.services.validation import EventInput, SourceInput

SCHEMA_PATH = data_dir() / "schema" / "events.schema.json"
NATIVE_FORMAT = "peninsula-brief/events"
NATIVE_VERSION = 1
NATIVE_COLUMNS = (
    "external_id",
    "title",
    "summary",
    "date",
    "kind",
    "significance",
    "status",
    "retract_reason",
    "scope",
    "programs",
    "systems",
    "facilities",
    "actors",
    "tracks",
    "primary_track",
    "milestone",
    "sources",
    "details",
    "revision",
    "i18n",
)
NATIVE_REQUIRED = ("title", "date", "kind", "sources")


@cache
def native_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text("utf-8"))
    return loaded


@cache
def _validators() -> tuple[Draft202012Validator, Draft202012Validator]:
    schema = native_schema()
    event_schema = {"$ref": "#/$defs/event", "$defs": schema["$defs"]}
    return Draft202012Validator(schema), Draft202012Validator(event_schema)


def _schema_problem(err: ValidationError, row: int | None) -> FieldProblem:
    where = ".".join(str(p) for p in err.absolute_path) or Term(N_("(event)"))
    value, rule, limit = err.instance, err.validator, err.validator_value
    params: dict[str, object] = {"high": limit, "low": limit, "most": limit}
    if rule == "maxLength" and isinstance(value, str):
        message, params["length"] = N_("is {length} characters; at most {high} allowed"), len(value)
    elif rule == "minLength" and isinstance(value, str):
        message = N_("is required") if not value else N_("must be at least {low} characters")
    elif rule == "pattern" and isinstance(value, str):
        params["value"] = value if len(value) <= 60 else value[:57] + "…"
        if where.endswith("url"):
            message = N_("“{value}” does not have the expected form (an http:// or https:// address)")
        else:
            message = N_("“{value}” does not have the expected form")
    elif rule == "enum" and isinstance(limit, list):
        message, params["known"] = N_("must be one of {known}"), ", ".join(str(v) for v in limit)
    elif rule == "required" and isinstance(value, dict) and isinstance(limit, list):
        missing = [f"`{name}`" for name in limit if name not in value]
        message, params["names"] = N_("is missing {names}"), ", ".join(missing)
    elif rule == "additionalProperties" and isinstance(value, dict) and isinstance(err.schema, Mapping):
        known = err.schema.get("properties") or {}
        extra = [f"`{name}`" for name in value if name not in known][:5]
        message, params["names"] = N_("has fields this format does not know: {names}"), ", ".join(extra)
    elif rule == "type":
        message, params["type"] = N_("must be {type}"), f"`{limit}`"
    elif rule == "maximum":
        message = N_("must be at most {most}")
    else:  # the validator's own words ("'title' is a required property"): names and types as written
        message = err.message if len(err.message) <= 200 else err.message[:197] + "…"
        params = {}
    return FieldProblem(where, message, row, params=params)


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


def _native_csv_row(rec: dict[str, str], number: int, problems: list[FieldProblem]) -> dict[str, Any] | None:
    """A CSV row of the native export as the JSON event it stands for."""
    out: dict[str, Any] = {}
    ok = True
    for column, guarded in rec.items():
        cell = unguard_formula(guarded)
        if column not in NATIVE_COLUMNS:
            problems.append(
                FieldProblem(column or "(unnamed column)", N_("is not a column of this format"), number)
            )
            ok = False
            continue
        if column in LINK_FIELDS:
            out[column] = _split_list(cell)
        elif column in ("sources", "details", "i18n"):
            if not cell.strip():
                if column != "i18n":  # an empty i18n cell keeps the stored translations
                    out[column] = [] if column == "sources" else {}
                continue
            try:
                out[column] = load_json(cell)
            except json.JSONDecodeError as exc:
                problems.append(
                    FieldProblem(column, N_("is not valid JSON ({error})"), number, params={"error": exc.msg})
                )
                ok = False
        elif column in ("significance", "revision"):
            out[column] = int(cell) if re.fullmatch(r"\s*\d{1,6}\s*", cell) else cell
        elif column in ("external_id", "retract_reason"):
            out[column] = cell if cell.strip() else None
        elif column == "primary_track":
            out[column] = cell.strip() or None
        elif column == "milestone":
            out[column] = {"true": True, "false": False, "": False}.get(cell.strip().lower(), cell)
        else:
            out[column] = cell
    return out if ok else None


def _native_records(text: str, problems: list[FieldProblem]) -> list[tuple[int, Any]]:
    if text.lstrip()[:1] not in ("[", "{"):
        records = read_csv(text, NATIVE_REQUIRED, problems)
        out: list[tuple[int, Any]] = []
        for number, rec in records:
            item = _native_csv_row(rec, number, problems)
            if item is not None:
                out.append((number, item))
        return out
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
    if isinstance(doc, dict):
        document, _ = _validators()
        errors = sorted(document.iter_errors({**doc, "events": []}), key=lambda e: list(e.absolute_path))
        problems.extend(_schema_problem(e, None) for e in errors)
        if errors:
            return []
        doc = doc["events"]
    if not isinstance(doc, list):
        problems.append(FieldProblem("file", N_("must be an export document or a JSON list of events")))
        return []
    return list(enumerate(doc, start=1))


def parse_native(text: str, problems: list[FieldProblem]) -> list[ImportRow]:
    """Events in the native format: the JSON document export_events writes, a bare JSON list of
    events, or the CSV export."""
    _, event_validator = _validators()
    rows: list[ImportRow] = []
    for number, item in _native_records(text, problems):
        errors = sorted(event_validator.iter_errors(item), key=lambda e: list(e.absolute_path))
        if errors:
            problems.extend(_schema_problem(e, number) for e in errors)
            continue
        scope_value = item.get("scope", "global")
        scope: int | None = None if str(scope_value) == "global" else int(scope_value)
        rows.append(
            ImportRow(
                number,
                EventInput(
                    title=item["title"],
                    summary=item.get("summary", ""),
                    date=item["date"],
                    kind=item["kind"],
                    significance=item.get("significance", 3),
                    programs=item.get("programs", []),
                    actors=item.get("actors", []),
                    tracks=item.get("tracks", []),
                    systems=item.get("systems", []),
                    facilities=item.get("facilities", []),
                    sources=[
                        SourceInput(s["publisher"], s["title"], s.get("date"), s.get("url"))
                        for s in item["sources"]
                    ],
                    external_id=item.get("external_id") or _content_id(item),
                    details=dict(item.get("details") or {}),
                    milestone=item.get("milestone", False),
                    primary_track=item.get("primary_track"),
                    i18n=item.get("i18n"),
                ),
                scope=scope,
                status=item.get("status", "published"),
                retract_reason=item.get("retract_reason"),
                revision=item.get("revision"),
            )
        )
    return rows


def _content_id(item: dict[str, Any]) -> str:
    """A stable id for a hand-written event without one, so that importing it twice updates it."""
    key = f"{item['date']}|{item['kind']}|{' '.join(str(item['title']).split()).casefold()}"
    return "import:" + hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
