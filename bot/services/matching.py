"""Which subscriptions an event is for: one alert per channel (the channel's first matching
subscription's, with the roles of every matching one), and the digests that collect it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.services.filters import EventFacts, EventFilter, subscription_filter
from bot.services.links import KINDS

__all__ = ["ALERTED", "Target", "matching_both", "matching_digests", "matching_subscriptions"]

#: The one state whose subscriptions an event fans out to (paused and disabled ones get nothing).
ALERTED = "active"


def _decoded(raw: str | None) -> tuple[str, ...]:
    # Stored filters are JSON lists, nearly always empty: "[]" is not worth decoding.
    if raw is None or raw.replace(" ", "") in ("", "[]", "null"):
        return ()
    value = json.loads(raw)
    return tuple(value) if isinstance(value, list) else ()


@dataclass(frozen=True)
class Target:
    """Where one alert of an event goes: the first matching subscription of a channel (``id``), and
    the roles of every matching subscription of that channel (``mention_role_ids``, when several
    matched; else ``None``: the subscription's own role)."""

    id: int
    guild_id: int
    channel_id: int
    mention_role_ids: list[int] | None = None


async def matching_subscriptions(session: AsyncSession, event: models.Event) -> list[Target]:
    """Where ``event`` (with its links loaded) is alerted: one :class:`Target` per channel with an
    active subscription it matches, the channel's first such subscription (lowest id) carrying it.
    With several matching in a channel, the alert mentions each one's role (once each). Digest
    subscriptions are not among them: they collect the event (:func:`matching_digests`)."""
    return (await _matching(session, event))[0]


async def matching_digests(session: AsyncSession, event: models.Event) -> list[int]:
    """The active digest subscriptions ``event`` matches (each collects it for its period)."""
    return (await _matching(session, event))[1]


async def matching_both(session: AsyncSession, event: models.Event) -> tuple[list[Target], list[int]]:
    """:func:`matching_subscriptions` and :func:`matching_digests` in one query."""
    return await _matching(session, event)


async def _matching(session: AsyncSession, event: models.Event) -> tuple[list[Target], list[int]]:
    S = models.Subscription
    # Plain rows, not ORM objects: a publish may fan out to thousands of subscriptions. The filters
    # come as JSON text and are decoded only when not empty (most are): decoding thousands of "[]"
    # cost more than the rest of the publish.
    stmt = (
        select(
            S.id,
            S.guild_id,
            S.channel_id,
            S.mention_role_id,
            S.min_significance,
            cast(S.kinds, Text).label("kinds"),
            *(cast(getattr(S, k.field), Text).label(k.field) for k in KINDS),
            S.mode,
        )
        .where(S.state == ALERTED)
        .order_by(S.id)
    )
    if event.guild_id is not None:
        stmt = stmt.where(S.guild_id == event.guild_id)
    facts = EventFacts.of(event)
    decided: dict[tuple[Any, ...], bool] = {}
    targets: dict[int, Target] = {}
    roles: dict[int, list[int]] = {}
    digests: list[int] = []
    for row in (await session.execute(stmt)).all():
        # Channels mostly share their filters (most have none): each distinct one is decided once. The
        # row's guild cannot change the answer: for a local event the query kept only its guild's rows.
        key = tuple(row[4:-1])
        wanted = decided.get(key)
        if wanted is None:
            wanted = decided[key] = _stored_filter(row).matches(facts)
        if not wanted:
            continue
        if row.mode == "digest":
            digests.append(row.id)
            continue
        channel_roles = roles.setdefault(row.channel_id, [])
        if row.mention_role_id is not None and row.mention_role_id not in channel_roles:
            channel_roles.append(row.mention_role_id)
        first = targets.get(row.channel_id)
        if first is None:
            targets[row.channel_id] = Target(row.id, row.guild_id, row.channel_id)
        else:
            targets[row.channel_id] = Target(first.id, first.guild_id, first.channel_id, channel_roles)
    return list(targets.values()), digests


def _stored_filter(row: Any) -> EventFilter:
    decoded = {k.field: _decoded(getattr(row, k.field)) for k in KINDS}
    return subscription_filter(
        SimpleNamespace(
            kinds=_decoded(row.kinds), min_significance=row.min_significance, guild_id=row.guild_id, **decoded
        )
    )
