"""The review queue: the drafts of a scope (from watched sources and members' suggestions) waiting
for its curators, who publish one (as drafted, or edited first), merge it into the event it
duplicates as a further source, or reject it with a reason.

Every decision goes through the event lifecycle where it writes an event (the event, its audit row
and its alerts in one transaction), is audited, and records who decided and when; a draft already
decided is refused with who decided it. Every entry point takes the caller and checks the curator
again; a draft of another scope is "not found".
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.db import Sessionmaker, hold
from bot.i18n import N_
from bot.models import utcnow
from bot.services.access import Caller, Policy
from bot.services.audit import audit_row
from bot.services.catalog import CatalogService
from bot.services.drafting import SIGNIFICANCE, guess_kind, possible_duplicate
from bot.services.errors import Conflict, FieldProblem, NotFound, Term, ValidationFailed
from bot.services.events import with_links
from bot.services.feeds import DATASET_FORMATS
from bot.services.importing.write import scoped_id
from bot.services.lifecycle import Author, EventWriter, LinkResolver
from bot.services.links import KINDS
from bot.services.review_posts import Trouble, mark_decided, offer, posting_trouble
from bot.services.validation import CleanEvent, EventInput, SourceInput, check_text, host_of, validate_event
from bot.services.views import EventView, SourceView, event_view
from bot.services.watch import DraftView, draft_view

REASON_MAX = 500
#: The fields a curator may change in the Edit form before publishing.
EDITABLE = ("title", "date", "summary", "significance", "kind")


@dataclass(frozen=True)
class QueuePage:
    drafts: list[DraftView]
    total: int
    #: Drafts the caller's review channel did not get (shown above the queue until a post succeeds).
    trouble: Trouble | None = None


@dataclass(frozen=True)
class DraftEdit:
    """What the Edit form sends: the text of each field as typed (validated on publish)."""

    title: str
    date: str
    summary: str
    significance: str
    kind: str


def edit_of(draft: DraftView) -> DraftEdit:
    """The Edit form prefilled with the draft."""
    return DraftEdit(
        draft.title,
        draft.occurred_on.isoformat(),
        draft.summary,
        str(draft.significance),
        draft.kind,
    )


def _significance(text: str) -> int:
    value = text.strip()
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 5:
        raise ValidationFailed([FieldProblem("significance", N_("must be a whole number from 1 to 5"))])
    return int(value)


def _apply(data: EventInput, edit: DraftEdit) -> None:
    data.title, data.summary, data.kind = edit.title, edit.summary, edit.kind.strip()
    data.date = edit.date.strip()
    data.significance = _significance(edit.significance)


def check_edit(edit: DraftEdit) -> None:
    """Raise ValidationFailed naming every bad field of the Edit form (before anything is written)."""
    data = EventInput(title="", summary="", date="", kind="", sources=[SourceInput("form", "the draft's")])
    _apply(data, edit)  # the draft's own source is checked on publish
    validate_event(data)


def check_reason(reason: str) -> str:
    """The reason of a rejection, trimmed; ValidationFailed when it is too short, long or odd."""
    problems: list[FieldProblem] = []
    reason = check_text(reason, "reason", problems, low=3, high=REASON_MAX, multiline=True)
    if problems:
        raise ValidationFailed(problems)
    return reason


def _dated(draft: models.Draft) -> str:
    """The draft's date as typed, to its precision (a suggestion may name a month or a year)."""
    return draft.occurred_on.isoformat()[: {"year": 4, "month": 7}.get(draft.precision, 10)]


_DECIDED = {
    "published": N_("Draft #{id} was already published (event #{event}) by {who} on {when}."),
    "merged": N_("Draft #{id} was already merged (event #{event}) by {who} on {when}."),
    "rejected": N_("Draft #{id} was already rejected by {who} on {when}."),
}


def _decided(draft: models.Draft) -> Conflict:
    """Who decided a draft, and when, as a refusal of a second decision says it."""
    who = f"<@{draft.decided_by}>" if draft.decided_by else Term(N_("the operator"))
    when = f"{draft.decided_at:%Y-%m-%d %H:%M} UTC" if draft.decided_at else "—"
    template = _DECIDED.get(draft.state, _DECIDED["rejected"])
    return Conflict(template, id=draft.id, event=draft.event_id, who=who, when=when)


