"""Fetching and reading a watched feed: one conditional GET within limits, then its items.

:func:`fetch` refuses anything but http(s), and loopback, private, link-local and reserved
addresses (also after a redirect: each hop is checked) unless allowed (all of them, or by host
name); it sends the ETag and Last-Modified it was given, stops at :data:`MAX_BYTES` and at its
timeout. :func:`parse` reads Atom or RSS with feedparser, or a CNS or CSIS dataset with the
importers' parsers, in a worker thread. Every failure is a :class:`FeedError` whose message is
plain words for a curator.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import ipaddress
import multiprocessing
import re
import socket
import xml.sax
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import feedparser

from bot import __version__

MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_ITEMS = 500  # the newest items read from one response; a feed of 10,000 is cut, not refused
#: Watch formats read as a dataset (a CSV the importers parse), not as a feed.
DATASET_FORMATS = ("cns", "csis")
TIMEOUT = 20.0
USER_AGENT = f"PeninsulaBrief/{__version__} (source watch; +https://github.com/peninsula-brief)"
_TAG = re.compile(r"<[^>]+>")


class FeedError(Exception):
    """A poll failed; ``str()`` says why in plain words."""


@dataclass(frozen=True)
class Fetched:
    """A response: ``body`` None when the server answered 304 Not Modified."""

    body: bytes | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class Item:
    guid: str
    url: str | None
    title: str
    summary: str
    published: dt.date | None
    #: What a dataset row says itself (its kind, significance and the precision of its date);
    #: None for a feed item, whose kind is guessed from its words.
    kind: str | None = None
    significance: int | None = None
    precision: str = "day"


def check_url(url: str) -> str:
    """The URL trimmed, if it is an absolute http(s) URL; else a :class:`FeedError`."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedError("the address must be an http:// or https:// URL")
    return url


async def _check_host(url: str, allow_private: bool, allow_hosts: frozenset[str] = frozenset()) -> None:
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        raise FeedError(f"the host {host} could not be found") from None
    if allow_private or host.lower().rstrip(".") in allow_hosts:
        return
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_reserved or addr.is_multicast:
            raise FeedError(f"{host} is a loopback, private or link-local address, which is not fetched")
        if addr.is_unspecified:
            raise FeedError(f"{host} is not a public address")


async def fetch(
    http: aiohttp.ClientSession,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    allow_private: bool = False,
    allow_hosts: frozenset[str] = frozenset(),
    timeout: float = TIMEOUT,  # noqa: ASYNC109 - one budget for every redirect and the body
    max_bytes: int = MAX_BYTES,
) -> Fetched:
    """One conditional GET of ``url``, redirects followed (each one checked), within the limits."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/atom+xml, application/rss+xml, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(timeout):
            for _ in range(MAX_REDIRECTS + 1):
                url = check_url(url)
                await _check_host(url, allow_private, allow_hosts)
                async with http.get(url, headers=headers, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    if response.status == 304:
                        return Fetched(None, etag, last_modified)
                    if response.status >= 400:
                        raise FeedError(
                            f"the server answered {response.status} {response.reason or ''}".strip()
                        )
                    body = await _read_capped(response, max_bytes)
                    return Fetched(body, response.headers.get("ETag"), response.headers.get("Last-Modified"))
            raise FeedError(f"more than {MAX_REDIRECTS} redirects")
    except TimeoutError:
        raise FeedError(f"no complete answer within {timeout:g} seconds") from None
    except aiohttp.ClientError as exc:
        raise FeedError(f"the source could not be reached ({type(exc).__name__})") from None


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    if response.content_length is not None and response.content_length > max_bytes:
        raise FeedError(f"the response is larger than {max_bytes // (1024 * 1024)} MB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise FeedError(f"the response is larger than {max_bytes // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


def plain(text: str) -> str:
    """Feed text without markup and with one space between words."""
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def _date(entry: Any) -> dt.date | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return dt.date(value.tm_year, value.tm_mon, value.tm_mday)
    return None


def _parse_sync(body: bytes) -> list[Item]:
    parsed = feedparser.parse(body)
    looks_html = body.lstrip()[:200].lower().startswith((b"<!doctype html", b"<html"))
    if isinstance(parsed.get("bozo_exception"), xml.sax.SAXException):
        # Half a document would give half its items: refuse it whole.
        raise FeedError(
            "the address serves a web page, not an Atom or RSS feed"
            if looks_html
            else "the response is not valid XML"
        )
    if not parsed.get("version"):
        if looks_html:
            raise FeedError("the address serves a web page, not an Atom or RSS feed")
        raise FeedError("the address serves no Atom or RSS feed")
    items: list[Item] = []
    for entry in parsed.entries[:MAX_ITEMS]:
        url = entry.get("link") or None
        guid = entry.get("id") or url
        title = plain(entry.get("title") or "")
        if not guid or not title:
            continue
        summary = plain(entry.get("summary") or "")
        items.append(Item(str(guid)[:500], str(url)[:500] if url else None, title, summary, _date(entry)))
    return items


def _dataset_sync(body: bytes, fmt: str) -> list[Item]:
    """The rows of a CNS or CSIS dataset as items, newest first: the row's stable id (``cns:118``,
    ``csis:…``) as the GUID, no URL (rows share their sources' addresses), the title and summary
    in our words as the importer writes them, the row's date, kind and significance."""
    from bot.services.dates import parse_date
    from bot.services.errors import FieldProblem, ValidationFailed
    from bot.services.importing.cells import decode
    from bot.services.importing.cns import parse_cns
    from bot.services.importing.csis import parse_csis

    problems: list[FieldProblem] = []
    text = decode(body, problems)
    rows = ({"cns": parse_cns, "csis": parse_csis}[fmt](text, problems)) if text is not None else []
    whole = [p for p in problems if p.row is None]
    if whole or not rows:
        why = str(whole[0]) if whole else "it holds no rows"
        raise FeedError(f"the address does not serve the {fmt.upper()} dataset ({why[:200]})")
    items: list[Item] = []
    for row in rows:
        data = row.data
        if not data.external_id:
            continue
        try:
            day, precision = parse_date(data.date)
        except ValidationFailed:
            continue  # a row the import would refuse too
        items.append(
            Item(
                data.external_id[:500],
                None,
                data.title,
                data.summary,
                day,
                data.kind,
                data.significance,
                precision,
            )
        )
    items.sort(key=lambda i: (i.published or dt.date.min, i.guid), reverse=True)
    return items[:MAX_ITEMS]


_pool: ProcessPoolExecutor | None = None


def _parser() -> ProcessPoolExecutor:
    """The process that parses (one per process that polls, started at its first poll)."""
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def parse(body: bytes, fmt: str = "atom") -> list[Item]:
    """The items of an Atom or RSS document, newest first as the feed lists them, or the rows of
    a CNS or CSIS dataset (with the importers' parsers).

    Parsed in a process of its own, not a thread: feedparser and the CSV parsers are pure Python,
    and a thread running them holds the GIL in 5 ms slices against the event loop, which made
    every command answered during a poll wait for it at each of its awaits. A parser process that
    died is replaced once."""
    work, args = (_dataset_sync, (body, fmt)) if fmt in DATASET_FORMATS else (_parse_sync, (body,))
    loop = asyncio.get_running_loop()
    global _pool
    for attempt in range(2):
        try:
            return await loop.run_in_executor(_parser(), work, *args)
        except BrokenProcessPool:
            _pool = None
            if attempt:
                raise FeedError("the feed could not be read (its parser stopped)") from None
    raise AssertionError("unreachable")
