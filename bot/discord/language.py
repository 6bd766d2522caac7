"""Which language a reply is written in, and in which time zone its times are shown.

- An ephemeral reply follows the reader's own Discord language (``interaction.locale``).
- A public reply, and an alert, follow the server's ``/settings locale`` when one was chosen,
  else the server's Discord language (``interaction.guild_locale``, or the guild's
  ``preferred_locale`` from the gateway for an alert); else English.
- Times are shown in the server's ``/settings timezone`` (UTC when none is set).

Every one of them is one of ``bot.i18n.LOCALES`` (``negotiate``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord

from bot.discord.checks import caller_of
from bot.discord.render.reply import Who
from bot.i18n import negotiate
from bot.services.guild_settings import Presentation

if TYPE_CHECKING:
    from bot.services.container import Services


def _value(locale: discord.Locale | str | None) -> str | None:
    if locale is None:
        return None
    return locale.value if isinstance(locale, discord.Locale) else str(locale)


def own_locale(interaction: discord.Interaction) -> str:
    """The reader's own language: what an ephemeral answer (an error, a settings reply) is written in."""
    return negotiate(_value(interaction.locale))


def choose(presentation: Presentation, *, private: bool, user: str | None, guild: str | None) -> str:
    """The language of one reply: ``user``'s when private, else the server's choice or its locale."""
    if private:
        return negotiate(user)
    return presentation.locale or negotiate(guild)


def is_private(interaction: discord.Interaction) -> bool:
    """A page turn or button press on an ephemeral message answers in the reader's language."""
    flags = getattr(interaction.message, "flags", None)  # the console's messages have none
    return bool(flags is not None and flags.ephemeral)


async def who_reads(
    interaction: discord.Interaction, *, private: bool | None = None, uid: int | None = None
) -> Who:
    """Who is reading, in which language and time zone (``private``: the reply is ephemeral; by
    default whether the message pressed on is). ``uid``: the invoker who owns the pages."""
    services = cast("Services", interaction.client.services)  # type: ignore[attr-defined]
    shown = await services.guild_settings.presentation(interaction.guild_id)
    hidden = is_private(interaction) if private is None else private
    locale = choose(
        shown, private=hidden, user=_value(interaction.locale), guild=_value(interaction.guild_locale)
    )
    guild = interaction.guild
    return Who(
        interaction.guild_id,
        interaction.user.id if uid is None else uid,
        caller=caller_of(interaction),
        guild_name=getattr(guild, "name", None),
        locale=locale,
        timezone=shown.timezone,
    )
