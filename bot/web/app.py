"""The aiohttp application: health, readiness, metrics, the Atom feed and the read-only JSON API.

Only published global events are ever read here: every event query runs with no guild, so a guild's
local events cannot appear, and each item is checked again before it is written out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from yarl import URL

from bot import metrics, models
from bot.db import Sessionmaker
from bot.discord.errors import user_message
from bot.i18n import DEFAULT, N_, gettext, negotiate, tr
from bot.services import charts
from bot.services.charts import figure_for, names_of
from bot.services.container import Services
from bot.services.errors import Conflict, NotFound, PermissionDenied, ServiceError
from bot.services.events import decode_cursor, encode_cursor
from bot.services.filters import EventFacts
from bot.services.validation import parse_id
from bot.services.views import EventView, Page
from bot.web import render
from bot.web.params import FILTERS, BadParameter, EventQuery, chart_query, event_query, language, one
from bot.web.readiness import (
    Check,
    Gateway,
    Readiness,
    custom_readiness,
    database_readiness,
    gateway_readiness,
)

log = logging.getLogger(__name__)

OPENAPI_PATH = Path(__file__).with_name("openapi.json")
FEED_SIZE = 50
#: Most text-search matches considered before the other filters and the page are applied.
SEARCH_CAP = 1000
FEED_MAX_AGE = 60

SERVICES = web.AppKey("services", Services)
READINESS = web.AppKey("readiness", Readiness)
PUBLIC_URL = web.AppKey("public_url", URL)
TRUST_PROXY = web.AppKey("trust_proxy", bool)
#: Where links point when the caller names no public URL (Settings' WEB_HOST and WEB_PORT defaults).
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
METRICS = web.AppKey("metrics", metrics.Metrics)
GATEWAY_LATENCY: web.AppKey[Callable[[], float | None]] = web.AppKey("gateway_latency")
OPENAPI = web.AppKey("openapi", bytes)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=_dumps)


def error(status: int, message: str, parameter: str | None = None) -> web.Response:
    body: dict[str, Any] = {"message": message}
    if parameter is not None:
        body["parameter"] = parameter
    return json_response({"error": body}, status)


INTERNAL = N_("Internal error.")
UNAVAILABLE = N_("The database is unavailable; try again shortly.")
SERVICE_STATUS: dict[type[ServiceError], int] = {NotFound: 404, PermissionDenied: 403, Conflict: 409}


@web.middleware
async def errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every failure is a JSON error body, in the reader's language (:func:`reader_language`);
    nobody is shown a traceback."""
    try:
        return await handler(request)
    except BadParameter as exc:
        return error(400, exc.localized(reader_language(request)), exc.parameter)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error(exc.status, exc.reason)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("%s %s: database unavailable: %s", request.method, request.path, type(exc).__name__)
        return error(503, gettext(reader_language(request), UNAVAILABLE))
    except ServiceError as exc:
        status = next((code for kind, code in SERVICE_STATUS.items() if isinstance(exc, kind)), 400)
        return error(status, user_message(exc, locale=reader_language(request)))
    except Exception as exc:
        where, locale = f"{request.method} {request.path}", reader_language(request)
        return error(500, user_message(exc, context=where, generic=INTERNAL, locale=locale))


def reader_language(request: web.Request) -> str:
    """The language of an error's message: ``lang`` when it is one the bot speaks, else the first
    language of ``Accept-Language`` it speaks (by weight), else English."""
    try:
        asked = language(request.query)
    except BadParameter:
        return DEFAULT  # the refusal of lang itself is in English
    if asked != DEFAULT or one(request.query, "lang"):
        return asked
    return accepted_language(request.headers.get("Accept-Language", ""))


