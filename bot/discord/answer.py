"""Answering a command: at once when the work is quick, else deferred first, so the 3 s
interaction deadline is never missed however slow the work (a query, a chart being drawn)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import discord

from bot.discord.render.reply import Reply

# Work still running after this long is deferred.
DEFER_AFTER = 2.0


async def answer(
    interaction: discord.Interaction, private: bool, work: Awaitable[Reply], defer_after: float = DEFER_AFTER
) -> None:
    """Send the reply; defer first when the work outlasts ``defer_after`` seconds."""
    task = asyncio.ensure_future(work)
    try:
        reply = await asyncio.wait_for(asyncio.shield(task), defer_after)
    except asyncio.CancelledError:
        task.cancel()  # the shield kept it alive: a stopping bot must not leave the query running
        raise
    except TimeoutError:
        await interaction.response.defer(ephemeral=private, thinking=True)
        reply = await task
        reply.ephemeral = private
        await interaction.followup.send(**reply.send_kwargs())
        return
    reply.ephemeral = private
    await interaction.response.send_message(**reply.send_kwargs())
