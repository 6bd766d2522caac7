"""The web surface's error middleware: the shared error text, a JSON body, never a traceback."""

from __future__ import annotations

import json
import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from bot.services.access import Policy
from bot.services.container import Services
from bot.services.errors import Conflict, NotFound, PermissionDenied, ServiceError
from bot.web import create_app
from tests.conftest import Database
from tests.web.conftest import HOME


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (NotFound("program", "nowhere"), 404),
        (PermissionDenied("Manage Server"), 403),
        (Conflict("That channel already has this subscription."), 409),
        (ServiceError("The request does not fit."), 400),
    ],
)
async def test_a_domain_error_is_its_own_text(
    sqlite_db: Database, failure: ServiceError, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    async def refusing() -> str | None:
        raise failure

    services = Services.build(sqlite_db.sessionmaker, Policy.of([HOME]))
    app = create_app(services, readiness=refusing, registry=CollectorRegistry())
    caplog.set_level(logging.INFO, logger="bot")
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/readyz")
        assert response.status == status
        body = json.loads(await response.text())
    assert body == {"error": {"message": failure.message}}
    assert [r for r in caplog.records if r.name.startswith("bot.") and r.levelno >= logging.WARNING] == []


async def test_an_unexpected_failure_is_logged_once(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> str | None:
        raise RuntimeError("secret internals")

    services = Services.build(sqlite_db.sessionmaker, Policy.of([HOME]))
    app = create_app(services, readiness=broken, registry=CollectorRegistry())
    caplog.set_level(logging.INFO, logger="bot")
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/readyz")
        assert response.status == 500
        body = json.loads(await response.text())
    assert body == {"error": {"message": "Internal error."}}
    errors = [r for r in caplog.records if r.name.startswith("bot.") and r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["GET /readyz failed"]
    assert errors[0].exc_info is not None and isinstance(errors[0].exc_info[1], RuntimeError)