def accepted_language(header: str) -> str:
    """The first of an ``Accept-Language`` header's languages that the bot speaks (``ko-KR`` is
    Korean, ``zh-TW`` is not Simplified Chinese), by weight; English when none."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")[:20]):
        tag, _, weight = part.strip().partition(";q=")
        try:
            q = float(weight) if weight else 1.0
        except ValueError:
            continue
        if tag and q > 0:
            ranked.append((-q, n, tag.strip()))
    for _q, _n, tag in sorted(ranked):
        code = negotiate(tag) if tag != "*" else DEFAULT
        if code != DEFAULT or tag.casefold().startswith("en") or tag == "*":
            return code
    return DEFAULT


def _base(request: web.Request) -> URL:
    """The origin of absolute links: PUBLIC_URL, never the request's Host header (responses are cached
    publicly); X-Forwarded-Proto may change the scheme, and only behind a trusted proxy."""
    base = request.app[PUBLIC_URL]
    if request.app[TRUST_PROXY]:
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            base = base.with_scheme(proto)
    return base


def _public(events: tuple[EventView, ...] | list[EventView]) -> list[EventView]:
    # The queries already exclude them; this is the second lock on the door.
    return [e for e in events if e.is_global and e.status == "published"]


async def find_events(services: Services, q: EventQuery) -> Page:
    """A page of published global events, newest first; ``q`` narrows by text search."""
    if q.q is None:
        page = await services.events.page(q.filter, limit=q.limit, cursor=q.cursor)
        return Page(tuple(_public(page.items)), page.next_cursor)
    # Text matches are few (capped); the other filters and the keyset page apply to them in date order,
    # so cursors mean the same with or without ``q``.
    found, _total = await services.search.search_events(q.q, guild_id=None, limit=SEARCH_CAP)
    matching = sorted(
        (e for e in _public(found) if q.filter.matches(EventFacts.of(e))),
        key=lambda e: (e.occurred_on, e.id),
        reverse=True,
    )
    if q.cursor:
        after = decode_cursor(q.cursor)
        matching = [e for e in matching if (e.occurred_on, e.id) < after]
    items = tuple(matching[: q.limit])
    return Page(items, encode_cursor(items[-1]) if len(matching) > q.limit else None)


async def last_change(sessionmaker: Sessionmaker) -> dt.datetime | None:
    """When any global event last changed (retractions included), for Last-Modified."""
    E = models.Event
    async with sessionmaker() as session:
        value = await session.scalar(select(func.max(E.updated_at)).where(E.guild_id.is_(None)))
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


# Handlers ---------------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    body = await request.app[READINESS].report()
    return json_response(body, 200 if body["status"] == "ready" else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    app = request.app
    m = app[METRICS]
    try:
        depth, failed = await metrics.outbox_depth(app[SERVICES].sessionmaker)
        m.outbox_depth.set(depth)
        m.outbox_failed.set(failed)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        # The other metrics are still worth scraping when the database is down.
        log.warning("metrics: outbox depth unavailable: %s", type(exc).__name__)
    latency = app[GATEWAY_LATENCY]()
    if latency is not None and math.isfinite(latency):
        m.gateway_latency.set(latency)
    body = generate_latest(m.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _http_date(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    # Weak comparison (RFC 9110 13.1.2): a proxy may have weakened our tag.
    wanted = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == wanted for t in header.split(","))


def _not_modified(request: web.Request, etag: str, modified: dt.datetime) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        # When both are sent, If-None-Match decides (RFC 9110 13.2.2).
        return _etag_matches(if_none_match, etag)
    since = request.if_modified_since
    return since is not None and modified.replace(microsecond=0) <= since


async def feed(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    locale = language(request.query)
    q = await event_query(request.query, services.catalog, paged=False, locale=locale)
    page = await find_events(services, EventQuery(q.filter, q.q, FEED_SIZE, None, q.canonical, q.labels))
    canonical = (*q.canonical, ("lang", locale)) if locale != DEFAULT else q.canonical
    modified = await last_change(services.sessionmaker) or render.EPOCH
    base = _base(request)
    body = render.atom(
        page.items,
        base=base,
        self_url=(base / "feed.atom").with_query(list(canonical)),
        canonical=canonical,
        labels=q.labels,
        fallback_updated=modified,
        locale=locale,
    )
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Last-Modified": _http_date(modified),
        "Cache-Control": f"public, max-age={FEED_MAX_AGE}",
    }
    if _not_modified(request, etag, modified):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers={**headers, "Content-Type": "application/atom+xml; charset=utf-8"})


async def list_events(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    locale = language(request.query)
    q = await event_query(request.query, services.catalog, paged=True, locale=locale)
    page = await find_events(services, q)
    base = _base(request)
    return json_response(
        {"items": [render.event(e, base, locale) for e in page.items], "next_cursor": page.next_cursor}
    )


async def get_event(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    locale = language(request.query)
    event_id = parse_id(raw) if not raw.startswith("#") else None
    if event_id is None:
        raise BadParameter("id", N_("“{value}” is not an event id (a positive whole number)"), value=raw[:40])
    try:
        found = await request.app[SERVICES].events.get(event_id, guild_id=None)
    except NotFound:
        found = None
    if found is None or not _public([found]):
        return error(404, tr(locale, "No published event #{id}.", id=event_id))
    return json_response(render.event(found, _base(request), locale))


async def list_programs(request: web.Request) -> web.Response:
    programs = await request.app[SERVICES].catalog.programs()
    return json_response({"items": [render.program(p) for p in programs]})


async def list_parts(request: web.Request) -> web.Response:
    """/api/systems or /api/facilities: the route's last segment says which."""
    kind = "system" if request.path.endswith("/systems") else "facility"
    parts = await request.app[SERVICES].catalog.parts()
    return json_response({"items": [render.part(x) for x in parts if x.kind == kind]})


