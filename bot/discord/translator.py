"""Command texts in the reader's language: an ``app_commands.Translator`` over ``bot/i18n``'s catalogs.

Discord shows each command, option and choice in the client's language when the definition carries
``*_localizations``. Descriptions and choice names are translated into Korean, Japanese and Simplified
Chinese. Command and option *names* stay English on purpose: they are what /help, the README, the
answers and a server's members of every language say to each other ("try /timeline kind:launch"),
Discord's picker finds a command by its description words as well, and the Korean, Japanese and
Chinese users of Discord type Latin command names without switching their input method. A choice's
name is a label, not something typed, so it is translated.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.i18n import DEFAULT, LOCALES, gettext

#: Discord's locales we translate into, each our locale of the same name.
TRANSLATED = frozenset(code for code in LOCALES if code != DEFAULT)

_TRANSLATED_PLACES = frozenset(
    {
        app_commands.TranslationContextLocation.command_description,
        app_commands.TranslationContextLocation.group_description,
        app_commands.TranslationContextLocation.parameter_description,
        app_commands.TranslationContextLocation.choice_name,
    }
)


def translatable(location: app_commands.TranslationContextLocation) -> bool:
    """True for the texts we translate (descriptions and choice names), False for names typed."""
    return location in _TRANSLATED_PLACES


class CatalogTranslator(app_commands.Translator):
    """Descriptions and choice names from the gettext catalogs; ``None`` (Discord shows English) else."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale.value not in TRANSLATED or not translatable(context.location):
            return None
        text = gettext(locale.value, string.message)
        return text if text != string.message else None