#: Suggestions one member may make per hour (refused with the time they may try again).
SUGGEST_LIMIT = 5
SUGGEST_WINDOW = dt.timedelta(hours=1)
#: What a suggestion may not carry: user, role and channel mentions, @everyone/@here, masked links.
_PINGS = re.compile(r"<@[!&]?\d+>|<#\d+>|@(?:everyone|here)\b", re.IGNORECASE)
_MASKED = re.compile(r"\[[^\]]*\]\(\s*<?\s*\w+://")


class TooManySuggestions(Conflict):
    """A member made :data:`SUGGEST_LIMIT` suggestions within the hour; ``retry_at`` says when."""

    def __init__(self, retry_at: dt.datetime) -> None:
        self.retry_at = retry_at
        super().__init__(
            N_("You can suggest {limit} drafts an hour; you can suggest again at {time} UTC."),
            limit=SUGGEST_LIMIT,
            time=f"{retry_at:%H:%M}",
        )


@dataclass(frozen=True)
class Suggestion:
    """What a member typed in /suggest."""

    title: str
    date: str
    summary: str
    source_url: str


def _plain(text: str, name: str, problems: list[FieldProblem]) -> None:
    if _PINGS.search(text):
        problems.append(
            FieldProblem(name, N_("may not mention members, roles, channels, @everyone or @here"))
        )
    if _MASKED.search(text):
        problems.append(FieldProblem(name, N_("may not hold masked links ([text](address))")))


def check_suggestion(s: Suggestion, today: dt.date | None = None) -> CleanEvent:
    """The suggestion as a valid event content (kind guessed from the title), or ValidationFailed
    naming every problem; nothing is written before this passes."""
    problems: list[FieldProblem] = []
    for name in ("title", "summary"):
        _plain(getattr(s, name), name, problems)
    if len(s.source_url) > 500:
        problems.append(
            FieldProblem("source_url", N_("must be at most {most} characters"), params={"most": 500})
        )
    kind = guess_kind(s.title)
    data = EventInput(
        title=s.title,
        summary=s.summary,
        date=s.date.strip(),
        kind=guess_kind(s.summary) if kind == "other" else kind,
        significance=SIGNIFICANCE.get(kind, 2),
        sources=[SourceInput(host_of(s.source_url), s.title, None, s.source_url.strip())],
    )
    try:
        clean = validate_event(data, today=today)
    except ValidationFailed as exc:
        problems += [replace(p, field="source_url") if p.field.endswith(" url") else p for p in exc.problems]
    if problems:
        raise ValidationFailed(problems)
    return clean


async def _row_id(session: AsyncSession, draft: models.Draft) -> str | None:
    """The external id a draft of a dataset row publishes under: the id the importer gives that row
    (in the draft's scope), so importing the dataset later updates the event instead of adding it
    twice. None for a feed item or a suggestion. A row the timeline already holds is refused."""
    source = await session.get(models.WatchSource, draft.source_id) if draft.source_id else None
    if source is None or source.format not in DATASET_FORMATS:
        return None
    external_id = scoped_id(draft.guid, draft.guild_id)
    E = models.Event
    if (held := await session.scalar(select(E.id).where(E.external_id == external_id))) is not None:
        raise Conflict(
            N_(
                "This dataset row is already event #{event} (imported after it was drafted); "
                "reject the draft."
            ),
            event=held,
        )
    return external_id


