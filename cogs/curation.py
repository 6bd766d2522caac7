"""``/curate``: publish, edit, retract, import and export events; read the audit log; review the drafts
of watched sources (``queue``; the ``watch`` subgroup is in ``cogs/watch.py``)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import checks
from bot.discord.errors import reply_ephemeral, user_message
from bot.discord.language import own_locale
from bot.discord.options import EventOption, KindOption, PartyListOption, ProgramListOption, TrackSlugOption
from bot.discord.paging import Rebuilt, services_of, turn_page
from bot.discord.render.audit import audit_embed
from bot.discord.render.events import event_embed
from bot.discord.render.reply import Reply, message
from bot.discord.render.text import truncate
from bot.discord.review import QueueButton, ReviewButton, queue_page
from bot.i18n import N_, gettext, tr
from bot.services.access import Caller
from bot.services.curation import EditForm
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.export import export_events
from bot.services.importing import ImportReport, import_file
from bot.services.subscriptions import split_slugs
from bot.services.validation import EventInput, SourceInput, host_of
from cogs.watch import WatchCommands

if TYPE_CHECKING:
    from bot.discord.client import PeninsulaBot
    from bot.services.container import Services

log = logging.getLogger(__name__)

LOG_PAGE = 10
IMPORT_MAX_BYTES = 10 * 1024 * 1024
PROBLEMS_SHOWN = 15
PROBLEMS_FILE = "import-report.txt"
TAG_KEYS = ("kind", "significance", "programs", "parties", "tracks")


# -- the edit form ---------------------------------------------------------------------------------


def tags_text(data: EventInput) -> str:
    return "\n".join(
        (
            f"kind: {data.kind}",
            f"significance: {data.significance}",
            f"programs: {', '.join(data.programs)}",
            f"parties: {', '.join(data.actors)}",
            f"tracks: {', '.join(data.tracks)}",
        )
    )


def sources_text(sources: Sequence[SourceInput]) -> str:
    lines = []
    for s in sources:
        date = s.date if isinstance(s.date, str) else s.date.isoformat() if s.date else ""
        lines.append(" | ".join((s.publisher, s.title, date, s.url or "")).rstrip(" |"))
    return "\n".join(lines)


def parse_tags(text: str, base: EventInput) -> dict[str, Any]:
    """``key: value`` lines; keys left out keep their value."""
    out: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        key, sep, value = raw.partition(":")
        key = key.strip().lower()
        if not sep or key not in TAG_KEYS:
            known = {"value": raw.strip()[:40], "known": ", ".join(TAG_KEYS)}
            problems.append(FieldProblem("tags", N_("“{value}” is not one of {known}: value"), params=known))
            continue
        value = value.strip()
        if key == "kind":
            out["kind"] = value.lower().replace(" ", "_")
        elif key == "significance":
            if not value.isdigit():
                problems.append(FieldProblem("significance", N_("must be a whole number from 1 to 5")))
            else:
                out["significance"] = int(value)
        else:
            out["actors" if key == "parties" else key] = split_slugs(value)
    if problems:
        raise ValidationFailed(problems)
    return out


def parse_sources(text: str) -> list[SourceInput]:
    sources = []
    problems: list[FieldProblem] = []
    for i, raw in enumerate(line for line in text.splitlines() if line.strip()):
        parts = [p.strip() for p in raw.split("|")]
        if len(parts) < 2 or len(parts) > 4:
            problems.append(FieldProblem(f"source {i + 1}", N_("write it as Publisher | Title | date | URL")))
            continue
        parts += [""] * (4 - len(parts))
        sources.append(SourceInput(parts[0], parts[1], parts[2] or None, parts[3] or None))
    if problems:
        raise ValidationFailed(problems)
    return sources


def edit_form_id(event_id: int, revision: int, user_id: int, instance: int) -> str:
    """The custom_id of one opened edit form: discord.py finds a submitted modal by it alone, so it
    names the curator and the opening interaction (two curators' forms of one event stay apart)."""
    return f"curate:edit:{event_id}:r{revision}:{user_id}:{instance}"


def import_reply(report: ImportReport, locale: str = "en") -> tuple[str, discord.File | None]:
    """The import report in ``locale``: the first problems and notes in the message (whole lines,
    within 2,000 characters), and every one of them in an attached text file whenever some do not fit."""

    def translate(template: str, values: Mapping[str, object]) -> str:
        return tr(locale, template, **values)

    summary = report.summary(translate)
    problems = [p.text(translate) for p in report.problems]
    notes = [n.text(translate) for n in report.notes]
    lines = [summary]
    shown = {"problems": 0, "notes": 0}
    budget = 2000 - 200  # room for the line that points at the file
    for key, items in (("problems", problems), ("notes", notes)):
        for item in items[:PROBLEMS_SHOWN]:
            line = f"• {item}"
            if sum(len(x) + 1 for x in lines) + len(line) > budget:
                break
            lines.append(line)
            shown[key] += 1
    if shown["problems"] == len(problems) and shown["notes"] == len(notes):
        return truncate("\n".join(lines), 2000), None
    counts = []
    if problems:
        counts.append(tr(locale, "{shown} of {n} problems", shown=shown["problems"], n=len(problems)))
    if notes:
        counts.append(tr(locale, "{shown} of {n} rows merged or skipped", shown=shown["notes"], n=len(notes)))
    and_ = gettext(locale, " and ")
    lines.append(
        tr(
            locale,
            "Shown here: {counts}. Every one is in the attached {file}.",
            counts=and_.join(counts),
            file=PROBLEMS_FILE,
        )
    )
    body = [
        summary,
        "",
        tr(locale, "Problems ({n}):", n=len(problems)),
        *problems,
        "",
        tr(locale, "Rows merged or skipped ({n}):", n=len(notes)),
        *notes,
    ]
    data = io.BytesIO("\n".join(body).encode("utf-8"))
    return truncate("\n".join(lines), 2000), discord.File(data, filename=PROBLEMS_FILE)


class EditEventModal(discord.ui.Modal):
    """The event's fields, prefilled; submitting saves a new revision unless the event changed
    since the form opened (then nothing is written and the curator is told)."""

    def __init__(
        self, cog: Curation, event_id: int, form: EditForm, *, user_id: int, instance: int, locale: str = "en"
    ) -> None:
        super().__init__(
            title=truncate(tr(locale, "Edit event #{id}", id=event_id), 45),
            timeout=900,
            custom_id=edit_form_id(event_id, form.revision, user_id, instance),
        )
        self.cog = cog
        self.event_id = event_id
        self.seen_revision = form.revision
        data = self.base = form.data
        self.title_input: discord.ui.TextInput[EditEventModal] = discord.ui.TextInput(
            label=gettext(locale, "Title"),
            default=data.title,
            min_length=3,
            max_length=200,
            custom_id="title",
        )
        self.date_input: discord.ui.TextInput[EditEventModal] = discord.ui.TextInput(
            label=gettext(locale, "Date (YYYY, YYYY-MM or YYYY-MM-DD)"),
            default=str(data.date),
            min_length=4,
            max_length=10,
            custom_id="date",
        )
        self.summary_input: discord.ui.TextInput[EditEventModal] = discord.ui.TextInput(
            label=gettext(locale, "Summary"),
            style=discord.TextStyle.paragraph,
            default=data.summary or None,
            required=False,
            max_length=1500,
            custom_id="summary",
        )
        self.tags_input: discord.ui.TextInput[EditEventModal] = discord.ui.TextInput(
            label=gettext(locale, "Kind, significance, programs, parties, tracks"),
            placeholder=gettext(locale, "One per line, keys in English: kind: missile_launch"),
            style=discord.TextStyle.paragraph,
            default=tags_text(data),
            max_length=1000,
            custom_id="tags",
        )
        self.sources_input: discord.ui.TextInput[EditEventModal] = discord.ui.TextInput(
            label=gettext(locale, "Sources: Publisher | Title | date | URL"),
            placeholder=gettext(locale, "One source per line: Publisher | Title | YYYY-MM-DD | https://…"),
            style=discord.TextStyle.paragraph,
            default=sources_text(data.sources),
            max_length=4000,
            custom_id="sources",
        )
        for item in (
            self.title_input,
            self.date_input,
            self.summary_input,
            self.tags_input,
            self.sources_input,
        ):
            self.add_item(item)

    def to_input(self) -> EventInput:
        tags = parse_tags(self.tags_input.value, self.base)
        return EventInput(
            title=self.title_input.value,
            summary=self.summary_input.value,
            date=self.date_input.value.strip(),
            kind=tags.get("kind", self.base.kind),
            significance=tags.get("significance", self.base.significance),
            programs=tags.get("programs", self.base.programs),
            actors=tags.get("actors", self.base.actors),
            tracks=tags.get("tracks", self.base.tracks),
            sources=parse_sources(self.sources_input.value),
            external_id=self.base.external_id,
            details=dict(self.base.details),
            milestone=self.base.milestone,
            primary_track=self.base.primary_track,
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        curation = self.cog.bot.services.curation
        data = self.to_input()
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        caller = checks.caller_of(interaction)
        view = await curation.edit(caller, self.event_id, data, seen_revision=self.seen_revision)
        locale = own_locale(interaction)
        text = tr(
            locale,
            "Saved event #{id} (revision {revision}). Alerts already posted are being updated.",
            id=view.id,
            revision=view.revision,
        )
        await interaction.followup.send(
            text,
            embed=event_embed(view, locale=locale),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        text = user_message(
            error, context=f"the edit form of event #{self.event_id}", locale=own_locale(interaction)
        )
        await reply_ephemeral(interaction, text)


# -- the audit log ---------------------------------------------------------------------------------


LOG_NOT_YOURS = N_("Only the person who opened this log can turn its pages.")


async def audit_page(
    services: Services,
    caller: Caller,
    *,
    page: int = 1,
    before_id: int | None = None,
    after_id: int | None = None,
    locale: str = "en",
) -> Reply:
    """A page of the log, newest first: the first, the one older than ``before_id``, or the one
    newer than ``after_id``. Buttons carry the page state, so they outlive a restart."""
    curation = services.curation
    has_newer = before_id is not None or after_id is not None
    if after_id is not None:
        got = await curation.log(caller, limit=LOG_PAGE + 1, after_id=after_id)
        if len(got) > LOG_PAGE:
            entries, has_older = got[-LOG_PAGE:], True
        else:  # Fewer than a page above: that is the first page.
            return await audit_page(services, caller, locale=locale)
    else:
        got = await curation.log(caller, limit=LOG_PAGE + 1, before_id=before_id)
        if before_id is not None and not got:
            return await audit_page(services, caller, locale=locale)
        entries, has_older = got[:LOG_PAGE], len(got) > LOG_PAGE
    page = max(page, 2) if has_newer else 1
    view: discord.ui.View | None = None
    if has_newer or has_older:
        view = discord.ui.View(timeout=None)
        uid = caller.user_id
        view.add_item(
            AuditLogButton(uid, "n", entries[0].id, page - 1, disabled=not has_newer, locale=locale)
        )
        view.add_item(
            AuditLogButton(uid, "o", entries[-1].id, page + 1, disabled=not has_older, locale=locale)
        )
    return Reply(embeds=[audit_embed(entries, page - 1, locale)], view=view, ephemeral=True)


class AuditLogButton(Rebuilt, template=r"pb:log:(?P<uid>\d+):(?P<dir>[on]):(?P<before>\d+):(?P<page>\d+)"):
    not_yours = LOG_NOT_YOURS
    """Older / Newer on a /curate log page. ``before`` is the audit id to page from (older: the
    page's oldest entry, newer: its newest); only ``uid``, the invoker, may press."""

    def __init__(
        self, uid: int, direction: str, before: int, page: int, *, disabled: bool = False, locale: str = "en"
    ) -> None:
        self.direction, self.before, self.page = direction, before, page
        label = gettext(locale, "Older") if direction == "o" else gettext(locale, "Newer")
        super().__init__(uid, label, f"pb:log:{uid}:{direction}:{before}:{page}", disabled=disabled)

    @classmethod
    def from_match(cls, match: re.Match[str], interaction: discord.Interaction, item: Any) -> Self:
        return cls(int(match["uid"]), match["dir"], int(match["before"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        older = self.direction == "o"

        async def work() -> Reply:
            # The service re-checks that the presser is still a curator.
            return await audit_page(
                services_of(interaction.client),
                checks.caller_of(interaction),
                page=self.page,
                before_id=self.before if older else None,
                after_id=None if older else self.before,
                locale=own_locale(interaction),
            )

        await turn_page(interaction, work)


# -- the cog ---------------------------------------------------------------------------------------


class Curation(commands.Cog):
    """Curators publish and maintain events."""

    curate = app_commands.Group(
        name="curate",
        description="Publish and maintain events (curators)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: PeninsulaBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AuditLogButton, QueueButton, ReviewButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AuditLogButton, QueueButton)

    @curate.command(name="add")
    @app_commands.describe(
        kind="Kind of event",
        title="Title (3-200 characters)",
        date="When: YYYY, YYYY-MM or YYYY-MM-DD",
        summary="What happened (up to 1,500 characters)",
        source_url="Link to the source (http or https)",
        source_name="Who published the source (default: the link's site)",
        programs="Programs, comma-separated slugs",
        parties="Parties, comma-separated slugs",
        track="Talks track slug",
        significance="How significant, 1 (minor) to 5 (major)",
    )
    @checks.curator_only()
    async def add(
        self,
        interaction: discord.Interaction,
        kind: KindOption,
        title: app_commands.Range[str, 3, 200],
        date: app_commands.Range[str, 4, 10],
        summary: app_commands.Range[str, 1, 1500],
        source_url: app_commands.Range[str, 8, 500],
        source_name: app_commands.Range[str, 1, 200] | None = None,
        programs: ProgramListOption | None = None,
        parties: PartyListOption | None = None,
        track: TrackSlugOption | None = None,
        significance: app_commands.Range[int, 1, 5] = 3,
    ) -> None:
        """Publish a new event (and alert subscribed channels)"""
        name = source_name or host_of(source_url)
        data = EventInput(
            title=title,
            summary=summary,
            date=date.strip(),
            kind=kind,
            significance=significance,
            programs=programs or [],
            actors=parties or [],
            tracks=track or [],
            sources=[SourceInput(name, source_name or title, None, source_url)],
        )
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        view = await self.bot.services.curation.create(checks.caller_of(interaction), data, alert=True)
        locale = own_locale(interaction)
        if view.is_global:
            scope = gettext(locale, "shared with every server")
        else:
            scope = gettext(locale, "local to this server")
        await interaction.followup.send(
            tr(
                locale,
                "Published event #{id} ({scope}). Matching channels are being alerted.",
                id=view.id,
                scope=scope,
            ),
            embed=event_embed(view, locale=locale),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @curate.command(name="edit")
    @app_commands.describe(id="Event to edit (type words of its title or its number)")
    @checks.curator_only()
    async def edit(self, interaction: discord.Interaction, id: EventOption) -> None:
        """Edit an event in a form; posted alerts are updated"""
        event_id = id
        form = await self.bot.services.curation.edit_input(checks.caller_of(interaction), event_id)
        if len(sources_text(form.data.sources)) > 4000:
            await interaction.response.send_message(
                **message(
                    tr(
                        own_locale(interaction),
                        "Event #{id} has too many sources to edit in a form; use `/curate import`.",
                        id=event_id,
                    )
                ).send_kwargs()
            )
            return
        modal = EditEventModal(
            self,
            event_id,
            form,
            user_id=interaction.user.id,
            instance=interaction.id,
            locale=own_locale(interaction),
        )
        await interaction.response.send_modal(modal)

    @curate.command(name="retract")
    @app_commands.describe(id="Event to retract", reason="Why it is withdrawn (shown on its alerts)")
    @checks.curator_only()
    async def retract(
        self, interaction: discord.Interaction, id: EventOption, reason: app_commands.Range[str, 3, 500]
    ) -> None:
        """Withdraw an event; posted alerts are marked retracted"""
        await interaction.response.defer(ephemeral=True, thinking=True)  # answered before any write
        view = await self.bot.services.curation.retract(checks.caller_of(interaction), id, reason)
        done = tr(
            own_locale(interaction),
            "Event #{id} is retracted. Alerts already posted are being marked.",
            id=view.id,
        )
        await interaction.followup.send(**message(done).send_kwargs())

    @curate.command(name="import")
    @app_commands.describe(
        file="The file to import",
        format="native (JSON/CSV of this bot), cns or csis",
        dry_run="Only check the file and report; write nothing",
        alert="Alert subscribed channels about new events (default: no)",
    )
    @checks.curator_only()
    async def import_(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        format: Literal["native", "cns", "csis"] = "native",
        dry_run: bool = False,
        alert: bool = False,
    ) -> None:
        """Import events from a file (silent unless alert is on)"""
        if file.size > IMPORT_MAX_BYTES:
            await interaction.response.send_message(
                **message(
                    tr(
                        own_locale(interaction),
                        "{file} is {size} MB; at most 10 MB is accepted.",
                        file=file.filename,
                        size=round(file.size / 1024 / 1024, 1),
                    )
                ).send_kwargs()
            )
            return
        services = self.bot.services
        gate = services.imports
        gate.check(interaction.guild_id)  # a second import, or one too soon, is told to wait at once
        await interaction.response.defer(ephemeral=True, thinking=True)
        with gate.hold(interaction.guild_id):
            data = await file.read()
            report = await import_file(
                services.sessionmaker,
                data,
                format,
                caller=checks.caller_of(interaction),
                policy=services.policy,
                dry_run=dry_run,
                alert=alert,
                filename=file.filename,
                alert_cap=gate.limits.alert_cap,
            )
        if not dry_run and (report.created or report.updated):
            services.notify_enqueued()  # edits of posted alerts, and new alerts when asked for
        text, full_list = import_reply(report, own_locale(interaction))
        await interaction.followup.send(
            text,
            file=full_list or discord.utils.MISSING,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @curate.command(name="export")
    @app_commands.describe(format="json or csv")
    @checks.curator_only()
    async def export(self, interaction: discord.Interaction, format: Literal["json", "csv"] = "json") -> None:
        """Export the shared events and this server's own as a file"""
        services = self.bot.services
        await services.guild_settings.require_curator(checks.caller_of(interaction))
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await export_events(
            services.sessionmaker, format, guild_id=interaction.guild_id, all_scopes=False
        )
        attachment = discord.File(
            io.BytesIO(text.encode("utf-8")), filename=f"peninsula-brief-events.{format}"
        )
        await interaction.followup.send(
            gettext(own_locale(interaction), "The shared events and this server's own."),
            file=attachment,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @curate.command(name="queue")
    @checks.curator_only()
    async def queue(self, interaction: discord.Interaction) -> None:
        """Review drafts from watched sources: publish, edit, merge or reject"""
        reply = await queue_page(
            self.bot.services, checks.caller_of(interaction), locale=own_locale(interaction)
        )
        await interaction.response.send_message(**reply.send_kwargs())

    @curate.command(name="log")
    @checks.curator_only()
    async def log_(self, interaction: discord.Interaction) -> None:
        """Page through this server's curation log"""
        reply = await audit_page(
            self.bot.services, checks.caller_of(interaction), locale=own_locale(interaction)
        )
        await interaction.response.send_message(**reply.send_kwargs())

    # Declared after the commands above so that /curate lists them first.
    watch = WatchCommands(parent=curate)


async def setup(bot: PeninsulaBot) -> None:
    await bot.add_cog(Curation(bot))
