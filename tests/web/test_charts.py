"""/charts/{metric}.png: the chart of global events only, with the API's filters, cached by version."""

from __future__ import annotations

from bot.services.charts import ChartQuery
from tests.web.conftest import HOME, Site, curator, event_input

PNG = b"\x89PNG\r\n\x1a\n"


async def test_the_chart_counts_global_events_only(site: Site) -> None:
    response = await site.client.get("/charts/launches.png", params={"by": "year"})
    assert response.status == 200 and response.headers["Content-Type"] == "image/png"
    assert (await response.read()).startswith(PNG)
    web = await site.services.charts.counts(ChartQuery("launches", "year"))
    local = await site.services.charts.counts(ChartQuery("launches", "year", guild_id=site.local.guild_id))
    assert local.total == web.total + 1  # the other guild's launch is in its own count, not the web's
    etag = response.headers["ETag"]
    again = await site.client.get("/charts/launches.png", params={"by": "year"})
    assert again.headers["ETag"] == etag
    await site.services.curation.create(curator(HOME), event_input(date="2023-03-03"))
    changed = await site.client.get("/charts/launches.png", params={"by": "year"})
    assert changed.headers["ETag"] != etag and (await changed.read()) != (await again.read())


async def test_bad_parameters_name_themselves(site: Site) -> None:
    for params, name in (
        ({"by": "week"}, "by"),
        ({"program": "no such program"}, "program"),
        ({"since": "2020", "until": "2010"}, "until"),
        ({"since": "last year"}, "since"),
    ):
        response = await site.client.get("/charts/events.png", params=params)
        assert response.status == 400, params
        assert (await response.json())["error"]["parameter"] == name
    missing = await site.client.get("/charts/rockets.png")
    assert missing.status == 404 and "launches" in (await missing.json())["error"]["message"]
