"""The review queue in Discord: one draft per page, newest first, with Publish, Edit, Merge into #N
(for a possible duplicate), Reject and page buttons that survive restarts (``pb:dq:``) and re-check
the presser's rights on every press (the service checks the curator again). Edit opens a form
prefilled with the draft and publishes what it says; Reject asks for the reason."""

from __future__ import annotations

import re
from typing import Any, Self

import discord

from bot.discord import checks
from bot.discord.errors import reply_ephemeral, user_message
from bot.discord.language import own_locale
from bot.discord.paging import Rebuilt, services_of
from bot.discord.render.reply import Reply, message
from bot.discord.render.text import truncate
from bot.discord.render.watch import draft_embed
from bot.i18n import N_, gettext, ngettext, tr
from bot.services.access import Caller
from bot.services.container import Services
from bot.services.review import EDITABLE, REASON_MAX, DraftEdit, check_edit, check_reason, edit_of
from bot.services.review_posts import Trouble
from bot.services.views import EventView
from bot.services.watch import DraftView

QUEUE_NOT_YOURS = N_(
    "Only the curator who opened this queue can use its buttons. Run /curate queue yourself."
)
ACTIONS = {
    "p": N_("Publish"),
    "e": N_("Edit"),
    "m": N_("Merge"),
    "r": N_("Reject"),
    "b": N_("◀ Prev"),
    "n": N_("Next ▶"),
}


def _label(action: str, draft: DraftView, locale: str) -> str:
    """A button's label in ``locale``: "Merge into #N" for a possible duplicate."""
    if action == "m" and draft.duplicate_of is not None:
        return tr(locale, "Merge into #{id}", id=draft.duplicate_of)
    return gettext(locale, ACTIONS[action])


def trouble_note(trouble: Trouble | None, locale: str) -> str | None:
    """What the queue says above its draft when the review channel stopped getting drafts."""
    if trouble is None:
        return None
    text = ngettext(
        locale,
        "⚠️ {count} new draft could not be posted in <#{channel}>: Discord refused the bot there "
        "(a permission lost, or the channel deleted).",
        "⚠️ {count} new drafts could not be posted in <#{channel}>: Discord refused the bot there "
        "(a permission lost, or the channel deleted).",
        trouble.failed,
    ).format(count=trouble.failed, channel=trouble.channel_id)
    advice = tr(
        locale,
        "Give the bot {permissions} there, or choose another channel with `/settings review-channel`; "
        "the drafts are all here in the queue.",
        permissions="View Channel, Send Messages, Embed Links",
    )
    return f"{text} {advice}"


async def queue_page(
    services: Services, caller: Caller, page: int = 1, *, locale: str = "en", note: str | None = None
) -> Reply:
    """Page ``page`` (1-based) of the caller's queue in ``locale``: one draft and its buttons, under
    ``note`` (what a press just did) and a warning when the server's review channel stopped
    getting drafts."""
    queue = await services.review.queue(caller, limit=1, offset=max(page, 1) - 1)
    if not queue.drafts and queue.total and page > 1:
        # The last draft of the queue was just decided: show the new last.
        return await queue_page(services, caller, queue.total, locale=locale, note=note)
    above = "\n\n".join(t for t in (note, trouble_note(queue.trouble, locale)) if t) or None
    if not queue.drafts:
        empty = gettext(locale, "The review queue is empty.")
        return message("\n\n".join(t for t in (above, None if note else empty) if t))
    draft = queue.drafts[0]
    view = discord.ui.View(timeout=None)
    uid, green, red = caller.user_id, discord.ButtonStyle.success, discord.ButtonStyle.danger
    primary = discord.ButtonStyle.primary

    def button(action: str, at: int, **kwargs: Any) -> QueueButton:
        return QueueButton(uid, action, draft.id, at, label=_label(action, draft, locale), **kwargs)

    view.add_item(button("p", page, style=green))
    view.add_item(button("e", page, style=primary))
    if draft.duplicate_of is not None:
        view.add_item(button("m", page, style=primary))
    view.add_item(button("r", page, style=red))
    view.add_item(button("b", page - 1, disabled=page <= 1))
    view.add_item(button("n", page + 1, disabled=page >= queue.total))
    embeds = [draft_embed(draft, page, queue.total, locale=locale)]
    return Reply(content=above, embeds=embeds, view=view, ephemeral=True)


def published_note(draft_id: int, event: EventView, locale: str = "en") -> str:
    scope = (
        gettext(locale, "shared with every server")
        if event.is_global
        else gettext(locale, "local to this server")
    )
    return tr(
        locale,
        "Published draft #{draft} as event #{event} ({scope}); matching channels are alerted.",
        draft=draft_id,
        event=event.id,
        scope=scope,
    )


