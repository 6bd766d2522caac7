"""``python -m bot console``: run slash commands locally and print the reply (no Discord token needed).

The console goes through the same code as Discord: the line ``/program name:sohae`` is parsed
against the command's real ``app_commands`` parameters (names, types, required, choices, length
ranges, transformers), then the cog's own callback runs with a stand-in interaction that records
what would have been sent. Text mode prints a readable version; ``--json`` prints the exact
message payload (``content``, ``embeds``, ``components``, ``flags``, ``allowed_mentions``).
With no line, a prompt opens; there ``next`` and ``prev`` press the page buttons of the last reply.

``/curate``, ``/alerts`` and ``/settings`` run too, as a chosen member of a chosen guild
(:class:`ConsoleMember`: ``--guild ID --member-permissions manage_guild,manage_channels``), through the
same checks and callbacks; a channel or role option is given by its id. What needs Discord itself (posting
in a channel, a file attachment, a form) answers with a message saying so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from bot.config import Settings
from bot.discord.command_line import UsageError, convert_text, parse_options, split_line, transform_options
from bot.discord.errors import user_message
from bot.discord.render.reply import Reply

if TYPE_CHECKING:
    from bot.discord.client import PeninsulaBot

log = logging.getLogger(__name__)

CONSOLE_EXTENSIONS = ("cogs.briefing", "cogs.curation", "cogs.alerts", "cogs.settings")
CONSOLE_USER_ID = 1
#: Commands whose work is done in Discord itself: the console says so instead of pretending.
NEEDS_DISCORD = {
    "alerts subscribe": "/alerts subscribe first checks that the bot can post in the channel, which needs "
    "Discord: run it in the server. Nothing was changed.",
    "alerts test": "/alerts test posts in the channel, which needs Discord: run it in the server.",
    "alerts follow": "/alerts follow asks Discord to make the channel follow the feed, which needs Discord: "
    "run it in the server. Nothing was changed.",
    "settings review-channel": "/settings review-channel first checks that the bot can post in the channel, "
    "which needs Discord: run it in the server. Nothing was changed.",
}
ID_PATTERN = re.compile(r"<?[#@&]*(\d{1,20})>?")
PROMPT = "peninsula-brief> "


def permissions_from(names: str) -> discord.Permissions:
    """``manage_guild,manage_channels`` as Discord permissions; an unknown name is a UsageError."""
    wanted = [n.strip().lower().replace("-", "_") for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in discord.Permissions.VALID_FLAGS]
    if unknown:
        raise UsageError(
            f"unknown permission “{unknown[0]}”; for example manage_guild, manage_channels, administrator"
        )
    return discord.Permissions(**dict.fromkeys(wanted, True))


@dataclass(frozen=True)
class ConsoleMember:
    """Who the console acts as in a guild: guild-wide permissions and role ids (no channel overwrites)."""

    user_id: int = CONSOLE_USER_ID
    permissions: discord.Permissions = field(default_factory=discord.Permissions.none)
    role_ids: tuple[int, ...] = ()


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def convert(param: app_commands.Parameter, raw: str) -> Any:
    """A raw string as Discord would send it for this option type: channels and roles by id here,
    text options as :func:`~bot.discord.command_line.convert_text` reads them."""
    kind = param.type
    if kind in (discord.AppCommandOptionType.channel, discord.AppCommandOptionType.role):
        found = ID_PATTERN.fullmatch(raw.strip())
        if found is None:
            raise UsageError(
                f"{param.display_name} is given by its id, for example {param.display_name}:123456789"
            )
        return (
            _Channel(int(found[1])) if kind is discord.AppCommandOptionType.channel else _Role(int(found[1]))
        )
    if kind is discord.AppCommandOptionType.attachment:
        raise UsageError(f"{param.display_name}: files need Discord; here use `python -m bot import FILE`")
    return convert_text(param, raw)


# ---------------------------------------------------------------------------------------------
# A stand-in interaction: records what the callback sends
# ---------------------------------------------------------------------------------------------


@dataclass
class _Role:
    id: int
    name: str = "role"
    mentionable: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass
class _User:
    id: int
    name: str = "console"
    roles: list[_Role] = field(default_factory=list)
    guild_permissions: discord.Permissions = field(default_factory=discord.Permissions.none)


@dataclass
class _Guild:
    id: int
    name: str = "the console's server"
    me: None = None  # the bot's own member is only known through Discord


@dataclass
class _Channel:
    """A channel given by id: the operator names a channel the member sees (overwrites are only
    known to Discord), so their access to it is their guild-wide permissions and View Channel."""

    id: int
    name: str = "channel"

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def permissions_for(self, member: Any) -> discord.Permissions:
        guild: discord.Permissions = getattr(member, "guild_permissions", discord.Permissions.none())
        return guild | discord.Permissions(view_channel=True)


@dataclass
class _Message:
    embeds: list[discord.Embed] = field(default_factory=list)


class _Response:
    def __init__(self, owner: ConsoleInteraction) -> None:
        self._owner = owner
        self._done = False
        self.deferred = False

    def is_done(self) -> bool:
        return self._done

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        self._done = True
        self._owner.record(content, **kwargs)

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        self._done = True
        self.deferred = True

    async def edit_message(self, **kwargs: Any) -> None:
        self._done = True
        self._owner.record(kwargs.pop("content", None), **kwargs)

    async def send_modal(self, modal: discord.ui.Modal) -> None:
        self._done = True
        self._owner.record(
            f"This opens the form “{modal.title}” in Discord; forms need Discord.", ephemeral=True
        )


class _Followup:
    def __init__(self, owner: ConsoleInteraction) -> None:
        self._owner = owner

    async def send(self, content: str | None = None, **kwargs: Any) -> None:
        self._owner.record(content, **kwargs)


class ConsoleInteraction:
    """The parts of :class:`discord.Interaction` the reader commands and page buttons use."""

    def __init__(
        self,
        client: PeninsulaBot,
        guild_id: int | None,
        message: Reply | None = None,
        member: ConsoleMember | None = None,
    ) -> None:
        member = member or ConsoleMember()
        self.client = client
        self.id = 0
        self.guild_id = guild_id
        self.guild = _Guild(guild_id) if guild_id is not None else None
        # The console speaks English, as an English Discord client would be answered.
        self.locale = discord.Locale.american_english
        self.guild_locale: discord.Locale | None = None
        self.permissions = member.permissions
        self.user = _User(
            member.user_id, roles=[_Role(r) for r in member.role_ids], guild_permissions=member.permissions
        )
        self.message = _Message(list(message.embeds)) if message else None
        self.data: dict[str, Any] = {}
        self.response = _Response(self)
        self.followup = _Followup(self)
        self.replies: list[Reply] = []

    def record(self, content: str | None, **kwargs: Any) -> None:
        if (file := kwargs.get("file")) is not None:
            content = f"{content or ''}\n(attached: {file.filename})".strip()
        embeds = list(kwargs.get("embeds") or ([kwargs["embed"]] if kwargs.get("embed") else []))
        self.replies.append(Reply(content, embeds, kwargs.get("view"), bool(kwargs.get("ephemeral"))))

    def as_interaction(self) -> discord.Interaction:
        return cast("discord.Interaction", self)


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    reply: Reply
    failed: bool = False


class Console:
    def __init__(self, bot: PeninsulaBot, guild_id: int | None, member: ConsoleMember | None = None) -> None:
        self.bot = bot
        self.guild_id = guild_id
        self.member = member or ConsoleMember()
        self.last: Reply | None = None

    def command(self, name: str, rest: str = "") -> tuple[app_commands.Command[Any, ..., Any], str]:
        """The command a line names (``curate add`` walks into the group) and the rest of the line."""
        found = self.bot.tree.get_command(name)
        while isinstance(found, app_commands.Group):
            word, _, rest = rest.partition(" ")
            child = found.get_command(word.strip().lower())
            if child is None:
                choices = ", ".join(c.name for c in found.commands)
                raise UsageError(f"/{found.qualified_name} takes a subcommand: {choices}")
            found, rest = child, rest.strip()
        if not isinstance(found, app_commands.Command):
            names = sorted(c.name for c in self.bot.tree.get_commands())
            raise UsageError(f"no command /{name}; try: {', '.join('/' + n for n in names)}")
        return found, rest

    def _parse(self, line: str) -> tuple[app_commands.Command[Any, ..., Any], dict[str, str]]:
        name, rest = split_line(line)
        command, rest = self.command(name, rest)
        params = {p.display_name: p for p in command.parameters}
        raw = parse_options(rest, list(params))
        missing = [p.display_name for p in command.parameters if p.required and p.display_name not in raw]
        if missing:
            raise UsageError(f"/{command.qualified_name} needs {', '.join(missing)}")
        group = command.root_parent
        if group is not None and group.guild_only and self.guild_id is None:
            raise UsageError(
                f"/{group.name} works in a server: start the console with --guild ID "
                "and the member's --member-permissions"
            )
        return command, raw

    async def run(self, line: str) -> Outcome:
        """Parse and run one command line; every failure becomes the message a user would see."""
        try:
            command, raw = self._parse(line)
        except UsageError as exc:
            return Outcome(Reply(content=f"Usage: {exc}", ephemeral=True), failed=True)
        if command.qualified_name in NEEDS_DISCORD:
            return Outcome(Reply(content=NEEDS_DISCORD[command.qualified_name], ephemeral=True), failed=True)
        interaction = ConsoleInteraction(self.bot, self.guild_id, member=self.member)
        try:
            kwargs = await transform_options(command, interaction.as_interaction(), raw, convert)
            # The same checks Discord's tree runs (permissions, curator role) before the callback.
            if not await command._check_can_run(interaction.as_interaction()):
                raise app_commands.CheckFailure("You may not use this command.")
            await command.callback(command.binding, interaction.as_interaction(), **kwargs)  # type: ignore[arg-type]
        except UsageError as exc:
            return Outcome(Reply(content=f"Usage: {exc}", ephemeral=True), failed=True)
        except Exception as exc:
            text = user_message(exc, context=f"console command /{command.qualified_name}")
            return Outcome(Reply(content=text, ephemeral=True), failed=True)
        # Admin commands confirm with an ephemeral line; only a reader's bare ephemeral line is a refusal.
        return self._finish(interaction, bare_text_fails=command.root_parent is None)

    async def press(self, label: str) -> Outcome:
        """Press the button of the last reply whose label contains ``label`` (``next``, ``prev``)."""
        from bot.discord import documents

        last = self.last
        buttons = [
            item
            for item in (last.view.children if last and last.view else [])
            if isinstance(item, discord.ui.DynamicItem)
            and label.casefold() in str(item.item.label).casefold()
        ]
        if last is None or not buttons or buttons[0].item.disabled:
            return Outcome(Reply(content=f"There is no {label} page.", ephemeral=True), failed=True)
        custom_id = buttons[0].custom_id
        interaction = ConsoleInteraction(self.bot, self.guild_id, last, member=self.member)
        for factory in documents.dynamic_items():
            match = factory.__discord_ui_compiled_template__.fullmatch(custom_id)
            if match is None:
                continue
            base = discord.ui.Button[discord.ui.View](custom_id=custom_id)
            item = await factory.from_custom_id(interaction.as_interaction(), base, match)
            if await item.interaction_check(interaction.as_interaction()):
                await item.callback(interaction.as_interaction())
            return self._finish(interaction, keep_view=True)
        return Outcome(Reply(content="That button is not known.", ephemeral=True), failed=True)

    def _finish(
        self, interaction: ConsoleInteraction, *, keep_view: bool = False, bare_text_fails: bool = True
    ) -> Outcome:
        if not interaction.replies:
            return Outcome(Reply(content="(no reply)", ephemeral=True), failed=True)
        reply = interaction.replies[-1]
        if reply.view is not None or not keep_view:
            self.last = reply
        bare = reply.ephemeral and not reply.embeds and reply.view is None
        return Outcome(reply, failed=bare and bare_text_fails)


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def as_text(reply: Reply) -> str:
    """A readable plain-text version of a reply."""
    out: list[str] = []
    if reply.ephemeral:
        out.append("(only you see this)")
    if reply.content:
        out.append(reply.content)
    for embed in reply.embeds:
        data = embed.to_dict()
        if author := data.get("author", {}).get("name"):
            out.append(f"[{author}]")
        if title := data.get("title"):
            out += [title, "=" * min(len(title), 80)]
        if description := data.get("description"):
            out.append(description)
        for f in data.get("fields", []):
            out += ["", f"## {f['name']}", f["value"]]
        if footer := data.get("footer", {}).get("text"):
            out += ["", f"— {footer}"]
    if reply.view is not None:
        labels = []
        for row in reply.view.to_components():
            for c in row.get("components", []):
                labels.append(f"[{c.get('label', '?')}{' (disabled)' if c.get('disabled') else ''}]")
        if labels:
            out += ["", " ".join(labels) + "   (type next / prev)"]
    return "\n".join(out)


def show(reply: Reply, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(reply.payload(), ensure_ascii=False, indent=2))
        return
    from rich.console import Console as RichConsole
    from rich.panel import Panel
    from rich.text import Text

    RichConsole(highlight=False).print(Panel(Text(as_text(reply)), expand=False))


async def _session(
    settings: Settings, line: str | None, *, as_json: bool, guild_id: int | None, member: ConsoleMember | None
) -> int:
    from bot.discord.client import PeninsulaBot
    from bot.runtime import runtime

    async with runtime(settings, operator=True) as rt:
        bot = PeninsulaBot(
            settings=settings, services=rt.services, extensions=CONSOLE_EXTENSIONS, sync_commands=False
        )
        for extension in CONSOLE_EXTENSIONS:
            await bot.load_extension(extension)
        console = Console(bot, guild_id, member)
        try:
            if line is not None:
                outcome = await console.run(line)
                show(outcome.reply, as_json=as_json)
                return 1 if outcome.failed else 0
            await _prompt(console, as_json=as_json)
            return 0
        finally:
            await bot.close()


async def _prompt(console: Console, *, as_json: bool) -> None:
    print('Type a command such as /help or /program name:sohae; "next"/"prev" turn pages; "quit" leaves.')
    while True:
        try:
            line = (await asyncio.to_thread(input, PROMPT)).strip()
        except EOFError:
            print()
            return
        if not line:
            continue
        if line.lower() in {"quit", "exit", "q"}:
            return
        word = line.lower()
        if word in {"next", "n", "prev", "p", "previous"}:
            outcome = await console.press("next" if word.startswith("n") else "prev")
        else:
            outcome = await console.run(line)
        show(outcome.reply, as_json=as_json)


def main(
    settings: Settings,
    line: str | None,
    *,
    as_json: bool = False,
    guild_id: int | None = None,
    member: ConsoleMember | None = None,
) -> int:
    """Run one command line (or a prompt when ``line`` is None); 0 on a reply, 1 on a refusal."""
    return asyncio.run(_session(settings, line, as_json=as_json, guild_id=guild_id, member=member))
