"""The rules every event must pass, whoever writes it: a curator, an importer or the seed loader."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from bot.i18n.catalogs import N_
from bot.i18n.locales import DEFAULT, LOCALES
from bot.models import EVENT_KINDS
from bot.services.dates import parse_date
from bot.services.errors import FieldProblem, NotFound, ValidationFailed, english
from bot.services.views import EventContent, SourceView

TITLE_MIN, TITLE_MAX = 3, 200
SUMMARY_MAX = 1500
SOURCE_NAME_MAX = 200
SOURCE_TITLE_MAX = 500
URL_MAX = 500
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Bidirectional overrides and isolates can make text read differently from what is stored.
BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}
#: Invisible although not a format character (category Mn): the combining grapheme joiner.
INVISIBLE_MARKS = {"\u034f"}
#: Record ids (events, catalog records) are INTEGER columns: 32-bit signed on PostgreSQL.
ID_MAX = 2**31 - 1
_ID = re.compile(r"#?([0-9]{1,100})")
#: The languages an event's title and summary may be translated into (``EventInput.i18n``).
TRANSLATED = tuple(code for code in LOCALES if code != DEFAULT)


@dataclass
class SourceInput:
    publisher: str
    title: str
    date: str | dt.date | None = None
    url: str | None = None


@dataclass
class EventInput:
    title: str
    summary: str
    date: str | dt.date
    kind: str
    significance: int = 3
    programs: Sequence[str] = ()
    actors: Sequence[str] = ()
    tracks: Sequence[str] = ()
    sources: Sequence[SourceInput] = ()
    systems: Sequence[str] = ()
    facilities: Sequence[str] = ()
    external_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    milestone: bool = False
    primary_track: str | None = None  # one of ``tracks`` (added to them when missing)
    #: ``{"ko": {"title": ..., "summary": ...}, ...}``; None leaves an event's stored translations.
    i18n: dict[str, Any] | None = None


@dataclass(frozen=True)
class CleanEvent(EventContent):
    programs: tuple[str, ...]
    actors: tuple[str, ...]
    tracks: tuple[str, ...]
    sources: tuple[SourceView, ...]
    external_id: str | None
    details: dict[str, Any]
    milestone: bool = False
    primary_track: str | None = None
    systems: tuple[str, ...] = ()
    facilities: tuple[str, ...] = ()
    i18n: dict[str, Any] | None = None


def check_translations(value: object, problems: list[FieldProblem]) -> dict[str, Any] | None:
    """An event's translations: per language of :data:`TRANSLATED`, a title and a summary within
    the English one's bounds. None stays None (keep what is stored)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(FieldProblem("i18n", N_("must map languages to a title and a summary")))
        return None
    out: dict[str, Any] = {}
    for lang, entry in value.items():
        if lang not in TRANSLATED:
            known = {"value": str(lang)[:20], "known": ", ".join(TRANSLATED)}
            problems.append(FieldProblem("i18n", N_("“{value}” is not one of {known}"), params=known))
            continue
        if not isinstance(entry, dict) or set(entry) - {"title", "summary"}:
            problems.append(FieldProblem(f"i18n {lang}", N_("must hold a title and a summary only")))
            continue
        clean: dict[str, str] = {}
        if "title" in entry:
            clean["title"] = check_text(entry["title"], f"i18n {lang} title", problems, low=1, high=TITLE_MAX)
        if "summary" in entry:
            clean["summary"] = check_text(
                entry["summary"], f"i18n {lang} summary", problems, high=SUMMARY_MAX, multiline=True
            )
        out[lang] = clean
    return out


def character_problem(ch: str, *, multiline: bool = False) -> str | None:
    """Why ``ch`` may not be stored in text, or None when it may.

    Refused: control characters (tab and newline only in ``multiline`` text), bidirectional
    overrides, format characters (category Cf: zero-width spaces, direction marks, the soft hyphen,
    tag characters …) and other invisible marks, line and paragraph separators, surrogates and
    noncharacters (U+FDD0–U+FDEF and the last two code points of every plane, which XML refuses).
    """
    code = ord(ch)
    category = unicodedata.category(ch)
    if category == "Cc":
        return None if multiline and ch in "\n\t" else "a control character"
    if ch in BIDI:
        return "a bidirectional override"
    if category == "Cf" or ch in INVISIBLE_MARKS:
        return "an invisible formatting character"
    if category in ("Zl", "Zp"):
        return "a line or paragraph separator"
    if category == "Cs":
        return "a surrogate"
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return "a noncharacter"
    return None


