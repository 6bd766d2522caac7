"""Watched sources and the review queue: curators add feeds, the watcher turns each new item into a
draft, curators publish a draft (through the event lifecycle: the event and its alerts in one
transaction) or reject it.

A source belongs to a scope like an event: the shared corpus (``guild_id`` None, managed by the
curators of a home guild and the operator) or one guild's local events. Every entry point takes
the caller and checks it; a source or draft of another scope is "not found".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.background import BackgroundLoop
from bot.db import Sessionmaker, engine_of, exclusive
from bot.i18n import N_
from bot.models import utcnow
from bot.services.access import Caller, Policy
from bot.services.audit import audit_row
from bot.services.catalog import CatalogService
from bot.services.drafting import draft_fields, possible_duplicate
from bot.services.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from bot.services.feeds import DATASET_FORMATS, TIMEOUT, FeedError, Item, check_url, fetch, parse
from bot.services.review_posts import offer
from bot.services.validation import check_text, parse_id

log = logging.getLogger(__name__)

MAX_FAILURES = 10
BACKOFF_MAX = 6 * 3600.0  # seconds: the longest wait after failed checks
NAME_MAX = 100
REASON_MAX = 500
CHOICES = 25


def wait_after(interval: float, failures: int) -> float:
    """Seconds from one check to the next: the interval, doubled for each failed check in a row
    (at most :data:`BACKOFF_MAX`, never less than the interval)."""
    if failures <= 0:
        return interval
    return max(interval, min(interval * 2.0 ** min(failures, 32), BACKOFF_MAX))


@dataclass(frozen=True)
class SourceView:
    id: int
    name: str
    url: str
    format: str
    guild_id: int | None
    paused: bool
    interval: float
    last_checked_at: dt.datetime | None
    last_new_at: dt.datetime | None
    last_error: str | None
    consecutive_failures: int

    @property
    def next_check_at(self) -> dt.datetime | None:
        if self.paused:
            return None
        if self.last_checked_at is None:
            return utcnow()
        return self.last_checked_at + dt.timedelta(
            seconds=wait_after(self.interval, self.consecutive_failures)
        )


@dataclass(frozen=True)
class DraftView:
    id: int
    title: str
    summary: str
    occurred_on: dt.date
    kind: str
    significance: int
    links: dict[str, list[str]]
    publisher: str
    url: str | None
    source_id: int | None
    duplicate_of: int | None
    state: str
    event_id: int | None
    suggested_by: int | None = None
    guild_id: int | None = None


@dataclass(frozen=True)
class PollResult:
    """One poll of one source: the drafts it made, or why it failed."""

    source: SourceView
    drafted: list[DraftView]
    error: str | None = None
    not_modified: bool = False


def draft_view(d: models.Draft) -> DraftView:
    return DraftView(
        d.id,
        d.title,
        d.summary,
        d.occurred_on,
        d.kind,
        d.significance,
        {k: list(v) for k, v in (d.links or {}).items()},
        d.publisher,
        d.url,
        d.source_id,
        d.duplicate_of,
        d.state,
        d.event_id,
        d.suggested_by,
        d.guild_id,
    )


class WatchService:
    def __init__(
        self,
        sessionmaker: Sessionmaker,
        policy: Policy,
        catalog: CatalogService,
        *,
        interval: float = 900.0,
        allow_private: bool = False,
        allow_hosts: Iterable[str] = (),
        fetch_timeout: float = TIMEOUT,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._policy = policy
        self._catalog = catalog
        self.interval = interval
        self.allow_private = allow_private
        self.allow_hosts = frozenset(h.strip().lower().rstrip(".") for h in allow_hosts if h.strip())
        self.fetch_timeout = fetch_timeout
        self._on_enqueue = on_enqueue

    def _view(self, s: models.WatchSource) -> SourceView:
        return SourceView(
            s.id,
            s.name,
            s.url,
            s.format,
            s.guild_id,
            s.paused,
            float(s.interval or self.interval),
            s.last_checked_at,
            s.last_new_at,
            s.last_error,
            s.consecutive_failures,
        )

    def _scoped(self, caller: Caller, column: Any) -> ColumnElement[bool]:
        scope = self._policy.scope_for(caller)
        out: ColumnElement[bool] = column.is_(None) if scope is None else column == scope
        return out

    # Sources ------------------------------------------------------------------------------------

    async def add(
        self, caller: Caller, url: str, fmt: str, name: str, *, interval: int | None = None
    ) -> SourceView:
        problems: list[FieldProblem] = []
        name = check_text(name, "name", problems, low=1, high=NAME_MAX)
        if fmt not in models.WATCH_FORMATS:
            known = {"known": ", ".join(models.WATCH_FORMATS)}
            problems.append(FieldProblem("format", N_("must be one of {known}"), params=known))
        try:
            url = check_url(url)
        except FeedError:
            problems.append(FieldProblem("url", N_("must be an http:// or https:// address")))
        if len(url) > 500:
            problems.append(
                FieldProblem("url", N_("must be at most {most} characters"), params={"most": 500})
            )
        if interval is not None and interval < 60:
            problems.append(
                FieldProblem("interval", N_("must be at least {low} seconds"), params={"low": 60})
            )
        if problems:
            raise ValidationFailed(problems)
        async with self._sessionmaker() as session, session.begin():
            await self._policy.require_curator(session, caller)
            scope = self._policy.scope_for(caller)
            same: int | None = await session.scalar(
                select(models.WatchSource.id).where(
                    models.WatchSource.url == url, self._scoped(caller, models.WatchSource.guild_id)
                )
            )
            if same is not None:
                raise ValidationFailed(
                    [FieldProblem("url", N_("is already watched (source #{id})"), params={"id": same})]
                )
            source = models.WatchSource(
                guild_id=scope, url=url, format=fmt, name=name, interval=interval, created_by=caller.user_id
            )
            session.add(source)
            await session.flush()
            session.add(audit_row("watch.add", "watch_source", source.id, {"url": url}, caller=caller))
            return self._view(source)

    async def sources(self, caller: Caller) -> list[SourceView]:
        async with self._sessionmaker() as session:
            await self._policy.require_curator(session, caller)
            stmt = select(models.WatchSource).where(self._scoped(caller, models.WatchSource.guild_id))
            return [
                self._view(s) for s in (await session.scalars(stmt.order_by(models.WatchSource.id))).all()
            ]

    async def _source(
        self, session: AsyncSession, caller: Caller, source_id: int, *, lock: bool = False
    ) -> models.WatchSource:
        source = await session.get(models.WatchSource, source_id, with_for_update=lock)
        if source is None or source.guild_id != self._policy.scope_for(caller):
            raise NotFound("source", f"#{source_id}")
        return source

    async def remove(self, caller: Caller, source_id: int) -> SourceView:
        """Stop watching a source; its pending drafts go with it, published events stay."""
        async with self._sessionmaker() as session, session.begin():
            await self._policy.require_curator(session, caller)
            source = await self._source(session, caller, source_id)
            view = self._view(source)
            await session.delete(source)
            session.add(
                audit_row("watch.remove", "watch_source", source_id, {"url": view.url}, caller=caller)
            )
            return view

    async def set_paused(self, caller: Caller, source_id: int, paused: bool) -> SourceView:
        """Pause a source (it is not polled until resumed) or resume it (its count of failed checks,
        and so its backoff, starts again from nothing)."""
        async with self._sessionmaker() as session, session.begin():
            await self._policy.require_curator(session, caller)
            source = await self._source(session, caller, source_id, lock=True)
            if source.paused == paused:
                problem = N_("#{id} {name} is already paused") if paused else N_("#{id} {name} is not paused")
                named = {"id": source_id, "name": source.name}
                raise ValidationFailed([FieldProblem("source", problem, params=named)])
            source.paused = paused
            if not paused:
                source.consecutive_failures = 0
            action = "watch.pause" if paused else "watch.resume"
            session.add(audit_row(action, "watch_source", source_id, {"url": source.url}, caller=caller))
            return self._view(source)

    async def choices(self, caller: Caller, text: str) -> list[tuple[str, int]]:
        """The caller's sources whose number or name matches ``text`` (for autocomplete): pairs of
        a label and the source's id; none for a caller who is not a curator."""
        try:
            sources = await self.sources(caller)
        except PermissionDenied:
            return []
        query = " ".join(text.casefold().lstrip("#").split())
        out = [
            (f"#{s.id} {s.name}" + (" (paused)" if s.paused else ""), s.id)
            for s in sources
            if not query or query in s.name.casefold() or str(s.id).startswith(query)
        ]
        return out[:CHOICES]

    async def find(self, caller: Caller, text: str) -> int:
        """The id of the caller's one source numbered or named ``text``."""
        query = " ".join(text.strip().lstrip("#").split())
        ident = parse_id(query)
        if ident is not None:
            return ident  # whether it is the caller's is the command's service call
        matches = [s for s in await self.sources(caller) if query.casefold() in s.name.casefold()]
        exact = [s for s in matches if s.name.casefold() == query.casefold()]
        if len(exact) == 1 or len(matches) == 1:
            return (exact or matches)[0].id
        named: dict[str, object] = {"value": text.strip()[:40]}
        if matches:
            problem = N_("“{value}” names no single source ({names})")
            named["names"] = "; ".join(f"#{s.id} {s.name}" for s in matches[:5])
        else:
            problem = N_("“{value}” names no single source (see /curate watch list)")
        raise ValidationFailed([FieldProblem("source", problem, params=named)])

    # Polling ------------------------------------------------------------------------------------

    async def run_once(
        self, http: aiohttp.ClientSession | None = None, *, due_only: bool = False, wait: bool = True
    ) -> list[PollResult]:
        """One pass over every unpaused source (only those due, with ``due_only``), one at a time,
        holding the ``watch`` lock: one pass at a time in the whole deployment, whatever the number
        of processes. Without ``wait``, a pass another process is making means no pass here."""
        async with exclusive(engine_of(self._sessionmaker), "watch", wait=wait) as held:
            if not held:
                return []
            return await self._pass(http, due_only=due_only)

    async def _pass(self, http: aiohttp.ClientSession | None, *, due_only: bool) -> list[PollResult]:
        now = utcnow()
        async with self._sessionmaker() as session:
            rows = list(
                (
                    await session.scalars(
                        select(models.WatchSource)
                        .where(models.WatchSource.paused.is_(False))
                        .order_by(models.WatchSource.id)
                    )
                ).all()
            )
        due = [s.id for s in rows if not due_only or self._due(s, now)]
        if not due:
            return []
        if http is None:
            async with aiohttp.ClientSession() as own:
                return [await self.poll(own, source_id) for source_id in due]
        return [await self.poll(http, source_id) for source_id in due]

    def _due(self, source: models.WatchSource, now: dt.datetime) -> bool:
        if source.last_checked_at is None:
            return True
        next_at = self._view(source).next_check_at
        return next_at is not None and next_at <= now

    async def poll(self, http: aiohttp.ClientSession, source_id: int) -> PollResult:
        """Fetch one source and draft its new items; a failure is recorded on the source."""
        async with self._sessionmaker() as session:
            source = await session.get(models.WatchSource, source_id)
            if source is None:
                raise NotFound("source", f"#{source_id}")
            url, etag, modified = source.url, source.etag, source.last_modified
            fmt, scope = source.format, source.guild_id
        try:
            got = await fetch(
                http,
                url,
                etag=etag,
                last_modified=modified,
                allow_private=self.allow_private,
                allow_hosts=self.allow_hosts,
                timeout=self.fetch_timeout,
            )
            items = await parse(got.body, fmt) if got.body is not None else []
        except FeedError as exc:
            return await self._failed(source_id, str(exc))
        except Exception as exc:  # anything unforeseen is recorded too; the watcher goes on
            log.exception("watch: polling source %s failed", source_id)
            return await self._failed(source_id, f"unexpected error ({type(exc).__name__})")
        async with self._sessionmaker() as session:
            guids, urls = await _seen(session, source_id, items if fmt in DATASET_FORMATS else (), scope)
        # Only items not drafted before are read for names (checked again under the row lock).
        items = [i for i in items if i.guid not in guids and not (i.url and i.url in urls)]
        mentions = []
        for item in items:
            mentions.append(await self._catalog.mentioned(f"{item.title} {item.summary}"))
            await asyncio.sleep(0)  # a long feed's names are found between other work, not in one go
        return await self._record(source_id, got.etag, got.last_modified, items, mentions, got.body is None)

    async def _failed(self, source_id: int, error: str) -> PollResult:
        async with self._sessionmaker() as session, session.begin():
            source = await session.get(models.WatchSource, source_id, with_for_update=True)
            if source is None:
                raise NotFound("source", f"#{source_id}")
            source.last_checked_at = utcnow()
            source.consecutive_failures += 1
            source.last_error = error
            if source.consecutive_failures >= MAX_FAILURES:
                source.paused = True
                source.last_error = f"{error}; paused after {MAX_FAILURES} failed checks in a row"
            return PollResult(self._view(source), [], source.last_error)

    async def _record(
        self,
        source_id: int,
        etag: str | None,
        modified: str | None,
        items: list[Item],
        mentions: list[dict[str, list[str]]],
        not_modified: bool,
    ) -> PollResult:
        """The source's new state and its new drafts, in one transaction (the source row locked on
        PostgreSQL, so two watchers never draft one item twice)."""
        now = utcnow()
        async with self._sessionmaker() as session, session.begin():
            source = await session.get(models.WatchSource, source_id, with_for_update=True)
            if source is None:
                raise NotFound("source", f"#{source_id}")
            rows = items if source.format in DATASET_FORMATS else ()
            guids, urls = await _seen(session, source_id, rows, source.guild_id)
            drafts: list[models.Draft] = []
            for item, links in zip(items, mentions, strict=True):
                if item.guid in guids or (item.url and item.url in urls):
                    continue
                guids.add(item.guid)
                if item.url:
                    urls.add(item.url)
                fields = draft_fields(item, links, now.date())
                duplicate = await possible_duplicate(
                    session, source.guild_id, fields["occurred_on"], fields["title"], links
                )
                draft = models.Draft(
                    source_id=source_id,
                    guild_id=source.guild_id,
                    publisher=source.name,
                    duplicate_of=duplicate,
                    **fields,
                )
                session.add(draft)
                drafts.append(draft)
            source.last_checked_at = now
            source.consecutive_failures = 0
            source.last_error = None
            if not not_modified:
                source.etag, source.last_modified = etag, modified
            if drafts:
                source.last_new_at = now
            await session.flush()
            posts = await offer(session, drafts, self._policy.home_guild_ids)
            result = PollResult(self._view(source), [draft_view(d) for d in drafts], None, not_modified)
        if posts and self._on_enqueue is not None:
            self._on_enqueue()
        return result