class ReviewService:
    def __init__(
        self,
        sessionmaker: Sessionmaker,
        policy: Policy,
        catalog: CatalogService | None = None,
        *,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._policy = policy
        self._catalog = catalog
        self._on_enqueue = on_enqueue

    async def suggest(self, caller: Caller, suggestion: Suggestion) -> DraftView:
        """A member's suggestion as a pending draft of their scope, the suggester recorded; at most
        :data:`SUGGEST_LIMIT` a member per hour, however many arrive at once (``db.hold``). Any member
        may suggest; nothing is published."""
        if caller.guild_id is None:
            raise ValidationFailed([FieldProblem("server", N_("suggestions are made in a server"))])
        clean = check_suggestion(suggestion)
        text = f"{clean.title} {clean.summary}"
        links = await self._catalog.mentioned(text) if self._catalog is not None else {}
        now = utcnow()
        async with self._sessionmaker() as session, session.begin():
            # One suggestion of a member at a time, counted and written under the lock: two at the
            # limit never both pass (the second counts the first).
            await hold(session, f"suggest:{caller.user_id}")
            recent = (
                await session.scalars(
                    select(models.Draft.created_at)
                    .where(
                        models.Draft.suggested_by == caller.user_id,
                        models.Draft.created_at > now - SUGGEST_WINDOW,
                    )
                    .order_by(models.Draft.created_at)
                )
            ).all()
            if len(recent) >= SUGGEST_LIMIT:
                raise TooManySuggestions(recent[-SUGGEST_LIMIT] + SUGGEST_WINDOW)
            scope = self._policy.scope_for(caller)
            source = clean.sources[0]
            draft = models.Draft(
                source_id=None,
                guild_id=scope,
                suggested_by=caller.user_id,
                guid=f"suggestion:{uuid.uuid4().hex}",
                url=source.url,
                title=clean.title,
                summary=clean.summary,
                occurred_on=clean.occurred_on,
                precision=clean.precision,
                kind=clean.kind,
                significance=clean.significance,
                links=links,
                publisher=source.publisher,
                item_title=clean.title,
                published_on=None,
                duplicate_of=await possible_duplicate(session, scope, clean.occurred_on, clean.title, links),
                created_at=now,
            )
            session.add(draft)
            await session.flush()
            posts = await offer(session, [draft], self._policy.home_guild_ids)
            session.add(audit_row("draft.suggest", "draft", draft.id, {"title": clean.title}, caller=caller))
            view = draft_view(draft)
        self._notify(posts)
        return view

    def _scope_is(self, caller: Caller, draft: models.Draft) -> bool:
        return draft.guild_id == self._policy.scope_for(caller)

    async def queue(self, caller: Caller, *, limit: int = 5, offset: int = 0) -> QueuePage:
        """Pending drafts of the caller's scope, newest first."""
        async with self._sessionmaker() as session:
            await self._policy.require_curator(session, caller)
            scope = self._policy.scope_for(caller)
            in_scope = models.Draft.guild_id.is_(None) if scope is None else models.Draft.guild_id == scope
            where = (models.Draft.state == "pending", in_scope)
            count: int | None = await session.scalar(
                select(func.count()).select_from(models.Draft).where(*where)
            )
            stmt = (
                select(models.Draft)
                .where(*where)
                .order_by(models.Draft.id.desc())
                .limit(limit)
                .offset(offset)
            )
            drafts = [draft_view(d) for d in (await session.scalars(stmt)).all()]
            return QueuePage(drafts, count or 0, await posting_trouble(session, caller.guild_id))

    async def draft(self, caller: Caller, draft_id: int) -> DraftView:
        """One pending draft of the caller's scope (for the Edit form)."""
        async with self._sessionmaker() as session:
            return draft_view(await self._pending(session, caller, draft_id, lock=False))

    async def _pending(
        self, session: AsyncSession, caller: Caller, draft_id: int, *, lock: bool = True
    ) -> models.Draft:
        await self._policy.require_curator(session, caller)
        draft = await session.get(models.Draft, draft_id, with_for_update=lock)
        if draft is None or not self._scope_is(caller, draft):
            raise NotFound("draft", f"#{draft_id}")
        if draft.state != "pending":
            raise _decided(draft)
        return draft

    def _notify(self, count: int) -> None:
        """Wake the outbox and the review poster after a commit that queued something."""
        if count and self._on_enqueue is not None:
            self._on_enqueue()

    @staticmethod
    async def _decide(
        session: AsyncSession, draft: models.Draft, caller: Caller, state: str, event_id: int | None = None
    ) -> int:
        """Record the decision; the draft's review-channel posts are to be edited to say it (their
        count is returned)."""
        draft.state, draft.event_id = state, event_id
        draft.decided_by, draft.decided_at = caller.user_id or None, utcnow()
        return await mark_decided(session, draft.id)

    async def publish(self, caller: Caller, draft_id: int, edit: DraftEdit | None = None) -> EventView:
        """The draft (with ``edit``'s fields when given) as a published event, with its alerts, in
        one transaction; invalid fields write nothing."""
        async with self._sessionmaker() as session, session.begin():
            draft = await self._pending(session, caller, draft_id)
            links: dict[str, list[str]] = draft.links or {}
            data = EventInput(
                title=draft.title,
                summary=draft.summary,
                date=_dated(draft),
                kind=draft.kind,
                significance=draft.significance,
                sources=[SourceInput(draft.publisher, draft.item_title, draft.published_on, draft.url)],
                external_id=await _row_id(session, draft),
            )
            changed: dict[str, list[str]] = {}
            if edit is not None:
                _apply(data, edit)
                before = edit_of(draft_view(draft))
                changed = {
                    f: [getattr(before, f), getattr(edit, f).strip()]
                    for f in EDITABLE
                    if getattr(before, f).strip() != getattr(edit, f).strip()
                }
            for kind in KINDS:
                setattr(data, kind.field, list(links.get(kind.field, ())))
            clean = validate_event(data)
            resolved = (await LinkResolver.load(session)).resolve(clean)
            extra: dict[str, Any] = {"draft": draft.id, **({"edited": changed} if changed else {})}
            writer = EventWriter(
                session, Author(caller.guild_id, caller.user_id or None, "review", None, extra)
            )
            event = writer.create(clean, resolved, scope=draft.guild_id)
            count = await writer.flush()
            count += await self._decide(session, draft, caller, "published", event.id)
            session.add(
                audit_row("draft.publish", "draft", draft.id, {"event": event.id, **extra}, caller=caller)
            )
            view = event_view(event)
        self._notify(count)
        return view

    async def merge(self, caller: Caller, draft_id: int) -> EventView:
        """Add a draft marked "possible duplicate of #N" to event N as a further source (its alerts
        already posted are updated; nothing new is posted)."""
        async with self._sessionmaker() as session, session.begin():
            draft = await self._pending(session, caller, draft_id)
            if draft.duplicate_of is None:
                raise ValidationFailed(
                    [FieldProblem("draft", N_("draft #{id} duplicates no event"), params={"id": draft_id})]
                )
            stmt = with_links(select(models.Event).where(models.Event.id == draft.duplicate_of))
            event = await session.scalar(stmt.with_for_update(of=models.Event))
            if event is None or event.guild_id != draft.guild_id or event.status != "published":
                raise NotFound("event", f"#{draft.duplicate_of}")
            writer = EventWriter(session, Author.of(caller, via="review", draft=draft.id))
            source = SourceView(draft.publisher, draft.item_title, draft.published_on, "day", draft.url)
            writer.merge(event, source, f"draft:{draft.id}")
            count = await writer.flush()
            count += await self._decide(session, draft, caller, "merged", event.id)
            session.add(audit_row("draft.merge", "draft", draft.id, {"event": event.id}, caller=caller))
            view = event_view(event)
        self._notify(count)
        return view

    async def reject(self, caller: Caller, draft_id: int, reason: str) -> DraftView:
        """Set a draft aside with the reason (stored and audited); nothing is published or posted."""
        reason = check_reason(reason)
        async with self._sessionmaker() as session, session.begin():
            draft = await self._pending(session, caller, draft_id)
            draft.reject_reason = reason
            posts = await self._decide(session, draft, caller, "rejected")
            session.add(audit_row("draft.reject", "draft", draft.id, {"reason": reason}, caller=caller))
            view = draft_view(draft)
        self._notify(posts)
        return view


__all__ = [
    "EDITABLE",
    "SUGGEST_LIMIT",
    "DraftEdit",
    "QueuePage",
    "ReviewService",
    "Suggestion",
    "TooManySuggestions",
    "check_edit",
    "check_reason",
    "check_suggestion",
    "edit_of",
]