#: The refusal of a character, per reason :func:`character_problem` gives (``{char}``: its code and name).
_REFUSALS = {
    "a control character": N_("contains {char}, a control character"),
    "a bidirectional override": N_("contains {char}, a bidirectional override"),
    "an invisible formatting character": N_("contains {char}, an invisible formatting character"),
    "a line or paragraph separator": N_("contains {char}, a line or paragraph separator"),
    "a surrogate": N_("contains {char}, a surrogate"),
    "a noncharacter": N_("contains {char}, a noncharacter"),
}


def text_refusal(text: str, *, multiline: bool = False) -> tuple[str, dict[str, object]] | None:
    """The first character of ``text`` that may not be stored, as a template and its values;
    None when every character may."""
    for ch in text:
        why = character_problem(ch, multiline=multiline)
        if why is not None:
            name = unicodedata.name(ch, "")
            return _REFUSALS[why], {"char": f"U+{ord(ch):04X}{f' ({name})' if name else ''}"}
    return None


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """The first character of ``text`` that may not be stored, named (``contains U+200B (ZERO WIDTH
    SPACE), an invisible formatting character``); None when every character may."""
    refusal = text_refusal(text, multiline=multiline)
    return None if refusal is None else english(*refusal)


def parse_id(text: object) -> int | None:
    """The number ``text`` spells as a record id (ASCII digits, an optional leading ``#``), or None.

    The one parser of ids typed or carried by people (options, buttons, web paths, cursors): a
    Unicode digit such as ``²`` spells no id. The number may lie beyond the id columns
    (:func:`id_in_range`); :func:`require_id` turns that into "not found".
    """
    match = _ID.fullmatch(str(text).strip())
    return int(match[1]) if match is not None else None


def id_in_range(value: int) -> bool:
    """True when ``value`` can be the id of a stored record (1 to :data:`ID_MAX`)."""
    return 1 <= value <= ID_MAX


def require_id(value: int, what: str) -> int:
    """``value`` when it can name a stored record; otherwise NotFound, as an unknown id is."""
    if not id_in_range(value):
        raise NotFound(what, f"#{value}")
    return value


