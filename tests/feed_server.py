"""A local feed server on 127.0.0.1 for the source-watch tests: serves the files of
``tests/fixtures/feeds`` with ETag / Last-Modified (answering 304 to a matching conditional GET),
and the bad answers a watcher must survive."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


@dataclass
class FeedServer:
    base: str = ""
    #: What ``/feed`` serves now (a file name in FEEDS); tests switch it between polls.
    current: str = "first.atom"
    #: Request headers seen on ``/feed``, in order.
    seen: list[dict[str, str]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@asynccontextmanager
async def feed_server() -> AsyncIterator[FeedServer]:
    state = FeedServer()

    async def feed(request: web.Request) -> web.StreamResponse:
        state.seen.append(dict(request.headers))
        body = (FEEDS / state.current).read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        kind = "application/rss+xml" if state.current.endswith(".rss") else "application/atom+xml"
        return web.Response(
            body=body, content_type=kind, headers={"ETag": etag, "Last-Modified": LAST_MODIFIED}
        )

    async def file(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        kind = "text/html" if name.endswith(".html") else "application/xml"
        return web.Response(body=(FEEDS / name).read_bytes(), content_type=kind)

    async def error(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"<!-- padding -->" * 4096
        try:
            for _ in range(11 * 1024 * 1024 // len(chunk) + 2):
                await response.write(chunk)
        except (ConnectionResetError, RuntimeError):
            pass  # the client stopped reading at its cap
        return response

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(state.url("/feed"))

    app = web.Application()
    app.router.add_get("/feed", feed)
    app.router.add_get("/files/{name}", file)
    app.router.add_get("/error", error)
    app.router.add_get("/slow", slow)
    app.router.add_get("/huge", huge)
    app.router.add_get("/moved", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.base = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()
