"""From a feed item to a draft event: the kind guessed from its words, the catalog records it names,
a suggested significance, and whether it looks like an event already published."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.services.events import with_links
from bot.services.feeds import Item
from bot.services.validation import SUMMARY_MAX, TITLE_MAX

# The first kind whose words appear wins; the order puts the specific before the general.
KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("nuclear_test", ("nuclear test", "underground test", "nuclear detonation", "nuclear explosion")),
    (
        "satellite_launch",
        ("satellite launch", "launches satellite", "reconnaissance satellite", "space launch"),
    ),
    ("missile_launch", ("missile", "icbm", "slbm", "ballistic", "launch", "fired", "fires")),
    ("sanctions", ("sanction", "designat", "blacklist")),
    ("summit", ("summit",)),
    ("talks_session", ("talks", "negotiat", "dialogue", "envoy")),
    ("agreement", ("agreement", "accord", "joint statement")),
    ("military_parade", ("parade",)),
    ("testimony", ("testimony", "testif", "hearing")),
    ("facility_activity", ("reactor", "enrichment", "imagery", "construction", "test site")),
    ("military_action", ("artillery", "drill", "exercise", "shelling")),
    ("statement", ("statement", "said", "says", "warn", "condemn", "kcna", "denounce")),
)
SIGNIFICANCE = {"nuclear_test": 4, "missile_launch": 3, "satellite_launch": 3, "sanctions": 3, "summit": 3}
DUPLICATE_SCORE = 70  # rapidfuzz token_set_ratio between two titles
DUPLICATE_LINKS = ("systems", "facilities", "actors")


def guess_kind(text: str) -> str:
    low = " ".join(text.casefold().split())
    for kind, words in KIND_WORDS:
        if any(re.search(r"\b" + re.escape(w), low) for w in words):
            return kind
    return "other"


def clean_text(text: str, limit: int) -> str:
    """Text without control or format characters, cut to ``limit`` characters at a word."""
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


async def possible_duplicate(
    session: AsyncSession, scope: int | None, day: dt.date, title: str, links: dict[str, list[str]]
) -> int | None:
    """The id of a published event visible in ``scope`` on ``day`` ±1 that shares a system,
    facility or party with the draft and has a similar title, if any."""
    wanted = {(field, slug) for field in DUPLICATE_LINKS for slug in links.get(field, ())}
    if not wanted:
        return None
    stmt = with_links(
        select(models.Event).where(
            models.Event.status == "published",
            models.Event.occurred_on.between(day - dt.timedelta(days=1), day + dt.timedelta(days=1)),
            or_(models.Event.guild_id.is_(None), models.Event.guild_id == scope)
            if scope is not None
            else models.Event.guild_id.is_(None),
        )
    ).order_by(models.Event.id)
    for event in (await session.scalars(stmt)).unique():
        have = {(field, r.slug) for field in DUPLICATE_LINKS for r in getattr(event, field)}
        if (
            have & wanted
            and fuzz.token_set_ratio(event.title.casefold(), title.casefold()) >= DUPLICATE_SCORE
        ):
            found: int = event.id
            return found
    return None


def draft_fields(item: Item, links: dict[str, list[str]], today: dt.date) -> dict[str, Any]:
    """The columns of a draft for ``item`` (the source, guild and duplicate are the caller's)."""
    title = clean_text(item.title, TITLE_MAX)
    kind = item.kind or guess_kind(item.title)  # a headline says what happened; else the summary
    if kind == "other" and item.kind is None:
        kind = guess_kind(item.summary)
    return {
        "guid": item.guid,
        "url": item.url,
        "title": title,
        "summary": clean_text(item.summary, SUMMARY_MAX),
        "occurred_on": item.published or today,
        "precision": item.precision,
        "kind": kind,
        "significance": item.significance or SIGNIFICANCE.get(kind, 2),
        "links": links,
        "item_title": clean_text(item.title, 500),
        # A dataset row's date is the event's, not its publication's.
        "published_on": item.published if item.kind is None else None,
    }
