"""Discord's limits as pure checks; each returns a list of violation strings (empty when valid).

The fake runs them on every request that carries a command definition, a message or an
autocomplete answer; they are usable on their own (``check_command_definitions`` in the cogs
smoke test).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from .constants import IS_COMPONENTS_V2, JSON

__all__ = [
    "check_allowed_mentions",
    "check_autocomplete_choices",
    "check_command_definitions",
    "check_message_payload",
    "check_modal",
    "walk_components",
]


def _valid_chat_input_name(name: Any) -> bool:
    # ^[-_\p{L}\p{N}]{1,32}$ without the third-party ``regex`` module: the same classes by
    # Unicode general category.
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return False
    ok = all(c in "-_" or unicodedata.category(c)[0] in "LN" for c in name)
    return ok and name == name.lower()


def _check_text(value: Any, where: str, lo: int, hi: int) -> list[str]:
    if not isinstance(value, str) or not lo <= len(value) <= hi:
        shown = value if not isinstance(value, str) else f"{len(value)} chars"
        return [f"{where}: must be a string of {lo}-{hi} characters (got {shown!r})"]
    return []


# Discord's locales (the OpenAPI description's AvailableLocalesEnum; tests/e2e/test_harness.py compares).
LOCALES = frozenset(
    {
        "ar",
        "bg",
        "cs",
        "da",
        "de",
        "el",
        "en-GB",
        "en-US",
        "es-419",
        "es-ES",
        "fi",
        "fr",
        "he",
        "hi",
        "hr",
        "hu",
        "id",
        "it",
        "ja",
        "ko",
        "lt",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "ru",
        "sv-SE",
        "th",
        "tr",
        "uk",
        "vi",
        "zh-CN",
        "zh-TW",
    }
)


def _check_localizations(
    obj: Mapping[str, Any], where: str, *, chat_name: bool, description: bool
) -> list[str]:
    """``name_localizations`` / ``description_localizations``: known locales, each value within the rules."""
    out: list[str] = []
    for key, lo, hi in (
        ("name_localizations", 1, 32 if chat_name else 100),
        ("description_localizations", 1, 100),
    ):
        table = obj.get(key)
        if table is None:
            continue
        if key == "description_localizations" and not description:
            out.append(f"{where}: {key} on something without a description")
            continue
        if not isinstance(table, dict):
            out.append(f"{where}.{key}: must be an object")
            continue
        for locale, value in table.items():
            here = f"{where}.{key}[{locale!r}]"
            if locale not in LOCALES:
                out.append(f"{here}: not a Discord locale")
            elif chat_name and key == "name_localizations" and not _valid_chat_input_name(value):
                out.append(f"{here}: name must match ^[-_\\p{{L}}\\p{{N}}]{{1,32}}$ in lower case")
            else:
                out += _check_text(value, here, lo, hi)
    return out


def _duplicate_local_names(items: Iterable[Any], where: str) -> list[str]:
    """Siblings may not share a name in any locale (their localised names count)."""
    out: list[str] = []
    seen: dict[str, set[str]] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        for locale, value in (item.get("name_localizations") or {}).items():
            names = seen.setdefault(locale, set())
            if value in names:
                out.append(f"{where}: two options named {value!r} in {locale}")
            names.add(value)
    return out


def _check_choices(choices: Any, where: str) -> list[str]:
    if not isinstance(choices, list):
        return [f"{where}: choices must be a list"]
    out: list[str] = []
    if len(choices) > 25:
        out.append(f"{where}: {len(choices)} choices (max 25)")
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict):
            out.append(f"{where}.choices[{i}]: not an object")
            continue
        out += _check_text(choice.get("name"), f"{where}.choices[{i}].name", 1, 100)
        out += _check_localizations(choice, f"{where}.choices[{i}]", chat_name=False, description=False)
        value = choice.get("value")
        if isinstance(value, str) and len(value) > 100:
            out.append(f"{where}.choices[{i}].value: {len(value)} chars (max 100)")
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            out.append(f"{where}.choices[{i}].value: must be a string or number")
    return out


def _check_options(options: Any, where: str, depth: int) -> list[str]:
    if options is None:
        return []
    if not isinstance(options, list):
        return [f"{where}.options: must be a list"]
    out: list[str] = []
    if len(options) > 25:
        out.append(f"{where}: {len(options)} options (max 25)")
    kinds = {opt.get("type") for opt in options if isinstance(opt, dict)}
    if kinds & {1, 2} and kinds - {1, 2}:
        out.append(f"{where}: subcommands cannot be mixed with other options")
    seen: set[str] = set()
    out += _duplicate_local_names(options, where)
    optional_seen = False
    for i, opt in enumerate(options):
        here = f"{where}.options[{i}]"
        if not isinstance(opt, dict):
            out.append(f"{here}: not an object")
            continue
        name, kind = opt.get("name"), opt.get("type")
        here = f"{where} option {name!r}"
        if not _valid_chat_input_name(name):
            out.append(f"{here}: name must match ^[-_\\p{{L}}\\p{{N}}]{{1,32}}$ in lower case")
        if name in seen:
            out.append(f"{here}: duplicate option name")
        seen.add(str(name))
        out += _check_text(opt.get("description"), f"{here}.description", 1, 100)
        out += _check_localizations(opt, here, chat_name=True, description=True)
        if kind not in range(1, 12):
            out.append(f"{here}: unknown option type {kind!r}")
            continue
        if kind in (1, 2):
            if opt.get("required"):
                out.append(f"{here}: subcommands cannot be required")
            if kind == 2:
                if depth > 0:
                    out.append(f"{here}: subcommand groups cannot be nested")
                subs = opt.get("options") or []
                if any(isinstance(s, dict) and s.get("type") != 1 for s in subs):
                    out.append(f"{here}: a subcommand group may only contain subcommands")
                out += _check_options(subs, here, depth + 1)
            else:
                subs = opt.get("options") or []
                if any(isinstance(s, dict) and s.get("type") in (1, 2) for s in subs):
                    out.append(f"{here}: a subcommand cannot contain subcommands")
                out += _check_options(subs, here, depth + 1)
            continue
        if opt.get("required"):
            if optional_seen:
                out.append(f"{here}: required options must come before optional ones")
        else:
            optional_seen = True
        if "choices" in opt and opt["choices"] is not None:
            if kind not in (3, 4, 10):
                out.append(f"{here}: choices only on string, integer and number options")
            if opt.get("autocomplete"):
                out.append(f"{here}: autocomplete cannot be combined with choices")
            out += _check_choices(opt["choices"], here)
        if opt.get("autocomplete") and kind not in (3, 4, 10):
            out.append(f"{here}: autocomplete only on string, integer and number options")
    return out


def check_command_definitions(commands: Any) -> list[str]:
    """Check a bulk-overwrite body (a list of command definitions) against Discord's rules."""
    if not isinstance(commands, list):
        return ["commands: body must be a JSON array"]
    out: list[str] = []
    if len(commands) > 100:
        out.append(f"commands: {len(commands)} chat input commands (max 100)")
    seen: set[tuple[Any, Any]] = set()
    for i, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            out.append(f"commands[{i}]: not an object")
            continue
        kind = cmd.get("type", 1)
        name = cmd.get("name")
        where = f"command {name!r}"
        if (kind, name) in seen:
            out.append(f"{where}: duplicate name")
        seen.add((kind, name))
        if kind == 1:
            if not _valid_chat_input_name(name):
                out.append(f"{where}: name must match ^[-_\\p{{L}}\\p{{N}}]{{1,32}}$ in lower case")
            out += _check_text(cmd.get("description"), f"{where}.description", 1, 100)
            out += _check_localizations(cmd, where, chat_name=True, description=True)
            out += _check_options(cmd.get("options"), where, 0)
        else:
            out += _check_text(name, f"{where}.name", 1, 32)
            out += _check_localizations(cmd, where, chat_name=False, description=False)
            if cmd.get("description") not in ("", None):
                out.append(f"{where}: user/message commands take an empty description")
            if cmd.get("options"):
                out.append(f"{where}: user/message commands take no options")
    out += _duplicate_local_names(
        (c for c in commands if isinstance(c, dict) and c.get("type", 1) == 1), "commands"
    )
    return out


