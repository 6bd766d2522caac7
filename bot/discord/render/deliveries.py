"""``/alerts why`` and ``/alerts log`` in words: what became of a channel's alerts."""

from __future__ import annotations

import datetime as dt

import discord

from bot.discord.render.embeds import BRAND
from bot.discord.render.flow import Flow
from bot.discord.render.text import plain, truncate
from bot.i18n import N_, format_datetime, gettext, ngettext, tr
from bot.services.deliveries import DISCORD_MESSAGE_URL, DeliveryView, LogPage, Verdict, WhyView
from bot.services.filters import Exclusion

#: The filters a subscription has, by the part of the filter an event fails (their option names).
PART_LABELS = {
    "kind": N_("kinds"),
    "program": N_("programs"),
    "system": N_("systems"),
    "facility": N_("facilities"),
    "party": N_("parties"),
    "track": N_("tracks"),
}
LABELS = {
    "sent": N_("sent"),
    "edited": N_("edited"),
    "retracted": N_("retracted"),
    "summary": N_("import summary"),
    "digest": N_("digest"),
    "failed": N_("failed"),
    "pending": N_("pending"),
    "cancelled": N_("not sent"),
}
HEADLINES = {
    "sent": N_("<#{channel}> got this alert: {link}"),
    "pending": N_("The alert for <#{channel}> is queued and not sent yet."),
    "failed": N_("The alert for <#{channel}> failed: Discord kept refusing it until the retry time ran out."),
    "cancelled": N_("The alert for <#{channel}> was queued but not sent."),
}


def _when(moment: dt.datetime | None, locale: str, timezone: str) -> str:
    return format_datetime(moment, locale, timezone) if moment is not None else gettext(locale, "never")


def exclusion_text(exclusion: Exclusion, locale: str = "en") -> str:
    """Which filter keeps an event out, naming its values and the event's."""
    if exclusion.part == "significance":
        return tr(
            locale,
            "significance {event} is below this subscription's minimum {wanted}",
            event=exclusion.event[0],
            wanted=exclusion.wanted[0],
        )
    label = gettext(locale, PART_LABELS.get(exclusion.part, exclusion.part))
    wanted = ", ".join(exclusion.wanted)
    if exclusion.part == "kind":
        return tr(
            locale,
            "kind {event} is not among this subscription's kinds ({wanted})",
            event=exclusion.event[0],
            wanted=wanted,
        )
    if not exclusion.event:
        return tr(
            locale,
            "the {filter} filter excludes it: the event has none, this subscription wants one of {wanted}",
            filter=label,
            wanted=wanted,
        )
    return tr(
        locale,
        "the {filter} filter excludes it: the event has {event}, this subscription wants one of {wanted}",
        filter=label,
        event=", ".join(exclusion.event),
        wanted=wanted,
    )


def verdict_lines(v: Verdict, why: WhyView, locale: str, timezone: str) -> list[str]:
    """What one subscription made of the event, each reason on a line of its own."""
    sub, lines = v.subscription, []
    if v.exclusion is not None:
        lines.append(exclusion_text(v.exclusion, locale))
    if sub.state == "paused":
        since = _when(sub.state_since or sub.created_at, locale, timezone)
        lines.append(tr(locale, "paused since {when}", when=since))
    elif sub.state == "disabled":
        since = _when(sub.state_since or sub.created_at, locale, timezone)
        reason = plain(sub.disabled_reason or gettext(locale, "no reason recorded"))
        lines.append(tr(locale, "disabled since {when}: {reason}", when=since, reason=reason))
    if v.made_after and sub.created_at is not None:
        lines.append(
            tr(
                locale,
                "made on {made}, after the event was published ({published}): a subscription gets the "
                "events published after it",
                made=_when(sub.created_at, locale, timezone),
                published=_when(why.published_at, locale, timezone),
            )
        )
    if lines:
        return lines
    if sub.mode == "digest":
        return [_digest_line(v, locale, timezone)]
    post = next((d for d in why.deliveries if d.action == "post"), None)
    if post is not None and post.subscription_id == sub.id:
        return [gettext(locale, "matches: this subscription carried the channel's alert")]
    if post is not None:
        return [
            tr(
                locale,
                "matches: the channel's one alert came through subscription #{id}",
                id=post.subscription_id,
            )
        ]
    if v.changed_after and sub.state_since is not None:
        return [
            tr(
                locale,
                "matches, but it was not active when the event was published (its state changed on {when})",
                when=_when(sub.state_since, locale, timezone),
            )
        ]
    return [
        gettext(
            locale,
            "matches, but no alert was queued for this channel when the event was published: it was "
            "published without alerts (an import without `alert`) or past an import's alert cap",
        )
    ]


def _digest_line(v: Verdict, locale: str, timezone: str) -> str:
    """Where a matching event stands in a digest subscription."""
    place, sub = v.digest, v.subscription
    if place is None:
        return gettext(locale, "matches, but this digest did not collect it when the event was published")
    if place.start is None:
        return tr(
            locale,
            "matches: collected for the digest now open, posted at {when}",
            when=_when(place.end, locale, timezone),
        )
    start = _when(place.start, locale, timezone)
    if place.message_id is None:
        return tr(
            locale,
            "matches: collected for the digest of the period from {start}, not posted yet",
            start=start,
        )
    link = DISCORD_MESSAGE_URL.format(guild=sub.guild_id, channel=sub.channel_id, message=place.message_id)
    return tr(locale, "matches: in the digest of the period from {start}: {link}", start=start, link=link)


