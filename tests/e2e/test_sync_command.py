"""``python -m bot sync``: the operator's way to push the command definitions to Discord now."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from testing.fake_discord import FakeDiscord
from tests.conftest import REPO


async def test_sync_command_registers_every_command_once(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DISCORD_TOKEN": fake_discord.token,
        "DISCORD_API_BASE": fake_discord.api_base,
        "DISCORD_GATEWAY_URL": fake_discord.gateway_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sync.db'}",
        "WEB_ENABLED": "false",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sync",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(90):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip().endswith("commands synced")
    names = sorted(c["name"] for c in fake_discord.global_commands)
    assert {"brief", "program", "timeline", "curate", "alerts", "settings"} <= set(names)
    assert len(names) == len(set(names))
