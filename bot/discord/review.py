"""The review queue in Discord: one draft per page, newest first, with Publish, Reject and page
buttons that survive restarts (``pb:dq:``) and re-check the presser's rights on every press
(the service checks the curator again)."""

from __future__ import annotations

import re
from typing import Any, Self

import discord

from bot.discord import checks
from bot.discord.errors import reply_ephemeral, user_message
from bot.discord.language import own_locale
from bot.discord.paging import Rebuilt, services_of
from bot.discord.render.reply import Reply, message
from bot.discord.render.watch import draft_embed
from bot.services.access import Caller
from bot.services.container import Services

QUEUE_NOT_YOURS = "Only the curator who opened this queue can use its buttons. Run /curate queue yourself."
ACTIONS = {"p": "Publish", "r": "Reject", "b": "◀ Prev", "n": "Next ▶"}


async def queue_page(services: Services, caller: Caller, page: int = 1) -> Reply:
    """Page ``page`` (1-based) of the caller's queue: one draft and its buttons."""
    queue = await services.watch.queue(caller, limit=1, offset=max(page, 1) - 1)
    if not queue.drafts:
        if queue.total and page > 1:  # the last draft of the queue was just decided: show the new last
            return await queue_page(services, caller, queue.total)
        return message("The review queue is empty.")
    draft = queue.drafts[0]
    view = discord.ui.View(timeout=None)
    uid = caller.user_id
    view.add_item(QueueButton(uid, "p", draft.id, page, style=discord.ButtonStyle.success))
    view.add_item(QueueButton(uid, "r", draft.id, page, style=discord.ButtonStyle.danger))
    view.add_item(QueueButton(uid, "b", draft.id, page - 1, disabled=page <= 1))
    view.add_item(QueueButton(uid, "n", draft.id, page + 1, disabled=page >= queue.total))
    return Reply(embeds=[draft_embed(draft, page, queue.total)], view=view, ephemeral=True)


class QueueButton(Rebuilt, template=r"pb:dq:(?P<uid>\d+):(?P<act>[prbn]):(?P<draft>\d+):(?P<page>\d+)"):
    """Publish / Reject the draft shown, or turn to ``page``."""

    not_yours = QUEUE_NOT_YOURS

    def __init__(
        self,
        uid: int,
        action: str,
        draft_id: int,
        page: int,
        *,
        disabled: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        self.action, self.draft_id, self.page = action, draft_id, page
        custom_id = f"pb:dq:{uid}:{action}:{draft_id}:{max(page, 0)}"
        super().__init__(uid, ACTIONS[action], custom_id, disabled=disabled, style=style)

    @classmethod
    def from_match(cls, match: re.Match[str], interaction: discord.Interaction, item: Any) -> Self:
        return cls(int(match["uid"]), match["act"], int(match["draft"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction.client)
        caller = checks.caller_of(interaction)
        note: str | None = None
        try:
            if self.action == "p":
                await interaction.response.defer()  # a publish writes: answer first
                event = await services.watch.publish(caller, self.draft_id)
                scope = "shared with every server" if event.is_global else "local to this server"
                note = (
                    f"Published draft #{self.draft_id} as event #{event.id} ({scope}); "
                    "matching channels are alerted."
                )
            elif self.action == "r":
                await interaction.response.defer()
                await services.watch.reject(caller, self.draft_id, "")
                note = f"Rejected draft #{self.draft_id}; nothing was posted."
            reply = await queue_page(services, caller, max(self.page, 1))
        except Exception as exc:
            await reply_ephemeral(
                interaction,
                user_message(
                    exc, context=f"the review queue ({self.action})", locale=own_locale(interaction)
                ),
            )
            return
        if note is not None:
            reply.content = note
        if interaction.response.is_done():
            await interaction.edit_original_response(**reply.edit_kwargs())
        else:
            await interaction.response.edit_message(**reply.edit_kwargs())
