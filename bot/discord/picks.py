"""“Did you mean” as buttons: a typed value that names nothing is answered with the closest choices.

When an option's value resolves to nothing (a :class:`NotFound` with suggestions), the ephemeral
answer names the problem, shows the command as it was typed, and offers one button per close
choice. Pressing one runs that command line again with the picked value: the line is read back from
the message (so a button carries only ``pb:pick:<uid>:<option>:<value>`` and works after a
restart), parsed and resolved exactly as the console does (:mod:`bot.discord.command_line`).
"""

from __future__ import annotations

import re
from typing import Any, Self

import discord
from discord import app_commands

from bot.discord.command_line import UsageError, format_line, parse_options, split_line, transform_options
from bot.discord.errors import reply_ephemeral, unwrap, user_message
from bot.discord.language import own_locale
from bot.discord.paging import CUSTOM_ID_MAX, EXPIRED, Rebuilt
from bot.discord.render.text import CONTENT_MAX
from bot.i18n import N_, gettext
from bot.services.errors import NotFound

# A message holds at most 25 buttons; an unknown topic offers every topic (the catalog has a dozen).
PICKS_MAX = 25
LABEL_MAX = 80
_LINE = re.compile(r"`(/[^`]+)`")
# Option types a line can carry as text: string, integer, boolean, number.
_TEXT_TYPES = {3, 4, 5, 10}


def typed_line(interaction: discord.Interaction) -> tuple[str, dict[str, str]] | None:
    """The command and its options as the user sent them (top-level commands of text options only)."""
    data: Any = interaction.data or {}
    options = data.get("options") or []
    if not data.get("name") or any(o.get("type") not in _TEXT_TYPES for o in options):
        return None
    return str(data["name"]), {str(o["name"]): str(o["value"]) for o in options}


def pick_view(
    interaction: discord.Interaction, error: BaseException, text: str
) -> tuple[str, discord.ui.View] | None:
    """The answer to an option that names nothing (``text``, from :func:`user_message`), with a
    button per close choice; None otherwise, or when the line typed is too long to quote back."""
    original = unwrap(error)
    if not isinstance(original, NotFound) or not original.suggestions:
        return None
    line = typed_line(interaction)
    if line is None:
        return None
    name, raw = line
    option = next((k for k, v in raw.items() if v == original.value), None)
    if option is None:
        return None
    view = discord.ui.View(timeout=None)
    for label, value in list(zip(original.suggestions, original.values, strict=False))[:PICKS_MAX]:
        button = PickButton(interaction.user.id, option, value, label)
        if len(button.custom_id) <= CUSTOM_ID_MAX:
            view.add_item(button)
    if not view.children:
        return None
    answer = f"{text}\nPick one to run `{format_line(name, raw)}` with it."
    return (answer, view) if len(answer) <= CONTENT_MAX else None


async def answer_error(interaction: discord.Interaction, error: BaseException, text: str) -> None:
    """The ephemeral answer to a failed command (``text``, from :func:`user_message`), or "did you
    mean" buttons when the failure is a value with close choices."""
    picked = pick_view(interaction, error, text)
    if picked is not None:
        await reply_ephemeral(interaction, picked[0], view=picked[1])
        return
    await reply_ephemeral(interaction, text)


class PickButton(Rebuilt, template=r"pb:pick:(?P<uid>\d+):(?P<option>[a-z_]+):(?P<value>.+)"):
    not_yours = N_("Only the person who ran this command can pick.")

    def __init__(self, uid: int, option: str, value: str, label: str = "") -> None:
        self.option, self.value = option, value
        custom_id = f"pb:pick:{uid}:{option}:{value}"
        super().__init__(uid, (label or value)[:LABEL_MAX], custom_id, style=discord.ButtonStyle.primary)

    @classmethod
    def from_match(cls, match: re.Match[str], interaction: discord.Interaction, item: Any) -> Self:
        return cls(int(match["uid"]), match["option"], match["value"], str(getattr(item, "label", "") or ""))

    async def callback(self, interaction: discord.Interaction) -> None:
        content = interaction.message.content if interaction.message is not None else ""
        found = _LINE.search(content or "")
        command = None
        try:
            if found is None:
                raise UsageError("no command line")
            name, rest = split_line(found[1])
            command = interaction.client.tree.get_command(name)  # type: ignore[attr-defined]
            if not isinstance(command, app_commands.Command):
                raise UsageError(f"no command /{name}")
            raw = parse_options(rest, [p.display_name for p in command.parameters])
        except UsageError:
            await reply_ephemeral(interaction, gettext(own_locale(interaction), EXPIRED))
            return
        raw[self.option] = self.value
        try:
            kwargs = await transform_options(command, interaction, raw)
            await command.callback(command.binding, interaction, **kwargs)  # type: ignore[arg-type]
        except Exception as exc:
            text = user_message(
                exc, context=f"picking {self.value!r} for /{command.name}", locale=own_locale(interaction)
            )
            await answer_error(interaction, exc, text)