async def _seen(
    session: AsyncSession, source_id: int, rows: Sequence[Item] = (), scope: int | None = None
) -> tuple[set[str], set[str]]:
    """The GUIDs and URLs of the items a source has drafted already; with a dataset's ``rows``,
    also the row ids the timeline of the source's scope records already (an imported row, as an
    event or as a further source of one), which are not drafted again."""
    seen = (
        await session.execute(
            select(models.Draft.guid, models.Draft.url).where(models.Draft.source_id == source_id)
        )
    ).all()
    guids = {g for g, _ in seen}
    keys = sorted({r.guid for r in rows} - guids)
    if keys:
        E, S = models.Event, models.Source
        visible = E.guild_id.is_(None) if scope is None else or_(E.guild_id.is_(None), E.guild_id == scope)
        for stmt in (
            select(E.external_id).where(E.external_id.in_(keys), visible),
            select(S.external_id).join(E, E.id == S.event_id).where(S.external_id.in_(keys), visible),
        ):
            guids |= {k for k in (await session.scalars(stmt)).all() if k}
    return guids, {u for _, u in seen if u}


class Watcher(BackgroundLoop):
    """The background loop that polls due sources (owned by the bot like the outbox worker): a pass
    every ``tick`` seconds, or at once after :meth:`wake` (a source was just added)."""

    task_name = "watcher"

    def __init__(self, service: WatchService, *, tick: float | None = None) -> None:
        super().__init__()
        self._service = service
        self._tick = tick if tick is not None else min(60.0, service.interval)

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as http:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    await self._service.run_once(http, due_only=True, wait=False)
                except Exception:
                    log.exception("watch: a pass failed")
                self.passes += 1
                await self._pause(self._tick)


__all__ = ["DraftView", "PollResult", "SourceView", "WatchService", "Watcher", "draft_view"]
