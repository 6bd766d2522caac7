"""The log lines an operator reads: JSON fields, the completion line, redacted tokens, no voice noise."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.logs import REDACTED, redact, setup_logging
from bot.services.access import Policy
from bot.services.container import Services
from bot.services.seed import load, read_corpus
from testing.fake_discord import FakeDiscord, connect_bot
from tests.conftest import REPO, Database

SAMPLE = REPO / "tests" / "fixtures" / "corpus" / "sample.yaml"
ISO_MS_TZ = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
TOUCHED = ("", "discord.http", "discord.gateway", "sqlalchemy.engine", "aiohttp.access", "alembic")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """setup_logging configures the process; put pytest's handlers and the levels back after."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    levels = {name: logging.getLogger(name).level for name in TOUCHED}
    client_filters = logging.getLogger("discord.client").filters[:]
    yield
    root.handlers[:] = handlers
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger("discord.client").filters[:] = client_filters


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_time_zone_milliseconds_logger_and_level(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", stream=stream)
    logging.getLogger("bot.example").warning("disk at %d%%", 91)
    (line,) = lines(stream)
    assert ISO_MS_TZ.fullmatch(line["time"]), line["time"]
    assert line["level"] == "WARNING" and line["logger"] == "bot.example" and line["message"] == "disk at 91%"


def test_tokens_are_redacted_wherever_they_appear() -> None:
    bot_token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789"
    cases = {
        "POST https://discord.com/api/v10/interactions/1234/aW50ZXJhY3Rpb246MTIz:abc_DEF-1/callback": (
            "aW50ZXJhY3Rpb246MTIz",
            f"/interactions/1234/{REDACTED}/callback",
        ),
        "PATCH https://discord.com/api/v10/webhooks/99/tok.en-_x/messages/@original?wait=1": (
            "tok.en-_x",
            f"/webhooks/99/{REDACTED}/messages/@original?wait=1",
        ),
        f"headers {{'Authorization': 'Bot {bot_token}'}}": (bot_token, f"Bot {REDACTED}"),
        f"token {bot_token} in a traceback": (bot_token, REDACTED),
        "configured secret: s3cret-value": ("s3cret-value", REDACTED),
    }
    for text, (secret, shown) in cases.items():
        out = redact(text, ["s3cret-value"])
        assert secret not in out and shown in out, (text, out)


async def test_debug_logs_of_a_command_show_no_token_and_a_completion_line(
    fake_discord: FakeDiscord, sqlite_db: Database, restore_logging: None
) -> None:
    stream = io.StringIO()
    setup_logging("DEBUG", "json", secrets=[fake_discord.token], stream=stream)
    logging.getLogger("discord.http").setLevel(logging.DEBUG)  # an operator chasing a REST problem
    guild = fake_discord.add_guild("Home")
    user = guild.add_member("reader")
    await load(sqlite_db.sessionmaker, read_corpus(files=[SAMPLE]))
    services = Services.build(sqlite_db.sessionmaker, Policy.of())
    settings = Settings(discord_token=fake_discord.token, database_url=sqlite_db.url, _env_file=None)
    bot = PeninsulaBot(settings=settings, services=services, extensions=("cogs.briefing",))
    async with connect_bot(fake_discord, bot):
        good = await fake_discord.invoke("program", {"name": "icbm"}, guild=guild, user=user)
        bad = await fake_discord.invoke("program", {"name": "no such thing"}, guild=guild, user=user)
    written = stream.getvalue()
    tokens = [good._token, bad._token, fake_discord.token]
    assert all(t and t not in written for t in tokens)
    urls = [line for line in lines(stream) if "/interactions/" in line["message"]]
    assert urls and all(f"/{REDACTED}/callback" in line["message"] for line in urls)
    assert {line["logger"] for line in urls} & {"discord.webhook.async_", "discord.http"}

    done = [line for line in lines(stream) if line.get("command") == "program"]
    assert [line["outcome"] for line in done] == ["ok", "user_error"]
    assert len({line["user_hash"] for line in done}) == 1  # one person reads the same on every line
    for line in done:
        assert line["logger"] == "bot.commands" and line["level"] == "INFO"
        assert line["guild_id"] == guild.id
        assert re.fullmatch(r"[0-9a-f]{16}", line["user_hash"]) and "user_id" not in line
        assert str(user.id) not in json.dumps(line)
        assert isinstance(line["latency_ms"], int) and line["latency_ms"] >= 0
        assert re.fullmatch(r"command /program (ok|user_error) in \d+ ms", line["message"])


def test_no_voice_warnings_on_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "DATABASE_URL"}}
    env |= {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'voice.db'}", "LOG_LEVEL": "INFO"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "/help"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "voice will NOT be supported" not in result.stderr
    assert "is not installed" not in result.stderr
