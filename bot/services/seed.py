"""Load the curated corpus (``data/**/*.yaml``) idempotently: upsert by slug or external id.

Events go through the event lifecycle like a curator's: a new one is created, a changed one
revised (revision bump, the alerts already posted for it edited), each with an audit row naming
the corpus file; an unchanged one is left alone. One whose translations (``i18n``) alone changed
has them updated in place: no revision, no alert edit. Catalog records' translations are
upserted with the rest of the record."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from bot.db import Sessionmaker
from bot.resources import data_dir
from bot.services.dates import parse_date
from bot.services.errors import FieldProblem, ValidationFailed
from bot.services.events import with_links
from bot.services.lifecycle import Author, EventWriter, LinkResolver
from bot.services.validation import EventInput, SourceInput, text_problem, validate_event
from bot.services.views import AGREEMENT_DETAIL

DATA_DIR = data_dir()
SECTIONS = ("actors", "programs", "tracks", "topics", "positions", "events")
#: Counted in the report beside the sections: the programs' systems and facilities.
PARTS = ("systems", "facilities")
SEED_PREFIX = "seed:"


@dataclass
class Corpus:
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    files: list[Path] = field(default_factory=list)
    # The file each event was read from (by its corpus id), for the audit rows.
    event_files: dict[str, str] = field(default_factory=dict)


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    alerts: int = 0  # edits queued for alerts already posted of events that changed

    def total(self, section: str) -> int:
        return self.created[section] + self.updated[section] + self.unchanged[section]


def schema(data_dir: Path = DATA_DIR) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((data_dir / "schema" / "corpus.schema.json").read_text("utf-8"))
    return loaded


DATE_KEYS = frozenset({"date", "as_of", "status_since"})


def _date_text(value: Any, key: str | None = None) -> Any:
    # YAML reads an unquoted 2006-10-09 as a date and 2006 as an int; take both as the text written.
    if key in DATE_KEYS and isinstance(value, dt.date):
        return value.isoformat()
    if key in DATE_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return {k: _date_text(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_date_text(v, key) for v in value]
    return value


def _text_problems(value: Any, where: str) -> list[FieldProblem]:
    """Every string of a parsed corpus file (names, aliases, summaries …) checked like an event's."""
    if isinstance(value, str):
        refused = text_problem(value, multiline=True)
        return [FieldProblem(where, refused)] if refused else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _text_problems(v, f"{where}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _text_problems(v, f"{where}/{i}")]
    return []


def read_corpus(data_dir: Path = DATA_DIR, files: Iterable[Path] | None = None) -> Corpus:
    """Parse and schema-check every corpus file; every problem is reported at once."""
    validator = Draft202012Validator(schema())
    corpus = Corpus()
    problems: list[FieldProblem] = []
    paths = sorted(files) if files is not None else sorted(data_dir.rglob("*.yaml"))
    for path in paths:
        name = path.name
        try:
            doc = _date_text(yaml.safe_load(path.read_text("utf-8")) or {})
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.append(FieldProblem(name, f"cannot be read: {exc}"))
            continue
        for err in validator.iter_errors(doc):
            where = "/".join(str(p) for p in err.absolute_path) or "(top)"
            problems.append(FieldProblem(f"{name}: {where}", err.message[:300]))
        problems.extend(_text_problems(doc, name))
        if isinstance(doc, dict):
            for section in SECTIONS:
                corpus.sections[section].extend(doc.get(section) or [])
            for e in doc.get("events") or []:
                if isinstance(e, dict) and "id" in e:
                    corpus.event_files.setdefault(str(e["id"]), name)
        corpus.files.append(path)
    keys = {"actors": "slug", "programs": "slug", "tracks": "slug", "topics": "slug", "events": "id"}
    parts = {
        s: [x for p in corpus.sections["programs"] if isinstance(p, dict) for x in p.get(s) or []]
        for s in PARTS
    }
    for section, key in (*keys.items(), *((s, "slug") for s in PARTS)):
        items = parts[section] if section in parts else corpus.sections[section]
        counts = Counter(str(item.get(key)) for item in items if isinstance(item, dict))
        problems.extend(
            FieldProblem(section, f"“{k}” is defined {n} times") for k, n in counts.items() if n > 1
        )
    if problems:
        raise ValidationFailed(problems)
    return corpus


async def _upsert(session: AsyncSession, model: Any, key: dict[str, Any], values: dict[str, Any]) -> str:
    row = await session.scalar(select(model).filter_by(**key))
    if row is None:
        session.add(model(**key, **values))
        return "created"
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return "updated" if changed else "unchanged"


def _since(value: str | None) -> tuple[dt.date | None, str]:
    if not value:
        return None, "day"
    return parse_date(value, "status_since")


Count = Callable[[str, str], None]


async def _load_catalog(session: AsyncSession, corpus: Corpus, count: Count) -> None:
    for a in corpus.sections["actors"]:
        values = {
            "name": a["name"],
            "kind": a["kind"],
            "aliases": a.get("aliases", []),
            "summary": a.get("summary", ""),
            "i18n": a.get("i18n", {}),
        }
        count("actors", await _upsert(session, models.Actor, {"slug": a["slug"]}, values))
    for t in corpus.sections["topics"]:
        values = {
            "name": t["name"],
            "summary": t.get("summary", ""),
            "aliases": t.get("aliases", []),
            "i18n": t.get("i18n", {}),
        }
        count("topics", await _upsert(session, models.Topic, {"slug": t["slug"]}, values))
    for p in corpus.sections["programs"]:
        since, precision = _since(p.get("status_since"))
        values = {
            "name": p["name"],
            "category": p["category"],
            "summary": p["summary"],
            "status": p["status"],
            "status_since": since,
            "status_since_precision": precision,
            "aliases": p.get("aliases", []),
            "i18n": p.get("i18n", {}),
        }
        count("programs", await _upsert(session, models.Program, {"slug": p["slug"]}, values))
    await session.flush()
    await _load_parts(session, corpus, count)


PART_MODELS: dict[str, type[models.System] | type[models.Facility]] = {
    "systems": models.System,
    "facilities": models.Facility,
}


async def _load_parts(session: AsyncSession, corpus: Corpus, count: Count) -> None:
    """Each program's systems and facilities, records of their own under that program."""
    programs = {p.slug: p.id for p in (await session.scalars(select(models.Program))).all()}
    for p in corpus.sections["programs"]:
        for section, model in PART_MODELS.items():
            for position, part in enumerate(p.get(section) or []):
                since, precision = _since(part.get("status_since"))
                values: dict[str, Any] = {
                    "name": part["name"],
                    "program_id": programs[p["slug"]],
                    "position": position,
                    "summary": part.get("summary", ""),
                    "status": part.get("status", ""),
                    "status_since": since,
                    "status_since_precision": precision,
                    "aliases": part.get("aliases", []),
                    "i18n": part.get("i18n", {}),
                    "key_dates": part.get("key_dates", []),
                }
                if model is models.Facility:
                    values["location"] = part.get("location", "")
                count(section, await _upsert(session, model, {"slug": part["slug"]}, values))
    await session.flush()


class _Actors:
    """The parties by slug; an unknown one is a problem of the corpus."""

    def __init__(self, rows: dict[str, models.Actor], problems: list[FieldProblem]) -> None:
        self.rows, self._problems = rows, problems

    def get(self, slug: str, where: str) -> models.Actor | None:
        if slug not in self.rows:
            self._problems.append(FieldProblem(where, f"unknown party “{slug}”"))
        return self.rows.get(slug)


async def _load_tracks(session: AsyncSession, corpus: Corpus, actors: _Actors, count: Count) -> None:
    for t in corpus.sections["tracks"]:
        since, precision = _since(t.get("status_since"))
        participants = [
            x for x in (actors.get(s, f"track {t['slug']}") for s in t.get("participants", [])) if x
        ]
        values = {
            "name": t["name"],
            "summary": t["summary"],
            "status": t["status"],
            "status_since": since,
            "status_since_precision": precision,
            "aliases": t.get("aliases", []),
            "i18n": t.get("i18n", {}),
        }
        outcome = await _upsert(session, models.TalksTrack, {"slug": t["slug"]}, values)
        await session.flush()
        row = await session.scalar(
            select(models.TalksTrack)
            .where(models.TalksTrack.slug == t["slug"])
            .execution_options(populate_existing=True)
        )
        assert row is not None
        await session.refresh(row, ["participants"])
        if [p.slug for p in row.participants] != sorted(
            (p.slug for p in participants), key=lambda s: actors.rows[s].name
        ):
            row.participants = participants
            outcome = "updated" if outcome == "unchanged" else outcome
        count("tracks", outcome)


async def _load_positions(
    session: AsyncSession, corpus: Corpus, actors: _Actors, problems: list[FieldProblem], count: Count
) -> None:
    topics = {t.slug: t for t in (await session.scalars(select(models.Topic))).all()}
    for p in corpus.sections["positions"]:
        where = f"position {p['party']}/{p['topic']}/{p['as_of']}"
        party = actors.get(p["party"], where)
        speaker = actors.get(p["speaker"], where) if p.get("speaker") else None
        topic = topics.get(p["topic"])
        if topic is None:
            problems.append(FieldProblem(where, f"unknown topic “{p['topic']}”"))
        if party is None or topic is None:
            continue
        as_of, as_of_precision = parse_date(p["as_of"], "as_of")
        src = p["source"]
        sdate, sprec = parse_date(src["date"], "source date") if src.get("date") else (None, "day")
        values = {
            "as_of_precision": as_of_precision,
            "stance": p["stance"],
            "summary": p["summary"],
            "quote": p.get("quote"),
            "speaker_id": speaker.id if speaker else None,
            "source_publisher": src["publisher"],
            "source_title": src["title"],
            "source_date": sdate,
            "source_date_precision": sprec,
            "source_url": src.get("url"),
        }
        key = {"actor_id": party.id, "topic_id": topic.id, "as_of": as_of}
        count("positions", await _upsert(session, models.Position, key, values))
    await session.flush()


def _event_input(e: dict[str, Any]) -> EventInput:
    return EventInput(
        title=e["title"],
        summary=e["summary"],
        date=e["date"],
        kind=e["kind"],
        significance=e["significance"],
        programs=e.get("programs", []),
        actors=e.get("actors", []),
        tracks=e.get("tracks", []),
        systems=e.get("systems", []),
        facilities=e.get("facilities", []),
        sources=[SourceInput(s["publisher"], s["title"], s.get("date"), s.get("url")) for s in e["sources"]],
        external_id=SEED_PREFIX + e["id"],
        milestone=e.get("milestone", False),
        primary_track=e.get("primary_track"),
        details={AGREEMENT_DETAIL: e["agreement"]} if e.get("agreement") else {},
        i18n=e.get("i18n", {}),  # the corpus is the truth: translations it drops are dropped
    )


async def _load_events(
    session: AsyncSession, corpus: Corpus, problems: list[FieldProblem], count: Count
) -> int:
    """Create or revise the corpus's events through the lifecycle; returns the alert edits queued."""
    resolver = await LinkResolver.load(session)
    stmt = with_links(select(models.Event).where(models.Event.external_id.like(SEED_PREFIX + "%")))
    existing = {e.external_id: e for e in (await session.scalars(stmt)).all()}
    writers: dict[str, EventWriter] = {}
    for row_no, e in enumerate(corpus.sections["events"], start=1):
        data = _event_input(e)
        try:
            clean = validate_event(data, row=row_no)
            links = resolver.resolve(clean, row=row_no)
        except ValidationFailed as exc:
            problems.extend(replace(p, field=f"event {e['id']}: {p.field}") for p in exc.problems)
            continue
        file = corpus.event_files.get(str(e["id"]))
        writer = writers.get(file or "")
        if writer is None:
            writer = writers[file or ""] = EventWriter(session, Author(None, None, "seed", file))
        event = existing.get(data.external_id)
        if event is None:
            writer.create(clean, links, scope=None, alert=False)
            count("events", "created")
        elif writer.revise(event, clean, links):
            count("events", "updated")
        else:
            count("events", "unchanged")
    if problems:
        return 0
    return sum([await w.flush() for w in writers.values()])


async def load(sessionmaker: Sessionmaker, corpus: Corpus) -> SeedReport:
    """Upsert the corpus in one transaction; a failure leaves the database unchanged."""
    report = SeedReport()

    def count(section: str, outcome: str) -> None:
        getattr(report, outcome)[section] += 1

    async with sessionmaker() as session, session.begin():
        await _load_catalog(session, corpus, count)
        problems: list[FieldProblem] = []
        actors = _Actors({a.slug: a for a in (await session.scalars(select(models.Actor))).all()}, problems)
        await _load_tracks(session, corpus, actors, count)
        await _load_positions(session, corpus, actors, problems, count)
        report.alerts = await _load_events(session, corpus, problems, count)
        if problems:
            raise ValidationFailed(problems)
    return report


async def seed(sessionmaker: Sessionmaker, data_dir: Path = DATA_DIR) -> SeedReport:
    return await load(sessionmaker, read_corpus(data_dir))


async def is_empty(sessionmaker: Sessionmaker) -> bool:
    async with sessionmaker() as session:
        return await session.scalar(select(models.Program.id).limit(1)) is None
