"""The corpus files: valid, linked, unique, sourced, and loadable on both databases."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from itertools import combinations

from rapidfuzz import fuzz
from sqlalchemy import func, select

from bot import models
from bot.services.dates import parse_date
from bot.services.seed import DATA_DIR, load, read_corpus
from tests.conftest import Database

CORPUS = read_corpus()
SECTIONS = CORPUS.sections
PARTIES = {"united-states", "dprk", "south-korea", "china", "japan", "russia"}
CORE_TOPICS = {"denuclearization-precondition", "peace-treaty", "sanctions", "talks-format"}


def slugs(section: str) -> set[str]:
    return {item["slug"] for item in SECTIONS[section]}


def test_every_file_is_read_and_the_corpus_is_large_enough() -> None:
    names = {p.name for p in CORPUS.files}
    assert {"actors.yaml", "programs.yaml", "tracks.yaml", "topics.yaml", "positions.yaml"} <= names
    assert len(SECTIONS["events"]) >= 250
    years = [parse_date(e["date"])[0].year for e in SECTIONS["events"]]
    assert min(years) <= 1985 and max(years) >= 2026


def test_every_reference_resolves() -> None:
    actors, programs, tracks, topics = slugs("actors"), slugs("programs"), slugs("tracks"), slugs("topics")
    missing: list[str] = []
    for e in SECTIONS["events"]:
        missing += [f"{e['id']}: program {s}" for s in e.get("programs", []) if s not in programs]
        missing += [f"{e['id']}: actor {s}" for s in e.get("actors", []) if s not in actors]
        missing += [f"{e['id']}: track {s}" for s in e.get("tracks", []) if s not in tracks]
    for t in SECTIONS["tracks"]:
        missing += [
            f"track {t['slug']}: participant {s}" for s in t.get("participants", []) if s not in actors
        ]
    for p in SECTIONS["positions"]:
        missing += [f"position: party {p['party']}" for _ in [0] if p["party"] not in actors]
        missing += [f"position: topic {p['topic']}" for _ in [0] if p["topic"] not in topics]
        if p.get("speaker") and p["speaker"] not in actors:
            missing.append(f"position: speaker {p['speaker']}")
    assert missing == []


def test_no_duplicate_events() -> None:
    ids = Counter(e["id"] for e in SECTIONS["events"])
    assert [i for i, n in ids.items() if n > 1] == []
    by_date: dict[str, list[dict[str, object]]] = {}
    for e in SECTIONS["events"]:
        by_date.setdefault(e["date"], []).append(e)
    near = [
        (a["id"], b["id"])
        for same_day in by_date.values()
        for a, b in combinations(same_day, 2)
        if a["kind"] == b["kind"] and fuzz.token_sort_ratio(str(a["title"]), str(b["title"])) > 90
    ]
    assert near == []


def test_every_event_is_sourced_and_dated_within_its_precision() -> None:
    today = dt.date.today()
    for e in SECTIONS["events"]:
        assert e["sources"], e["id"]
        for s in e["sources"]:
            assert s["publisher"].strip() and s["title"].strip(), e["id"]
            if "url" in s:
                assert s["url"].startswith(("http://", "https://")), e["id"]
        day, precision = parse_date(e["date"], today=today)
        assert precision == {1: "year", 2: "month", 3: "day"}[len(e["date"].split("-"))]
        assert dt.date(1900, 1, 1) <= day <= today, e["id"]


def test_each_party_states_a_position_on_the_core_topics() -> None:
    covered = {(p["party"], p["topic"]) for p in SECTIONS["positions"]}
    gaps = sorted(
        (party, topic) for party in PARTIES for topic in CORE_TOPICS if (party, topic) not in covered
    )
    assert gaps == []
    for p in SECTIONS["positions"]:
        assert p["source"]["publisher"] and p["source"]["title"]


def test_readme_explains_rubric_and_policy() -> None:
    text = (DATA_DIR / "README.md").read_text("utf-8").casefold()
    for phrase in ("significance", "source", "url", "own words"):
        assert phrase in text


async def test_seed_loads_on_both_databases_and_is_idempotent(database: Database) -> None:
    first = await load(database.sessionmaker, CORPUS)
    assert first.created["events"] == len(SECTIONS["events"])
    second = await load(database.sessionmaker, CORPUS)
    assert sum(second.created.values()) == 0 and sum(second.updated.values()) == 0
    async with database.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(models.Event)) == len(SECTIONS["events"])
        unsourced = await s.scalar(
            select(func.count()).select_from(models.Event).where(~models.Event.sources.any())
        )
    assert unsourced == 0
