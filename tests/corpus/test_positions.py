"""The positions record: broad, current, attributed, sourced and with its history kept."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from bot.services.container import Services
from bot.services.dates import parse_date
from bot.services.seed import read_corpus

SECTIONS = read_corpus().sections
POSITIONS: list[dict[str, Any]] = SECTIONS["positions"]
PARTIES = ("united-states", "dprk", "south-korea", "china", "japan", "russia")
NEW_TOPICS = {
    "sanctions-evasion",
    "missile-test-moratorium",
    "human-rights",
    "russia-dprk-military-cooperation",
    "extended-deterrence",
    "inter-korean-relations",
}


def year(position: Mapping[str, Any]) -> int:
    return parse_date(position["as_of"])[0].year


def coverage_gaps(positions: Iterable[Mapping[str, Any]], *, since: int, min_topics: int) -> list[str]:
    """What the record lacks: a party silent since ``since`` or with fewer than ``min_topics`` topics."""
    topics: dict[str, set[str]] = defaultdict(set)
    latest: dict[str, int] = {}
    for p in positions:
        topics[p["party"]].add(p["topic"])
        latest[p["party"]] = max(latest.get(p["party"], 0), year(p))
    gaps = [f"{party}: nothing since {since}" for party in PARTIES if latest.get(party, 0) < since]
    gaps += [f"{party}: {len(topics[party])} topics" for party in PARTIES if len(topics[party]) < min_topics]
    return gaps


def test_at_least_150_positions_on_at_least_10_topics() -> None:
    assert len(POSITIONS) >= 150
    topics = {p["topic"] for p in POSITIONS}
    assert len(topics) >= 10
    assert topics >= NEW_TOPICS, sorted(NEW_TOPICS - topics)


def test_each_party_is_current_and_broad() -> None:
    assert coverage_gaps(POSITIONS, since=2025, min_topics=5) == []


def test_the_coverage_check_can_fail() -> None:
    old = [{"party": party, "topic": "sanctions", "as_of": "2019-02"} for party in PARTIES]
    gaps = coverage_gaps(old, since=2025, min_topics=5)
    assert "china: nothing since 2025" in gaps and "russia: 1 topics" in gaps


def test_every_speaker_party_and_topic_resolves() -> None:
    actors = {a["slug"] for a in SECTIONS["actors"]}
    topics = {t["slug"] for t in SECTIONS["topics"]}
    unknown = [f"party {p['party']}" for p in POSITIONS if p["party"] not in actors]
    unknown += [
        f"speaker {p['speaker']}" for p in POSITIONS if p.get("speaker") and p["speaker"] not in actors
    ]
    unknown += [f"topic {p['topic']}" for p in POSITIONS if p["topic"] not in topics]
    assert unknown == []


def test_no_two_positions_share_party_topic_and_date() -> None:
    keys = Counter((p["party"], p["topic"], p["as_of"]) for p in POSITIONS)
    assert [k for k, n in keys.items() if n > 1] == []


def test_every_source_has_publisher_title_and_date() -> None:
    incomplete = [
        f"{p['party']}/{p['topic']}/{p['as_of']}"
        for p in POSITIONS
        if not all(str(p["source"].get(field, "")).strip() for field in ("publisher", "title", "date"))
    ]
    assert incomplete == []
    for p in POSITIONS:
        parse_date(p["source"]["date"])
        assert "url" not in p["source"] or p["source"].get("checked_via"), p["source"]["url"]


def test_history_is_kept_where_a_position_changed() -> None:
    """A changed position is a new entry with a later as_of, so many party-topic pairs have several."""
    per_pair = Counter((p["party"], p["topic"]) for p in POSITIONS)
    assert sum(1 for n in per_pair.values() if n > 1) >= 30
    assert per_pair["dprk", "inter-korean-relations"] >= 5


def test_new_persons_are_named_in_four_languages() -> None:
    speakers = {p["speaker"] for p in POSITIONS if p.get("speaker")}
    persons = {a["slug"]: a for a in SECTIONS["actors"] if a["kind"] == "person"}
    for slug in speakers & set(persons):
        actor = persons[slug]
        assert actor["aliases"] and actor["summary"], slug
        assert {"ko", "ja", "zh-CN"} <= set(actor["i18n"]), slug


async def test_the_latest_positions_are_what_a_reader_gets(corpus: Services) -> None:
    china = await corpus.catalog.positions(party="china", topic="nuclear-status")
    assert china[0].as_of.year == 2025 and "denuclearization" in china[0].stance
    compared = await corpus.catalog.compare("inter-korean-relations")
    assert compared["North Korea"][0].as_of.year == 2026
    assert compared["North Korea"][-1].as_of.year == 2023
    lavrov = await corpus.catalog.positions(party="russia", topic="nuclear-status")
    assert [p.as_of.year for p in lavrov][:2] == [2025, 2024]
