"""Autocomplete answers within Discord's limits."""

from __future__ import annotations

from collections.abc import Iterable

from discord import app_commands

from bot.discord.render.text import CHOICE_TEXT_MAX, CHOICES_MAX, truncate
from bot.services.catalog import Choice


def choices(items: Iterable[Choice]) -> list[app_commands.Choice[str]]:
    """Autocomplete answers within Discord's limits (25 choices, 100 characters each)."""
    out: list[app_commands.Choice[str]] = []
    for c in items:
        if len(out) == CHOICES_MAX:
            break
        out.append(
            app_commands.Choice(
                name=truncate(c.name, CHOICE_TEXT_MAX) or c.value[:CHOICE_TEXT_MAX], value=c.value[:100]
            )
        )
    return out
