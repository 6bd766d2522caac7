"""Writing the outbox: the ``delivery`` rows an event write adds in the writer's own transaction
(so publishing and enqueuing commit or roll back together).

A post goes once to each channel with a matching subscription (``matching_subscriptions``: the
channel's first matching subscription carries it, with the roles of every matching one). An import
queues its new alerts through an :class:`AlertBudget`: at most ``cap`` per channel per import; the
events past it are counted, and :func:`enqueue_summaries` adds one ``summary``
delivery per such channel ("N more events imported"), delivered like any alert, exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.models import utcnow
from bot.outbox.digests import collect
from bot.services.matching import Target, matching_both

Action = Literal["post", "edit"]


@dataclass
class _Held:
    """A channel's alerts held back by an import's cap: how many, and the last event of them."""

    subscription_id: int
    guild_id: int
    channel_id: int
    count: int = 0
    event_id: int = 0
    revision: int = 0


@dataclass
class AlertBudget:
    """The new-event alerts one import may queue: at most ``cap`` per channel (keyed by channel id)."""

    cap: int
    queued: Counter[int] = field(default_factory=Counter)
    held: dict[int, _Held] = field(default_factory=dict)

    def admit(self, event: models.Event, targets: Sequence[Target]) -> list[Target]:
        """The targets still within the cap; the others are counted for their summary."""
        admitted = []
        for sub in targets:
            if self.queued[sub.channel_id] < self.cap:
                self.queued[sub.channel_id] += 1
                admitted.append(sub)
                continue
            held = self.held.setdefault(sub.channel_id, _Held(sub.id, sub.guild_id, sub.channel_id))
            held.count += 1
            held.event_id, held.revision = event.id, event.revision
        return admitted

    @property
    def held_back(self) -> int:
        """Alerts not queued, over every channel."""
        return sum(h.count for h in self.held.values())


# The Core table: a bulk insert through it skips the ORM's per-row bookkeeping (2× faster here).
DELIVERY: Table = models.Delivery.__table__  # type: ignore[assignment]


async def _holders(session: AsyncSession, event: models.Event) -> list[Target]:
    """Every subscription whose channel already holds a posted alert of the event."""
    S = models.Subscription
    posted = select(models.Delivery.subscription_id).where(
        models.Delivery.event_id == event.id,
        models.Delivery.action == "post",
        models.Delivery.state == "sent",
        models.Delivery.message_id.is_not(None),
    )
    rows = (await session.execute(select(S.id, S.guild_id, S.channel_id).where(S.id.in_(posted)))).all()
    return [Target(r.id, r.guild_id, r.channel_id) for r in rows]


async def with_posted_alerts(session: AsyncSession, event_ids: Collection[int]) -> set[int]:
    """Those of ``event_ids`` whose alert some channel holds (only these have alerts to edit): one
    query for a whole batch of edits, instead of one per event."""
    ids = sorted(event_ids)
    found: set[int] = set()
    for i in range(0, len(ids), 500):
        stmt = (
            select(models.Delivery.event_id)
            .distinct()
            .where(
                models.Delivery.event_id.in_(ids[i : i + 500]),
                models.Delivery.action == "post",
                models.Delivery.state == "sent",
                models.Delivery.message_id.is_not(None),
            )
        )
        found.update(e for e in (await session.scalars(stmt)).all() if e is not None)
    return found


def _row(
    event_id: int,
    sub_id: int,
    guild_id: int,
    channel_id: int,
    revision: int,
    action: str,
    mention_role_ids: list[int] | None = None,
) -> dict[str, Any]:
    now = utcnow()
    return {
        "mention_role_ids": mention_role_ids,
        "event_id": event_id,
        "subscription_id": sub_id,
        "guild_id": guild_id,
        "channel_id": channel_id,
        "revision": revision,
        "action": action,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def enqueue(
    session: AsyncSession, event: models.Event, action: Action | str, *, budget: AlertBudget | None = None
) -> int:
    """Outbox rows for ``event`` in the caller's transaction; returns how many.

    ``post``: each channel with an active subscription the event matches, once (within ``budget``,
    for an import).
    ``edit``: every channel that already holds a posted alert of this event (so an edit or a
    retraction reaches it; never capped: it changes a message, it adds none).
    A digest subscription the event matches records it for its period (``bot.outbox.digests``);
    the digest shows it as it is when sent.
    """
    if action == "post":
        targets, digests = await matching_both(session, event)
        # A digest subscription collects the event for its period instead of an alert of its own.
        await collect(session, event.id, digests)
    else:
        targets = await _holders(session, event)
    if budget is not None and action == "post":
        targets = budget.admit(event, targets)
    if targets:
        # One executemany: a publish to thousands of channels stays one quick transaction.
        await session.execute(
            insert(DELIVERY),
            [
                _row(
                    event.id,
                    sub.id,
                    sub.guild_id,
                    sub.channel_id,
                    event.revision,
                    action,
                    sub.mention_role_ids,
                )
                for sub in targets
            ],
        )
    return len(targets)


async def enqueue_summaries(session: AsyncSession, budget: AlertBudget) -> int:
    """One ``summary`` delivery per channel whose alerts the budget held back; returns how many.

    The row names the last event held back (no alert of it exists in that channel, so the row is
    unique) and carries the count its message states.
    """
    rows = [
        {
            **_row(h.event_id, h.subscription_id, h.guild_id, h.channel_id, h.revision, "summary"),
            "summary_count": h.count,
        }
        for h in budget.held.values()
    ]
    if rows:
        await session.execute(insert(DELIVERY), rows)
    return len(rows)
