"""Importing events from files: the native format (JSON or CSV, as exported) and two public
datasets, the CNS North Korea Missile Test Database and CSIS Beyond Parallel's Database of North
Korean Provocations.

Every import is all-or-nothing: the whole file is parsed and validated, then written in one
transaction with one audit row; any problem in any row leaves the database as it was. Rows carry
stable external ids (``cns:<F1>``, ``csis:<hash>``, or the native ``external_id``), so importing the
same file again updates rather than duplicates.

Dataset rows are turned into events in our words: titles and summaries are built from the
structured fields, and the publisher's prose (CNS "Additional Information", CSIS "description")
is kept in ``details`` with the dataset named as a source, never presented as our summary.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.db import Sessionmaker
from bot.models import utcnow
from bot.resources import data_dir
from bot.services.access import Caller, Policy
from bot.services.curation import LinkResolver, apply_clean, enqueue, same_content
from bot.services.dates import format_date
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.events import with_links
from bot.services.validation import (
    SOURCE_NAME_MAX,
    SOURCE_TITLE_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    URL_MAX,
    CleanEvent,
    EventInput,
    SourceInput,
    validate_event,
)

Format = Literal["native", "cns", "csis"]
FORMATS: tuple[str, ...] = ("native", "cns", "csis")
MAX_BYTES = 20 * 1024 * 1024
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
    "actors",
    "tracks",
    "primary_track",
    "milestone",
    "sources",
    "details",
    "revision",
)
NATIVE_REQUIRED = ("title", "date", "kind", "sources")
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
CSIS_REQUIRED = ("date", "type", "event", "description", "resources")
CNS_SOURCE = "James Martin Center for Nonproliferation Studies (CNS) / NTI"
CNS_TITLE = "CNS North Korea Missile Test Database"
CSIS_SOURCE = "CSIS Beyond Parallel"
CSIS_TITLE = "Database of North Korean Provocations"
PLACEHOLDERS = frozenset({"", "unknown", "n/a", "na", "none", "-", "?", "tbd"})
_FETCH_CHUNK = 500


@dataclass
class ImportReport:
    """What an import did (or, with problems or a dry run, would have done)."""

    format: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0
    alerts: int = 0
    dry_run: bool = False
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        name = {"native": "Native", "cns": "CNS", "csis": "CSIS"}.get(self.format, self.format)
        if self.problems:
            rows = {p.row for p in self.problems if p.row is not None}
            where = f" in {len(rows)} row{'s' * (len(rows) != 1)}" if rows else ""
            count = len(self.problems)
            return f"{name} import failed: {count} problem{'s' * (count != 1)}{where}; nothing was written."
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.dry_run:
            return f"{name} import (dry run, nothing written): {self.rows} rows would give {counts}."
        alerts = f", {self.alerts} alerts queued" if self.alerts else ""
        return f"{name} import: {self.rows} rows — {counts}{alerts}."


@dataclass
class _Row:
    """One parsed row, ready for validation and writing."""

    row: int
    data: EventInput
    strict_links: bool = True  # native rows must name known slugs; dataset rows link what exists
    scope: int | Literal["caller"] | None = "caller"
    status: str | None = None  # None: keep the stored status (dataset rows never un-retract)
    retract_reason: str | None = None
    revision: int | None = None


class _Abort(Exception):
    """Roll the transaction back (problems found, or a dry run)."""


# --------------------------------------------------------------------------------------------
# Entry point


async def import_file(
    sessionmaker: Sessionmaker,
    data: bytes,
    fmt: Format | str,
    *,
    caller: Caller,
    policy: Policy,
    dry_run: bool = False,
    alert: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``data`` in format ``fmt``; every problem is in the report and then nothing is written.

    ``alert`` queues alerts for newly created events (off by default so history never floods
    channels); events that change always update alerts already posted for them.
    """
    report = ImportReport(format=str(fmt), dry_run=dry_run)
    async with sessionmaker() as session:
        await policy.require_curator(session, caller)  # refuse early; checked again when writing
    if fmt not in FORMATS:
        report.problems.append(FieldProblem("format", f"“{fmt}” is not one of {', '.join(FORMATS)}"))
        return report
    if len(data) > MAX_BYTES:
        report.problems.append(
            FieldProblem(
                "file", f"is {len(data) / 1024 / 1024:.1f} MB; at most {MAX_BYTES // 1024 // 1024} MB allowed"
            )
        )
        return report
    text = _decode(data, report.problems)
    if text is None:
        return report
    if fmt == "cns":
        rows = parse_cns(text, report.problems)
    elif fmt == "csis":
        rows = parse_csis(text, report.problems)
    else:
        rows = parse_native(text, report.problems)
    report.rows = len(rows)
    if report.problems:
        return report
    if not rows:
        report.problems.append(FieldProblem("file", "holds no rows"))
        return report
    try:
        async with sessionmaker() as session, session.begin():
            await policy.require_curator(session, caller)
            await _write(session, rows, report, caller=caller, policy=policy, alert=alert, progress=progress)
            if report.problems or dry_run:
                raise _Abort
    except _Abort:
        if report.problems:
            report.created = report.updated = report.unchanged = report.alerts = 0
    return report


