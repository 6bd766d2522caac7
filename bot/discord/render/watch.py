"""Watched sources and review-queue drafts as Discord embeds, in the reader's language."""

from __future__ import annotations

import datetime as dt

import discord

from bot.discord.render.kinds import kind_label
from bot.discord.render.text import truncate
from bot.i18n import N_, format_date, gettext, tr
from bot.services.watch import DraftView, SourceView

LINK_LABELS = (
    ("programs", N_("Programs")),
    ("systems", N_("Systems")),
    ("facilities", N_("Facilities")),
    ("actors", N_("Parties")),
    ("tracks", N_("Talks tracks")),
)


def _when(value: dt.datetime | None, locale: str) -> str:
    """A moment as Discord shows it in the reader's own client language ("3 hours ago")."""
    return gettext(locale, "never") if value is None else discord.utils.format_dt(value, "R")


def sources_embed(sources: list[SourceView], locale: str = "en") -> discord.Embed:
    """``/curate watch list``: each source's address, last check, last new item, next check and
    last error (the error as it was recorded)."""
    embed = discord.Embed(title=gettext(locale, "Watched sources"))
    if not sources:
        embed.description = gettext(locale, "No source is watched. Add one with `/curate watch add`.")
        return embed
    for s in sources[:25]:
        if s.paused:
            state = gettext(locale, "paused")
        else:
            state = tr(locale, "next check {when}", when=_when(s.next_check_at, locale))
        checked = tr(
            locale,
            "last check {checked} · last new item {new}",
            checked=_when(s.last_checked_at, locale),
            new=_when(s.last_new_at, locale),
        )
        lines = [truncate(s.url, 300), f"{checked} · {state}"]
        if s.last_error:
            lines.append(tr(locale, "last error: {error}", error=truncate(s.last_error, 300)))
        embed.add_field(
            name=truncate(f"#{s.id} {s.name} ({s.format})", 256), value="\n".join(lines), inline=False
        )
    return embed


def draft_embed(
    draft: DraftView, page: int, total: int, *, footer: str | None = None, locale: str = "en"
) -> discord.Embed:
    """A draft as the queue shows it ("Draft 2 of 5 in the queue"), or with ``footer`` instead
    (a review channel's post: its reference). The item's own title and summary stay as written."""
    title = tr(locale, "Draft #{id}: {title}", id=draft.id, title=draft.title)
    embed = discord.Embed(
        title=truncate(title, 256),
        description=truncate(draft.summary or gettext(locale, "(no summary in the item)"), 1500),
        url=draft.url,
    )
    embed.add_field(name=gettext(locale, "Date"), value=format_date(draft.occurred_on, "day", locale))
    embed.add_field(name=gettext(locale, "Kind"), value=kind_label(draft.kind, locale))
    embed.add_field(name=gettext(locale, "Significance"), value=str(draft.significance))
    for field, label in LINK_LABELS:
        slugs = draft.links.get(field) or []
        if slugs:
            embed.add_field(
                name=gettext(locale, label), value=truncate(", ".join(f"`{s}`" for s in slugs), 1024)
            )
    if draft.suggested_by is not None:
        embed.add_field(name=gettext(locale, "Suggested by"), value=f"<@{draft.suggested_by}>", inline=False)
    embed.add_field(name=gettext(locale, "Source"), value=truncate(draft.publisher, 1024), inline=False)
    if draft.duplicate_of is not None:
        duplicate = tr(locale, "of event #{id}", id=draft.duplicate_of)
        embed.add_field(name=gettext(locale, "Possible duplicate"), value=duplicate, inline=False)
    queued = tr(locale, "Draft {page} of {total} in the queue, newest first", page=page, total=total)
    embed.set_footer(text=footer or queued)
    return embed
