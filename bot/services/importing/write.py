"""Writing an import through the event lifecycle: validate every row (``check_rows``, plain CPU
work that the caller runs in a worker thread), match each to the event it updates (by external
id), then create or revise — one audit row per event written and one for the import.

``write_rows`` goes through the rows twice, in batches of ``BATCH_ROWS``, each batch in a short
transaction of its own so that other writers (the outbox worker's claims, other commands) get
the database in between: first a check pass that reads only (so a problem in any row still
leaves the database as it was), then, unless this is a dry run, the write pass. Should the
database refuse a batch of the write pass, the import stops there with the batches before it
written, and says so; importing the same file again completes it (rows match by external id).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.db import Sessionmaker
from bot.i18n import N_
from bot.outbox.enqueue import AlertBudget, enqueue_summaries
from bot.services.access import Caller, Policy
from bot.services.audit import audit_row
from bot.services.errors import FieldProblem, Translate, ValidationFailed, english
from bot.services.events import with_links
from bot.services.importing.cells import ImportRow
from bot.services.importing.merge import Merging, Recorded, merged_source
from bot.services.lifecycle import (
    Author,
    EventWriter,
    LinkResolver,
    NewStatus,
    changes,
    merged_row,
    new_translations,
)
from bot.services.validation import CleanEvent, id_in_range, parse_id, validate_event
from bot.services.views import source_view

log = logging.getLogger(__name__)


class _Changed(Exception):
    """A row of the write pass found a problem the check pass had not: roll its batch back."""


_FETCH_CHUNK = 500
#: Rows per transaction: a batch holds SQLite's write lock for a fraction of a second.
BATCH_ROWS = 100
_YIELD_EVERY = 25
_GUILD_PREFIX = re.compile(r"g\d{1,20}:")
Progress = Callable[[int, int], None]


class Note(str):
    """One line of the report about a row that merged or was skipped: its English text, and the
    template and values it is written from in another language (:meth:`text`)."""

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, /, **params: object) -> Note:
        note = super().__new__(cls, english(template, params))
        note.template, note.params = template, params
        return note

    def text(self, translate: Translate = english) -> str:
        return translate(self.template, self.params)


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
    file: str | None = None
    #: The first row not written when the database refused a batch (the rows before it are).
    stopped_at: int | None = None
    stop_reason: str = ""
    #: With ``alert``: new-event alerts per channel this import may queue; past it, one summary.
    alert_cap: int | None = None
    held_back: int = 0  # alerts not queued (over every channel), counted in the summaries
    summaries: int = 0  # channels that get one "N more events imported" message
    #: Dataset rows attached to an event the timeline already had (``importing.merge``), and rows
    #: of a guild's import that a shared event already records (not imported).
    merged: int = 0
    skipped: int = 0
    #: One line per row that merged, or was skipped: "row 12 (cns:118): merged into #345 (...)".
    notes: list[Note] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.stopped_at is None

    def add_counts(self, other: ImportReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.alerts += other.alerts
        self.merged += other.merged
        self.skipped += other.skipped
        self.notes += other.notes

    def notes_shown(self, limit: int) -> list[str]:
        """The first ``limit`` notes of rows that merged or were skipped, and how many more."""
        more = len(self.notes) - limit
        shown: list[str] = list(self.notes[:limit])
        return shown + ([f"… and {more} more rows merged or skipped"] if more > 0 else [])

    def summary(self, translate: Translate = english) -> str:
        """What the import did, in one sentence (in the language of ``translate``)."""
        name = translate(N_("Native"), {}) if self.format == "native" else self.format.upper()
        counts = translate(
            N_("{created} created, {updated} updated, {unchanged} unchanged"),
            {"created": self.created, "updated": self.updated, "unchanged": self.unchanged},
        )
        if self.merged:
            counts += translate(N_(", {n} merged into events already recorded"), {"n": self.merged})
        if self.skipped:
            counts += translate(N_(", {n} skipped (already in the shared timeline)"), {"n": self.skipped})
        alerts = translate(N_(", {n} alerts queued"), {"n": self.alerts}) if self.alerts else ""
        if self.summaries:
            alerts += translate(
                N_(
                    " (at most {cap} per channel per import: {channels} get one “N more events imported” "
                    "message instead of the other {held})"
                ),
                {
                    "cap": self.alert_cap,
                    "channels": self._count(translate, N_("1 channel"), N_("{n} channels"), self.summaries),
                    "held": self.held_back,
                },
            )
        values = {"name": name, "counts": counts, "alerts": alerts, "rows": self.rows}
        if self.stopped_at is not None:
            return translate(
                N_(
                    "{name} import stopped at row {row} ({reason}); the rows before it were written — "
                    "{counts}{alerts}. Importing the same file again completes it."
                ),
                {**values, "row": self.stopped_at, "reason": self.stop_reason},
            )
        if self.problems:
            rows = {p.row for p in self.problems if p.row is not None}
            count = self._count(translate, N_("1 problem"), N_("{n} problems"), len(self.problems))
            where = (
                translate(
                    N_(" in {rows}"), {"rows": self._count(translate, N_("1 row"), N_("{n} rows"), len(rows))}
                )
                if rows
                else ""
            )
            return translate(
                N_("{name} import failed: {problems}{where}; nothing was written."),
                {**values, "problems": count, "where": where},
            )
        if self.dry_run:
            return translate(
                N_("{name} import (dry run, nothing written): {rows} rows would give {counts}."), values
            )
        return translate(N_("{name} import: {rows} rows — {counts}{alerts}."), values)

    @staticmethod
    def _count(translate: Translate, one: str, many: str, n: int) -> str:
        return translate(one if n == 1 else many, {"n": n})


@dataclass(frozen=True)
class Checked:
    """A row that passed validation, with the scope it is written into."""

    row: ImportRow
    clean: CleanEvent
    scope: int | None


def scoped_id(external_id: str, scope: int | None) -> str:
    """External ids are unique across the database: a guild's local copies get the guild's prefix."""
    if scope is None:
        return external_id
    prefix = f"g{scope}:"
    return external_id if external_id.startswith(prefix) else prefix + external_id


async def _existing(session: AsyncSession, ids: Sequence[str]) -> dict[str, models.Event]:
    found: dict[str, models.Event] = {}
    for i in range(0, len(ids), _FETCH_CHUNK):
        chunk = list(ids[i : i + _FETCH_CHUNK])
        stmt = with_links(select(models.Event).where(models.Event.external_id.in_(chunk)))
        for event in (await session.scalars(stmt)).all():
            assert event.external_id is not None
            found[event.external_id] = event
    return found


def _merge_row(item: Checked, event: models.Event, writer: EventWriter, report: ImportReport) -> None:
    """Attach a dataset row to the event that already records it (count only, on a dry run)."""
    r, clean = item.row, item.clean
    assert r.merged_title is not None and clean.external_id is not None
    source = merged_source(clean, r.merged_title)
    before = merged_row(event, clean.external_id)
    where = {"row": r.row, "id": clean.external_id}
    if before is not None and source_view(before) == source:
        report.unchanged += 1
        report.notes.append(
            Note(N_("row {row} ({id}): already merged into #{event}"), **where, event=event.id)
        )
        return
    if before is None:
        report.merged += 1
    else:
        report.updated += 1
    report.notes.append(
        Note(
            N_("row {row} ({id}): merged into #{event} ({title})"), **where, event=event.id, title=event.title
        )
    )
    if not report.dry_run:
        writer.merge(event, source, clean.external_id)


async def _by_export_id(
    session: AsyncSession, external_id: str, clean: CleanEvent, scope: int | None
) -> models.Event | None:
    """An event exported without an external id came out as ``pb:<id>``: find it again here.

    Only an event that still has no external id and the same date and kind qualifies, so a file
    from another database cannot overwrite an unrelated event that happens to share the number.
    Only an event the row's scope sees (its own, or a shared one) is looked at: another server's
    event with that number reads exactly as no event at all.
    """
    match = re.fullmatch(r"(?:g\d{1,20}:)?pb:(\d{1,18})", external_id)
    ident = parse_id(match[1]) if match is not None else None
    if ident is None or not id_in_range(ident):
        return None
    E = models.Event
    visible = E.guild_id.is_(None) if scope is None else or_(E.guild_id.is_(None), E.guild_id == scope)
    event: models.Event | None = await session.scalar(with_links(select(E).where(E.id == ident, visible)))
    if (
        event is None
        or event.external_id is not None
        or event.occurred_on != clean.occurred_on
        or event.kind != clean.kind
    ):
        return None
    return event


def check_rows(
    rows: list[ImportRow],
    report: ImportReport,
    resolver: LinkResolver,
    caller: Caller,
    caller_scope: int | None,
) -> list[Checked]:
    """Every row validated, each problem in the report; external ids must be unique in the file.

    Plain CPU work on rows and the resolver's slugs (no database): safe in a worker thread."""
    checked: list[Checked] = []
    first_row: dict[str, int] = {}
    for r in rows:
        # The operator may restore events into the scope the file names; a guild imports into its own.
        scope = caller_scope if r.scope == "caller" or caller.guild_id is not None else r.scope
        data = r.data
        if data.external_id:
            if (
                scope is None
                and caller.guild_id is not None
                and _GUILD_PREFIX.match(data.external_id.strip())
            ):
                # A home server's ids are global; g<number>: names another server's own events.
                problem = f"“{data.external_id.strip()[:40]}”: ids starting with g<number>: are reserved"
                report.problems.append(FieldProblem("external id", problem, r.row))
                continue
            data = replace(data, external_id=scoped_id(data.external_id.strip(), scope))
        if not r.strict_links:
            data = replace(
                data,
                programs=resolver.known("programs", data.programs),
                actors=resolver.known("actors", data.actors),
                tracks=resolver.known("tracks", data.tracks),
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
        checked.append(Checked(r, clean, scope))
    return checked


async def _write_row(
    session: AsyncSession,
    item: Checked,
    event: models.Event | None,
    resolver: LinkResolver,
    writer: EventWriter,
    report: ImportReport,
    alert: bool,
    merging: Merging,
) -> None:
    """Create or revise the event of one row, or merge a dataset row into the event that records
    it already (only count, on a dry run); problems go to the report."""
    r, clean, scope = item.row, item.clean, item.scope
    try:
        links = resolver.resolve(clean, row=r.row)
    except ValidationFailed as exc:
        report.problems.extend(exc.problems)
        return
    if event is None and clean.external_id:
        event = await _by_export_id(session, clean.external_id, clean, scope)
    if event is not None and event.guild_id != scope:
        report.problems.append(
            FieldProblem("external id", f"“{clean.external_id}” belongs to an event in another scope", r.row)
        )
        return
    if report.problems:
        return  # keep collecting problems, write nothing
    if event is None and r.merged_title is not None and clean.external_id:
        into = merging.into(clean, links)
        if isinstance(into, Recorded):
            report.skipped += 1
            template = N_(
                "row {row} ({id}): already in the shared timeline as #{event} ({title}); not imported"
            )
            values = {
                "row": r.row,
                "id": clean.external_id,
                "event": into.event.id,
                "title": into.event.title,
            }
            report.notes.append(Note(template, **values))
            return
        if into is not None:
            _merge_row(item, into, writer, report)
            return
    status = r.status or (event.status if event is not None else "published")
    reason = (r.retract_reason or None) if status == "retracted" else None
    if event is None:
        report.created += 1
        if not report.dry_run:
            writer.create(
                clean,
                links,
                scope=scope,
                alert=alert,
                status=status,
                retract_reason=reason,
                revision=r.revision or 1,
            )
        return
    new = NewStatus(r.status, reason) if r.status else None
    if not changes(event, clean, links, new) and not new_translations(event, clean):
        report.unchanged += 1
    else:
        report.updated += 1
        if not report.dry_run:
            # Only channels already holding an alert of the event are touched: no flood, no stale alert.
            writer.revise(event, clean, links, new)


async def _batch(
    session: AsyncSession,
    batch: Sequence[Checked],
    report: ImportReport,
    author: Author,
    alert: bool,
    progress: Callable[[], None],
    budget: AlertBudget,
) -> None:
    """One batch of rows in ``session``: counted (a dry ``report``) or written."""
    resolver = await LinkResolver.load(session)
    existing = await _existing(session, [c.clean.external_id for c in batch if c.clean.external_id])
    datasets = [c for c in batch if c.row.merged_title is not None]
    merging = await Merging.load(
        session, [c.clean for c in datasets], datasets[0].scope if datasets else None
    )
    writer = EventWriter(session, author, budget=budget)
    for i, item in enumerate(batch):
        if i and not i % _YIELD_EVERY:
            await asyncio.sleep(0)  # building events is CPU work: let the loop in now and then
        progress()
        event = existing.get(item.clean.external_id) if item.clean.external_id else None
        await _write_row(session, item, event, resolver, writer, report, alert, merging)
    if not report.problems and not report.dry_run:
        report.alerts += await writer.flush()


async def _write_batch(
    sessionmaker: Sessionmaker,
    batch: Sequence[Checked],
    part: ImportReport,
    author: Author,
    alert: bool,
    advance: Callable[[], None],
    caller: Caller,
    policy: Policy,
    budget: AlertBudget,
) -> str | None:
    """Write one batch in its own transaction; why it was not written, or None."""
    try:
        async with sessionmaker() as session, session.begin():
            await policy.require_curator(session, caller)  # checked again when writing
            await _batch(session, batch, part, author, alert, advance, budget)
            if part.problems:
                raise _Changed
    except _Changed:
        return "an event it names changed meanwhile"
    except SQLAlchemyError:
        log.exception("import of %s stopped at row %s", part.file or part.format, batch[0].row.row)
        return "the database refused a write"
    return None


async def write_rows(
    sessionmaker: Sessionmaker,
    checked: list[Checked],
    report: ImportReport,
    *,
    caller: Caller,
    policy: Policy,
    scope: int | None,
    alert: bool,
    progress: Progress | None,
    alert_cap: int,
) -> None:
    """Check, then (unless a dry run) write the rows ``check_rows`` passed, in batches (see the
    module's docstring); the counts of ``report`` are those of the rows written. New alerts are
    capped at ``alert_cap`` per channel over the whole import (``AlertBudget``)."""
    author = Author.of(caller, "import", report.file, format=report.format)
    budget = AlertBudget(alert_cap)
    if alert:
        report.alert_cap = alert_cap
    passes = [True] if report.dry_run else [True, False]
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(checked) * len(passes))

    for dry in passes:
        for start in range(0, len(checked), BATCH_ROWS):
            batch = checked[start : start + BATCH_ROWS]
            # Counts of this batch alone; problems are shared with the report.
            part = replace(
                report,
                created=0,
                updated=0,
                unchanged=0,
                alerts=0,
                merged=0,
                skipped=0,
                notes=[],
                dry_run=dry,
            )
            if dry:
                async with sessionmaker() as session:  # read only: closing rolls back
                    await _batch(session, batch, part, author, alert, advance, budget)
            else:
                stop = await _write_batch(
                    sessionmaker, batch, part, author, alert, advance, caller, policy, budget
                )
                if stop is not None:
                    report.stopped_at, report.stop_reason = batch[0].row.row, stop
                    break
            if dry == report.dry_run:
                report.add_counts(part)
            await asyncio.sleep(0)  # let everything else run between two batches
        if report.problems and dry:
            return  # every row checked, every problem reported; nothing written
    if not report.dry_run:
        await _record(sessionmaker, report, caller, scope, alert, budget)


async def _record(
    sessionmaker: Sessionmaker,
    report: ImportReport,
    caller: Caller,
    scope: int | None,
    alert: bool,
    budget: AlertBudget,
) -> None:
    """The import's own audit row after its events, with the summaries of the alerts held back."""
    details: dict[str, object] = {
        "format": report.format,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "merged": report.merged,
        "skipped": report.skipped,
        "alert": alert,
        "alerts": report.alerts,
        "scope": "global" if scope is None else str(scope),
    }
    if alert:
        details.update(alert_cap=budget.cap, held_back=budget.held_back, summaries=len(budget.held))
    if report.file is not None:
        details["file"] = report.file
    if report.stopped_at is not None:
        details["stopped_at"] = report.stopped_at
    try:
        async with sessionmaker() as session, session.begin():
            report.summaries = await enqueue_summaries(session, budget)
            report.held_back = budget.held_back
            session.add(audit_row("event.import", "import", report.format, details, caller=caller))
    except SQLAlchemyError:
        report.summaries = report.held_back = 0
        log.exception("the audit row of the import of %s was not written", report.file or report.format)
