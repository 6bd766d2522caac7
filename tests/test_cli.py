"""The operator's CLI end to end, as subprocesses: import the real CNS file and export it, migrations,
--version and the web server's flags."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path

from bot.discord.errors import GENERIC
from tests.conftest import REPO


def cli(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HOME_GUILD_IDS": "",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DISCORD_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_import_then_export(shared_dir: Path, tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    source = shared_dir / "datasets/cns-missile-tests/north_korea_missile_test_database.csv"
    imported = cli("import", str(source), "--format", "cns", database=database)
    assert imported.returncode == 0, imported.stderr
    # The database is seeded first: the rows that record a curated launch merge into it.
    counts = re.search(r"(\d+) created, 0 updated, 0 unchanged, (\d+) merged into events", imported.stdout)
    assert counts is not None, imported.stdout
    created, merged = int(counts[1]), int(counts[2])
    assert created + merged == 245 and merged > 0
    assert re.search(r"row \d+ \(cns:\d+\): merged into #\d+ \(", imported.stdout)
    again = cli("import", str(source), "--format", "cns", "--dry-run", database=database)
    assert again.returncode == 0 and "245 unchanged" in again.stdout
    exported = cli("export", "--format", "json", database=database)
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(exported.stdout)
    events = [e for e in doc["events"] if e["external_id"].startswith("cns:")]
    assert len(events) == created
    assert all(e["sources"] and e["scope"] == "global" for e in events)


def test_bad_file_is_one_clear_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,type\n2020-01-01,x\n", encoding="utf-8")
    result = cli("import", str(bad), "--format", "csis", database=tmp_path / "cli.db")
    assert result.returncode == 1
    assert "nothing was written" in result.stdout
    assert "missing required column(s): event, description, resources" in result.stdout
    assert "Traceback" not in result.stderr


def test_hostile_json_files_are_file_problems(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    event = {
        "title": "Hwasong-14 first flight",
        "date": "2017-07-04",
        "kind": "missile_launch",
        "sources": [{"publisher": "CNS", "title": "Missile test database"}],
        "revision": 10**30,
    }
    huge = tmp_path / "revision.json"
    huge.write_text(json.dumps([event]), encoding="utf-8")
    database = tmp_path / "cli.db"
    for path, fmt, expected in (
        (deep, "native", "file: is not valid JSON: nested deeper than 32 levels"),
        (deep, "csis", "file: is not valid JSON: nested deeper than 32 levels"),
        (huge, "native", "row 1, revision: must be at most 2147483647"),
    ):
        result = cli("import", str(path), "--format", fmt, database=database)
        assert result.returncode == 1, result.stderr
        assert "nothing was written" in result.stdout
        assert expected in result.stdout
        assert "Traceback" not in result.stderr and "Error" not in result.stderr


def test_an_unexpected_failure_ends_in_one_error_line(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    assert cli("db", "upgrade", database=database).returncode == 0
    with sqlite3.connect(database) as conn:  # a real fault: the events table is gone
        conn.execute("ALTER TABLE event RENAME TO event_gone")
    result = cli("export", "--format", "json", database=database)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == f"error: {GENERIC}"


def test_downgrade_needs_a_revision_or_yes(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    head = cli("db", "upgrade", database=database).stdout.strip()
    refused = cli("db", "downgrade", database=database)
    assert refused.returncode == 2
    assert "db downgrade needs a revision" in refused.stderr and "--yes" in refused.stderr
    assert "Nothing was changed." in refused.stderr
    assert cli("db", "current", database=database).stdout.strip() == head  # nothing was dropped
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'event'").fetchone() == (1,)
    dropped = cli("db", "downgrade", "--yes", database=database)
    assert dropped.returncode == 0, dropped.stderr
    assert dropped.stdout.strip() == "(empty database)"


def test_version() -> None:
    result = cli("--version", database=Path("unused.db"))
    assert result.returncode == 0
    assert result.stdout.strip() == f"peninsula-brief {metadata.version('peninsula-brief')}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_web_flags_beat_the_environment_and_readiness_names_its_checks(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'web.db'}",
        "WEB_HOST": "192.0.2.1",  # unreachable here: the flags must win
        "WEB_PORT": "1",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert json.loads(response.read()) == {"status": "ok"}
                    break
            except OSError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "the web surface did not start"
                time.sleep(0.3)
        # No gateway in this process: readiness says it checked the database only.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            assert json.loads(response.read()) == {
                "status": "ready",
                "mode": "web",
                "checks": {"database": "ok"},
            }
        # What the container's HEALTHCHECK runs, with WEB_HOST as the Dockerfile sets it.
        healthy = healthcheck(env, port)
        assert healthy.returncode == 0, healthy.stderr
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    down = healthcheck(env, port)
    assert down.returncode == 1
    assert down.stderr.startswith(f"unhealthy: http://127.0.0.1:{port}/healthz")
    assert "Traceback" not in down.stderr


def healthcheck(env: dict[str, str], port: int) -> subprocess.CompletedProcess[str]:
    probe = {**env, "WEB_HOST": "0.0.0.0", "WEB_PORT": str(port)}  # noqa: S104 - a probe, not a bind
    command = [sys.executable, "-m", "bot", "healthcheck"]
    return subprocess.run(
        command, cwd=REPO, env=probe, capture_output=True, text=True, timeout=60, check=False
    )