async def list_tracks(request: web.Request) -> web.Response:
    tracks = await request.app[SERVICES].catalog.tracks()
    return json_response({"items": [render.track(t) for t in tracks]})


async def list_actors(request: web.Request) -> web.Response:
    actors = await request.app[SERVICES].catalog.actors()
    return json_response({"items": [render.actor(a) for a in actors]})


async def list_positions(request: web.Request) -> web.Response:
    catalog = request.app[SERVICES].catalog
    slugs: dict[str, str | None] = {}
    for name, resolve in (("party", catalog.actor), ("topic", catalog.topic)):
        value = one(request.query, name)
        try:
            slugs[name] = (await resolve(value)).slug if value is not None else None
        except NotFound as exc:
            raise BadParameter.because(name, exc) from None
    positions = await catalog.positions(slugs["party"], slugs["topic"])
    return json_response({"items": [render.position(p) for p in positions]})


async def chart_png(request: web.Request) -> web.Response:
    """/charts/{metric}.png: the chart of global events, as /chart draws it; cached by data version."""
    services = request.app[SERVICES]
    metric = request.match_info["metric"]
    locale = language(request.query)
    if metric not in charts.METRICS:
        known = ", ".join(charts.METRICS)
        return error(
            404, tr(locale, "No chart of “{value}”; the charts are {known}.", value=metric[:40], known=known)
        )
    query = await chart_query(metric, request.query, services.catalog)
    names = await names_of(services.catalog, query, locale)
    chart = await services.charts.chart(query, lambda data: figure_for(data, names, locale), locale)
    tag = hashlib.sha256(f"{query}|{locale}|{chart.data.version}".encode()).hexdigest()[:32]
    headers = {"ETag": f'"{tag}"', "Cache-Control": f"public, max-age={FEED_MAX_AGE}"}
    if _etag_matches(request.headers.get("If-None-Match", ""), headers["ETag"]):
        return web.Response(status=304, headers=headers)
    return web.Response(body=chart.png, headers={**headers, "Content-Type": "image/png"})


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type="application/json")


def _no_latency() -> float | None:
    return None


def create_app(
    services: Services,
    *,
    readiness: Readiness | Check | None = None,
    registry: CollectorRegistry | None = None,
    gateway_latency: Callable[[], float | None] | None = None,
    public_url: str = DEFAULT_PUBLIC_URL,
    trust_proxy: bool = False,
) -> web.Application:
    """The web surface over ``services``.

    ``readiness`` is what ``/readyz`` checks (default: the ``web`` mode, the database only; the bot
    passes :func:`gateway_readiness`); ``registry`` is where metrics live (default: the process-wide
    one); ``gateway_latency`` is read on each scrape (the bot passes ``lambda: bot.latency``);
    ``public_url`` starts every absolute link; ``trust_proxy`` honours ``X-Forwarded-Proto``.
    """
    app = web.Application(middlewares=[errors])
    app[SERVICES] = services
    app[READINESS] = (
        custom_readiness(readiness) if readiness is not None else database_readiness(services.sessionmaker)
    )
    app[PUBLIC_URL] = URL(public_url)
    app[TRUST_PROXY] = trust_proxy
    app[METRICS] = metrics.for_registry(registry)
    app[GATEWAY_LATENCY] = gateway_latency or _no_latency
    app[OPENAPI] = OPENAPI_PATH.read_bytes()
    get = app.router.add_get
    get("/healthz", healthz)
    get("/readyz", readyz)
    get("/metrics", metrics_endpoint)
    get("/feed.atom", feed)
    get("/api/events", list_events)
    get("/api/events/{id}", get_event)
    get("/api/programs", list_programs)
    get("/api/systems", list_parts)
    get("/api/facilities", list_parts)
    get("/api/tracks", list_tracks)
    get("/api/actors", list_actors)
    get("/api/positions", list_positions)
    get("/api/openapi.json", openapi)
    get("/charts/{metric}.png", chart_png)
    return app


__all__ = ["FILTERS", "Gateway", "Readiness", "create_app", "database_readiness", "gateway_readiness"]
