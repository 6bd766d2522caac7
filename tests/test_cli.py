"""The operator's CLI end to end: import the real CNS file, then export it, as subprocesses."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
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
    assert "245 created" in imported.stdout
    again = cli("import", str(source), "--format", "cns", "--dry-run", database=database)
    assert again.returncode == 0 and "245 unchanged" in again.stdout
    exported = cli("export", "--format", "json", database=database)
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(exported.stdout)
    events = [e for e in doc["events"] if e["external_id"].startswith("cns:")]
    assert len(events) == 245
    assert all(e["sources"] and e["scope"] == "global" for e in events)


def test_bad_file_is_one_clear_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,type\n2020-01-01,x\n", encoding="utf-8")
    result = cli("import", str(bad), "--format", "csis", database=tmp_path / "cli.db")
    assert result.returncode == 1
    assert "nothing was written" in result.stdout
    assert "missing required column(s): event, description, resources" in result.stdout
    assert "Traceback" not in result.stderr


def test_an_unexpected_failure_ends_in_one_error_line(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    assert cli("db", "upgrade", database=database).returncode == 0
    with sqlite3.connect(database) as conn:  # a real fault: the events table is gone
        conn.execute("ALTER TABLE event RENAME TO event_gone")
    result = cli("export", "--format", "json", database=database)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == f"error: {GENERIC}"
