"""Typed failures whose message is fit to show a user as it is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


class ServiceError(Exception):
    """Base of every failure a user may see; ``str(exc)`` is the message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """An unknown id, slug or name; ``suggestions`` lists the closest known names."""

    def __init__(
        self, what: str, value: str, suggestions: Sequence[str] = (), *, values: Sequence[str] = ()
    ) -> None:
        self.what = what
        self.value = value
        self.suggestions = list(suggestions)
        # What each suggestion resolves from (a slug), for a "did you mean" button; else the name.
        self.values = list(values) or list(suggestions)
        super().__init__(self.text())

    def text(self, echo: Callable[[str], str] = str) -> str:
        """The message, with the value asked for shown through ``echo`` (a reply cuts it short)."""
        message = f"No {self.what} matches “{echo(self.value)}”."
        if self.suggestions:
            message += " Did you mean: " + ", ".join(self.suggestions) + "?"
        return message


@dataclass(frozen=True)
class FieldProblem:
    field: str
    problem: str
    row: int | None = None

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{where}{self.field}: {self.problem}"


class ValidationFailed(ServiceError):
    """Input that breaks a rule; nothing was written."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__(self.text())

    def text(self, echo: Callable[[str], str] = str) -> str:
        """The message, each problem (which may quote the input) shown through ``echo``."""
        shown = "; ".join(echo(str(p)) for p in self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        return f"Invalid input — {shown}{more}"


class PermissionDenied(ServiceError):
    """The caller lacks a permission; the message names it."""

    def __init__(self, missing: str) -> None:
        self.missing = missing
        super().__init__(f"You need {missing} to do this.")


class Conflict(ServiceError):
    """The request clashes with the current state (for example a duplicate subscription)."""
