"""An event's history for ``/event history:true``: each audited write (created, edited, a source
merged, retracted), who made it and when, and what it changed, field by field, oldest first."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord.render.flow import Flow
from bot.discord.render.text import plain, truncate
from bot.services.audit import AuditEntry
from bot.services.views import EventView

ACTIONS = {
    "event.create": "created",
    "event.edit": "edited",
    "event.retract": "retracted",
    "event.merge": "a further source merged in",
}
VALUE_MAX = 200


def _value(text: object) -> str:
    shown = plain(truncate(str(text or ""), VALUE_MAX))
    return shown or "—"


def history_lines(entry: AuditEntry) -> list[str]:
    """When, who and through what, then one line per changed field (``old → new``)."""
    details = entry.details
    who = f"<@{entry.user_id}>" if entry.user_id else "the operator"
    via = {"seed": "the shipped corpus", "import": "an import", "review": "the review queue"}.get(
        str(details.get("via")), ""
    )
    head = f"{discord.utils.format_dt(entry.at, 'f')} by {who}" + (f" through {via}" if via else "")
    if details.get("draft"):
        head += f" (draft #{details['draft']})"
    lines = [head]
    changes = details.get("changes") or {}
    for field, pair in changes.items():
        old, new = [*pair, "", ""][:2] if isinstance(pair, list) else ("", pair)
        if entry.action == "event.create":
            lines.append(f"**{field}**: {_value(new)}")
        else:
            lines.append(f"**{field}**: {_value(old)} → {_value(new)}")
    if not changes and entry.action != "event.create":
        lines.append("(no field-by-field record: written before revisions were recorded)")
    return lines


def history_pages(event: EventView, entries: Sequence[AuditEntry]) -> list[discord.Embed]:
    b = Flow(
        truncate(f"History of event #{event.id}: {event.title}", 256),
        footer="Oldest first · who changed what, and when",
    )
    if not entries:
        b.describe("No change of this event has been recorded.")
    for entry in entries:
        revision = entry.details.get("revision")
        what = ACTIONS.get(entry.action, entry.action)
        b.add_lines(f"Revision {revision}: {what}" if revision else what.capitalize(), history_lines(entry))
    return b.build()