def merged_note(draft_id: int, event: EventView, locale: str = "en") -> str:
    return tr(
        locale,
        "Merged draft #{draft} into event #{event} as a further source; nothing new was posted.",
        draft=draft_id,
        event=event.id,
    )


async def show_queue(interaction: discord.Interaction, page: int, note: str | None) -> None:
    """Redraw the queue message at ``page`` with ``note`` above it (the presser's language: the
    queue is theirs alone)."""
    services = services_of(interaction.client)
    locale = own_locale(interaction)
    reply = await queue_page(services, checks.caller_of(interaction), max(page, 1), locale=locale, note=note)
    if interaction.response.is_done():
        await interaction.edit_original_response(**reply.edit_kwargs())
    else:
        await interaction.response.edit_message(**reply.edit_kwargs())


class QueueButton(Rebuilt, template=r"pb:dq:(?P<uid>\d+):(?P<act>[pemrbn]):(?P<draft>\d+):(?P<page>\d+)"):
    """Publish / Edit / Merge / Reject the draft shown, or turn to ``page``."""

    not_yours = QUEUE_NOT_YOURS

    def __init__(
        self,
        uid: int,
        action: str,
        draft_id: int,
        page: int,
        *,
        label: str | None = None,
        disabled: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        self.action, self.draft_id, self.page = action, draft_id, page
        custom_id = f"pb:dq:{uid}:{action}:{draft_id}:{max(page, 0)}"
        super().__init__(uid, label or ACTIONS[action], custom_id, disabled=disabled, style=style)

    @classmethod
    def from_match(cls, match: re.Match[str], interaction: discord.Interaction, item: Any) -> Self:
        return cls(int(match["uid"]), match["act"], int(match["draft"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        review = services_of(interaction.client).review
        caller = checks.caller_of(interaction)
        locale = own_locale(interaction)
        note: str | None = None
        try:
            if self.action in "pemr":  # still pending and theirs? (else the answer says who decided)
                draft = await review.draft(caller, self.draft_id)
                if self.action in "er":  # a form first
                    form = EditDraftModal if self.action == "e" else RejectDraftModal
                    modal = form(edit_of(draft), self.draft_id, self.page, interaction, locale)
                    await interaction.response.send_modal(modal)
                    return
            if self.action == "p":
                await interaction.response.defer()  # a publish writes: answer first
                note = published_note(self.draft_id, await review.publish(caller, self.draft_id), locale)
            elif self.action == "m":
                await interaction.response.defer()
                note = merged_note(self.draft_id, await review.merge(caller, self.draft_id), locale)
            await show_queue(interaction, self.page, note)
        except Exception as exc:
            await reply_ephemeral(
                interaction,
                user_message(exc, context=f"the review queue ({self.action})", locale=locale),
            )


def review_buttons(draft: DraftView, locale: str = "en") -> discord.ui.View:
    """The buttons of a draft posted in a review channel: Publish, Edit, Merge into #N (for a
    possible duplicate) and Reject, for any curator of the server (labels in the server's language)."""
    view = discord.ui.View(timeout=None)
    styles = {"p": discord.ButtonStyle.success, "e": discord.ButtonStyle.primary}
    styles |= {"m": discord.ButtonStyle.primary, "r": discord.ButtonStyle.danger}
    for action, style in styles.items():
        if action != "m" or draft.duplicate_of is not None:
            view.add_item(ReviewButton(action, draft.id, label=_label(action, draft, locale), style=style))
    return view


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"pb:dr:(?P<act>[pemr]):(?P<draft>\d+)",
):
    """Publish / Edit / Merge / Reject a draft posted in a review channel. Any member may press it;
    the service decides whether they are a curator of the draft's scope (on every press), and the
    answer is theirs alone (ephemeral). The posted message is edited by the review poster once
    the draft is decided, whoever decided it."""

    def __init__(
        self,
        action: str,
        draft_id: int,
        *,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        self.action, self.draft_id = action, draft_id
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
            label=label or ACTIONS[action], style=style, custom_id=f"pb:dr:{action}:{draft_id}"
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(match["act"], int(match["draft"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        review = services_of(interaction.client).review
        caller = checks.caller_of(interaction)
        locale = own_locale(interaction)  # the answer is the presser's alone
        try:
            draft = await review.draft(caller, self.draft_id)  # a curator's, still pending?
            if self.action in "er":
                form = EditDraftModal if self.action == "e" else RejectDraftModal
                modal = form(edit_of(draft), self.draft_id, None, interaction, locale)
                await interaction.response.send_modal(modal)
                return
            await interaction.response.defer(ephemeral=True, thinking=True)  # a decision writes
            if self.action == "p":
                note = published_note(self.draft_id, await review.publish(caller, self.draft_id), locale)
            else:
                note = merged_note(self.draft_id, await review.merge(caller, self.draft_id), locale)
            await reply_ephemeral(interaction, note)
        except Exception as exc:
            await reply_ephemeral(
                interaction,
                user_message(exc, context=f"the review of draft #{self.draft_id}", locale=locale),
            )


class _DraftModal(discord.ui.Modal):
    """A form opened from the queue: submitting it decides the draft, then redraws the queue."""

    kind = "form"
    #: The form's title (``{id}``: the draft's number), in the presser's language.
    title_template = N_("Draft #{id}")

    def __init__(
        self,
        base: DraftEdit,
        draft_id: int,
        page: int | None,
        opened: discord.Interaction,
        locale: str = "en",
    ) -> None:
        custom_id = f"pb:dq{self.kind[0]}:{draft_id}:{opened.user.id}:{opened.id}"
        title = tr(locale, self.title_template, id=draft_id)
        super().__init__(title=truncate(title, 45), timeout=900, custom_id=custom_id)
        self.draft_id, self.page, self.locale = draft_id, page, locale
        self.build(base, locale)

    def build(self, base: DraftEdit, locale: str) -> None:
        """Add the form's fields (prefilled from ``base``), labelled in ``locale``."""

    def check(self) -> None:
        """Refuse bad fields before anything is answered or written (raises ValidationFailed)."""

    async def decide(self, services: Services, caller: Caller) -> str:
        raise NotImplementedError

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.check()  # a refusal is the ephemeral answer itself
        if self.page is None:  # opened from a review channel: the answer is the presser's alone
            await interaction.response.defer(ephemeral=True, thinking=True)
            note = await self.decide(services_of(interaction.client), checks.caller_of(interaction))
            await reply_ephemeral(interaction, note)
            return
        await interaction.response.defer()  # answered before any write; the queue message is edited
        note = await self.decide(services_of(interaction.client), checks.caller_of(interaction))
        await show_queue(interaction, self.page, note)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        text = user_message(
            error, context=f"the {self.kind} of draft #{self.draft_id}", locale=own_locale(interaction)
        )
        await reply_ephemeral(interaction, text)


class EditDraftModal(_DraftModal):
    """The draft's title, date, summary, significance and kind, prefilled; submitting publishes
    what the form says (invalid fields are refused and nothing is written)."""

    kind = "edit form"
    title_template = N_("Edit draft #{id}, then publish")

    def build(self, base: DraftEdit, locale: str) -> None:
        self.inputs: dict[str, discord.ui.TextInput[EditDraftModal]] = {
            "title": discord.ui.TextInput(label=gettext(locale, "Title"), default=base.title, max_length=200),
            "date": discord.ui.TextInput(
                label=gettext(locale, "Date (YYYY, YYYY-MM or YYYY-MM-DD)"), default=base.date, max_length=10
            ),
            "summary": discord.ui.TextInput(
                label=gettext(locale, "Summary"),
                style=discord.TextStyle.paragraph,
                default=base.summary[:1500] or None,
                required=False,
                max_length=1500,
            ),
            "significance": discord.ui.TextInput(
                label=gettext(locale, "Significance (1 to 5)"), default=base.significance, max_length=2
            ),
            "kind": discord.ui.TextInput(
                label=gettext(locale, "Kind"),
                placeholder=gettext(
                    locale, "missile_launch, nuclear_test, statement, sanctions, talks_session …"
                ),
                default=base.kind,
                max_length=40,
            ),
        }
        for name, item in self.inputs.items():
            item.custom_id = name
            self.add_item(item)

    def edit(self) -> DraftEdit:
        return DraftEdit(*(self.inputs[f].value for f in EDITABLE))

    def check(self) -> None:
        check_edit(self.edit())

    async def decide(self, services: Services, caller: Caller) -> str:
        edit = self.edit()
        event = await services.review.publish(caller, self.draft_id, edit)
        return published_note(self.draft_id, event, self.locale)


class RejectDraftModal(_DraftModal):
    """Why the draft is set aside: stored with it and in the audit log; nothing is posted."""

    kind = "reject form"
    title_template = N_("Reject draft #{id}")

    def build(self, base: DraftEdit, locale: str) -> None:
        self.reason: discord.ui.TextInput[RejectDraftModal] = discord.ui.TextInput(
            label=gettext(locale, "Reason (kept in the curation log)"),
            style=discord.TextStyle.paragraph,
            min_length=3,
            max_length=REASON_MAX,
            custom_id="reason",
        )
        self.add_item(self.reason)

    def check(self) -> None:
        check_reason(self.reason.value)

    async def decide(self, services: Services, caller: Caller) -> str:
        await services.review.reject(caller, self.draft_id, self.reason.value)
        return tr(self.locale, "Rejected draft #{id}; nothing was posted.", id=self.draft_id)
