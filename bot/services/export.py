"""Exporting events in the native format (JSON or CSV) that the native importer reads back.

The operator's export (CLI) holds every event with its scope; a guild's export (``/curate
export``) holds the global events and that guild's local ones. Output is deterministic (events by
date then id, keys in a fixed order), so exporting an imported export gives the same text.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal

from sqlalchemy import select

from bot import models
from bot.db import Sessionmaker
from bot.services.dates import iso_with_precision
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.events import with_links
from bot.services.filters import visible
from bot.services.importing.cells import guard_formula
from bot.services.importing.native import NATIVE_COLUMNS, NATIVE_FORMAT, NATIVE_VERSION
from bot.services.lifecycle import own_sources
from bot.services.links import KINDS, LINK_FIELDS


def export_id(event: models.Event) -> str:
    """The id an event stored without one is exported under (with its guild's prefix if local)."""
    return f"pb:{event.id}" if event.guild_id is None else f"g{event.guild_id}:pb:{event.id}"


def event_record(event: models.Event) -> dict[str, Any]:
    """One event as a native-format record (see data/schema/events.schema.json)."""
    return {
        "external_id": event.external_id or export_id(event),
        "title": event.title,
        "summary": event.summary,
        "date": iso_with_precision(event.occurred_on, event.precision),
        "kind": event.kind,
        "significance": event.significance,
        "status": event.status,
        "retract_reason": event.retract_reason,
        "scope": "global" if event.guild_id is None else str(event.guild_id),
        **{k.field: [r.slug for r in getattr(event, k.field)] for k in KINDS},
        "primary_track": event.primary_track.slug if event.primary_track else None,
        "milestone": event.milestone,
        "sources": [
            {
                "publisher": s.publisher,
                "title": s.title,
                "date": iso_with_precision(s.published_on, s.published_precision) if s.published_on else None,
                "url": s.url,
            }
            for s in own_sources(event)
        ],
        "details": dict(event.details or {}),
        "revision": event.revision,
        "i18n": dict(event.i18n or {}),
    }


async def export_records(
    sessionmaker: Sessionmaker, *, guild_id: int | None = None, all_scopes: bool = True
) -> list[dict[str, Any]]:
    stmt = with_links(select(models.Event)).order_by(models.Event.occurred_on, models.Event.id)
    if not all_scopes:
        stmt = stmt.where(visible(guild_id))
    async with sessionmaker() as session:
        events = (await session.scalars(stmt)).all()
        return [event_record(e) for e in events]


def _csv_cell(column: str, value: Any) -> str:
    """One CSV cell; one a spreadsheet would run as a formula is guarded with a leading ``'``."""
    if value is None:
        return ""
    if column in LINK_FIELDS:
        return guard_formula(";".join(value))
    if column in ("sources", "details", "i18n"):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return guard_formula(str(value))


async def export_events(
    sessionmaker: Sessionmaker,
    fmt: Literal["json", "csv"] | str,
    *,
    guild_id: int | None = None,
    all_scopes: bool = True,
) -> str:
    """Every event (``all_scopes``), or the global ones plus ``guild_id``'s local ones, as text.

    JSON: ``{"format": "peninsula-brief/events", "version": 1, "events": [...]}``. CSV: one row
    per event, list fields joined with ``;``, sources, details and translations (``i18n``) as JSON
    strings, and a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    prefixed with ``'`` so that a spreadsheet shows it instead of running it (the native import
    removes the prefix again).
    """
    if fmt not in ("json", "csv"):
        raise ValidationFailed([FieldProblem("format", f"“{fmt}” is not json or csv")])
    records = await export_records(sessionmaker, guild_id=guild_id, all_scopes=all_scopes)
    if fmt == "json":
        doc = {"format": NATIVE_FORMAT, "version": NATIVE_VERSION, "events": records}
        return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NATIVE_COLUMNS)
    for record in records:
        writer.writerow([_csv_cell(c, record[c]) for c in NATIVE_COLUMNS])
    return out.getvalue()
