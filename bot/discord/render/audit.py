"""/curate log: one line per audit entry, a page of them in one embed."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord.render.embeds import EmbedBuilder
from bot.discord.render.text import join_lines, plain, truncate
from bot.services.curation import AuditEntry


def audit_line(entry: AuditEntry) -> str:
    who = f"<@{entry.user_id}>" if entry.user_id else "the bot"
    what = f"{entry.action} {entry.record_type}"
    if entry.record_id:
        what += f" #{entry.record_id}" if entry.record_type == "event" else f" {entry.record_id}"
    title = entry.details.get("title")
    extra = f" — {plain(truncate(str(title), 80))}" if title else ""
    reason = entry.details.get("reason")
    if reason:
        extra += f" ({plain(truncate(str(reason), 120))})"
    return f"{discord.utils.format_dt(entry.at, 'f')} · {who} · `{what}`{extra}"


def audit_embed(entries: Sequence[AuditEntry], page: int) -> discord.Embed:
    b = EmbedBuilder("Curation log", footer=f"Page {page + 1} · newest first")
    b.describe(
        join_lines([audit_line(e) for e in entries], 4000) if entries else "Nothing has been logged yet."
    )
    return b.build()
