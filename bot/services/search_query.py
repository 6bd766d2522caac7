"""What a search query asks for: its terms, the catalog records it names, and how text matches each.

A query is read as a search engine reads it: quoted phrases stay phrases; a code matches however it
is written ("Hwasong17", "Hwasong-17", "hwasong 17"); a run of words that is a name or alias of a
catalog record (a program, system, facility, party or talks track, in English or in the ``i18n``
names of the corpus) becomes one term that any of the record's names, or a link to it, satisfies:
"UNSC" finds what mentions the Security Council, "KN-08" what mentions Hwasong-13.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.services.fts import MAX_TERMS, Group, Words, code_parts, tokens, words
from bot.services.views import ActorView, ProgramView, Record, TrackView

#: The longest name, in tokens, looked for in a query.
NAME_MAX_TOKENS = 8
_QUOTED = re.compile(r"[\"“”«»「」『』]([^\"“”«»「」『』]+)[\"“”«»「」『』]")
LANGUAGES = ("ko", "ja", "zh-CN")
LINK_MATCHES = ("system", "facility", "actor", "track")


@dataclass(frozen=True)
class Entity:
    """A catalog record a query can name."""

    kind: str  # "program" | "system" | "facility" | "actor" | "track"
    name: str
    summary: str
    ref: str  # its slug
    record_id: int | None  # the id events link to; None when not linked
    names: tuple[str, ...]  # its English names and aliases: what event text mentions
    keys: tuple[tuple[str, ...], ...]  # every name as tokens, the ko/ja/zh-CN ones too


@dataclass(frozen=True)
class Term:
    """One thing the query asks for: a word, a phrase or a named record."""

    text: str
    alternatives: Group
    entities: tuple[Entity, ...] = ()

    @property
    def records(self) -> tuple[Entity, ...]:
        """The named records events link to: an event linked to one ranks as about it."""
        return tuple(e for e in self.entities if e.record_id is not None)

    @property
    def links(self) -> tuple[Entity, ...]:
        """The named records whose linked events match the term though their text may not name them:
        systems, facilities, parties and tracks. A program is a broad category ("plutonium" names
        fissile material), so its events match by their text only."""
        return tuple(e for e in self.records if e.kind in LINK_MATCHES)


def _i18n_names(record: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for lang in LANGUAGES:
        entry = (record.get("i18n") or {}).get(lang) or {}
        names += [entry.get("name", ""), *entry.get("aliases", [])]
    return [n for n in names if n]


def _entity(
    kind: str,
    name: str,
    summary: str,
    ref: str,
    record_id: int | None,
    names: Iterable[str],
    extra: Iterable[str],
) -> Entity:
    english = tuple(dict.fromkeys(n for n in (name, *names) if n))
    keys = tuple(dict.fromkeys(k for k in (tuple(tokens(n)) for n in (*english, *extra)) if k))
    return Entity(kind, name, summary, ref, record_id, english, keys)


def _record(kind: str, r: Record, summary: str = "") -> Entity:
    """A record as a query names it: by its name, aliases and slug in English (what event text
    mentions), and by its ko/ja/zh-CN names too."""
    names = (*r.aliases, r.slug.replace("-", " "))
    return _entity(kind, r.name, summary or r.summary, r.slug, r.id, names, _i18n_names({"i18n": r.i18n}))


def catalog_entities(
    programs: Sequence[ProgramView], actors: Sequence[ActorView], tracks: Sequence[TrackView]
) -> list[Entity]:
    """Every record a query can name: programs with their systems and facilities, parties, tracks."""
    out: list[Entity] = []
    for p in programs:
        out.append(_record("program", p))
        out += [_record(part.kind, part, part.summary or part.status) for part in (*p.systems, *p.facilities)]
    out += [_record("actor", a) for a in actors]
    out += [_record("track", t) for t in tracks]
    return out


class NameIndex:
    """Catalog names by their tokens, to find the records a query names."""

    def __init__(self, entities: Iterable[Entity]) -> None:
        self.entities = list(entities)
        self.exact: dict[tuple[str, ...], list[Entity]] = {}
        for e in self.entities:
            for key in e.keys:
                self.exact.setdefault(key, []).append(e)

    def named(self, key: tuple[str, ...]) -> list[Entity]:
        return self.exact.get(key, [])

    def starting(self, token: str) -> list[Entity]:
        """Records with a name whose first word starts with ``token`` ("화성" → every Hwasong)."""
        return [e for e in self.entities if any(k[0].startswith(token) for k in e.keys)]


def _words_of(parts: Sequence[str]) -> Words:
    return Words(tuple(parts), phrase=len(parts) > 1 and any(p.isdigit() for p in parts))


def _named_term(text: str, parts: Sequence[str], entities: Sequence[Entity]) -> Term:
    alternatives = {_words_of(parts): None}
    for e in entities:
        for name in e.names:
            if name_parts := tokens(name):
                alternatives[_words_of(name_parts)] = None
    return Term(text, tuple(alternatives), tuple(dict.fromkeys(entities)))


def _word_term(word: str) -> Term:
    parts = code_parts(word)
    if len(parts) > 1:  # "hwasong17": the written form, or its parts side by side ("Hwasong-17")
        return Term(word, (Words(tuple(parts), phrase=True), Words((word,))))
    return Term(word, (Words((word,)),))


def _free_terms(text: str, index: NameIndex) -> list[Term]:
    """The terms of unquoted text: the longest catalog names first, then single words."""
    flat: list[tuple[int, str]] = [
        (n, part) for n, word in enumerate(words(text)) for part in code_parts(word)
    ]
    originals = words(text)
    out: list[Term] = []
    i = 0
    while i < len(flat):
        for size in range(min(NAME_MAX_TOKENS, len(flat) - i), 0, -1):
            key = tuple(part for _n, part in flat[i : i + size])
            if found := index.named(key):
                out.append(_named_term(" ".join(key), key, found))
                i += size
                break
        else:
            n, part = flat[i]
            if not part.isascii() and (family := index.starting(part)):
                out.append(_named_term(part, (part,), family))
                i += 1
                continue
            # The rest of this word is one term ("hwasong17" whole, when no name took it apart).
            rest = [p for m, p in flat[i:] if m == n]
            whole = originals[n] if len(rest) == len(code_parts(originals[n])) else "".join(rest)
            out.append(_word_term(whole))
            i += len(rest)
    return out


def parse(query: str, index: NameIndex) -> list[Term]:
    """The terms of ``query``, at most MAX_TERMS: quoted phrases, named records, words."""
    terms: list[Term] = []
    for phrase in _QUOTED.findall(query):
        if parts := tokens(phrase):
            terms.append(Term(f'"{" ".join(parts)}"', (Words(tuple(parts), phrase=len(parts) > 1),)))
    terms += _free_terms(_QUOTED.sub(" ", query), index)
    unique = {t.alternatives: t for t in terms}
    return list(unique.values())[:MAX_TERMS]


def canonical(query: str) -> str:
    """The query as far as search reads it (quoted phrases kept): what a page button carries."""
    phrases = [f'"{" ".join(parts)}"' for p in _QUOTED.findall(query) if (parts := tokens(p))]
    return " ".join([*phrases, *words(_QUOTED.sub(" ", query))])