def _embed_chars(embed: Mapping[str, Any]) -> int:
    total = len(str(embed.get("title") or "")) + len(str(embed.get("description") or ""))
    for fld in embed.get("fields") or []:
        if isinstance(fld, dict):
            total += len(str(fld.get("name") or "")) + len(str(fld.get("value") or ""))
    total += len(str((embed.get("footer") or {}).get("text") or ""))
    total += len(str((embed.get("author") or {}).get("name") or ""))
    return total


def _check_embed(embed: Any, where: str) -> list[str]:
    if not isinstance(embed, dict):
        return [f"{where}: not an object"]
    out: list[str] = []
    limits = (("title", 256), ("description", 4096))
    for key, hi in limits:
        if key in embed and embed[key] is not None and len(str(embed[key])) > hi:
            out.append(f"{where}.{key}: {len(str(embed[key]))} chars (max {hi})")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        out.append(f"{where}: {len(fields)} fields (max 25)")
    for j, fld in enumerate(fields):
        name, value = str(fld.get("name") or ""), str(fld.get("value") or "")
        if not 1 <= len(name) <= 256:
            out.append(f"{where}.fields[{j}].name: {len(name)} chars (1-256)")
        if not 1 <= len(value) <= 1024:
            out.append(f"{where}.fields[{j}].value: {len(value)} chars (1-1024)")
    footer = str((embed.get("footer") or {}).get("text") or "")
    if len(footer) > 2048:
        out.append(f"{where}.footer.text: {len(footer)} chars (max 2048)")
    author = str((embed.get("author") or {}).get("name") or "")
    if len(author) > 256:
        out.append(f"{where}.author.name: {len(author)} chars (max 256)")
    total = _embed_chars(embed)
    if total > 6000:
        out.append(f"{where}: {total} characters in total (max 6000)")
    return out


