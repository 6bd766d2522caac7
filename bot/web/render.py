"""JSON shapes of the API (documented in ``openapi.json``) and the Atom feed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from yarl import URL

from bot.discord.render.kinds import kind_label
from bot.i18n import DEFAULT, N_, format_date, gettext, local
from bot.services.dates import iso_with_precision
from bot.services.views import (
    ActorView,
    EventView,
    PartView,
    PositionView,
    ProgramView,
    Ref,
    SourceView,
    StatusRecord,
    TrackView,
)

TAG = "tag:peninsula-brief,2026:"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FEED_TITLE = "Peninsula Brief"
FEED_SUBTITLE = N_("Curated events on North Korea's nuclear and missile programs and the talks around them.")


def entry_id(event_id: int) -> str:
    """The Atom id of an event: fixed for its life, whatever edits it goes through."""
    return f"{TAG}event/{event_id}"


def timestamp(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _since(value: dt.date | None, precision: str) -> str | None:
    return iso_with_precision(value, precision) if value else None


def ref(r: Ref, locale: str = DEFAULT) -> dict[str, str]:
    return {"slug": r.slug, "name": str(local(r.i18n, locale, "name", r.name))}


def source(s: SourceView) -> dict[str, Any]:
    return {
        "publisher": s.publisher,
        "title": s.title,
        "date": _since(s.published_on, s.published_precision),
        "url": s.url,
    }


def _title(e: EventView, locale: str) -> str:
    return str(local(e.i18n, locale, "title", e.title))


def _summary(e: EventView, locale: str) -> str:
    return str(local(e.i18n, locale, "summary", e.summary))


def event(e: EventView, base: URL, locale: str = DEFAULT) -> dict[str, Any]:
    """An event; with ``locale`` (``lang=``) its title and summary in that language when it has
    them (else English, whole), its date written that language's way and its links' names in it."""
    return {
        "id": e.id,
        "external_id": e.external_id,
        "title": _title(e, locale),
        "summary": _summary(e, locale),
        "date": iso_with_precision(e.occurred_on, e.precision),
        "date_label": format_date(e.occurred_on, e.precision, locale),
        "precision": e.precision,
        "kind": e.kind,
        "significance": e.significance,
        "revision": e.revision,
        "updated_at": timestamp(e.updated_at),
        **{kind.plural: [ref(r, locale) for r in refs] for kind, refs in e.links.items()},
        "sources": [source(s) for s in e.sources],
        "url": str(base / "api" / "events" / str(e.id)),
    }


def _status(r: StatusRecord) -> dict[str, Any]:
    return {
        "slug": r.slug,
        "name": r.name,
        "summary": r.summary,
        "status": r.status,
        "status_since": _since(r.status_since, r.status_since_precision),
        "aliases": list(r.aliases),
    }


def program(p: ProgramView) -> dict[str, Any]:
    return {
        **_status(p),
        "category": p.category,
        "facilities": [part(f) for f in p.facilities],
        "systems": [part(s) for s in p.systems],
    }


def part(x: PartView) -> dict[str, Any]:
    """A system or a facility (``location`` for a facility only)."""
    names = {
        lang: {"name": str(entry.get("name", "")), "aliases": [str(a) for a in entry.get("aliases", [])]}
        for lang, entry in x.i18n.items()
    }
    out: dict[str, Any] = {
        **_status(x),
        "program": ref(x.program),
        "names": names,
        "key_dates": [{"date": iso_with_precision(d.on, d.precision), "text": d.text} for d in x.key_dates],
    }
    if x.kind == "facility":
        out["location"] = x.location
    return out


def track(t: TrackView) -> dict[str, Any]:
    return {**_status(t), "participants": [ref(r) for r in t.participants]}


def actor(a: ActorView) -> dict[str, Any]:
    return {"slug": a.slug, "name": a.name, "kind": a.kind, "aliases": list(a.aliases), "summary": a.summary}


def position(p: PositionView) -> dict[str, Any]:
    return {
        "id": p.id,
        "party": ref(p.party),
        "topic": ref(p.topic),
        "as_of": iso_with_precision(p.as_of, p.as_of_precision),
        "stance": p.stance,
        "summary": p.summary,
        "quote": p.quote,
        "speaker": ref(p.speaker) if p.speaker else None,
        "source": source(p.source),
    }


class _Links(BaseEntryExtension):  # type: ignore[misc]
    """An entry's links with their attributes.

    feedgen 1.0's entry writer drops ``rel``, ``type`` and ``title`` from links (a name clash in its
    loop), so the links are written here instead.
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry: Any) -> Any:
        for attrs in self.links:
            xml_elem("link", entry, **attrs)
        return entry


#: What XML 1.0 cannot carry at all (lxml refuses it): replaced, so that one bad stored row
#: cannot take the whole feed down. Validation refuses these characters in new text.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _category(scheme: str) -> str:
    return f"{TAG}{scheme}"


def atom(
    events: Sequence[EventView],
    *,
    base: URL,
    self_url: URL,
    canonical: Sequence[tuple[str, str]],
    labels: Sequence[str],
    fallback_updated: dt.datetime,
    locale: str = DEFAULT,
) -> bytes:
    """An Atom 1.0 document of ``events`` in the order given (newest first), in ``locale``: the
    subtitle, labels, dates, categories and each event's title and summary where it has them."""
    fg = FeedGenerator()
    query = "&".join(f"{k}={v}" for k, v in canonical)
    fg.id(f"{TAG}feed" + (f"?{query}" if query else ""))
    fg.title(xml_text(FEED_TITLE + (" — " + ", ".join(labels) if labels else "")))
    fg.subtitle(gettext(locale, FEED_SUBTITLE))
    fg.language(locale)
    fg.author({"name": FEED_TITLE})
    fg.link(href=str(self_url), rel="self", type="application/atom+xml")
    fg.link(
        href=str((base / "api" / "events").with_query(list(canonical))),
        rel="alternate",
        type="application/json",
    )
    newest = max((e.updated_at for e in events if e.updated_at is not None), default=None)
    fg.updated(newest or fallback_updated)
    for e in events:
        fe = fg.add_entry(order="append")
        fe.id(entry_id(e.id))
        fe.title(xml_text(_title(e, locale)))
        fe.updated(e.updated_at or fallback_updated)
        fe.summary(xml_text(f"{format_date(e.occurred_on, e.precision, locale)} — {_summary(e, locale)}"))
        api_url = str(base / "api" / "events" / str(e.id))
        # Kept in feedgen's own list only to pass its check that an entry has an alternate link.
        fe.link(href=api_url, rel="alternate")
        fe.register_extension("peninsula_links", _Links, atom=True, rss=False)
        links: list[dict[str, str]] = fe.peninsula_links.links
        links.extend(
            {"href": xml_text(s.url), "rel": "related", "title": xml_text(f"{s.publisher}: {s.title}"[:200])}
            for s in e.sources
            if s.url
        )
        kind_text = kind_label(e.kind, locale) if locale != DEFAULT else e.kind.replace("_", " ")
        fe.category(term=e.kind, scheme=_category("kind"), label=kind_text)
        for kind, refs in e.links.items():
            for r in refs:
                fe.category(term=r.slug, scheme=_category(kind.param), label=xml_text(ref(r, locale)["name"]))
    body: bytes = fg.atom_str(pretty=True)
    return body
