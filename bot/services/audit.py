"""The audit log: who did what to which record, when, from which guild. One constructor for its
rows, so every writer records the same fields the same way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot import models
from bot.services.access import Caller


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    guild_id: int | None
    user_id: int | None
    action: str
    record_type: str
    record_id: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, row: models.AuditLog) -> AuditEntry:
        return cls(
            row.id,
            row.at,
            row.guild_id,
            row.user_id,
            row.action,
            row.record_type,
            row.record_id,
            dict(row.details or {}),
        )


def audit_row(
    action: str,
    record_type: str,
    record_id: object,
    details: dict[str, Any] | None = None,
    *,
    caller: Caller | None = None,
    guild_id: int | None = None,
    user_id: int | None = None,
) -> models.AuditLog:
    """One audit row. ``caller`` gives the guild and user (the operator, user 0, is recorded as no
    user); without a caller, ``guild_id`` and ``user_id`` say who, if anyone."""
    if caller is not None:
        guild_id, user_id = caller.guild_id, caller.user_id or None
    return models.AuditLog(
        guild_id=guild_id,
        user_id=user_id,
        action=action,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        details=dict(details or {}),
    )
