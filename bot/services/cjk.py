"""Korean, Japanese and Chinese text for the full-text index: runs of Hangul, kana and CJK
ideographs cut into overlapping pairs of characters (bigrams), the way CJK search engines index
text written without spaces between words.

FTS5's ``unicode61`` and PostgreSQL's parser both read a run such as ``朝鲜称试爆了…的热核武器`` as
one word, so ``热核武器`` could never be found inside it. As bigrams (``朝鲜 鲜称 … 热核 核武 武器``) any
two or more characters of the run are found as a phrase of their own bigrams, through the index:
no query scans. The event's translated titles and summaries are stored so (``event.search_local``,
indexed beside the English title and summary); a query's CJK words are cut the same way
(:func:`grams`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Hangul jamo and syllables, kana, CJK ideographs (and their extensions and compatibility forms),
# halfwidth katakana.
_RUN = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f]+"
)


def has_cjk(text: str) -> bool:
    return _RUN.search(text) is not None


def _pairs(run: str) -> list[str]:
    return [run] if len(run) < 2 else [run[i : i + 2] for i in range(len(run) - 1)]


def grams(word: str) -> list[str]:
    """A query word as the index holds it: ``热核武器`` → ``["热核", "核武", "武器"]``, ``火星17型`` →
    ``["火星", "17", "型"]``; a word without CJK characters unchanged (``["hwasong"]``)."""
    if not has_cjk(word):
        return [word]
    out: list[str] = []
    at = 0
    for m in _RUN.finditer(word):
        if m.start() > at:
            out.append(word[at : m.start()])
        out += _pairs(m.group())
        at = m.end()
    if at < len(word):
        out.append(word[at:])
    return out


def index_text(text: str) -> str:
    """``text`` with every CJK run written as its bigrams, set apart by spaces (Latin, digits and
    punctuation as they are): ``화성-17형 발사`` → ``화성 -17 형  발사``."""
    return _RUN.sub(lambda m: " " + " ".join(_pairs(m.group())) + " ", text)


def local_text(i18n: Mapping[str, Any] | None) -> str:
    """What the index holds of an event's translations: every language's title and summary, as
    :func:`index_text` writes them."""
    parts: list[str] = []
    for entry in (i18n or {}).values():
        if isinstance(entry, Mapping):
            parts += [str(entry.get(k) or "") for k in ("title", "summary")]
    return index_text("\n".join(p for p in parts if p))
