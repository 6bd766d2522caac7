"""The event lifecycle, the one way an event is written — by a curator, an import or the seed.

An :class:`EventWriter` holds the writes of one transaction: ``create`` (a new event at revision 1,
or the revision a file names), ``revise`` (new content, a revision bump, nothing when nothing
changed; new translations alone are stored in place, with no new revision and no alert edit)
and ``retract``. ``flush`` then gives each write its audit row and its outbox rows: new
alerts for a published event created with alerts, edits of the alerts already posted for an event
revised or retracted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.i18n import N_
from bot.models import utcnow
from bot.outbox.enqueue import Action, AlertBudget, enqueue, with_posted_alerts
from bot.services import data_version
from bot.services.access import Caller
from bot.services.audit import audit_row
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.links import KINDS
from bot.services.validation import CleanEvent
from bot.services.views import SourceView, source_view

# An event's catalog rows per link kind, by the kind's field ("programs", "actors", "tracks").
Links = dict[str, list[Any]]


class LinkResolver:
    """The catalog rows of one session, loaded once, for linking many events (imports, seed)."""

    def __init__(self, rows: dict[str, dict[str, Any]]) -> None:
        self._rows = rows

    @classmethod
    async def load(cls, session: AsyncSession) -> LinkResolver:
        rows: dict[str, dict[str, Any]] = {}
        for kind in KINDS:
            records: list[Any] = list((await session.scalars(select(kind.model))).all())
            rows[kind.field] = {r.slug: r for r in records}
        return cls(rows)

    def known(self, key: str, slugs: Any) -> list[str]:
        """The slugs of ``slugs`` that name a catalog row of ``key`` (programs, actors, tracks)."""
        return [s for s in slugs if s in self._rows[key]]

    def resolve(self, clean: CleanEvent, row: int | None = None) -> Links:
        """Catalog rows for the event's slugs; unknown slugs are a validation failure."""
        problems: list[FieldProblem] = []
        out: Links = {}
        for kind in KINDS:
            found = self._rows[kind.field]
            slugs: tuple[str, ...] = getattr(clean, kind.field)
            problems.extend(
                FieldProblem(kind.plural, N_("“{value}” is not known"), row, params={"value": s})
                for s in slugs
                if s not in found
            )
            out[kind.field] = [found[s] for s in slugs if s in found]
        if problems:
            raise ValidationFailed(problems)
        return out


#: Sources merged from dataset rows are numbered from here, after the event's own (which its
#: content owns: a revision rewrites those and leaves the merged ones alone).
MERGED_FROM = 1000


def own_sources(event: models.Event) -> list[models.Source]:
    """The sources of the event's content, not those merged from dataset rows."""
    return [s for s in event.sources if s.external_id is None]


def merged_row(event: models.Event, external_id: str) -> models.Source | None:
    """The source a dataset row (``external_id``) was merged into ``event`` as, if it was."""
    return next((s for s in event.sources if s.external_id == external_id), None)


def _translations(event: models.Event, clean: CleanEvent) -> dict[str, Any]:
    """The translations ``event`` keeps: those ``clean`` brings, else the stored ones less those of
    a title or summary the revision changes (a stale translation would say what the English no
    longer does; the reader gets the English instead)."""
    if clean.i18n is not None:
        return dict(clean.i18n)
    stale = {f for f, new in (("title", clean.title), ("summary", clean.summary)) if getattr(event, f) != new}
    kept = {
        lang: {f: v for f, v in entry.items() if f not in stale} for lang, entry in (event.i18n or {}).items()
    }
    return {lang: entry for lang, entry in kept.items() if entry}


def apply_clean(event: models.Event, clean: CleanEvent, links: Links) -> None:
    event.i18n = _translations(event, clean)
    event.title, event.summary = clean.title, clean.summary
    event.occurred_on, event.precision = clean.occurred_on, clean.precision
    event.kind, event.significance = clean.kind, clean.significance
    event.details = dict(clean.details)
    for kind in KINDS:
        setattr(event, kind.field, links[kind.field])
    event.milestone = clean.milestone
    event.primary_track = next((t for t in links["tracks"] if t.slug == clean.primary_track), None)
    # Update sources in place: replacing the list would insert before deleting and clash on position.
    existing = own_sources(event)
    for i, src in enumerate(clean.sources):
        row = existing[i] if i < len(existing) else models.Source(position=i)
        row.publisher, row.title, row.url = src.publisher, src.title, src.url
        row.published_on, row.published_precision = src.published_on, src.published_precision
        if i >= len(existing):
            event.sources.append(row)
    for row in existing[len(clean.sources) :]:
        event.sources.remove(row)