def _decode(data: bytes, problems: list[FieldProblem]) -> str | None:
    """UTF-8 (with or without BOM), else Windows-1252 for the whole file (the CNS export uses it)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            problems.append(FieldProblem("file", "is neither UTF-8 nor Windows-1252 text"))
            return None
    if "\x00" in text:
        problems.append(FieldProblem("file", "contains NUL bytes: it is not a text file"))
        return None
    return text


# --------------------------------------------------------------------------------------------
# Writing


def _scoped_id(external_id: str, scope: int | None) -> str:
    """External ids are unique across the database: a guild's local copies get the guild's prefix."""
    if scope is None:
        return external_id
    prefix = f"g{scope}:"
    return external_id if external_id.startswith(prefix) else prefix + external_id


async def _catalog(session: AsyncSession) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for key, model in (("programs", models.Program), ("actors", models.Actor), ("tracks", models.TalksTrack)):
        out[key] = set((await session.scalars(select(model.slug))).all())
    return out


async def _existing(session: AsyncSession, ids: Sequence[str]) -> dict[str, models.Event]:
    found: dict[str, models.Event] = {}
    for i in range(0, len(ids), _FETCH_CHUNK):
        chunk = list(ids[i : i + _FETCH_CHUNK])
        stmt = with_links(select(models.Event).where(models.Event.external_id.in_(chunk)))
        for event in (await session.scalars(stmt)).all():
            assert event.external_id is not None
            found[event.external_id] = event
    return found


async def _by_export_id(session: AsyncSession, external_id: str, clean: CleanEvent) -> models.Event | None:
    """An event exported without an external id came out as ``pb:<id>``: find it again here.

    Only an event that still has no external id and the same date and kind qualifies, so a file
    from another database cannot overwrite an unrelated event that happens to share the number.
    """
    match = re.fullmatch(r"(?:g\d{1,20}:)?pb:(\d{1,18})", external_id)
    if match is None:
        return None
    event: models.Event | None = await session.scalar(
        with_links(select(models.Event).where(models.Event.id == int(match[1])))
    )
    if (
        event is None
        or event.external_id is not None
        or event.occurred_on != clean.occurred_on
        or event.kind != clean.kind
    ):
        return None
    return event


async def _write(
    session: AsyncSession,
    rows: list[_Row],
    report: ImportReport,
    *,
    caller: Caller,
    policy: Policy,
    alert: bool,
    progress: Callable[[int, int], None] | None,
) -> None:
    catalog = await _catalog(session)
    caller_scope = policy.scope_for(caller)
    prepared: list[tuple[_Row, CleanEvent, int | None]] = []
    first_row: dict[str, int] = {}
    for r in rows:
        # The operator may restore events into the scope the file names; a guild imports into its own.
        scope = caller_scope if r.scope == "caller" or caller.guild_id is not None else r.scope
        data = r.data
        if data.external_id:
            data = replace(data, external_id=_scoped_id(data.external_id.strip(), scope))
        if not r.strict_links:
            data = replace(
                data,
                programs=[s for s in data.programs if s in catalog["programs"]],
                actors=[s for s in data.actors if s in catalog["actors"]],
                tracks=[s for s in data.tracks if s in catalog["tracks"]],
            )
        try:
            clean = validate_event(data, row=r.row)
        except ValidationFailed as exc:
            report.problems.extend(exc.problems)
            continue
        if clean.external_id is not None:
            if clean.external_id in first_row:
                report.problems.append(
                    FieldProblem(
                        "external id",
                        f"“{clean.external_id}” is also used by row {first_row[clean.external_id]}",
                        r.row,
                    )
                )
                continue
            first_row[clean.external_id] = r.row
        prepared.append((r, clean, scope))
    if report.problems:
        return
    existing = await _existing(session, [c.external_id for _, c, _ in prepared if c.external_id])
    resolver = await LinkResolver.load(session)
    created: list[models.Event] = []
    updated: list[models.Event] = []
    total = len(prepared)
    for done, (r, clean, scope) in enumerate(prepared, start=1):
        if progress is not None:
            progress(done, total)
        try:
            links = resolver.resolve(clean, row=r.row)
        except ValidationFailed as exc:
            report.problems.extend(exc.problems)
            continue
        event = existing.get(clean.external_id) if clean.external_id else None
        if event is None and clean.external_id:
            event = await _by_export_id(session, clean.external_id, clean)
        if event is not None and event.guild_id != scope:
            report.problems.append(
                FieldProblem(
                    "external id", f"“{clean.external_id}” belongs to an event in another scope", r.row
                )
            )
            continue
        if report.problems:
            continue  # keep collecting problems, write nothing
        status = r.status or (event.status if event is not None else "published")
        reason = (r.retract_reason or None) if status == "retracted" else None
        if event is None:
            report.created += 1
            if report.dry_run:
                continue
            event = models.Event(
                external_id=clean.external_id,
                status=status,
                retract_reason=reason,
                guild_id=scope,
                revision=r.revision or 1,
                created_by=caller.user_id or None,
                updated_by=caller.user_id or None,
            )
            apply_clean(event, clean, links)
            session.add(event)
            created.append(event)
            continue
        status_same = r.status is None or (event.status == status and event.retract_reason == reason)
        if status_same and same_content(event, clean, links):
            report.unchanged += 1
            continue
        report.updated += 1
        if report.dry_run:
            continue
        apply_clean(event, clean, links)
        if r.status is not None:
            event.status, event.retract_reason = status, reason
        if event.external_id is None:
            event.external_id = clean.external_id
        event.revision += 1
        event.updated_by = caller.user_id or None
        event.updated_at = utcnow()
        updated.append(event)
    if report.problems or report.dry_run:
        return
    await session.flush()
    for event in created:
        if alert and event.status == "published":
            report.alerts += await enqueue(session, event, "post")
    for event in updated:
        # Only channels already holding an alert of the event are touched: no flood, no stale alert.
        report.alerts += await enqueue(session, event, "edit")
    session.add(
        models.AuditLog(
            guild_id=caller.guild_id,
            user_id=caller.user_id or None,
            action="event.import",
            record_type="import",
            record_id=report.format,
            details={
                "format": report.format,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "alert": alert,
                "alerts": report.alerts,
                "scope": "global" if caller_scope is None else str(caller_scope),
            },
        )
    )


# --------------------------------------------------------------------------------------------
# Shared helpers for reading


def _read_csv(
    text: str, required: Sequence[str], problems: list[FieldProblem]
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV file as (row number, {column: value}); row 1 is the first after the header."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        problems.append(FieldProblem("file", f"is not readable CSV: {exc}"))
        return []
    if not records:
        problems.append(FieldProblem("file", "is empty"))
        return []
    header = [h.strip() for h in records[0]]
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(FieldProblem("columns", "missing required column(s): " + ", ".join(missing)))
        return []
    out: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records[1:], start=1):
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(
                FieldProblem("row", f"has {len(record)} columns; the header has {len(header)}", number)
            )
            continue
        out.append((number, dict(zip(header, record, strict=True))))
    return out


def _value(text: str | None) -> str | None:
    """The cell's text, or None for an empty cell or a placeholder such as ``Unknown``."""
    if text is None:
        return None
    cleaned = " ".join(text.replace("\xa0", " ").split())
    return None if cleaned.casefold() in PLACEHOLDERS else cleaned


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word with a marker when it has to be shortened."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head[limit // 2 :]:
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,;:-") + "…"


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}