def walk_components(components: Iterable[Any]) -> Iterable[JSON]:
    for comp in components:
        if isinstance(comp, dict):
            yield comp
            yield from walk_components(comp.get("components") or [])
            if isinstance(comp.get("component"), dict):
                yield from walk_components([comp["component"]])
            if isinstance(comp.get("accessory"), dict):
                yield from walk_components([comp["accessory"]])


def _check_components(components: Any, flags: int, where: str) -> list[str]:
    if not isinstance(components, list):
        return [f"{where}.components: must be a list"]
    out: list[str] = []
    if not flags & IS_COMPONENTS_V2:
        if len(components) > 5:
            out.append(f"{where}: {len(components)} action rows (max 5)")
        for i, row in enumerate(components):
            if not isinstance(row, dict) or row.get("type") != 1:
                out.append(f"{where}.components[{i}]: top-level components must be action rows")
                continue
            children = row.get("components") or []
            buttons = [c for c in children if c.get("type") == 2]
            selects = [c for c in children if c.get("type") in (3, 5, 6, 7, 8)]
            if len(buttons) > 5:
                out.append(f"{where}.components[{i}]: {len(buttons)} buttons (max 5 per row)")
            if selects and len(children) > 1:
                out.append(f"{where}.components[{i}]: a select menu must be alone in its row")
            if not children:
                out.append(f"{where}.components[{i}]: empty action row")
    for comp in walk_components(components):
        custom_id = comp.get("custom_id")
        if custom_id is not None and not 1 <= len(str(custom_id)) <= 100:
            out.append(
                f"{where}: custom_id {str(custom_id)[:20]!r}... is {len(str(custom_id))} chars (1-100)"
            )
        if comp.get("type") == 2 and comp.get("style") != 5 and comp.get("style") != 6 and not custom_id:
            out.append(f"{where}: a non-link button needs a custom_id")
        if comp.get("type") == 2 and len(str(comp.get("label") or "")) > 80:
            out.append(f"{where}: button label over 80 chars")
    return out


def check_message_payload(payload: Any, where: str = "message", *, partial: bool = False) -> list[str]:
    """Check a message body (create, edit, interaction response data) against Discord's limits.

    ``partial`` (edits) allows a body with nothing to show; a create needs content, embeds,
    components, attachments or a sticker.
    """
    if not isinstance(payload, dict):
        return [f"{where}: body must be an object"]
    out: list[str] = []
    content = payload.get("content")
    if content is not None and len(str(content)) > 2000:
        out.append(f"{where}.content: {len(str(content))} chars (max 2000)")
    embeds = payload.get("embeds")
    if embeds is not None:
        if len(embeds) > 10:
            out.append(f"{where}: {len(embeds)} embeds (max 10)")
        for i, embed in enumerate(embeds):
            out += _check_embed(embed, f"{where}.embeds[{i}]")
        total = sum(_embed_chars(e) for e in embeds if isinstance(e, dict))
        if total > 6000:
            out.append(f"{where}: {total} embed characters across the message (max 6000)")
    flags = int(payload.get("flags") or 0)
    if payload.get("components") is not None:
        out += _check_components(payload["components"], flags, where)
    if not partial and not flags & IS_COMPONENTS_V2:
        has_body = any(
            payload.get(k) for k in ("content", "embeds", "components", "sticker_ids", "attachments")
        )
        if not has_body and not payload.get("poll"):
            out.append(f"{where}: cannot send an empty message")
    return out


def check_autocomplete_choices(choices: Any) -> list[str]:
    """Check the choices of an autocomplete (type 8) answer."""
    return _check_choices(choices, "autocomplete")


def check_modal(data: Mapping[str, Any]) -> list[str]:
    """Check the data of a modal (type 9) answer: title, custom_id, 1-5 components, and each text
    input's label (1-45 characters) and placeholder (at most 100), CJK counted in characters."""
    out: list[str] = []
    title = str(data.get("title") or "")
    if not 1 <= len(title) <= 45:
        out.append(f"modal title must be 1-45 characters (got {len(title)})")
    if not 1 <= len(str(data.get("custom_id") or "")) <= 100:
        out.append("modal custom_id must be 1-100 characters")
    if not 1 <= len(data.get("components") or []) <= 5:
        out.append("a modal needs 1-5 components")
    for row in data.get("components") or []:
        for item in row.get("components") or [row.get("component") or {}]:
            if not 1 <= len(str(item.get("label") or "")) <= 45:
                out.append(f"a text input's label must be 1-45 characters: {item.get('label')!r}")
            if len(str(item.get("placeholder") or "")) > 100:
                out.append(f"a text input's placeholder is over 100 characters: {item.get('placeholder')!r}")
    return out


def check_allowed_mentions(payload: Any, where: str) -> list[str]:
    """A message-creating body must say whom it may ping (``allowed_mentions``)."""
    if isinstance(payload, dict) and "allowed_mentions" not in payload:
        return [f"{where}: message-creating request without allowed_mentions"]
    return []
