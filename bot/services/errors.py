"""Typed failures whose message is fit to show a user as it is.

A message is an English template with ``{placeholders}`` and its values (``str(exc)`` is the
English text); the reply translates the template through the catalogs (``bot.i18n``) and fills
it in, so a refusal reaches a Korean, Japanese or Chinese reader in their language. A template
raised here must be marked with ``N_`` where it is written, so the catalog test sees it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

#: ``translate(template, values)``: a template in the reader's language, filled in.
Translate = Callable[[str, Mapping[str, object]], str]


class Term(str):
    """A value of a template that is itself a message of the catalog (``Term(N_("the operator"))``):
    translated with the template it fills in."""

    __slots__ = ()


def english(template: str, values: Mapping[str, object]) -> str:
    """The English text of a template (the msgids are English)."""
    return template.format(**values) if values else template


def terms(translate: Translate, values: Mapping[str, object]) -> dict[str, object]:
    """``values`` with each :class:`Term` among them in the language of ``translate``."""
    return {k: translate(v, {}) if isinstance(v, Term) else v for k, v in values.items()}


class ServiceError(Exception):
    """Base of every failure a user may see; ``str(exc)`` is the English message."""

    def __init__(self, message: str, /, **params: object) -> None:
        self.template = message
        self.params = params
        self.message = english(message, params)
        super().__init__(self.message)

    def localized(self, translate: Translate = english) -> str:
        """The message in the language of ``translate``."""
        return translate(self.template, terms(translate, self.params))


class NotFound(ServiceError):
    """An unknown id, slug or name; ``suggestions`` lists the closest known names. ``what`` is an
    English noun marked for the catalog ("program", "event", …)."""

    def __init__(
        self, what: str, value: str, suggestions: Sequence[str] = (), *, values: Sequence[str] = ()
    ) -> None:
        self.what = what
        self.value = value
        self.suggestions = list(suggestions)
        # What each suggestion resolves from (a slug), for a "did you mean" button; else the name.
        self.values = list(values) or list(suggestions)
        super().__init__(self.text())

    def text(self, echo: Callable[[str], str] = str, translate: Translate = english) -> str:
        """The message, with the value asked for shown through ``echo`` (a reply cuts it short)."""
        what = translate(self.what, {})
        message = translate("No {what} matches “{value}”.", {"what": what, "value": echo(self.value)})
        if self.suggestions:
            message += translate(" Did you mean: {names}?", {"names": ", ".join(self.suggestions)})
        return message

    def localized(self, translate: Translate = english) -> str:
        return self.text(translate=translate)


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field: ``problem`` is a template filled in from ``params``; ``field``
    names it as typed (an option, a column), or is a :class:`Term` translated with the problem."""

    field: str
    problem: str
    row: int | None = None
    params: Mapping[str, object] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def message(self) -> str:
        """The problem in English, filled in (without the field)."""
        return english(self.problem, self.params)

    def text(self, translate: Translate = english) -> str:
        problem = translate(self.problem, terms(translate, self.params))
        field = translate(self.field, {}) if isinstance(self.field, Term) else self.field
        if self.row is not None:
            return translate(
                "row {row}, {field}: {problem}", {"row": self.row, "field": field, "problem": problem}
            )
        return f"{field}: {problem}"

    def __str__(self) -> str:
        return self.text()


class ValidationFailed(ServiceError):
    """Input that breaks a rule; nothing was written."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__(self.text())

    def text(self, echo: Callable[[str], str] = str, translate: Translate = english) -> str:
        """The message, each problem (which may quote the input) shown through ``echo``."""
        shown = "; ".join(echo(p.text(translate)) for p in self.problems[:10])
        if len(self.problems) > 10:
            shown += translate(" (and {n} more)", {"n": len(self.problems) - 10})
        return translate("Invalid input — {problems}", {"problems": shown})

    def localized(self, translate: Translate = english) -> str:
        return self.text(translate=translate)


class PermissionDenied(ServiceError):
    """The caller lacks a permission; the message names it (``missing``: a template too)."""

    def __init__(self, missing: str, /, **params: object) -> None:
        self.missing = english(missing, params)
        self._missing = (missing, params)
        super().__init__("You need {missing} to do this.", missing=self.missing)

    def localized(self, translate: Translate = english) -> str:
        template, params = self._missing
        return translate("You need {missing} to do this.", {"missing": translate(template, params)})


class Conflict(ServiceError):
    """The request clashes with the current state (for example a duplicate subscription)."""