def snapshot(event: models.Event) -> dict[str, str]:
    """What a reader sees of an event, field by field, as text (for the history of its revisions)."""
    day = event.occurred_on.isoformat()[: {"year": 4, "month": 7}.get(event.precision, 10)]
    out = {
        "title": event.title,
        "date": day,
        "summary": event.summary,
        "kind": event.kind,
        "significance": str(event.significance),
        "status": event.status if event.retract_reason is None else f"{event.status}: {event.retract_reason}",
    }
    for kind in KINDS:
        out[kind.plural] = ", ".join(sorted(r.slug for r in getattr(event, kind.field)))
    out["sources"] = "; ".join(
        f"{s.publisher}: {s.title}" for s in sorted(event.sources, key=lambda s: s.position)
    )
    return out


def changed(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, list[str]]:
    """``{field: [old, new]}`` for each field that differs."""
    return {k: [before.get(k, ""), v] for k, v in after.items() if before.get(k, "") != v}


def same_content(event: models.Event, clean: CleanEvent, links: Links) -> bool:
    return (
        event.title == clean.title
        and event.summary == clean.summary
        and event.occurred_on == clean.occurred_on
        and event.precision == clean.precision
        and event.kind == clean.kind
        and event.significance == clean.significance
        and event.milestone == clean.milestone
        and (event.primary_track.slug if event.primary_track else None) == clean.primary_track
        and (event.details or {}) == clean.details
        and all({r.slug for r in getattr(event, k.field)} == {r.slug for r in links[k.field]} for k in KINDS)
        and tuple(source_view(s) for s in own_sources(event)) == clean.sources
    )


@dataclass(frozen=True)
class NewStatus:
    """The status a revision moves an event to (an import names it), with the reason of a retraction."""

    status: str
    retract_reason: str | None = None

    def same_as(self, event: models.Event) -> bool:
        return event.status == self.status and event.retract_reason == self.retract_reason


def new_translations(event: models.Event, clean: CleanEvent) -> bool:
    """Whether ``clean`` brings translations other than those stored (None keeps them)."""
    return clean.i18n is not None and clean.i18n != (event.i18n or {})


def changes(event: models.Event, clean: CleanEvent, links: Links, new: NewStatus | None = None) -> bool:
    """Whether revising ``event`` with this content (and ``new`` status, when given) changes it."""
    return not ((new is None or new.same_as(event)) and same_content(event, clean, links))


@dataclass(frozen=True)
class Author:
    """Who writes and through what, as the audit rows record it: ``via`` is ``curate``,
    ``import`` or ``seed``; ``file`` the file an import or the seed read the event from."""

    guild_id: int | None
    user_id: int | None
    via: str
    file: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, caller: Caller, via: str = "curate", file: str | None = None, **extra: Any) -> Author:
        return cls(caller.guild_id, caller.user_id or None, via, file, extra)

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"via": self.via, **self.extra}
        if self.file is not None:
            out["file"] = self.file
        return out


@dataclass
class _Write:
    event: models.Event
    action: str
    details: dict[str, Any]
    outbox: Action | None


