"""/curate log: one line per audit entry, a page of them in one embed."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord.render.embeds import EmbedBuilder
from bot.discord.render.text import join_lines, plain, truncate
from bot.i18n import gettext, tr
from bot.services.curation import AuditEntry


def audit_line(entry: AuditEntry, locale: str = "en") -> str:
    """One entry: when, who, what (the action's code, as the logs write it), the title and reason."""
    who = f"<@{entry.user_id}>" if entry.user_id else gettext(locale, "the bot")
    what = f"{entry.action} {entry.record_type}"
    if entry.record_id:
        what += f" #{entry.record_id}" if entry.record_type == "event" else f" {entry.record_id}"
    title = entry.details.get("title")
    extra = f" — {plain(truncate(str(title), 80))}" if title else ""
    reason = entry.details.get("reason")
    if reason:
        extra += f" ({plain(truncate(str(reason), 120))})"
    return f"{discord.utils.format_dt(entry.at, 'f')} · {who} · `{what}`{extra}"


def audit_embed(entries: Sequence[AuditEntry], page: int, locale: str = "en") -> discord.Embed:
    footer = tr(locale, "Page {page} · newest first", page=page + 1)
    b = EmbedBuilder(gettext(locale, "Curation log"), footer=footer, locale=locale)
    lines = [audit_line(e, locale) for e in entries]
    b.describe(join_lines(lines, 4000) if entries else gettext(locale, "Nothing has been logged yet."))
    return b.build()
