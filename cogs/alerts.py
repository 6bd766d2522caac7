"""``/alerts``: channel subscriptions and the sample alert. The outbox worker that delivers alerts
belongs to the bot (``bot.outbox``), not to this cog."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import checks
from bot.discord.answer import answer
from bot.discord.delivery_pages import AlertPageButton, log_reply, why_reply
from bot.discord.documents import Document, document, open_document
from bot.discord.language import own_locale, who_reads
from bot.discord.options import (
    AlertChannel,
    AlertChannelOption,
    EventOption,
    KindListOption,
    Offer,
    PartyListOption,
    ProgramListOption,
    SubscriptionOption,
    TrackListOption,
    offer,
)
from bot.discord.render.reply import message
from bot.discord.render.subscriptions import (
    digest_subscribed_text,
    duplicate_text,
    filters_line,
    placement_line,
    several_text,
    subscription_pages,
)
from bot.i18n import N_, gettext, ngettext, tr
from bot.outbox.transport import Outcome
from bot.services.digests import digest_options
from bot.services.errors import NotFound, PermissionDenied
from bot.services.follow import MANAGE_WEBHOOKS, BotCannotFollow, Feed
from bot.services.permissions import missing
from bot.services.subscriptions import DuplicateSubscription, Filters, SeveralSubscriptions, SubscriptionView
from bot.services.targets import Placement

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.discord.client import PeninsulaBot
    from bot.discord.render.reply import Reply, Who
    from bot.services.access import Caller
    from bot.services.container import Services


def placement_for(
    channel: AlertChannel,
    *,
    thread: bool,
    thread_min: int,
    forum_tags: str | None,
    identity: str,
    name: str | None,
    avatar_url: str | None,
) -> Placement:
    """The delivery form the options choose for ``channel`` (a forum's tags by kind unless told)."""
    tags: str | None = forum_tags
    if isinstance(channel, discord.ForumChannel):
        target, tags = "forum", forum_tags or "kind"
    else:
        target = "thread" if isinstance(channel, discord.Thread) else "channel"
    return Placement(
        target=target,
        parent_id=channel.parent_id if isinstance(channel, discord.Thread) else None,
        thread=thread,
        thread_min=thread_min,
        forum_tags=None if tags == "none" else tags,
        identity=identity,
        webhook_name=name,
        webhook_avatar_url=avatar_url,
    )


def subscribed_text(
    sub: SubscriptionView,
    channel: AlertChannel,
    mention: discord.Role | None,
    me: discord.Member | None,
    locale: str,
) -> str:
    """The answer to a subscribe: where, of what, in which form, whom it mentions."""
    text = tr(
        locale,
        "{channel} will receive alerts for {filters} (subscription #{id}).",
        channel=channel.mention,
        filters=filters_line(sub, locale),
        id=sub.id,
    )
    form = placement_line(sub.placement, locale)
    if form:
        text += f" {form}."
    if mention is not None:
        text += tr(locale, " Each alert mentions {role}.", role=mention.mention)
        if not mention.mentionable and me is not None and not channel.permissions_for(me).mention_everyone:
            text += gettext(
                locale,
                " (That role is not mentionable and I lack Mention Everyone, so it will not be pinged.)",
            )
    return text


def outcome_text(outcome: Outcome, channel: str, locale: str = "en") -> str:
    """What ``/alerts test`` says of its sample alert, in the reader's language."""
    if outcome.kind == "ok":
        return tr(locale, "Posted a sample alert in {channel}.", channel=channel)
    if outcome.kind in ("forbidden", "missing_channel"):
        return tr(
            locale,
            "I cannot post in {channel} (Discord answered {error}). Check my permissions there.",
            channel=channel,
            error=outcome.error,
        )
    if outcome.kind == "rate_limited":
        wait = round(max(outcome.retry_after, 1))
        return tr(locale, "{channel} is busy; try again in {seconds} s.", channel=channel, seconds=wait)
    return gettext(locale, "Discord did not accept the sample alert just now; please try again.")


@document("alerts")
async def alerts_document(services: Services, who: Who, args: str) -> Document:
    """``/alerts list`` as pages: every subscription of the server, for a channel manager."""
    if who.caller is None:
        raise PermissionDenied("the Manage Channels permission")
    subs = await services.subscriptions.list(who.caller)
    return Document(subscription_pages(subs, who.guild_name, who.locale, who.timezone))


class Alerts(commands.Cog):
    """Alert subscriptions."""

    alerts = app_commands.Group(
        name="alerts",
        description="Alerts posted to channels when events are published",
        guild_only=True,
        default_permissions=discord.Permissions(manage_channels=True),
    )

    def __init__(self, bot: PeninsulaBot) -> None:
        self.bot = bot

    # -- commands --------------------------------------------------------------------------------

    @alerts.command(name="subscribe")
    @app_commands.describe(
        channel="Channel to post alerts in",
        kinds="Kinds of event, comma-separated (all when empty)",
        programs="Programs, comma-separated slugs (all when empty)",
        parties="Parties, comma-separated slugs (all when empty)",
        tracks="Talks tracks, comma-separated slugs (all when empty)",
        min_significance="Only events at least this significant (1-5)",
        mention="Role to mention in each alert",
        mode="alert: one message per event; digest: one message per day or week",
        frequency="How often a digest is posted (mode:digest)",
        at="When a digest is posted, HH:MM in the server's time zone (mode:digest, default 08:00)",
        weekday="The day a weekly digest is posted",
        timezone="IANA time zone of the digest (default: the server's /settings timezone)",
        empty="Post a digest even when nothing happened in the period (default false)",
        thread="In a text channel: open a discussion thread on each significant alert",
        thread_min="Open threads from this significance (1-5, default 4)",
        forum_tags="In a forum: tag each post by the event's kind or program (default kind)",
        identity="Post as the bot, or through a channel webhook with its own name and avatar",
        name="The webhook's name on each alert (identity:webhook)",
        avatar_url="The webhook's avatar on each alert, an image address (identity:webhook)",
    )
    @checks.manage_channels()
    async def subscribe(
        self,
        interaction: discord.Interaction,
        channel: AlertChannelOption,
        kinds: KindListOption | None = None,
        programs: ProgramListOption | None = None,
        parties: PartyListOption | None = None,
        tracks: TrackListOption | None = None,
        min_significance: app_commands.Range[int, 1, 5] = 1,
        mention: discord.Role | None = None,
        mode: Literal["alert", "digest"] = "alert",
        frequency: Literal["daily", "weekly"] | None = None,
        at: app_commands.Range[str, 1, 16] | None = None,
        weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        empty: bool | None = None,
        thread: bool = False,
        thread_min: app_commands.Range[int, 1, 5] = 4,
        forum_tags: Literal["kind", "program", "none"] | None = None,
        identity: Literal["bot", "webhook"] = "bot",
        name: app_commands.Range[str, 1, 80] | None = None,
        avatar_url: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        """Post alerts in a channel, a forum or a thread, optionally filtered"""
        checks.require_channel_access(interaction, channel)
        if identity == "webhook" and not checks.guild_permissions(interaction).manage_webhooks:
            raise PermissionDenied(N_("the {permission} permission"), permission="Manage Webhooks")
        placement = placement_for(
            channel,
            thread=thread,
            thread_min=thread_min,
            forum_tags=forum_tags,
            identity=identity,
            name=name,
            avatar_url=avatar_url,
        )
        guild = interaction.guild
        me = guild.me if guild else None
        filters = Filters(
            kinds=kinds or [],
            programs=programs or [],
            tracks=tracks or [],
            actors=parties or [],
            min_significance=min_significance,
        )
        digest = digest_options(mode, frequency, at, weekday, timezone, empty)
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        try:
            sub = await self.bot.services.subscriptions.subscribe(
                checks.caller_of(interaction, channel),
                channel.id,
                filters,
                mention_role_id=mention.id if mention else None,
                digest=digest,
                placement=placement,
                bot_permissions=checks.bot_permission_names(channel, me) if me is not None else None,
            )
        except DuplicateSubscription as exc:
            text = duplicate_text(exc.existing, own_locale(interaction))
            await interaction.followup.send(**message(text).send_kwargs())
            return
        if sub.mode == "digest":
            who = await who_reads(interaction, private=True)
            text = digest_subscribed_text(sub, channel.mention, who.locale, who.timezone)
            await interaction.followup.send(**message(text).send_kwargs())
            return
        text = subscribed_text(sub, channel, mention, me, own_locale(interaction))
        await interaction.followup.send(**message(text).send_kwargs())

    @alerts.command(name="unsubscribe")
    @app_commands.describe(
        channel="Channel to stop posting alerts in",
        subscription="Which of the channel's subscriptions (when it has several)",
    )
    @checks.manage_channels()
    async def unsubscribe(
        self,
        interaction: discord.Interaction,
        channel: AlertChannelOption,
        subscription: SubscriptionOption | None = None,
    ) -> None:
        """Stop posting alerts in a channel"""
        checks.require_channel_access(interaction, channel)
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        caller = checks.caller_of(interaction, channel)
        subscriptions = self.bot.services.subscriptions
        try:
            gone = await subscriptions.unsubscribe(caller, channel.id, subscription)
        except SeveralSubscriptions as exc:
            await self._pick_one(interaction, exc)
            return
        left = await subscriptions.of_channel(caller, channel.id)
        if left:
            text = ngettext(
                own_locale(interaction),
                "Removed subscription #{id}; {channel} keeps {count} other subscription: {ids}.",
                "Removed subscription #{id}; {channel} keeps {count} other subscriptions: {ids}.",
                len(left),
            ).format(
                id=gone.id, channel=channel.mention, count=len(left), ids=", ".join(f"#{s.id}" for s in left)
            )
        else:
            text = tr(
                own_locale(interaction), "{channel} will no longer receive alerts.", channel=channel.mention
            )
        await interaction.followup.send(**message(text).send_kwargs())

    @subscribe.autocomplete("timezone")
    async def _zones(self, interaction: discord.Interaction, current: str) -> Offer:
        return offer(self.bot.services.guild_settings.timezone_choices(current))

    async def _pick_one(self, interaction: discord.Interaction, exc: SeveralSubscriptions) -> None:
        """Answer a command that did not say which of a channel's subscriptions it is about."""
        await interaction.followup.send(**message(several_text(exc, own_locale(interaction))).send_kwargs())

    @alerts.command(name="list")
    @checks.manage_channels()
    async def list_(self, interaction: discord.Interaction) -> None:
        """Show this server's subscriptions, their state and last delivery"""
        reply = await open_document(self.bot.services, await who_reads(interaction, private=True), "alerts")
        reply.ephemeral = True
        await interaction.response.send_message(**reply.send_kwargs())

    @alerts.command(name="pause")
    @app_commands.describe(
        channel="Channel whose alerts to pause",
        subscription="Which of the channel's subscriptions (when it has several)",
    )
    @checks.manage_channels()
    async def pause(
        self,
        interaction: discord.Interaction,
        channel: AlertChannelOption,
        subscription: SubscriptionOption | None = None,
    ) -> None:
        """Pause a channel's alerts (resume later)"""
        await self._set_state(
            interaction,
            channel,
            subscription,
            "paused",
            N_("Alerts in {channel} are paused (subscription #{id})."),
        )

    @alerts.command(name="resume")
    @app_commands.describe(
        channel="Channel whose alerts to resume",
        subscription="Which of the channel's subscriptions (when it has several)",
    )
    @checks.manage_channels()
    async def resume(
        self,
        interaction: discord.Interaction,
        channel: AlertChannelOption,
        subscription: SubscriptionOption | None = None,
    ) -> None:
        """Resume a paused or disabled channel's alerts and retry its failed ones"""
        checks.require_channel_access(interaction, channel)
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        caller = checks.caller_of(interaction, channel)
        try:
            sub, retried = await self.bot.services.subscriptions.resume(caller, channel.id, subscription)
        except SeveralSubscriptions as exc:
            await self._pick_one(interaction, exc)
            return
        locale = own_locale(interaction)
        text = tr(
            locale,
            "Alerts in {channel} are active again (subscription #{id}).",
            channel=channel.mention,
            id=sub.id,
        )
        if retried:
            again = ngettext(
                locale,
                " {n} failed alert will be sent again.",
                " {n} failed alerts will be sent again.",
                retried,
            )
            text += again.format(n=retried)
        await interaction.followup.send(**message(text).send_kwargs())

    async def _set_state(
        self,
        interaction: discord.Interaction,
        channel: AlertChannelOption,
        subscription: int | None,
        state: str,
        done: str,
    ) -> None:
        checks.require_channel_access(interaction, channel)
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        caller = checks.caller_of(interaction, channel)
        try:
            sub = await self.bot.services.subscriptions.set_state(
                caller, channel.id, state, subscription_id=subscription
            )
        except SeveralSubscriptions as exc:
            await self._pick_one(interaction, exc)
            return
        text = tr(own_locale(interaction), done, channel=channel.mention, id=sub.id)
        await interaction.followup.send(**message(text).send_kwargs())

    @alerts.command(name="test")
    @app_commands.describe(
        channel="Channel to post a sample alert in",
        subscription="Whose mention the sample uses (when the channel has several subscriptions)",
    )
    @checks.manage_channels()
    async def test(
        self,
        interaction: discord.Interaction,
        channel: AlertChannelOption,
        subscription: SubscriptionOption | None = None,
    ) -> None:
        """Post a sample alert in a channel"""
        checks.require_channel_access(interaction, channel)
        if isinstance(channel, discord.ForumChannel):
            text = tr(
                own_locale(interaction),
                "{channel} is a forum: it takes posts, not messages. `/alerts test` posts in text "
                "channels and threads.",
                channel=channel.mention,
            )
            await interaction.response.send_message(**message(text).send_kwargs())
            return
        guild = interaction.guild
        missing = checks.bot_missing_in(channel, guild.me if guild else None)
        if missing:
            text = tr(
                own_locale(interaction),
                "I cannot post in {channel}: I need the {permissions} permission there.",
                channel=channel.mention,
                permissions=", ".join(missing),
            )
            await interaction.response.send_message(**message(text).send_kwargs())
            return
        outbox = self.bot.outbox
        if outbox is None:
            await interaction.response.send_message(
                **message(
                    gettext(own_locale(interaction), "Alerts are starting up; try again.")
                ).send_kwargs()
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        # The sample pings the subscription's role, as a real alert would; no subscription, no ping.
        try:
            sub = await self.bot.services.subscriptions.get(
                checks.caller_of(interaction, channel), channel.id, subscription
            )
        except NotFound:
            if subscription is not None:
                raise
            sub = None
        except SeveralSubscriptions as exc:
            await self._pick_one(interaction, exc)
            return
        mention = sub.mention_role_id if sub else None
        outcome = await outbox.send_sample(channel.id, mention, guild_id=interaction.guild_id)
        await interaction.followup.send(
            outcome_text(outcome, channel.mention, own_locale(interaction)),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @alerts.command(name="follow")
    @app_commands.describe(channel="Channel of this server to receive every alert through Discord")
    @checks.manage_channels()
    async def follow(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        """Follow the bot's announcement feed into a channel (needs Manage Webhooks)"""
        checks.require_channel_access(interaction, channel)
        member = checks.member_permissions_in(channel, interaction.user)
        if not member.manage_webhooks and not checks.guild_permissions(interaction).administrator:
            raise PermissionDenied(
                N_("the {permission} permission in <#{channel}>"),
                permission=MANAGE_WEBHOOKS[1],
                channel=channel.id,
            )
        guild = interaction.guild
        bot_permissions = checks.bot_permission_names(channel, guild.me if guild else None)
        if missing(("follow",), bot_permissions):
            raise BotCannotFollow(channel.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        feed = await self._feed()
        caller = checks.caller_of(interaction, channel)
        self.bot.services.follow.require(caller, channel.id, bot_permissions, feed)
        if await follows(channel, feed.channel_id):
            done = N_("{channel} already follows <#{feed}>. Nothing was changed.")
        else:
            try:
                await self.bot.http.follow_webhook(feed.channel_id, webhook_channel_id=channel.id)
            except discord.Forbidden:
                raise BotCannotFollow(channel.id) from None
            await self.bot.services.follow.followed(caller, channel.id, feed)
            done = N_(
                "{channel} now follows <#{feed}>: every alert posted there reaches this channel "
                "through Discord."
            )
        text = tr(own_locale(interaction), done, channel=channel.mention, feed=feed.channel_id)
        await interaction.followup.send(**message(text).send_kwargs())

    async def _feed(self) -> Feed:
        """The feed channel of ``FEED_CHANNEL_ID``, as Discord describes it (refused unless it is a
        home guild's announcement channel)."""
        feed_id = self.bot.settings.feed_channel_id
        found: object = None
        if feed_id is not None:
            found = self.bot.get_channel(feed_id)
            if found is None:
                with contextlib.suppress(discord.HTTPException):
                    found = await self.bot.fetch_channel(feed_id)
        news = isinstance(found, discord.TextChannel) and found.is_news()
        guild_id = found.guild.id if isinstance(found, discord.TextChannel) else None
        return self.bot.services.follow.feed(feed_id, guild_id, announcement=news)

    @alerts.command(name="why")
    @app_commands.describe(
        event="Event number or words of its title",
        channel="Channel that did or did not get the event's alert",
    )
    @checks.manage_channels()
    async def why(
        self, interaction: discord.Interaction, event: EventOption, channel: AlertChannelOption
    ) -> None:
        """Say why a channel did or did not get an event's alert"""
        await self._explain(
            interaction,
            channel,
            lambda who, caller: why_reply(self.bot.services, who, caller, event, channel.id),
        )

    @alerts.command(name="log")
    @app_commands.describe(channel="Channel whose delivery history to show")
    @checks.manage_channels()
    async def log(self, interaction: discord.Interaction, channel: AlertChannelOption) -> None:
        """Show a channel's alert deliveries, newest first"""
        await self._explain(
            interaction, channel, lambda who, caller: log_reply(self.bot.services, who, caller, channel.id)
        )

    async def _explain(
        self,
        interaction: discord.Interaction,
        channel: AlertChannel,
        work: Callable[[Who, Caller], Awaitable[Reply]],
    ) -> None:
        """Answer privately about a channel the member must see, with their permissions in it."""
        checks.require_channel_access(interaction, channel)
        who = await who_reads(interaction, private=True)
        await answer(interaction, True, work(who, checks.caller_of(interaction, channel)))

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AlertPageButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AlertPageButton)


async def follows(channel: discord.TextChannel, feed_channel_id: int) -> bool:
    """Whether ``channel`` follows the feed already (one of its channel-follower webhooks)."""
    for hook in await channel.webhooks():
        source = hook.source_channel
        if (
            hook.type is discord.WebhookType.channel_follower
            and source is not None
            and source.id == feed_channel_id
        ):
            return True
    return False


async def setup(bot: PeninsulaBot) -> None:
    await bot.add_cog(Alerts(bot))
