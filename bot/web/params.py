"""Query parameters of the feed and the API: parsed, resolved to slugs, or refused by name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from multidict import MultiMapping

from bot.discord.render.kinds import kind_label
from bot.i18n import DEFAULT, LOCALES, N_, format_date, local, tr
from bot.models import EVENT_KINDS
from bot.services.catalog import CatalogService
from bot.services.charts import GROUPS, ChartQuery
from bot.services.dates import iso_with_precision, parse_date, period_end
from bot.services.errors import FieldProblem, NotFound, ServiceError, ValidationFailed, english, terms
from bot.services.events import MAX_PAGE, decode_cursor
from bot.services.filters import EventFilter
from bot.services.links import KINDS, PARTY, PROGRAM, SYSTEM, LinkKind, Links
from bot.services.search import QUERY_MAX
from bot.services.validation import normalize_kind, text_refusal
from bot.services.views import Ref

DEFAULT_LIMIT = 50
#: The filters the feed and the event list share (``limit`` and ``cursor`` are the list's own).
FILTERS = (*(k.param for k in KINDS), "kind", "min_significance", "since", "until", "q")


class BadParameter(Exception):
    """A query parameter the API refuses; answered with 400 naming it. ``message`` is an English
    template filled in from ``params`` (``self.message``: the English text); :meth:`localized` gives
    it in another language, a wrapped refusal (``cause``) in that refusal's own words."""

    def __init__(self, parameter: str, message: str, /, **params: object) -> None:
        self.parameter, self.template, self.params = parameter, message, params
        self.cause: ServiceError | None = None
        self.message = english(message, params)
        super().__init__(f"{parameter}: {self.message}")

    @classmethod
    def because(cls, parameter: str, exc: ServiceError) -> BadParameter:
        """A service's refusal (an unknown name) as the parameter's, in the service's own words."""
        bad = cls(parameter, exc.message)
        bad.cause = exc
        return bad

    @classmethod
    def of(cls, parameter: str, problem: FieldProblem) -> BadParameter:
        """The first problem of a refused value, as the parameter's."""
        return cls(parameter, problem.problem, **problem.params)

    def localized(self, locale: str) -> str:
        def translate(template: str, values: Mapping[str, object]) -> str:
            return tr(locale, template, **values)

        if self.cause is not None:
            return self.cause.localized(translate)
        return translate(self.template, terms(translate, self.params))


@dataclass(frozen=True)
class EventQuery:
    """A parsed event query: the filter (slugs resolved), the text search, the page wanted."""

    filter: EventFilter
    q: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    #: The filters as given after normalization (slug, canonical date), for feed ids and titles.
    canonical: tuple[tuple[str, str], ...] = ()
    labels: tuple[str, ...] = ()


def one(params: MultiMapping[str], name: str) -> str | None:
    """The parameter's single value, stripped; None when absent or blank. A value holding a
    character no stored text may hold (a control character, an invisible one …) is refused."""
    values = {v.strip() for v in params.getall(name, [])}
    values.discard("")
    for value in values:
        refused = text_refusal(value)
        if refused is not None:
            raise BadParameter(name, refused[0], **refused[1])
    if len(values) > 1:
        raise BadParameter(name, N_("is given more than once with different values"))
    return values.pop() if values else None


