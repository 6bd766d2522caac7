"""Event sources: the specific report first, URLs on their publisher's own domain, and checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.services.seed import DATA_DIR, read_corpus

CORPUS = read_corpus()

# Share of all curated events that cite a specific (non-aggregate) report with a checked URL.
# Set to what the corpus reaches; raise it as sources are added, never lower it.
CHECKED_URL_FLOOR = 0.99

# Event files whose sources are still being relabelled to their real publishers; the
# publisher/domain and checked_via rules apply to every other file. Empty this as files are done.
RELABEL_PENDING: set[str] = set()

# An aggregate is a chronology or database itself; "Report cited in the ... Database" names a report.
AGGREGATE = re.compile(r"\b(chronology|database)\b", re.IGNORECASE)
CITED_IN = "Report cited in "
TABLE_ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|$")


def publisher_domains() -> dict[str, list[str]]:
    """The publisher -> domains table of data/README.md."""
    text = (DATA_DIR / "README.md").read_text("utf-8")
    section = text.split("## Publishers and their domains", 1)[1].split("\n## ", 1)[0]
    table: dict[str, list[str]] = {}
    for line in section.splitlines():
        m = TABLE_ROW.match(line.strip())
        if not m or m.group(1) in ("publisher", "---"):
            continue
        table[m.group(1)] = [d.strip(" `") for d in m.group(2).split(",")]
    return table


def events_by_file() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(Path(DATA_DIR).rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text("utf-8")) or {}
        if doc.get("events"):
            out[path.name] = doc["events"]
    return out


EVENTS = events_by_file()
CHECKED = {name: events for name, events in EVENTS.items() if name not in RELABEL_PENDING}


def is_aggregate(source: dict[str, Any]) -> bool:
    title: str = source["title"]
    return bool(AGGREGATE.search(title)) and not title.startswith(CITED_IN)


def has_checked_url(event: dict[str, Any]) -> bool:
    return any("url" in s and "checked_via" in s and not is_aggregate(s) for s in event["sources"])


def host_matches(host: str, domains: list[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def test_the_event_files_are_all_read() -> None:
    assert sum(len(v) for v in EVENTS.values()) == len(CORPUS.sections["events"])
    assert set(EVENTS) >= RELABEL_PENDING


def test_the_publisher_table_is_well_formed() -> None:
    table = publisher_domains()
    assert len(table) >= 20
    for publisher, domains in table.items():
        assert domains and all(re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", d) for d in domains), publisher


def test_every_source_url_is_on_its_publishers_domain() -> None:
    table = publisher_domains()
    wrong: list[str] = []
    for name, events in CHECKED.items():
        for e in events:
            for s in e["sources"]:
                if "url" not in s:
                    continue
                host = (urlsplit(s["url"]).hostname or "").lower()
                if s["publisher"] not in table:
                    wrong.append(f"{name} {e['id']}: unknown publisher {s['publisher']!r} ({host})")
                elif not host_matches(host, table[s["publisher"]]):
                    wrong.append(f"{name} {e['id']}: {s['publisher']!r} does not own {host}")
    assert wrong == []


def test_every_url_says_where_it_was_checked() -> None:
    unchecked = [
        f"{name} {e['id']}: {s['url']}"
        for name, events in CHECKED.items()
        for e in events
        for s in e["sources"]
        if "url" in s
        and not re.fullmatch(
            r"(CSIS provocations dataset|CNS missile test dataset), .*\brow dated \d{4}(-\d\d){0,2}\b.*"
            r"|stored page found by search: \S+",
            s.get("checked_via", ""),
        )
    ]
    assert unchecked == []
    searched = [
        (s["url"], s["checked_via"])
        for events in CHECKED.values()
        for e in events
        for s in e["sources"]
        if s.get("checked_via", "").startswith("stored page")
    ]
    assert [url for url, via in searched if via.split(": ", 1)[1] != url] == []


def test_every_event_cites_a_specific_report() -> None:
    only_aggregates = [
        e["id"] for events in CHECKED.values() for e in events if all(is_aggregate(s) for s in e["sources"])
    ]
    assert only_aggregates == []


def test_the_share_of_events_with_a_checked_url_holds_its_floor() -> None:
    events = [e for v in EVENTS.values() for e in v]
    share = sum(has_checked_url(e) for e in events) / len(events)
    for name, file_events in EVENTS.items():
        n = sum(has_checked_url(e) for e in file_events)
        print(f"{name}: {n}/{len(file_events)} events with a checked URL")
    print(f"corpus: {share:.1%} of {len(events)} events cite a report with a checked URL")
    assert share >= CHECKED_URL_FLOOR, f"{share:.1%} < {CHECKED_URL_FLOOR:.0%}"