def check_text(
    value: object,
    name: str,
    problems: list[FieldProblem],
    *,
    low: int = 0,
    high: int,
    multiline: bool = False,
) -> str:
    """Trimmed text within bounds and free of characters that may not be stored
    (see :func:`character_problem`)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(FieldProblem(name, N_("must be text")))
        return ""
    text = value.strip()
    refused = text_refusal(text, multiline=multiline)
    if refused is not None:
        problems.append(FieldProblem(name, refused[0], params=refused[1]))
    if len(text) < low:
        problem = N_("is required") if not text else N_("must be at least {low} characters")
        problems.append(FieldProblem(name, problem, params={"low": low}))
    elif len(text) > high:
        limits = {"length": len(text), "high": high}
        problems.append(
            FieldProblem(name, N_("is {length} characters; at most {high} allowed"), params=limits)
        )
    return text


def normalize_kind(text: object) -> str:
    """The canonical spelling of an event kind as a person may type it: ``Missile launch``,
    ``missile-launch`` and ``MISSILE_LAUNCH`` are all ``missile_launch``. Whether it is a known kind
    is for the caller to check (see :func:`check_kind`)."""
    return "_".join(str(text).replace("-", " ").replace("_", " ").split()).casefold()


def check_kind(value: object, name: str, problems: list[FieldProblem]) -> str:
    """``value`` as a known event kind; otherwise a problem naming the kinds there are."""
    kind = normalize_kind(value)
    if kind not in EVENT_KINDS:
        known = {"value": str(value)[:40], "known": ", ".join(EVENT_KINDS)}
        problems.append(FieldProblem(name, N_("“{value}” is not one of {known}"), params=known))
    return kind


def host_of(url: str) -> str:
    """A source's site, as a publisher's name when none is given: ``example.org``."""
    host = urlsplit(url.strip()).hostname or ""
    return host.removeprefix("www.") or "Source"


def check_url(value: str | None, name: str, problems: list[FieldProblem]) -> str | None:
    if value is None or not str(value).strip():
        return None
    url = check_text(value, name, problems, high=URL_MAX)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        problems.append(FieldProblem(name, N_("must be an http:// or https:// address")))
    return url


def check_slugs(values: Sequence[str], name: str, problems: list[FieldProblem]) -> tuple[str, ...]:
    out: list[str] = []
    for raw in values:
        slug = str(raw).strip().lower()
        if not slug:
            continue
        if not SLUG.match(slug) or len(slug) > 64:
            problems.append(
                FieldProblem(name, N_("“{value}” is not a valid slug"), params={"value": slug[:40]})
            )
        elif slug not in out:
            out.append(slug)
    return tuple(out)


def validate_event(data: EventInput, *, today: dt.date | None = None, row: int | None = None) -> CleanEvent:
    """Check every field of ``data``; raise ValidationFailed listing every problem at once."""
    problems: list[FieldProblem] = []
    title = check_text(data.title, "title", problems, low=TITLE_MIN, high=TITLE_MAX)
    summary = check_text(data.summary, "summary", problems, high=SUMMARY_MAX, multiline=True)
    occurred_on, precision = dt.date(1900, 1, 1), "day"
    try:
        occurred_on, precision = parse_date(data.date, "date", today=today)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    kind = check_kind(data.kind, "kind", problems)
    significance = data.significance
    if isinstance(significance, bool) or not isinstance(significance, int) or not 1 <= significance <= 5:
        problems.append(FieldProblem("significance", N_("must be a whole number from 1 to 5")))
        significance = 3
    sources: list[SourceView] = []
    if not data.sources:
        problems.append(FieldProblem("sources", N_("at least one source is required")))
    for i, src in enumerate(data.sources, start=1):
        before = len(problems)
        publisher = check_text(src.publisher, f"source {i} publisher", problems, low=1, high=SOURCE_NAME_MAX)
        stitle = check_text(src.title, f"source {i} title", problems, low=1, high=SOURCE_TITLE_MAX)
        url = check_url(src.url, f"source {i} url", problems)
        sdate, sprec = None, "day"
        if src.date not in (None, ""):
            try:
                sdate, sprec = parse_date(src.date, f"source {i} date", today=today)
            except ValidationFailed as exc:
                problems.extend(exc.problems)
        if len(problems) == before:
            sources.append(SourceView(publisher, stitle, sdate, sprec, url))
    if not isinstance(data.milestone, bool):
        problems.append(FieldProblem("milestone", N_("must be true or false")))
    tracks = check_slugs(data.tracks, "tracks", problems)
    primary = check_slugs([data.primary_track] if data.primary_track else [], "primary track", problems)
    tracks = tracks + tuple(s for s in primary if s not in tracks)
    external_id = None
    if data.external_id is not None:
        external_id = check_text(data.external_id, "external id", problems, low=1, high=120)
    clean = CleanEvent(
        title=title,
        summary=summary,
        occurred_on=occurred_on,
        precision=precision,
        kind=kind,
        significance=significance,
        programs=check_slugs(data.programs, "programs", problems),
        actors=check_slugs(data.actors, "parties", problems),
        tracks=tracks,
        sources=tuple(sources),
        external_id=external_id,
        details=dict(data.details),
        milestone=data.milestone is True,
        primary_track=primary[0] if primary else None,
        systems=check_slugs(data.systems, "systems", problems),
        facilities=check_slugs(data.facilities, "facilities", problems),
        i18n=check_translations(data.i18n, problems),
    )
    if problems:
        if row is not None:
            problems = [replace(p, row=row) for p in problems]
        raise ValidationFailed(problems)
    return clean
