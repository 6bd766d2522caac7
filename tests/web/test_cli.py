"""``python -m bot web``: migrates, seeds the real corpus, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import feedparser
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from bot.web.app import OPENAPI_PATH
from tests.conftest import REPO

STARTUP_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_web_command_serves_the_seeded_corpus(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'web.db'}",
        "WEB_PORT": str(port),
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "INFO",
    }
    env.pop("DISCORD_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", cwd=REPO, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT):
            while b"web surface listening" not in (line := await proc.stderr.readline()):
                assert line, "the process ended before serving"
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/readyz") as response:
                assert response.status == 200
            async with http.get(f"{base}/feed.atom") as response:
                parsed = feedparser.parse(await response.read())
            assert parsed.bozo == 0
            assert len(parsed.entries) == 50
            async with http.get(f"{base}/api/events", params={"limit": "100"}) as response:
                body = await response.read()
                status, content_type = response.status, response.content_type
        assert status == 200
        spec = OpenAPI.from_dict(json.loads(OPENAPI_PATH.read_text(encoding="utf-8")))
        spec.validate_response(
            MockRequest(base, "get", "/api/events", args={"limit": "100"}),
            MockResponse(body, status_code=status, content_type=content_type),
        )
        assert len(json.loads(body)["items"]) == 100
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STARTUP_TIMEOUT):
            await proc.communicate()
    assert proc.returncode == 0
