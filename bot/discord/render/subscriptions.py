"""/alerts: a subscription's filters in words, and the list of a server's subscriptions."""

from __future__ import annotations

import discord

from bot.discord.render.embeds import BRAND
from bot.discord.render.flow import Flow
from bot.services.subscriptions import SubscriptionView


def filters_line(sub: SubscriptionView) -> str:
    parts = []
    for label, values in (
        ("kinds", sub.kinds),
        ("programs", sub.programs),
        ("parties", sub.actors),
        ("tracks", sub.tracks),
    ):
        if values:
            parts.append(f"{label}: {', '.join(values)}")
    if sub.min_significance > 1:
        parts.append(f"significance ≥ {sub.min_significance}")
    return "; ".join(parts) or "every event"


def subscription_pages(subs: list[SubscriptionView], guild_name: str) -> list[discord.Embed]:
    """Every subscription of a server, as many pages as they need (``/alerts list``)."""
    flow = Flow(f"Alert subscriptions in {guild_name}", colour=BRAND)
    if not subs:
        flow.describe("No channel receives alerts yet. Add one with `/alerts subscribe`.")
    for sub in subs:
        # Channel mentions render as names in field values, not in field names.
        lines = [f"<#{sub.channel_id}>", f"**{sub.state.capitalize()}** · {filters_line(sub)}"]
        if sub.mention_role_id:
            lines.append(f"Mentions <@&{sub.mention_role_id}>")
        last = discord.utils.format_dt(sub.last_delivery_at, "R") if sub.last_delivery_at else "never"
        lines.append(f"Last alert: {last}")
        if sub.failed:
            lines.append(f"Failed alerts: {sub.failed} (`/alerts resume` retries them)")
        if sub.state == "disabled" and sub.disabled_reason:
            lines.append(f"Disabled because: {sub.disabled_reason}")
        flow.add_field("\u200b", "\n".join(lines))
    return flow.build()