def integer(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(name, N_("“{value}” is not a whole number"), value=text[:40]) from None
    if not low <= value <= high:
        raise BadParameter(name, N_("must be from {low} to {high}"), low=low, high=high)
    return value


def date(text: str, name: str) -> tuple[dt.date, str]:
    try:
        return parse_date(text, name)
    except ValidationFailed as exc:
        raise BadParameter.of(name, exc.problems[0]) from None


async def _links(
    params: MultiMapping[str], catalog: CatalogService
) -> tuple[Links[str], list[tuple[LinkKind, Ref]]]:
    """The link filters given (``program``, ``party``, ``track``), resolved, with their records."""
    chosen: dict[LinkKind, Ref] = {}
    for kind in KINDS:
        text = one(params, kind.param)
        if text is None:
            continue
        try:
            chosen[kind] = await catalog.ref(kind, text)
        except NotFound as exc:
            raise BadParameter.because(kind.param, exc) from None
    links: Links[str] = Links.build(lambda k: (chosen[k].slug,) if k in chosen else ())
    return links, list(chosen.items())


def language(params: MultiMapping[str]) -> str:
    """``lang``: one of ``en``, ``ko``, ``ja``, ``zh-CN`` (any case, ``_`` for ``-``); English when
    absent. Anything else is refused with a 400 that names the languages: a client that asked for a
    language should not get English back silently."""
    text = one(params, "lang")
    if text is None or not text.strip():
        return DEFAULT
    wanted = text.strip().replace("_", "-").casefold()
    found = next((code for code in LOCALES if code.casefold() == wanted), None)
    if found is None:
        raise BadParameter(
            "lang",
            N_("“{value}” is not a language the API speaks ({known})"),
            value=text[:40],
            known=", ".join(LOCALES),
        )
    return found


async def event_query(
    params: MultiMapping[str], catalog: CatalogService, *, paged: bool, locale: str = DEFAULT
) -> EventQuery:
    """Parse the feed's or the list's parameters; unknown parameters are ignored (feed readers add
    some). The labels (the feed's title) are in ``locale``."""
    links, chosen = await _links(params, catalog)
    canonical = [(kind.param, r.slug) for kind, r in chosen]
    labels = [str(local(r.i18n, locale, "name", r.name)) for _kind, r in chosen]
    f = EventFilter(links=links, guild_id=None)
    kind_text = one(params, "kind")
    if kind_text is not None:
        kind = normalize_kind(kind_text)
        if kind not in EVENT_KINDS:
            raise BadParameter(
                "kind",
                N_("“{value}” is not one of {known}"),
                value=kind_text[:40],
                known=", ".join(EVENT_KINDS),
            )
        f = replace(f, kinds=(kind,))
        canonical.append(("kind", kind))
        labels.append(kind_label(kind, locale) if locale != DEFAULT else kind.replace("_", " "))
    sig_text = one(params, "min_significance")
    if sig_text is not None:
        significance = integer(sig_text, "min_significance", 1, 5)
        f = replace(f, min_significance=significance)
        canonical.append(("min_significance", str(significance)))
        labels.append(tr(locale, "significance {n}+", n=significance))
    since_text, until_text = one(params, "since"), one(params, "until")
    if since_text is not None:
        since, precision = date(since_text, "since")
        f = replace(f, since=since)
        canonical.append(("since", iso_with_precision(since, precision)))
        labels.append(tr(locale, "since {date}", date=format_date(since, precision, locale)))
    if until_text is not None:
        # ``until=2012`` means to the end of 2012.
        start, precision = date(until_text, "until")
        until = period_end(start, precision)
        if f.since is not None and until < f.since:
            raise BadParameter("until", N_("is before since"))
        f = replace(f, until=until)
        canonical.append(("until", iso_with_precision(start, precision)))
        labels.append(tr(locale, "until {date}", date=format_date(start, precision, locale)))
    q = one(params, "q")
    if q is not None:
        if len(q) > QUERY_MAX:
            raise BadParameter(
                "q", N_("is {length} characters; at most {most}"), length=len(q), most=QUERY_MAX
            )
        canonical.append(("q", q))
        labels.append(f"“{q}”")
    limit, cursor = DEFAULT_LIMIT, None
    if paged:
        limit_text = one(params, "limit")
        if limit_text is not None:
            limit = integer(limit_text, "limit", 1, MAX_PAGE)
        cursor = one(params, "cursor")
        if cursor is not None:
            try:
                decode_cursor(cursor)
            except ValidationFailed as exc:
                raise BadParameter.of("cursor", exc.problems[0]) from None
    return EventQuery(f, q, limit, cursor, tuple(canonical), tuple(labels))


async def chart_query(metric: str, params: MultiMapping[str], catalog: CatalogService) -> ChartQuery:
    """``/charts/{metric}.png``'s parameters: ``by``, ``program``, ``system``, ``party``, ``since``,
    ``until``; global events only (the web reader is in no guild)."""
    slugs: dict[str, str] = {}
    for kind in (PROGRAM, SYSTEM, PARTY):
        text = one(params, kind.param)
        if text is not None:
            try:
                slugs[kind.param] = (await catalog.ref(kind, text)).slug
            except NotFound as exc:
                raise BadParameter.because(kind.param, exc) from None
    by = one(params, "by") or "year"
    if by not in GROUPS:
        raise BadParameter(
            "by", N_("“{value}” is not one of {known}"), value=by[:40], known=", ".join(GROUPS)
        )
    since_text, until_text = one(params, "since"), one(params, "until")
    since = date(since_text, "since")[0] if since_text is not None else None
    until = period_end(*date(until_text, "until")) if until_text is not None else None
    if since and until and until < since:
        raise BadParameter("until", N_("is before since"))
    try:
        return ChartQuery(metric, by, since=since, until=until, guild_id=None, **slugs)
    except ValidationFailed as exc:
        raise BadParameter.of(exc.problems[0].field, exc.problems[0]) from None
