"""What a command answers (the same object goes to Discord and to the console), and who asked."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.discord.render.embeds import fit_embeds
from bot.discord.render.text import CONTENT_MAX, truncate
from bot.services.access import Caller


@dataclass(frozen=True)
class Who:
    """Who asks: the guild decides which local events are visible; the user owns the pages. A
    document only some members may read (``/alerts list``) checks ``caller`` through its service."""

    guild_id: int | None
    user_id: int
    caller: Caller | None = None
    guild_name: str | None = None
    #: The reader's language (one of ``bot.i18n.LOCALES``; ``bot/discord/language.py`` chooses it)
    #: and the server's time zone for the times shown.
    locale: str = "en"
    timezone: str = "UTC"


@dataclass
class Reply:
    """What a command answers: the same object goes to Discord and to the console."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    ephemeral: bool = False
    #: Attached files as (filename, bytes): a chart's PNG, shown by an embed as ``attachment://name``.
    files: list[tuple[str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.content is not None:
            self.content = truncate(self.content, CONTENT_MAX)
        self.embeds = fit_embeds(self.embeds)

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``send_message`` / ``followup.send``."""
        kwargs: dict[str, Any] = {
            "embeds": self.embeds,
            "ephemeral": self.ephemeral,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if self.content:
            kwargs["content"] = self.content
        if self.view is not None:
            kwargs["view"] = self.view
        if self.files:
            kwargs["files"] = self.discord_files()
        return kwargs

    def discord_files(self) -> list[discord.File]:
        """The attachments as discord.py files (new ones each call: a file is read once when sent)."""
        return [discord.File(io.BytesIO(data), filename=name) for name, data in self.files]

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``edit_message`` (a page turn replaces everything)."""
        return {
            "content": self.content,
            "embeds": self.embeds,
            "view": self.view,
            "allowed_mentions": discord.AllowedMentions.none(),
        }

    def payload(self) -> dict[str, Any]:
        """The message exactly as discord.py serialises it for Discord."""
        payload: dict[str, Any] = {
            "content": self.content or "",
            "embeds": [e.to_dict() for e in self.embeds],
            "components": self.view.to_components() if self.view is not None else [],
            "flags": discord.MessageFlags(ephemeral=self.ephemeral).value,
            "allowed_mentions": discord.AllowedMentions.none().to_dict(),
        }
        if self.files:
            payload["attachments"] = [
                {"id": i, "filename": name, "size": len(data)} for i, (name, data) in enumerate(self.files)
            ]
        return payload


def message(text: str, *, ephemeral: bool = True) -> Reply:
    return Reply(content=text, ephemeral=ephemeral)
