"""Watched sources and review-queue drafts as Discord embeds."""

from __future__ import annotations

import datetime as dt

import discord

from bot.discord.render.text import truncate
from bot.services.watch import DraftView, SourceView

LINK_LABELS = (
    ("programs", "Programs"),
    ("systems", "Systems"),
    ("facilities", "Sites"),
    ("actors", "Parties"),
    ("tracks", "Tracks"),
)


def _when(value: dt.datetime | None) -> str:
    return "never" if value is None else discord.utils.format_dt(value, "R")


def sources_embed(sources: list[SourceView]) -> discord.Embed:
    embed = discord.Embed(title="Watched sources")
    if not sources:
        embed.description = "No source is watched. Add one with `/curate watch add`."
        return embed
    for s in sources[:25]:
        state = "paused" if s.paused else f"next check {_when(s.next_check_at)}"
        lines = [
            truncate(s.url, 300),
            f"last check {_when(s.last_checked_at)} · last new item {_when(s.last_new_at)} · {state}",
        ]
        if s.last_error:
            lines.append(f"last error: {truncate(s.last_error, 300)}")
        embed.add_field(
            name=truncate(f"#{s.id} {s.name} ({s.format})", 256), value="\n".join(lines), inline=False
        )
    return embed


def draft_embed(draft: DraftView, page: int, total: int, *, footer: str | None = None) -> discord.Embed:
    """A draft as the queue shows it ("Draft 2 of 5 in the queue"), or with ``footer`` instead
    (a review channel's post: its reference)."""
    embed = discord.Embed(
        title=truncate(f"Draft #{draft.id}: {draft.title}", 256),
        description=truncate(draft.summary or "(no summary in the item)", 1500),
        url=draft.url,
    )
    embed.add_field(name="Date", value=draft.occurred_on.isoformat())
    embed.add_field(name="Kind", value=draft.kind.replace("_", " "))
    embed.add_field(name="Significance", value=str(draft.significance))
    for field, label in LINK_LABELS:
        slugs = draft.links.get(field) or []
        if slugs:
            embed.add_field(name=label, value=truncate(", ".join(slugs), 1024))
    if draft.suggested_by is not None:
        embed.add_field(name="Suggested by", value=f"<@{draft.suggested_by}>", inline=False)
    embed.add_field(name="Source", value=truncate(draft.publisher, 1024), inline=False)
    if draft.duplicate_of is not None:
        embed.add_field(name="Possible duplicate", value=f"of event #{draft.duplicate_of}", inline=False)
    embed.set_footer(text=footer or f"Draft {page} of {total} in the queue, newest first")
    return embed
