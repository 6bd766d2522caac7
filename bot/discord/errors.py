"""From an exception to the text a user sees, in one place; and the ephemeral reply that carries it.

Domain errors (:class:`ServiceError`) say their own message; discord.py's option conversion and
check errors get a clear sentence; anything else is the generic text, logged once with its
traceback. The tree, the views and modals, the console, the web surface and the CLI all ask
:func:`user_message`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import discord
from discord import app_commands

from bot.discord.render.text import CONTENT_MAX, plain, truncate
from bot.i18n import N_, gettext, tr
from bot.services.errors import NotFound, ServiceError, ValidationFailed

log = logging.getLogger(__name__)

# The frames of a domain refusal (bot/services/errors.py builds them with these English
# templates; the reply translates them) and the nouns a "not found" names.
REFUSAL_FRAMES = (
    N_("No {what} matches “{value}”."),
    N_(" Did you mean: {names}?"),
    N_("Invalid input — {problems}"),
    N_(" (and {n} more)"),
    N_("row {row}, {field}: {problem}"),
    N_("You need {missing} to do this."),
)
NOUNS = (
    N_("program"),
    N_("system"),
    N_("facility"),
    N_("party"),
    N_("talks track"),
    N_("topic"),
    N_("event"),
    N_("draft"),
    N_("source"),
    N_("subscription"),
)
GENERIC = N_("Something went wrong on our side; it has been logged. Please try again.")
#: How much of a value the user typed is quoted back, and of each problem of a form that does
#: not fit one message.
ECHO_MAX = 100
PROBLEM_MAX = 180

UNKNOWN_INTERACTION = 10062  # the 3 s to answer passed: the token is dead, a followup fails too
ALREADY_ACKNOWLEDGED = 40060  # answered elsewhere: a followup still works


def _permission_names(permissions: list[str]) -> str:
    return ", ".join(p.replace("_", " ").replace("guild", "server").title() for p in permissions)


def unwrap(exc: BaseException) -> BaseException:
    """The failure itself, without discord.py's wrapper around a command's or transformer's error."""
    if isinstance(exc, app_commands.CommandInvokeError):
        return exc.original
    if isinstance(exc, app_commands.TransformerError) and isinstance(exc.__cause__, ServiceError):
        return exc.__cause__  # a transformer's own explanation, e.g. a bad date
    return exc


def expired(exc: BaseException) -> bool:
    """True when Discord no longer takes an answer to the interaction (code 10062)."""
    return isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_INTERACTION


def already_answered(exc: BaseException) -> bool:
    """True when the interaction was already answered (locally known, or Discord's code 40060)."""
    return isinstance(exc, discord.InteractionResponded) or (
        isinstance(exc, discord.HTTPException) and exc.code == ALREADY_ACKNOWLEDGED
    )


def echo(value: object, limit: int = ECHO_MAX) -> str:
    """A value the user gave, as quoted back to them: cut to ``limit`` and shown as text."""
    return plain(truncate(str(value), limit), markdown=False)


def _refusal(exc: ServiceError, locale: str = "en") -> str:
    """A domain refusal's text in ``locale`` (its template through the catalogs), whatever the user
    typed into it, within one message's limit."""

    def translate(template: str, params: Mapping[str, object]) -> str:
        return tr(locale, template, **params)

    if isinstance(exc, NotFound):
        text = exc.text(echo, translate)
    elif isinstance(exc, ValidationFailed) and len(exc.message) > CONTENT_MAX:
        text = exc.text(lambda problem: truncate(problem, PROBLEM_MAX), translate)
    else:
        text = exc.localized(translate)
    return truncate(text, CONTENT_MAX)


def _known(exc: BaseException, locale: str = "en") -> str | None:
    """The text for a failure that is not a bug: a domain refusal or one of discord.py's checks,
    in ``locale`` (a domain refusal: the service's own sentence, translated)."""
    if isinstance(exc, ServiceError):
        return _refusal(exc, locale)
    if isinstance(exc, app_commands.MissingPermissions):
        names = _permission_names(exc.missing_permissions)
        return tr(locale, "You need the {permissions} permission to do this.", permissions=names)
    if isinstance(exc, app_commands.BotMissingPermissions):
        names = _permission_names(exc.missing_permissions)
        return tr(locale, "I need the {permissions} permission here to do this.", permissions=names)
    if isinstance(exc, app_commands.NoPrivateMessage):
        return gettext(locale, "This command works only in a server.")
    if isinstance(exc, app_commands.CommandOnCooldown):
        return tr(locale, "Slow down: try again in {seconds} s.", seconds=round(exc.retry_after))
    if isinstance(exc, app_commands.TransformerError):
        return tr(locale, "“{value}” is not a valid value for this option.", value=echo(exc.value, 80))
    if isinstance(exc, app_commands.CheckFailure):
        refusal = getattr(exc, "refusal", None)  # a check that asked a service (checks.curator_only)
        if isinstance(refusal, ServiceError):
            return _refusal(refusal, locale)
        return str(exc) or gettext(locale, "You cannot use this command here.")
    return None


def is_unexpected(exc: BaseException) -> bool:
    """True when :func:`user_message` answers ``exc`` with the generic text (a bug, or Discord)."""
    return _known(unwrap(exc)) is None


def user_message(
    exc: BaseException, *, context: str = "a request", generic: str = GENERIC, locale: str = "en"
) -> str:
    """The text to show for ``exc`` in ``locale``; the unexpected is logged once here (``context``
    says where).

    ``generic`` is what the unexpected says; the web surface keeps its own short one.
    """
    original = unwrap(exc)
    text = _known(original, locale)
    if text is not None:
        return text
    if expired(original):
        log.warning("%s: the interaction expired before it was answered", context)
    else:
        log.error("%s failed", context, exc_info=original)
    return gettext(locale, generic)


async def reply_ephemeral(
    interaction: discord.Interaction, text: str, *, view: discord.ui.View | None = None
) -> None:
    """Answer ephemerally whether or not the interaction was already responded to (``view``: buttons).

    When Discord says it was answered already, the text goes as a followup; when the interaction
    expired, or the followup fails too, it is logged once at WARNING (nobody sees a traceback).
    """
    none = discord.AllowedMentions.none()
    buttons: discord.ui.View = view if view is not None else discord.utils.MISSING
    try:
        if not interaction.response.is_done():
            try:
                await interaction.response.send_message(
                    text, ephemeral=True, allowed_mentions=none, view=buttons
                )
                return
            except (discord.InteractionResponded, discord.HTTPException) as exc:
                if not already_answered(exc):
                    raise
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=none, view=buttons)
    except discord.HTTPException as exc:
        why = "it expired" if expired(exc) else f"{exc.status} {exc.text or ''}".strip()
        log.warning("could not deliver an error reply for interaction %s (%s)", interaction.id, why)
