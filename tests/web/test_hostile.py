"""Hostile input on the HTTP surface: answered 400 or 404 with a JSON body, never 500 or 503."""

from __future__ import annotations

import base64
import logging

import feedparser
import pytest
from sqlalchemy import update

from bot import models
from tests.web.conftest import Site

from .test_web import get_json


def cursor_for(day: str, ident: str) -> str:
    return base64.urlsafe_b64encode(f"{day}|{ident}".encode()).decode().rstrip("=")


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


async def test_a_stored_noncharacter_does_not_take_the_feed_down(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    # Legacy data, written before validation refused it: straight into the table.
    async with site.db.sessionmaker() as s, s.begin():
        await s.execute(
            update(models.Event)
            .where(models.Event.id == site.shared.id)
            .values(title="Hwasong-15\uffff launch", summary="An ICBM\x01 flight\ud7ff test.")
        )
    response = await site.client.get("/feed.atom")
    assert response.status == 200, await response.text()
    parsed = feedparser.parse(await response.read())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.entries[0].title == "Hwasong-15\ufffd launch"
    assert parsed.entries[0].summary.endswith("An ICBM\ufffd flight\ud7ff test.")
    no_traceback(caplog)


@pytest.mark.parametrize(
    ("path", "parameter", "value", "named"),
    [
        ("/api/events", "q", "\x01", "U+0001"),
        ("/feed.atom", "q", "launch\x00", "U+0000"),
        ("/feed.atom", "program", "icbm\x1b", "U+001B"),
        ("/api/events", "kind", "summit\u200b", "U+200B"),
        ("/api/positions", "party", "dprk\x7f", "U+007F"),
        ("/api/events", "cursor", "abc\uffff", "U+FFFF"),
    ],
)
async def test_unstorable_characters_in_a_parameter_are_400(
    site: Site, caplog: pytest.LogCaptureFixture, path: str, parameter: str, value: str, named: str
) -> None:
    body = await get_json(site, path, 400, **{parameter: value})
    assert body["error"]["parameter"] == parameter
    assert f"contains {named}" in body["error"]["message"]
    no_traceback(caplog)


async def test_ids_beyond_the_column_are_404(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    for ident in ("2147483648", "99999999999999999999999"):
        body = await get_json(site, f"/api/events/{ident}", 404)
        assert body["error"]["message"] == f"No published event #{ident}."
    bad = await get_json(site, "/api/events/%C2%B2", 400)  # ², a Unicode digit
    assert bad["error"]["parameter"] == "id"
    no_traceback(caplog)


async def test_a_cursor_with_an_id_beyond_the_column_is_400(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    for ident in ("1" * 23, "2147483648", "²"):
        body = await get_json(site, "/api/events", 400, cursor=cursor_for("2017-11-29", ident))
        assert body["error"]["parameter"] == "cursor"
    no_traceback(caplog)
