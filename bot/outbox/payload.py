"""What an alert looks like on Discord: content, embed, allowed mentions, nonce."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.discord.render.digest import Period, digest_content, digest_pages
from bot.discord.render.events import event_embed, sources_button, title_of
from bot.discord.render.text import plain, truncate
from bot.i18n import N_, gettext, ngettext
from bot.services.views import EventView, SourceView

CONTENT_MAX = 2000


def nonce_for(delivery_id: int, revision: int) -> str:
    """Discord nonces are at most 25 characters; this one is stable across restarts."""
    return f"pb{delivery_id}r{revision}"


def delivery_ref(nonce: str) -> str:
    """The mark an alert's footer carries to name its delivery ("ref pb12r1"): after Discord
    has forgotten the nonce, a resend finds the message already posted by it."""
    return f"ref {nonce}"


def carries_ref(message: dict[str, Any], nonce: str) -> bool:
    """Whether a message (as Discord returns it) is the alert of the delivery with ``nonce``."""
    mark = delivery_ref(nonce)
    for embed in message.get("embeds") or ():
        text = str((embed.get("footer") or {}).get("text") or "")
        if text.rsplit(" · ", 1)[-1] == mark:
            return True
    return False


def marker_for(event_status: str, action: str) -> str | None:
    """The mark an alert carries: "Retracted", "Updated" (an edit), or none (a new event)."""
    if event_status == "retracted":
        return N_("Retracted")
    return N_("Updated") if action == "edit" else None


def alert_payload(
    event: EventView,
    *,
    mention_role_ids: Sequence[int] = (),
    marker: str | None,
    ref: str | None = None,
    locale: str = "en",
) -> dict[str, Any]:
    """Content (the roles' mentions, then one short line) and the event's embed (``marker``:
    None, "Updated" or "Retracted"; ``ref``, the delivery's reference, ends its footer)."""
    frame = gettext(locale, marker or N_("New event"))
    line = gettext(locale, "**{frame}:** {title}").format(frame=frame, title=plain(title_of(event, locale)))
    roles = list(dict.fromkeys(mention_role_ids))
    mention = "".join(f"<@&{role}> " for role in roles)
    content = mention + truncate(line, CONTENT_MAX - len(mention))
    # Only the subscriptions' roles may be pinged: no @everyone, no users, no other role.
    allowed: dict[str, Any] = {"parse": []}
    if roles:
        allowed["roles"] = [str(role) for role in roles]
    embed = event_embed(event, marker=marker, note=ref, locale=locale)
    # A link button: Discord opens the URL itself, so no interaction ever reaches the bot.
    buttons = [
        {"type": 2, "style": 5, "label": label, "url": url} for label, url in sources_button(event, locale)
    ]
    return {
        "content": content,
        "embeds": [embed.to_dict()],
        "components": [{"type": 1, "components": buttons}] if buttons else [],
        "allowed_mentions": allowed,
    }


def summary_payload(count: int, ref: str | None = None, locale: str = "en") -> dict[str, Any]:
    """The one message of an import past its alert cap in a channel: how many more events came.
    It pings nobody (it is not an alert of an event); ``ref``, the delivery's reference, is its
    embed's footer, as on an alert, so a resend after the nonce window finds it."""
    line = ngettext(
        locale,
        "**{count} more event imported** without an alert of their own; `/timeline` lists them.",
        "**{count} more events imported** without an alert of their own; `/timeline` lists them.",
        count,
    ).format(count=count)
    return {
        "content": line,
        "embeds": [{"footer": {"text": ref}}] if ref else [],
        "components": [],
        "allowed_mentions": {"parse": []},
    }


def digest_payload(
    events: Sequence[EventView],
    period: Period,
    part: int,
    *,
    mention_role_ids: Sequence[int] = (),
    ref: str | None = None,
    locale: str = "en",
) -> tuple[dict[str, Any], int]:
    """Message ``part`` (from 1) of a period's digest, and how many messages the digest takes now.
    The first message mentions the subscription's roles; ``ref`` ends every page's footer."""
    pages = digest_pages(events, period, locale, ref)
    page = pages[min(part, len(pages)) - 1]
    roles = list(dict.fromkeys(mention_role_ids)) if part == 1 else []
    mention = "".join(f"<@&{role}> " for role in roles)
    allowed: dict[str, Any] = {"parse": []}
    if roles:
        allowed["roles"] = [str(role) for role in roles]
    content = mention + truncate(digest_content(period, locale), CONTENT_MAX - len(mention))
    payload = {"content": content, "embeds": [page.to_dict()], "components": [], "allowed_mentions": allowed}
    return payload, len(pages)


def sample_event(locale: str = "en") -> EventView:
    """What ``/alerts test`` posts: clearly a test, in the shape of a real alert (in ``locale``)."""
    return EventView(
        id=0,
        external_id=None,
        title=gettext(locale, "Test alert from Peninsula Brief"),
        summary=gettext(
            locale, "This is a sample alert. Real alerts look like this when a matching event is published."
        ),
        occurred_on=dt.datetime.now(dt.UTC).date(),
        precision="day",
        kind="other",
        significance=1,
        status="published",
        guild_id=None,
        revision=1,
        sources=(SourceView("Peninsula Brief", gettext(locale, "Sample alert")),),
    )
