"""``python -m bot watch`` as a subprocess against the local feed server: add, list, run-once
(drafts printed, then nothing new), remove, and a bad URL refused with one line."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.services.feeds import parse
from tests.conftest import REPO
from tests.feed_server import as_csv, feed_server, records


async def _cli(*args: str, database: Path) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HOME_GUILD_IDS": "",
        "LOG_LEVEL": "WARNING",
        "WATCH_ALLOW_PRIVATE": "true",
    }
    env.pop("DISCORD_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_watch_commands(tmp_path: Path) -> None:
    db = tmp_path / "watch.db"
    async with feed_server() as feeds:
        code, out, _ = await _cli("watch", "add", feeds.url("/feed"), "--name", "Test wire", database=db)
        assert code == 0 and out.startswith("watching #1 Test wire (atom)")
        code, out, _ = await _cli("watch", "run-once", database=db)
        assert code == 0
        assert "#1 Test wire: 2 new draft(s)" in out
        assert "2017-11-29 missile_launch: North Korea fires a Hwasong-15 from near Pyongyang" in out
        code, out, _ = await _cli("watch", "run-once", database=db)
        assert code == 0 and "#1 Test wire: 0 new draft(s)" in out
        code, out, _ = await _cli("watch", "list", database=db)
        assert "#1 Test wire (atom)" in out and "last new item 20" in out and "last error" not in out
        code, out, err = await _cli("watch", "add", "ftp://example.org/feed", "--name", "X", database=db)
        assert code == 1 and "http:// or https://" in err and "Traceback" not in err
        code, out, _ = await _cli("watch", "pause", "1", database=db)
        assert code == 0 and out.strip() == "paused #1 Test wire"
        code, out, _ = await _cli("watch", "list", database=db)
        assert "· paused" in out
        code, out, _ = await _cli("watch", "resume", "1", database=db)
        assert code == 0 and out.strip() == "resumed #1 Test wire"
        code, out, err = await _cli("watch", "resume", "7", database=db)
        assert code == 1 and "#7" in err and "Traceback" not in err
        code, out, _ = await _cli("watch", "remove", "1", database=db)
        assert code == 0 and out.strip() == "no longer watching #1 Test wire"
        code, out, _ = await _cli("watch", "list", database=db)
        assert out.strip() == "no sources are watched"


async def test_watch_a_dataset_from_the_command_line(tmp_path: Path, shared_dir: Path) -> None:
    db = tmp_path / "watch.db"
    header, rows = records(
        shared_dir / "datasets" / "cns-missile-tests" / "north_korea_missile_test_database.csv"
    )
    async with feed_server() as feeds:
        feeds.data = as_csv([header, *rows[:-1]])
        expected = len(await parse(feeds.data, "cns"))
        code, out, _ = await _cli(
            "watch", "add", feeds.url("/data"), "--format", "cns", "--name", "CNS", database=db
        )
        assert code == 0 and out.startswith("watching #1 CNS (cns)")
        code, out, _ = await _cli("watch", "run-once", database=db)
        assert code == 0 and f"#1 CNS: {expected} new draft(s)" in out
        feeds.data = as_csv([header, *rows])  # a row appended between two polls
        code, out, _ = await _cli("watch", "run-once", database=db)
        assert code == 0 and "#1 CNS: 1 new draft(s)" in out
        code, out, _ = await _cli("watch", "run-once", database=db)
        assert code == 0 and "#1 CNS: 0 new draft(s)" in out