def _year(text: str, today: dt.date) -> int:
    year = int(text)
    if len(text) == 2:  # 84 → 1984, 23 → 2023: the latest century that is not in the future
        year += 2000 if 2000 + year <= today.year + 1 else 1900
    return year


def dataset_date(text: str, *, today: dt.date | None = None) -> str | None:
    """``9-Apr-84`` (day), ``Sep-84`` (month), ``4/19/2023`` (US month/day) or ISO → ISO text
    with as many parts as the precision; None when the text is none of these."""
    today = today or dt.date.today()
    t = text.strip()
    try:
        if m := re.fullmatch(r"(\d{1,2})-([A-Za-z]{3})[a-z]*-(\d{2}|\d{4})", t):
            month = _MONTHS.get(m[2].lower())
            return dt.date(_year(m[3], today), month, int(m[1])).isoformat() if month else None
        if m := re.fullmatch(r"([A-Za-z]{3})[a-z]*-(\d{2}|\d{4})", t):
            month = _MONTHS.get(m[1].lower())
            return f"{_year(m[2], today):04d}-{month:02d}" if month else None
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})", t):
            return dt.date(_year(m[3], today), int(m[1]), int(m[2])).isoformat()
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", t):
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None
    return None


def parse_km(text: str | None) -> tuple[float | None, str | None]:
    """``"1,380 km"`` → (1380.0, None); a range or prose → (None, the text); a placeholder → (None, None)."""
    value = _value(text)
    if value is None:
        return None, None
    # "lm" appears once in the CNS data as a typing slip for "km".
    m = re.fullmatch(r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(?:km|lm|kilometers?|kilometres?)?", value, re.I)
    if m is None:
        return None, value
    return float(m[1].replace(",", "") + (m[2] or "")), None


def _float(text: str | None) -> float | None:
    value = _value(text)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _time_utc(text: str | None) -> str | None:
    value = _value(text)
    if value is None:
        return None
    for pattern in ("%I:%M:%S %p", "%I:%M %p", "%H:%M:%S", "%H:%M"):
        try:
            return dt.datetime.strptime(value, pattern).strftime("%H:%M:%S")
        except ValueError:
            continue
    return value


def _km_text(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


# URLs in free-text source fields


_URL_START = re.compile(r"https?://", re.I)
_BARE_DOMAIN = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/\S*$")
# A capitalised word glued to the end of a URL ("…/Xn9Wr4The US Military…", "…index.htmlVideo:").
_GLUED_WORD = re.compile(r"(?<=[0-9A-Za-z/._-])([A-Z][a-z]+:?)$")
_LABELS = frozenset(f"{w}{c}" for w in ("Video", "Photo", "Audio", "Link", "Source") for c in ("", ":"))


def split_sources(text: str | None) -> list[tuple[str, str]]:
    """Split a free-text sources field into ``("url", url)`` and ``("text", citation)`` parts.

    Entries are separated by ``;``, newlines or whitespace before a URL; a URL also ends where the
    next ``http(s)://`` begins, and where a capitalised word is glued to it and text follows.
    """
    if not text:
        return []
    text = text.replace("\r", "\n").replace("\xa0", " ")
    text = re.sub(r"(?<=\S)(?=https?://)", "\n", text)
    out: list[tuple[str, str]] = []
    for piece in re.split(r"[;\n]", text):
        piece = piece.strip().strip("\"'“”").strip()
        if not piece:
            continue
        head, _, rest = piece.partition(" ")
        is_url = bool(_URL_START.match(head))
        if not is_url and _BARE_DOMAIN.match(head):
            head, is_url = "http://" + head, True
        if not is_url:
            _add_text(out, piece)
            continue
        url = head.rstrip("\"'>.,)").replace('">', "")
        if "(" in head and head.endswith(")"):
            url += ")"
        rest = rest.strip()
        glued = _GLUED_WORD.search(url)
        if glued and (rest or glued[1] in _LABELS or glued[1].endswith(":")):
            url, rest = url[: glued.start()], f"{glued[1]} {rest}".strip()
        out.append(("url", url))
        if rest:
            _add_text(out, rest)
    seen: set[tuple[str, str]] = set()
    unique = []
    for item in out:
        if item not in seen:
            seen.add(item)
            unique.append(item)
    return unique


def _add_text(out: list[tuple[str, str]], text: str) -> None:
    text = " ".join(text.split()).strip(" ;,")
    # A bare label ("Video:") or a stray fragment is not a citation.
    if sum(ch.isalpha() for ch in text) < 3 or re.fullmatch(r"\w+:", text) or text in _LABELS:
        return
    out.append(("text", text))


def source_for(kind: str, value: str) -> SourceInput:
    """A source from one part of a sources field (see :func:`split_sources`)."""
    if kind == "url":
        parts = urlsplit(value)
        host = parts.hostname or value
        host = host.removeprefix("www.")
        tail = next((unquote(p) for p in reversed(parts.path.split("/")) if p.strip()), host)
        if len(value) > URL_MAX:  # too long to link: cite it as text
            return SourceInput(_cut(host, SOURCE_NAME_MAX), _cut(value, SOURCE_TITLE_MAX))
        return SourceInput(_cut(host, SOURCE_NAME_MAX), _cut(tail, SOURCE_TITLE_MAX), url=value)
    publisher = re.split(r"[,\"“”]", value, maxsplit=1)[0].strip().rstrip(".:;").strip()
    return SourceInput(_cut(publisher or value, SOURCE_NAME_MAX), _cut(value, SOURCE_TITLE_MAX))


# --------------------------------------------------------------------------------------------
# CNS North Korea Missile Test Database

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


def _cns_title(name: str | None, mtype: str | None, facility: str | None, satellite: bool) -> str:
    if satellite:
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
        flight.append(f"apogee about {_km_text(r['apogee_km'])} km")
    if r["distance_km"] is not None:
        flight.append(f"distance travelled about {_km_text(r['distance_km'])} km")
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
    return _cut(" ".join(parts), SUMMARY_MAX)


def parse_cns(text: str, problems: list[FieldProblem], *, today: dt.date | None = None) -> list[_Row]:
    """Rows of the CNS missile test database; each becomes an event."""
    records = _read_csv(text, CNS_REQUIRED, problems)
    parsed: list[tuple[int, dict[str, Any]]] = []
    for number, rec in records:
        record = _value(rec["F1"])
        date_text = rec["Date"].strip()
        date = dataset_date(date_text, today=today)
        if record is None:
            problems.append(FieldProblem("F1", "is required (it is the record's id)", number))
        if date is None:
            problems.append(
                FieldProblem("Date", f"“{date_text[:40]}” is not a date such as 9-Apr-84 or Sep-84", number)
            )
        entered = _value(rec.get("Date Entered/Updated"))
        entered_date = dataset_date(entered, today=today) if entered else None
        name, mtype = _value(rec["Missile Name"]), _value(rec["Missile Type"])
        apogee, apogee_text = parse_km(rec["Apogee"])
        distance, distance_text = parse_km(rec["Distance Travelled"])
        satellite = (mtype or "").upper() == "SLV" or bool(name and _SLV_NAMES.search(name))
        parsed.append(
            (
                number,
                {
                    "record": record,
                    "date": date,
                    "entered": entered_date,
                    "name": name,
                    "type": mtype,
                    "satellite": satellite,
                    "facility": _value(rec["Facility Name"]),
                    "facility_location": _value(rec.get("Facility Location")),
                    "landing_location": _value(rec.get("Landing Location")),
                    "latitude": _float(rec.get("Facility Latitude")),
                    "longitude": _float(rec.get("Facility Longitude")),
                    "apogee_km": apogee,
                    "apogee_reported": apogee_text,
                    "distance_km": distance,
                    "distance_reported": distance_text,
                    "outcome": _value(rec["Test Outcome"]),
                    "confirmation": _value(rec.get("Confirmation Status")),
                    "launch_time_utc": _time_utc(rec.get("Launch Time (UTC)")),
                    "additional_information": (rec.get("Additional Information") or "").strip() or None,
                    "sources": rec["Source(s)"],
                },
            )
        )
    # Salvos are several rows with the same date and system: number them so titles tell them apart.
    titles = {
        n: _cns_title(r["name"], r["type"], r["facility"], r["satellite"]) for n, r in parsed if r["date"]
    }
    groups = Counter((r["date"], titles[n]) for n, r in parsed if r["date"])
    seen: Counter[tuple[str, str]] = Counter()
    rows: list[_Row] = []
    for number, r in parsed:
        if r["date"] is None or r["record"] is None:
            continue
        key = (r["date"], titles[number])
        seen[key] += 1
        title = titles[number]
        if groups[key] > 1:
            title = f"{title} ({seen[key]} of {groups[key]})"
        sources = [SourceInput(CNS_SOURCE, CNS_TITLE, r["entered"])]
        sources += [source_for(k, v) for k, v in split_sources(r["sources"])]
        details = {
            "dataset": "cns-missile-tests",
            "record": r["record"],
            "missile_name": r["name"],
            "missile_type": r["type"],
            "facility": r["facility"],
            "facility_location": r["facility_location"],
            "latitude": r["latitude"],
            "longitude": r["longitude"],
            "landing_location": r["landing_location"],
            "apogee_km": r["apogee_km"],
            "apogee_reported": r["apogee_reported"],
            "distance_km": r["distance_km"],
            "distance_reported": r["distance_reported"],
            "outcome": r["outcome"],
            "confirmation": r["confirmation"],
            "launch_time_utc": r["launch_time_utc"],
            # The publisher's own prose, attributed by the dataset source; never our summary.
            "additional_information": r["additional_information"],
        }
        rows.append(
            _Row(
                number,
                EventInput(
                    title=_cut(title, TITLE_MAX),
                    summary=_cns_summary(r),
                    date=r["date"],
                    kind="satellite_launch" if r["satellite"] else "missile_launch",
                    significance=CNS_SIGNIFICANCE.get((r["type"] or "").upper(), 2),
                    programs=_cns_programs(r["type"], r["name"]),
                    actors=["dprk"],
                    sources=sources,
                    external_id=f"cns:{r['record']}",
                    details=details,
                ),
                strict_links=False,
            )
        )
    return rows


# --------------------------------------------------------------------------------------------
# CSIS Beyond Parallel, Database of North Korean Provocations

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
        (r"submarine launched|submarine-launched|\bslbm\b", "slbm"),
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
        return _read_csv(text, CSIS_REQUIRED, problems)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(FieldProblem("file", f"is not valid JSON: {exc.msg} at line {exc.lineno}"))
        return []
    if isinstance(doc, dict):  # tolerate {"records": [...]} or any single list of records
        lists = [v for v in doc.values() if isinstance(v, list)]
        doc = lists[0] if len(lists) == 1 else None
    if not isinstance(doc, list):
        problems.append(FieldProblem("file", "must be a JSON list of records"))
        return []
    out: list[tuple[int, dict[str, str]]] = []
    for number, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            problems.append(FieldProblem("row", "is not an object", number))
            continue
        missing = [c for c in CSIS_REQUIRED if c not in item]
        if missing:
            problems.append(
                FieldProblem("columns", "missing required field(s): " + ", ".join(missing), number)
            )
            continue
        out.append((number, {k: "" if v is None else str(v) for k, v in item.items()}))
    return out


def parse_csis(text: str, problems: list[FieldProblem], *, today: dt.date | None = None) -> list[_Row]:
    """Rows of the CSIS provocations database (its CSV or JSON form give the same events)."""
    records = _csis_records(text, problems)
    if not records:
        return []
    names = Counter(" ".join(rec["event"].split()).casefold() for _, rec in records)
    occurrences: Counter[str] = Counter()
    rows: list[_Row] = []
    for number, rec in records:
        date_text = rec["date"].strip()
        date = dataset_date(date_text, today=today)
        if date is None:
            problems.append(FieldProblem("date", f"“{date_text[:40]}” is not a date (YYYY-MM-DD)", number))
            continue
        ptype = " ".join(rec["type"].split())
        event = " ".join(rec["event"].split())
        description = rec["description"].strip()
        if not event:
            problems.append(FieldProblem("event", "is required", number))
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
            _Row(
                number,
                EventInput(
                    title=_cut(title, TITLE_MAX),
                    summary=_cut(summary, SUMMARY_MAX),
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
            )
        )
    return rows


# --------------------------------------------------------------------------------------------
# Native format (what export_events writes)


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
    where = ".".join(str(p) for p in err.absolute_path) or "(event)"
    value, rule = err.instance, err.validator
    if rule == "maxLength" and isinstance(value, str):
        message = f"is {len(value)} characters; at most {err.validator_value} allowed"
    elif rule == "minLength" and isinstance(value, str):
        message = "is required" if not value else f"must be at least {err.validator_value} characters"
    elif rule == "pattern" and isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "…"
        hint = " (an http:// or https:// address)" if where.endswith("url") else ""
        message = f"“{shown}” does not have the expected form{hint}"
    elif rule in ("required", "additionalProperties"):
        message = err.message
    elif rule == "enum" and isinstance(err.validator_value, list):
        message = f"must be one of {', '.join(str(v) for v in err.validator_value)}"
    elif rule == "type":
        message = f"must be {err.validator_value}"
    else:
        message = err.message if len(err.message) <= 200 else err.message[:197] + "…"
    return FieldProblem(where, message, row)


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


def _native_csv_row(rec: dict[str, str], number: int, problems: list[FieldProblem]) -> dict[str, Any] | None:
    """A CSV row of the native export as the JSON event it stands for."""
    out: dict[str, Any] = {}
    ok = True
    for column, cell in rec.items():
        if column not in NATIVE_COLUMNS:
            problems.append(
                FieldProblem(column or "(unnamed column)", "is not a column of this format", number)
            )
            ok = False
            continue
        if column in ("programs", "actors", "tracks"):
            out[column] = _split_list(cell)
        elif column in ("sources", "details"):
            if not cell.strip():
                out[column] = [] if column == "sources" else {}
                continue
            try:
                out[column] = json.loads(cell)
            except json.JSONDecodeError as exc:
                problems.append(FieldProblem(column, f"is not valid JSON ({exc.msg})", number))
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
        records = _read_csv(text, NATIVE_REQUIRED, problems)
        out: list[tuple[int, Any]] = []
        for number, rec in records:
            item = _native_csv_row(rec, number, problems)
            if item is not None:
                out.append((number, item))
        return out
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(FieldProblem("file", f"is not valid JSON: {exc.msg} at line {exc.lineno}"))
        return []
    if isinstance(doc, dict):
        document, _ = _validators()
        errors = sorted(document.iter_errors({**doc, "events": []}), key=lambda e: list(e.absolute_path))
        problems.extend(_schema_problem(e, None) for e in errors)
        if errors:
            return []
        doc = doc["events"]
    if not isinstance(doc, list):
        problems.append(FieldProblem("file", "must be an export document or a JSON list of events"))
        return []
    return list(enumerate(doc, start=1))


def parse_native(text: str, problems: list[FieldProblem]) -> list[_Row]:
    """Events in the native format: the JSON document export_events writes, a bare JSON list of
    events, or the CSV export."""
    _, event_validator = _validators()
    rows: list[_Row] = []
    for number, item in _native_records(text, problems):
        errors = sorted(event_validator.iter_errors(item), key=lambda e: list(e.absolute_path))
        if errors:
            problems.extend(_schema_problem(e, number) for e in errors)
            continue
        scope_value = item.get("scope", "global")
        scope: int | None = None if str(scope_value) == "global" else int(scope_value)
        rows.append(
            _Row(
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
                    sources=[
                        SourceInput(s["publisher"], s["title"], s.get("date"), s.get("url"))
                        for s in item["sources"]
                    ],
                    external_id=item.get("external_id") or _content_id(item),
                    details=dict(item.get("details") or {}),
                    milestone=item.get("milestone", False),
                    primary_track=item.get("primary_track"),
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
