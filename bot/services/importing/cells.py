"""What every importer shares: the parsed row, reading the file's text and its CSV rows, and the
cells of the public datasets (dates such as ``9-Apr-84``, distances, times, free-text sources)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from bot.i18n import N_
from bot.services.errors import FieldProblem
from bot.services.validation import SOURCE_NAME_MAX, SOURCE_TITLE_MAX, URL_MAX, EventInput, SourceInput

PLACEHOLDERS = frozenset({"", "unknown", "n/a", "na", "none", "-", "?", "tbd"})


@dataclass
class ImportRow:
    """One parsed row, ready for validation and writing."""

    row: int
    data: EventInput
    strict_links: bool = True  # native rows must name known slugs; dataset rows link what exists
    scope: int | Literal["caller"] | None = "caller"
    status: str | None = None  # None: keep the stored status (dataset rows never un-retract)
    retract_reason: str | None = None
    revision: int | None = None
    #: A dataset row: the title of the source it becomes when it merges into a curated event
    #: (``importing.merge``); None for rows that never merge (native rows).
    merged_title: str | None = None


#: A cell a spreadsheet would run as a formula starts with one of these (OWASP's CSV injection list).
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_GUARDED = re.compile(r"'+[=+\-@\t\r]")


def guard_formula(cell: str) -> str:
    """``cell`` as written to an exported CSV: prefixed with ``'`` when a spreadsheet would run it
    (``=HYPERLINK(…)``, ``-1+1``, ``@SUM``). A cell that already looks guarded gets one ``'`` more,
    so that :func:`unguard_formula` gives back exactly what was exported."""
    return "'" + cell if _FORMULA.match(cell) else cell


def unguard_formula(cell: str) -> str:
    """The cell :func:`guard_formula` was given (one ``'`` before a formula character removed)."""
    return cell[1:] if _GUARDED.match(cell) else cell


#: How deep a JSON file or cell may nest (an event is 4 levels deep; details a few more).
JSON_DEPTH_MAX = 32


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def load_json(text: str) -> Any:
    """``json.loads``, except that a document nested deeper than :data:`JSON_DEPTH_MAX` or holding
    a number Python refuses (thousands of digits) is a :class:`json.JSONDecodeError` like any other
    malformed file, never a RecursionError or a ValueError from deep inside the parser. Numbers
    too large for a float (``1e400``) and ``NaN``/``Infinity``, which databases refuse, are refused
    here."""
    too_deep = f"nested deeper than {JSON_DEPTH_MAX} levels"
    try:
        doc = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError(too_deep, text, 0) from None
    except ValueError as exc:
        raise json.JSONDecodeError(f"cannot be read ({str(exc)[:80]})", text, 0) from None
    level: list[tuple[Any, int]] = [(doc, 1)]
    while level:  # breadth first, without recursion
        value, depth = level.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        if children and depth > JSON_DEPTH_MAX:
            raise json.JSONDecodeError(too_deep, text, 0)
        level.extend((child, depth + 1) for child in children)
    return doc


def decode(data: bytes, problems: list[FieldProblem]) -> str | None:
    """UTF-8 (with or without BOM), else Windows-1252 for the whole file (the CNS export uses it)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            problems.append(FieldProblem("file", N_("is neither UTF-8 nor Windows-1252 text")))
            return None
    if "\x00" in text:
        problems.append(FieldProblem("file", N_("contains NUL bytes: it is not a text file")))
        return None
    return text


def read_csv(
    text: str, required: Sequence[str], problems: list[FieldProblem]
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV file as (row number, {column: value}); row 1 is the first after the header."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        problems.append(FieldProblem("file", N_("is not readable CSV: {error}"), params={"error": exc}))
        return []
    if not records:
        problems.append(FieldProblem("file", N_("is empty")))
        return []
    header = [h.strip() for h in records[0]]
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(
            FieldProblem(
                "columns", N_("missing required column(s): {names}"), params={"names": ", ".join(missing)}
            )
        )
        return []
    out: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records[1:], start=1):
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(
                FieldProblem(
                    "row",
                    N_("has {count} columns; the header has {header}"),
                    number,
                    params={"count": len(record), "header": len(header)},
                )
            )
            continue
        out.append((number, dict(zip(header, record, strict=True))))
    return out


def cell_text(text: str | None) -> str | None:
    """The cell's text, or None for an empty cell or a placeholder such as ``Unknown``."""
    if text is None:
        return None
    cleaned = " ".join(text.replace("\xa0", " ").split())
    return None if cleaned.casefold() in PLACEHOLDERS else cleaned


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word with a marker when it has to be shortened."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head[limit // 2 :]:
        head = head[: head.rindex(" ")]
    return head.rstrip(" ,;:-") + "…"


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}


def _year(text: str, today: dt.date) -> int:
    year = int(text)
    if len(text) == 2:  # 84 → 1984, 23 → 2023: the latest century that is not in the future
        year += 2000 if 2000 + year <= today.year + 1 else 1900
    return year


