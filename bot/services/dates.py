"""Dates with a precision: ``1984``, ``1984-09`` and ``1984-09-09`` are year, month and day."""

from __future__ import annotations

import datetime as dt
import re

from bot.i18n.catalogs import N_
from bot.services.errors import FieldProblem, ValidationFailed

Precision = str  # "day" | "month" | "year"

_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*$")
MIN_YEAR = 1900


def parse_date(
    text: str | int | dt.date, field: str = "date", *, today: dt.date | None = None
) -> tuple[dt.date, str]:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` into (first day of the period, precision)."""
    if isinstance(text, dt.datetime):
        text = text.date()
    if isinstance(text, dt.date):
        value, precision = text, "day"
    else:
        match = _DATE.match(str(text))
        if not match:
            problem = N_("“{value}” is not YYYY, YYYY-MM or YYYY-MM-DD")
            raise ValidationFailed([FieldProblem(field, problem, params={"value": str(text)[:40]})])
        year, month, day = match.groups()
        try:
            value = dt.date(int(year), int(month or 1), int(day or 1))
        except ValueError:
            problem = N_("“{value}” is not a real date")
            raise ValidationFailed([FieldProblem(field, problem, params={"value": text})]) from None
        precision = "day" if day else "month" if month else "year"
    today = today or dt.date.today()
    latest = today.replace(year=today.year + 1) if not (today.month == 2 and today.day == 29) else today
    if value.year < MIN_YEAR or value > latest:
        problem = N_("must be between {first} and {last}")
        raise ValidationFailed(
            [FieldProblem(field, problem, params={"first": MIN_YEAR, "last": latest.isoformat()})]
        )
    return value, precision


def format_date(value: dt.date | None, precision: str = "day") -> str:
    """``7 Oct 2015``, ``Sep 1984`` or ``2015``: a date shown only as precisely as it is known."""
    if value is None:
        return "date unknown"
    if precision == "year":
        return str(value.year)
    if precision == "month":
        return value.strftime("%b %Y")
    return f"{value.day} {value.strftime('%b %Y')}"


def iso_with_precision(value: dt.date, precision: str) -> str:
    """The canonical text form: as many parts as the precision holds."""
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def period_end(value: dt.date, precision: str) -> dt.date:
    """Last day of the period a date stands for."""
    if precision == "year":
        return dt.date(value.year, 12, 31)
    if precision == "month":
        nxt = dt.date(value.year + (value.month == 12), value.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    return value


def check_period(since: tuple[dt.date, str] | None, until: tuple[dt.date, str] | None) -> None:
    """A ``since`` after the end of ``until`` is a problem of the ``since`` option, said as such."""
    if since and until and since[0] > period_end(*until):
        problem = N_("{since} is after until ({until}); swap them or widen it")
        dates = {"since": iso_with_precision(*since), "until": iso_with_precision(*until)}
        raise ValidationFailed([FieldProblem("since", problem, params=dates)])
