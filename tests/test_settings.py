"""Settings and the entry point: one clear line for a missing or bad value, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.config import SettingsError, load_settings
from bot.db import alembic_config

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "DATABASE_URL", "WEB_PORT"}}
    base["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_lists_and_urls_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME_GUILD_IDS", "123, 456;789")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/brief")
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token")
    settings = load_settings()
    assert settings.home_guild_ids == [123, 456, 789]
    assert settings.database_url == "postgresql+asyncpg://u:p@db/brief"
    assert "secret-token" not in repr(settings)
    assert settings.token() == "secret-token"


@pytest.mark.parametrize(
    ("name", "value"),
    [("WEB_PORT", "eighty"), ("DATABASE_URL", "mysql://x"), ("HOME_GUILD_IDS", "abc"), ("LOG_FORMAT", "xml")],
)
def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith(f"{name}:")


def test_run_without_token_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli(env={"DISCORD_TOKEN": ""}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DISCORD_TOKEN" in lines[0]
    assert "python -m bot console" in lines[0]
    assert not (tmp_path / "var").exists()  # nothing was created before the check


def test_bad_setting_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli("seed", env={"WEB_PORT": "-5"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "WEB_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_commands_create_and_report_the_default_sqlite_file(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert result.stdout.strip() == head
    assert (tmp_path / "var" / "peninsula-brief.db").is_file()
    down = run_cli("db", "downgrade", "base", env={}, cwd=tmp_path)
    assert down.stdout.strip() == "(empty database)"