def dataset_date(text: str, *, today: dt.date | None = None) -> str | None:
    """``9-Apr-84`` (day), ``Sep-84`` (month), ``4/19/2023`` (US month/day) or ISO → ISO text
    with as many parts as the precision; None when the text is none of these."""
    today = today or dt.date.today()
    t = text.strip()
    try:
        if m := re.fullmatch(r"(\d{1,2})-([A-Za-z]{3})[a-z]*-(\d{2}|\d{4})", t):
            month = _MONTHS.get(m[2].lower())
            return dt.date(_year(m[3], today), month, int(m[1])).isoformat() if month else None
        if m := re.fullmatch(r"([A-Za-z]{3})[a-z]*-(\d{2}|\d{4})", t):
            month = _MONTHS.get(m[1].lower())
            return f"{_year(m[2], today):04d}-{month:02d}" if month else None
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})", t):
            return dt.date(_year(m[3], today), int(m[1]), int(m[2])).isoformat()
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", t):
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None
    return None


def parse_km(text: str | None) -> tuple[float | None, str | None]:
    """``"1,380 km"`` → (1380.0, None); a range or prose → (None, the text); a placeholder → (None, None)."""
    value = cell_text(text)
    if value is None:
        return None, None
    # "lm" appears once in the CNS data as a typing slip for "km".
    m = re.fullmatch(r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(?:km|lm|kilometers?|kilometres?)?", value, re.I)
    if m is None:
        return None, value
    return float(m[1].replace(",", "") + (m[2] or "")), None


def parse_float(text: str | None) -> float | None:
    value = cell_text(text)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def time_utc(text: str | None) -> str | None:
    value = cell_text(text)
    if value is None:
        return None
    for pattern in ("%I:%M:%S %p", "%I:%M %p", "%H:%M:%S", "%H:%M"):
        try:
            return dt.datetime.strptime(value, pattern).strftime("%H:%M:%S")
        except ValueError:
            continue
    return value


def km_text(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


# URLs in free-text source fields


_URL_START = re.compile(r"https?://", re.I)
_BARE_DOMAIN = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/\S*$")
# A capitalised word glued to the end of a URL ("…/Xn9Wr4The US Military…", "…index.htmlVideo:").
_GLUED_WORD = re.compile(r"(?<=[0-9A-Za-z/._-])([A-Z][a-z]+:?)$")
_LABELS = frozenset(f"{w}{c}" for w in ("Video", "Photo", "Audio", "Link", "Source") for c in ("", ":"))


def split_sources(text: str | None) -> list[tuple[str, str]]:
    """Split a free-text sources field into ``("url", url)`` and ``("text", citation)`` parts.

    Entries are separated by ``;``, newlines or whitespace before a URL; a URL also ends where the
    next ``http(s)://`` begins, and where a capitalised word is glued to it and text follows.
    """
    if not text:
        return []
    text = text.replace("\r", "\n").replace("\xa0", " ")
    text = re.sub(r"(?<=\S)(?=https?://)", "\n", text)
    out: list[tuple[str, str]] = []
    for piece in re.split(r"[;\n]", text):
        piece = piece.strip().strip("\"'“”").strip()
        if not piece:
            continue
        head, _, rest = piece.partition(" ")
        is_url = bool(_URL_START.match(head))
        if not is_url and _BARE_DOMAIN.match(head):
            head, is_url = "http://" + head, True
        if not is_url:
            _add_text(out, piece)
            continue
        url = head.rstrip("\"'>.,)").replace('">', "")
        if "(" in head and head.endswith(")"):
            url += ")"
        rest = rest.strip()
        glued = _GLUED_WORD.search(url)
        if glued and (rest or glued[1] in _LABELS or glued[1].endswith(":")):
            url, rest = url[: glued.start()], f"{glued[1]} {rest}".strip()
        out.append(("url", url))
        if rest:
            _add_text(out, rest)
    seen: set[tuple[str, str]] = set()
    unique = []
    for item in out:
        if item not in seen:
            seen.add(item)
            unique.append(item)
    return unique


def _add_text(out: list[tuple[str, str]], text: str) -> None:
    text = " ".join(text.split()).strip(" ;,")
    # A bare label ("Video:") or a stray fragment is not a citation.
    if sum(ch.isalpha() for ch in text) < 3 or re.fullmatch(r"\w+:", text) or text in _LABELS:
        return
    out.append(("text", text))


def source_for(kind: str, value: str) -> SourceInput:
    """A source from one part of a sources field (see :func:`split_sources`)."""
    if kind == "url":
        parts = urlsplit(value)
        host = parts.hostname or value
        host = host.removeprefix("www.")
        tail = next((unquote(p) for p in reversed(parts.path.split("/")) if p.strip()), host)
        if len(value) > URL_MAX:  # too long to link: cite it as text
            return SourceInput(cut(host, SOURCE_NAME_MAX), cut(value, SOURCE_TITLE_MAX))
        return SourceInput(cut(host, SOURCE_NAME_MAX), cut(tail, SOURCE_TITLE_MAX), url=value)
    publisher = re.split(r"[,\"“”]", value, maxsplit=1)[0].strip().rstrip(".:;").strip()
    return SourceInput(cut(publisher or value, SOURCE_NAME_MAX), cut(value, SOURCE_TITLE_MAX))
