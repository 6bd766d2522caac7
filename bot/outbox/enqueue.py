"""Writing the outbox: the ``delivery`` rows an event write adds in the writer's own transaction
(so publishing and enqueuing commit or roll back together)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.models import utcnow
from bot.services.subscriptions import matching_subscriptions

Action = Literal["post", "edit"]
# The Core table: a bulk insert through it skips the ORM's per-row bookkeeping (2× faster here).
DELIVERY: Table = models.Delivery.__table__  # type: ignore[assignment]


async def _holders(session: AsyncSession, event: models.Event) -> list[Any]:
    """Every subscription whose channel already holds a posted alert of the event."""
    S = models.Subscription
    posted = select(models.Delivery.subscription_id).where(
        models.Delivery.event_id == event.id,
        models.Delivery.action == "post",
        models.Delivery.state == "sent",
        models.Delivery.message_id.is_not(None),
    )
    return list((await session.execute(select(S.id, S.guild_id, S.channel_id).where(S.id.in_(posted)))).all())


async def enqueue(session: AsyncSession, event: models.Event, action: Action | str) -> int:
    """Outbox rows for ``event`` in the caller's transaction; returns how many.

    ``post``: every active subscription the event matches. ``edit``: every channel that already
    holds a posted alert of this event (so an edit or a retraction reaches it).
    """
    targets = await (matching_subscriptions(session, event) if action == "post" else _holders(session, event))
    if targets:
        now = utcnow()
        # One executemany: a publish to thousands of channels stays one quick transaction.
        await session.execute(
            insert(DELIVERY),
            [
                {
                    "event_id": event.id,
                    "subscription_id": sub.id,
                    "guild_id": sub.guild_id,
                    "channel_id": sub.channel_id,
                    "revision": event.revision,
                    "action": action,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for sub in targets
            ],
        )
    return len(targets)
