"""/alerts: a subscription's filters in words, and the list of a server's subscriptions."""

from __future__ import annotations

import discord

from bot.discord.render.digest import FREQUENCY_TITLES
from bot.discord.render.embeds import BRAND
from bot.discord.render.flow import Flow
from bot.discord.render.text import truncate
from bot.i18n import N_, format_datetime, gettext, ngettext, tr, weekday_name
from bot.services.subscriptions import SeveralSubscriptions, SubscriptionView
from bot.services.targets import Placement

#: An autocomplete choice's name: at most 100 characters.
CHOICE_NAME_MAX = 100

STATES = {"active": N_("Active"), "paused": N_("Paused"), "disabled": N_("Disabled")}


def filters_line(sub: SubscriptionView, locale: str = "en") -> str:
    parts = []
    for label, values in (
        (N_("kinds"), sub.kinds),
        (N_("programs"), sub.programs),
        (N_("parties"), sub.actors),
        (N_("tracks"), sub.tracks),
        (N_("systems"), sub.systems),
        (N_("facilities"), sub.facilities),
    ):
        if values:
            parts.append(f"{gettext(locale, label)}: {', '.join(values)}")
    if sub.min_significance > 1:
        parts.append(tr(locale, "significance ≥ {level}", level=sub.min_significance))
    return "; ".join(parts) or gettext(locale, "every event")


def schedule_line(sub: SubscriptionView, locale: str = "en", timezone: str = "UTC") -> str | None:
    """A digest subscription's schedule and next digest: "daily digest at 08:00 Asia/Seoul, next
    4 Dec 2026 08:00 KST" (its own zone, else the server's ``timezone``); None for alerts."""
    if sub.mode != "digest":
        return None
    zone = sub.digest_timezone or timezone
    if sub.digest_frequency == "weekly" and sub.digest_weekday is not None:
        text = tr(
            locale,
            "weekly digest on {weekday} at {at} {zone}",
            weekday=weekday_name(sub.digest_weekday, locale),
            at=sub.digest_at,
            zone=zone,
        )
    else:
        text = tr(locale, "daily digest at {at} {zone}", at=sub.digest_at, zone=zone)
    if sub.digest_next_at is not None:
        text = tr(
            locale,
            "{schedule}, next {when}",
            schedule=text,
            when=format_datetime(sub.digest_next_at, locale, zone),
        )
    if sub.digest_empty:
        text = tr(locale, "{schedule} (sent even when empty)", schedule=text)
    return text


def digest_subscribed_text(sub: SubscriptionView, channel: str, locale: str, timezone: str) -> str:
    """The answer to a digest subscribe: where, of what, when (and when the first one comes)."""
    return tr(
        locale,
        "{channel} will receive a {schedule} for {filters} (subscription #{id}), one message per period "
        "instead of one alert per event.",
        channel=channel,
        schedule=schedule_line(sub, locale, timezone) or "",
        filters=filters_line(sub, locale),
        id=sub.id,
    )


def placement_line(p: Placement, locale: str = "en") -> str:
    """How a subscription's alerts are posted, when not as the bot's messages in a channel ("" then)."""
    parts = []
    if p.target == "forum":
        if p.forum_tags == "program":
            parts.append(gettext(locale, "A forum post per alert, tagged by program"))
        elif p.forum_tags == "kind":
            parts.append(gettext(locale, "A forum post per alert, tagged by kind"))
        else:
            parts.append(gettext(locale, "A forum post per alert"))
    if p.thread:
        parts.append(
            tr(locale, "A discussion thread on each alert of significance ≥ {level}", level=p.thread_min)
        )
    if p.identity == "webhook":
        parts.append(
            tr(locale, "Posted through a webhook as “{name}”", name=p.webhook_name or "Peninsula Brief")
        )
    return " · ".join(parts)


