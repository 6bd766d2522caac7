"""An event's history for ``/event history:true``: each audited write (created, edited, a source
merged, retracted), who made it and when, and what it changed, field by field, oldest first."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord.render.events import title_of
from bot.discord.render.flow import Flow
from bot.discord.render.kinds import kind_label
from bot.discord.render.text import plain, truncate
from bot.i18n import N_, gettext, pgettext, tr
from bot.services.audit import AuditEntry
from bot.services.views import EventView

ACTIONS = {
    "event.create": N_("created"),
    "event.edit": N_("edited"),
    "event.retract": N_("retracted"),
    "event.merge": N_("a further source merged in"),
}
VIA = {"seed": N_("the shipped corpus"), "import": N_("an import"), "review": N_("the review queue")}
VALUE_MAX = 200


def _value(text: object) -> str:
    shown = plain(truncate(str(text or ""), VALUE_MAX))
    return shown or "—"


def field_name(field: str, locale: str = "en") -> str:
    """A recorded field's name: as stored in English (``title``, ``parties``), else translated."""
    names = {
        "title": pgettext(locale, "field", "title"),
        "date": pgettext(locale, "field", "date"),
        "summary": pgettext(locale, "field", "summary"),
        "kind": pgettext(locale, "field", "kind"),
        "significance": pgettext(locale, "field", "significance"),
        "status": pgettext(locale, "field", "status"),
        "programs": pgettext(locale, "field", "programs"),
        "parties": pgettext(locale, "field", "parties"),
        "tracks": pgettext(locale, "field", "tracks"),
        "systems": pgettext(locale, "field", "systems"),
        "facilities": pgettext(locale, "field", "facilities"),
        "sources": pgettext(locale, "field", "sources"),
    }
    return names.get(field, field)


def history_lines(entry: AuditEntry, locale: str = "en") -> list[str]:
    """When, who and through what, then one line per changed field (``old → new``; a field is
    named by its stored name, as /curate edit's options are)."""
    details = entry.details
    who = f"<@{entry.user_id}>" if entry.user_id else gettext(locale, "the operator")
    when = discord.utils.format_dt(entry.at, "f")
    via = VIA.get(str(details.get("via")))
    if via:
        head = tr(locale, "{when} by {who} through {via}", when=when, who=who, via=gettext(locale, via))
    else:
        head = tr(locale, "{when} by {who}", when=when, who=who)
    if details.get("draft"):
        head += " " + tr(locale, "(draft #{draft})", draft=details["draft"])
    lines = [head]
    changes = details.get("changes") or {}
    for field, pair in changes.items():
        old, new = [*pair, "", ""][:2] if isinstance(pair, list) else ("", pair)
        name = field_name(field, locale)
        if field == "kind":  # a code: its label (the other values stand as they were recorded)
            old, new = (kind_label(v, locale) if v else v for v in (old, new))
        if entry.action == "event.create":
            lines.append(f"**{name}**: {_value(new)}")
        else:
            lines.append(f"**{name}**: {_value(old)} → {_value(new)}")
    if not changes and entry.action != "event.create":
        lines.append(gettext(locale, "(no field-by-field record: written before revisions were recorded)"))
    return lines


def history_pages(event: EventView, entries: Sequence[AuditEntry], locale: str = "en") -> list[discord.Embed]:
    b = Flow(
        truncate(
            tr(locale, "History of event #{id}: {title}", id=event.id, title=title_of(event, locale)), 256
        ),
        footer=gettext(locale, "Oldest first · who changed what, and when"),
        locale=locale,
    )
    if not entries:
        b.describe(gettext(locale, "No change of this event has been recorded."))
    for entry in entries:
        revision = entry.details.get("revision")
        action = ACTIONS.get(entry.action)
        what = gettext(locale, action) if action else entry.action
        if revision:
            name = tr(locale, "Revision {revision}: {what}", revision=revision, what=what)
        else:
            name = what[:1].upper() + what[1:]
        b.add_lines(name, history_lines(entry, locale))
    return b.build()