#: The last error as a page of ``/alerts log`` shows it at most (``/alerts why`` shows it whole), so
#: the page's deliveries always fit one embed.
LOG_ERROR_MAX = 400


def delivery_lines(d: DeliveryView, locale: str, timezone: str, error_max: int | None = None) -> list[str]:
    """One delivery: its state, attempts, next attempt, last error and message."""
    label = gettext(locale, LABELS.get(d.label, d.label))
    lines = [
        tr(
            locale,
            "**{label}** · attempts: {attempts} · queued {when} · subscription #{sub}",
            label=label,
            attempts=d.attempts,
            when=_when(d.created_at, locale, timezone),
            sub=d.subscription_id,
        )
    ]
    if d.label == "pending":
        lines.append(tr(locale, "Next attempt: {when}", when=_when(d.next_attempt_at, locale, timezone)))
    if d.sent_at is not None and d.state == "sent":
        lines.append(tr(locale, "Done: {when}", when=_when(d.sent_at, locale, timezone)))
    lines += crosspost_lines(d, locale, timezone)
    if d.last_error:
        error = d.last_error if error_max is None else truncate(d.last_error, error_max)
        lines.append(tr(locale, "Last error: {error}", error=plain(error)))
    if d.jump_url is not None:
        lines.append(tr(locale, "Message: {link}", link=d.jump_url))
    return lines


def crosspost_lines(d: DeliveryView, locale: str, timezone: str) -> list[str]:
    """An alert of an announcement channel: whether its crosspost reached the following channels."""
    if d.crosspost == "done":
        return [gettext(locale, "Crossposted: the channels following this one have it")]
    if d.crosspost == "pending" and d.crosspost_at is not None:
        pending = ngettext(
            locale,
            "Crosspost pending, retry at {when}",
            "{count} crossposts pending, next retry at {when}",
            1,
        )
        return [pending.format(count=1, when=_when(d.crosspost_at, locale, timezone))]
    if d.crosspost == "failed":
        return [gettext(locale, "Crosspost failed (the last error says why)")]
    return []


def why_pages(why: WhyView, locale: str = "en", timezone: str = "UTC") -> list[discord.Embed]:
    """The whole answer of ``/alerts why``, as many pages as it needs."""
    flow = Flow(
        tr(locale, "Event #{id}: {title}", id=why.event_id, title=plain(why.event_title))[:256], colour=BRAND
    )
    head = [_headline(why, locale)]
    if why.status is not None:
        head.append(
            tr(
                locale,
                "Event #{id} is {status}: a retracted event is not alerted (alerts posted before are marked "
                "retracted).",
                id=why.event_id,
                status=gettext(locale, LABELS.get(why.status.event[0], why.status.event[0])),
            )
        )
    if not why.verdicts:
        head.append(
            tr(
                locale,
                "<#{channel}> has no subscription, so it gets no alerts. Add one with `/alerts subscribe`.",
                channel=why.channel_id,
            )
        )
    flow.describe("\n".join(head))
    for d in why.deliveries:
        name = tr(locale, "Delivery #{id}", id=d.id)
        flow.add_lines(name, delivery_lines(d, locale, timezone))
    for v in why.verdicts:
        lines = [f"- {line}" for line in verdict_lines(v, why, locale, timezone)]
        flow.add_lines(tr(locale, "Subscription #{id}", id=v.subscription.id), lines)
    return flow.build()


def _headline(why: WhyView, locale: str) -> str:
    post = next((d for d in why.deliveries if d.action == "post"), None)
    if post is None:
        return tr(locale, "<#{channel}> did not get this alert.", channel=why.channel_id)
    template = HEADLINES["sent" if post.state == "sent" else post.label]
    return tr(locale, template, channel=why.channel_id, link=post.jump_url or "")


def log_embed(page: LogPage, channel_id: int, locale: str = "en", timezone: str = "UTC") -> discord.Embed:
    """One page of ``/alerts log``: each delivery with its event, when, attempts and reason."""
    flow = Flow(gettext(locale, "Delivery log"), colour=BRAND)
    head = [tr(locale, "Alerts for <#{channel}>, newest first.", channel=channel_id)]
    if not page.entries:
        head.append(gettext(locale, "No alert has been queued for this channel yet."))
    flow.describe("\n".join(head))
    for d in page.entries:
        if d.event_id is None:  # a digest: its period
            period = _when(d.period_start, locale, timezone), _when(d.period_end, locale, timezone)
            name = tr(locale, "Digest from {start} to {end}", start=period[0], end=period[1])
        else:
            name = tr(locale, "Event #{id}: {title}", id=d.event_id, title=plain(d.event_title or ""))
        lines = delivery_lines(d, locale, timezone, LOG_ERROR_MAX)
        if d.summary_count:
            lines.insert(
                1,
                tr(
                    locale, "one summary of {count} imported events past the alert cap", count=d.summary_count
                ),
            )
        flow.add_lines(name, lines)
    # A page holds a few deliveries, each within a field (errors cut): the flow makes one page.
    return flow.build()[0]