def subscription_label(sub: SubscriptionView, locale: str = "en", channel_name: str | None = None) -> str:
    """One subscription in a line: its number, channel and filters (autocomplete, pick lists)."""
    where = f"#{channel_name}" if channel_name else f"<#{sub.channel_id}>"
    label = f"#{sub.id} · {where} · {filters_line(sub, locale)}"
    if sub.mode == "digest":
        title = FREQUENCY_TITLES.get(sub.digest_frequency or "daily", FREQUENCY_TITLES["daily"])
        label += f" · {gettext(locale, title)} {sub.digest_at}"
    return label


def subscription_choice(sub: SubscriptionView, locale: str, channel_name: str | None) -> str:
    """A subscription as an autocomplete choice (plain text: Discord shows no mentions there)."""
    return truncate(subscription_label(sub, locale, channel_name or str(sub.channel_id)), CHOICE_NAME_MAX)


def several_text(exc: SeveralSubscriptions, locale: str = "en") -> str:
    """The answer when a channel holds several subscriptions and the command named none."""
    head = tr(
        locale,
        "<#{channel}> has {count} subscriptions. Run the command again with the `subscription` option "
        "set to one of them:",
        channel=exc.channel_id,
        count=len(exc.subscriptions),
    )
    lines = [f"- {subscription_label(sub, locale)}" for sub in exc.subscriptions]
    return "\n".join([head, *lines])


def duplicate_text(existing: SubscriptionView, locale: str = "en") -> str:
    """The refusal of a subscribe identical to a subscription the channel already has."""
    return tr(
        locale,
        "<#{channel}> already has subscription #{id} with these filters and this mention ({filters}). "
        "Nothing was added.",
        channel=existing.channel_id,
        id=existing.id,
        filters=filters_line(existing, locale),
    )


def subscription_pages(
    subs: list[SubscriptionView], guild_name: str | None, locale: str = "en", timezone: str = "UTC"
) -> list[discord.Embed]:
    """Every subscription of a server, as many pages as they need (``/alerts list``); the last
    alert's time is shown in the server's time zone (and relative, as Discord writes it)."""
    name = guild_name or gettext(locale, "this server")
    flow = Flow(tr(locale, "Alert subscriptions in {guild}", guild=name), colour=BRAND)
    if not subs:
        flow.describe(gettext(locale, "No channel receives alerts yet. Add one with `/alerts subscribe`."))
    for sub in subs:
        # Channel mentions render as names in field values, not in field names.
        state = gettext(locale, STATES.get(sub.state, sub.state.capitalize()))
        lines = [
            tr(locale, "<#{channel}> · subscription #{id}", channel=sub.channel_id, id=sub.id),
            f"**{state}** · {filters_line(sub, locale)}",
        ]
        schedule = schedule_line(sub, locale, timezone)
        if schedule is not None:
            lines.append(schedule[:1].upper() + schedule[1:])
        if sub.mention_role_id:
            lines.append(tr(locale, "Mentions <@&{role}>", role=sub.mention_role_id))
        form = placement_line(sub.placement, locale)
        if form:
            lines.append(form)
        if sub.last_delivery_at:
            when = format_datetime(sub.last_delivery_at, locale, timezone)
            last = f"{when} ({discord.utils.format_dt(sub.last_delivery_at, 'R')})"
        else:
            last = gettext(locale, "never")
        lines.append(tr(locale, "Last alert: {when}", when=last))
        if sub.failed:
            lines.append(
                tr(locale, "Failed alerts: {count} (`/alerts resume` retries them)", count=sub.failed)
            )
        if sub.crosspost_pending and sub.crosspost_retry_at is not None:
            when = format_datetime(sub.crosspost_retry_at, locale, timezone)
            lines.append(
                ngettext(
                    locale,
                    "Crosspost pending, retry at {when}",
                    "{count} crossposts pending, next retry at {when}",
                    sub.crosspost_pending,
                ).format(count=sub.crosspost_pending, when=when)
            )
        if sub.state == "disabled" and sub.disabled_reason:
            lines.append(tr(locale, "Disabled because: {reason}", reason=sub.disabled_reason))
        if sub.state != "active" and sub.state_since is not None:
            when = format_datetime(sub.state_since, locale, timezone)
            lines.append(tr(locale, "{state} since {when}", state=state, when=when))
        flow.add_field("\u200b", "\n".join(lines))
    return flow.build()
