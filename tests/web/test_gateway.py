"""Readiness in the bot process: a real discord.py client against the fake Discord."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from bot.config import Settings
from bot.discord.client import PeninsulaBot
from bot.services.access import Policy
from bot.services.container import Services
from bot.web import create_app, gateway_readiness
from testing.fake_discord import FakeDiscord, connect_bot
from tests.conftest import Database


async def readiness(client: TestClient) -> tuple[int, dict[str, object]]:  # type: ignore[type-arg]
    response = await client.get("/readyz")
    return response.status, await response.json()


async def test_ready_only_while_the_gateway_is_connected(sqlite_db: Database) -> None:
    services = Services.build(sqlite_db.sessionmaker, Policy.of([]))
    settings = Settings(discord_token="x", database_url=sqlite_db.url, _env_file=None)
    async with FakeDiscord() as fake:
        fake.add_guild("Home")
        bot = PeninsulaBot(settings=settings, services=services, extensions=(), sync_commands=False)
        app = create_app(
            services,
            readiness=gateway_readiness(sqlite_db.sessionmaker, bot),
            registry=CollectorRegistry(),
            gateway_latency=lambda: bot.latency,
        )
        async with TestClient(TestServer(app)) as client:
            assert await readiness(client) == (
                503,
                {
                    "status": "unavailable",
                    "reason": "gateway not connected",
                    "mode": "run",
                    "checks": {"database": "ok", "gateway": "gateway not connected"},
                },
            )
            async with connect_bot(fake, bot):
                assert await readiness(client) == (
                    200,
                    {"status": "ready", "mode": "run", "checks": {"database": "ok", "gateway": "ok"}},
                )
                # No heartbeat has been acknowledged yet: latency is NaN and must not break the scrape.
                assert (await client.get("/metrics")).status == 200
            assert await readiness(client) == (
                503,
                {
                    "status": "unavailable",
                    "reason": "gateway closed",
                    "mode": "run",
                    "checks": {"database": "ok", "gateway": "gateway closed"},
                },
            )
        fake.assert_no_violations()
