"""A slash command as a line of text: ``/timeline program:icbm since:2019``, parsed and run.

The console reads such lines, and a "did you mean" button runs the line its message shows with the
picked value: both parse with :func:`parse_options`, convert each raw value as Discord would send it
(:func:`convert_text`) and resolve it through the command's own parameters (:func:`transform_options`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import discord
from discord import app_commands

_AS_GIVEN = (discord.AppCommandOptionType.channel, discord.AppCommandOptionType.role)
TRUE = {"true", "yes", "y", "1", "on"}
FALSE = {"false", "no", "n", "0", "off"}


class UsageError(Exception):
    """The line does not fit the command; the message says why."""


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def split_line(line: str) -> tuple[str, str]:
    line = line.strip()
    if not line.startswith("/"):
        raise UsageError('a command starts with "/", for example /program name:sohae')
    name, _, rest = line[1:].partition(" ")
    return name.strip().lower(), rest.strip()


def parse_options(rest: str, names: Sequence[str]) -> dict[str, str]:
    """``a:1 b:"two words" c:three words`` → raw strings; an unquoted value runs to the next option."""
    if not rest:
        return {}
    known = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    starts = list(re.finditer(rf"(?:^|\s)({known}):", rest)) if names else []
    if not starts or rest[: starts[0].start()].strip():
        head = rest[: starts[0].start()].strip() if starts else rest
        word = head.split(":", 1)[0].split()[0] if head else rest
        raise UsageError(f"unknown option “{word}”; options: {', '.join(names) or 'none'}")
    out: dict[str, str] = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(rest)
        value = rest[m.end() : end].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if m.group(1) in out:
            raise UsageError(f"option {m.group(1)} given twice")
        out[m.group(1)] = value
    return out


def convert_text(param: app_commands.Parameter, raw: str) -> Any:
    """A raw string as Discord would send it for a text option: string, integer, number, boolean."""
    kind = param.type
    if kind is discord.AppCommandOptionType.boolean:
        low = raw.lower()
        if low in TRUE or low in FALSE:
            return low in TRUE
        raise UsageError(f"{param.display_name} must be true or false")
    if kind is discord.AppCommandOptionType.integer:
        try:
            value: Any = int(raw)
        except ValueError:
            raise UsageError(f"{param.display_name} must be a whole number") from None
    elif kind is discord.AppCommandOptionType.number:
        try:
            value = float(raw)
        except ValueError:
            raise UsageError(f"{param.display_name} must be a number") from None
    elif kind is discord.AppCommandOptionType.string:
        value = raw
        shortest, longest = param.min_value, param.max_value
        if (shortest is not None and len(raw) < shortest) or (longest is not None and len(raw) > longest):
            raise UsageError(f"{param.display_name} must be {shortest or 0}–{longest} characters")
    else:
        raise UsageError(f"{param.display_name}: this option type is not available in the console")
    if param.choices:
        for choice in param.choices:
            if raw == str(choice.value) or raw.casefold() == choice.name.casefold():
                return choice.value
        shown = ", ".join(str(c.value) for c in param.choices)
        raise UsageError(f"{param.display_name} must be one of: {shown}")
    return value


def format_line(name: str, options: Mapping[str, object]) -> str:
    """The line that :func:`split_line` and :func:`parse_options` read back as ``name`` and ``options``."""
    parts = [f"/{name}"]
    for key, value in options.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(f'{key}:"{text}"' if " " in text or ":" in text else f"{key}:{text}")
    return " ".join(parts)


async def transform_options(
    command: app_commands.Command[Any, ..., Any],
    interaction: discord.Interaction,
    raw: Mapping[str, str],
    convert: Callable[[app_commands.Parameter, str], Any] = convert_text,
) -> dict[str, Any]:
    """The callback's keyword arguments for raw option values (by display name), resolved as on Discord.

    ``convert`` reads each raw value; a channel or role it returns is passed as it is.
    """
    params = {p.display_name: p for p in command.parameters}
    kwargs: dict[str, Any] = {}
    for display, value in raw.items():
        param = params[display]
        converted = convert(param, value)
        if param.type in _AS_GIVEN:
            kwargs[param.name] = converted
            continue
        # The command's own parameter object: choices and transformers (dates) as on Discord.
        kwargs[param.name] = await command._params[param.name].transform(interaction, converted)
    return kwargs