class EventWriter:
    """The event writes of one transaction (see the module's docstring)."""

    def __init__(self, session: AsyncSession, author: Author, *, budget: AlertBudget | None = None) -> None:
        """``budget``: the cap on new alerts an import shares across its transactions."""
        self._session = session
        self._author = author
        self._budget = budget
        self._pending: list[_Write] = []

    def create(
        self,
        clean: CleanEvent,
        links: Links,
        *,
        scope: int | None,
        alert: bool = True,
        status: str = "published",
        retract_reason: str | None = None,
        revision: int = 1,
    ) -> models.Event:
        """A new event; with ``alert``, a published one is posted to every matching channel."""
        event = models.Event(
            external_id=clean.external_id,
            status=status,
            retract_reason=retract_reason,
            guild_id=scope,
            revision=revision,
            created_by=self._author.user_id,
            updated_by=self._author.user_id,
        )
        apply_clean(event, clean, links)
        self._session.add(event)
        details = {"scope": "global" if scope is None else "local", "changes": changed({}, snapshot(event))}
        outbox: Action | None = "post" if alert and status == "published" else None
        self._pending.append(_Write(event, "event.create", details, outbox))
        return event

    def revise(
        self, event: models.Event, clean: CleanEvent, links: Links, new: NewStatus | None = None
    ) -> bool:
        """New content (and ``new`` status, when given) for ``event``; False, and nothing written,
        when that changes nothing. Alerts already posted for it are edited.

        New translations alone (``clean.i18n``) are stored in place: no new revision, no alert
        edit (an alert is a record of what was said; a translation is not news), one audit row."""
        if not changes(event, clean, links, new):
            if not new_translations(event, clean):
                return False
            event.i18n = dict(clean.i18n or {})
            self._pending.append(_Write(event, "event.translate", {}, None))
            return True
        action = "event.edit"
        before = snapshot(event)
        apply_clean(event, clean, links)
        if new is not None:
            if new.status == "retracted" and event.status != "retracted":
                action = "event.retract"
            event.status, event.retract_reason = new.status, new.retract_reason
        if event.external_id is None:
            event.external_id = clean.external_id
        self._bump(event)
        self._pending.append(_Write(event, action, {"changes": changed(before, snapshot(event))}, "edit"))
        return True

    def merge(self, event: models.Event, source: SourceView, external_id: str) -> bool:
        """Attach a dataset row to ``event`` as a further source (``source``, its details included),
        or bring the one it attached before up to date; False, and nothing written, when that
        changes nothing. Alerts already posted for the event are edited."""
        row = merged_row(event, external_id)
        if row is not None and source_view(row) == source:
            return False
        before = snapshot(event)
        if row is None:
            position = max(
                [s.position + 1 for s in event.sources if s.position >= MERGED_FROM], default=MERGED_FROM
            )
            row = models.Source(position=position, external_id=external_id)
            event.sources.append(row)
        row.publisher, row.title, row.url = source.publisher, source.title, source.url
        row.published_on, row.published_precision = source.published_on, source.published_precision
        row.details = dict(source.details or {})
        self._bump(event)
        details = {"source": external_id, "changes": changed(before, snapshot(event))}
        self._pending.append(_Write(event, "event.merge", details, "edit"))
        return True

    def retract(self, event: models.Event, reason: str) -> None:
        """Withdraw ``event``: hidden from lists, the alerts already posted marked retracted."""
        before = snapshot(event)
        event.status, event.retract_reason = "retracted", reason
        self._bump(event)
        details = {"reason": reason, "changes": changed(before, snapshot(event))}
        self._pending.append(_Write(event, "event.retract", details, "edit"))

    def _bump(self, event: models.Event) -> None:
        event.revision += 1
        event.updated_by = self._author.user_id
        event.updated_at = utcnow()

    async def flush(self) -> int:
        """Write the pending events, an audit row for each and their outbox rows; returns how many
        deliveries were queued."""
        await self._session.flush()
        if self._pending:
            await data_version.bump(self._session, (w.event.guild_id for w in self._pending))
        author = self._author
        queued = 0
        edits = {w.event.id for w in self._pending if w.outbox == "edit"}
        posted = await with_posted_alerts(self._session, edits) if edits else set()
        for write in self._pending:
            event = write.event
            details = {"title": event.title, "revision": event.revision, **write.details, **author.details()}
            self._session.add(
                audit_row(
                    write.action,
                    "event",
                    event.id,
                    details,
                    guild_id=author.guild_id,
                    user_id=author.user_id,
                )
            )
            if write.outbox is not None and (write.outbox != "edit" or event.id in posted):
                queued += await enqueue(self._session, event, write.outbox, budget=self._budget)
        self._pending.clear()
        return queued
