"""The HTTP surface: health, readiness, Prometheus metrics, the Atom feed and the JSON API."""

from bot.web.app import create_app
from bot.web.readiness import Gateway, Readiness, database_readiness, gateway_readiness
from bot.web.server import app_for, serve, start_web, stop_web

__all__ = [
    "Gateway",
    "Readiness",
    "app_for",
    "create_app",
    "database_readiness",
    "gateway_readiness",
    "serve",
    "start_web",
    "stop_web",
]
