"""A local feed server on 127.0.0.1 for the source-watch tests: serves the files of
``tests/fixtures/feeds`` with ETag / Last-Modified (answering 304 to a matching conditional GET),
and the bad answers a watcher must survive."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"
HUGE_BYTES = 50 * 1024 * 1024
ITEMS_MANY = 10_000


def many_items(count: int, *, new: int = 0, prefix: str = "item") -> bytes:
    """An Atom feed of ``count`` made-up entries, newest first (``new`` extra ones on top)."""
    entries = []
    for i in range(count + new, 0, -1):
        entries.append(
            f"<entry><id>urn:test:{prefix}:{i}</id><title>Test bulletin {i} on talks</title>"
            f'<link href="https://example.org/{prefix}/{i}"/><updated>2025-01-01T00:00:00Z</updated>'
            "<summary>A made-up test item.</summary></entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Test feed</title><id>urn:test</id><updated>2025-01-01T00:00:00Z</updated>"
        + "".join(entries)
        + "</feed>"
    ).encode()


def records(path: Path) -> tuple[list[str], list[list[str]]]:
    """A dataset CSV (UTF-8, or Windows-1252 as the CNS export) as its header and its records
    (cells may hold line breaks): tests serve it whole or less its last rows."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def as_csv(rows: list[list[str]]) -> bytes:
    """Records as the bytes of a CSV file (what ``/data`` serves)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


@dataclass
class FeedServer:
    base: str = ""
    #: What ``/feed`` serves now (a file name in FEEDS); tests switch it between polls.
    current: str = "first.atom"
    #: Request headers seen on ``/feed``, in order.
    seen: list[dict[str, str]] = field(default_factory=list)
    #: Bytes ``/huge`` managed to send before the client hung up.
    huge_sent: int = 0
    #: What ``/data`` serves (a dataset file's bytes, appended to between polls), and its type.
    data: bytes = b""

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
            for _ in range(HUGE_BYTES // len(chunk)):
                await response.write(chunk)
                state.huge_sent += len(chunk)
        except (ConnectionResetError, RuntimeError):
            pass  # the client stopped reading at its cap
        return response

    async def many(request: web.Request) -> web.Response:
        return web.Response(body=many_items(ITEMS_MANY), content_type="application/atom+xml")

    async def data(request: web.Request) -> web.Response:
        etag = '"' + hashlib.sha256(state.data).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=state.data, content_type="text/csv", headers={"ETag": etag})

    async def to_private(request: web.Request) -> web.Response:
        # The same server by another name: "localhost" resolves to a loopback address.
        raise web.HTTPFound(state.url("/feed").replace("127.0.0.1", "localhost"))

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(state.url("/feed"))

    app = web.Application()
    app.router.add_get("/feed", feed)
    app.router.add_get("/files/{name}", file)
    app.router.add_get("/error", error)
    app.router.add_get("/slow", slow)
    app.router.add_get("/huge", huge)
    app.router.add_get("/moved", redirect)
    app.router.add_get("/many", many)
    app.router.add_get("/data", data)
    app.router.add_get("/to-private", to_private)
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
