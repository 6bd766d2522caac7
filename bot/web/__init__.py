"""The HTTP surface: health, readiness, Prometheus metrics, the Atom feed and the JSON API."""

from bot.web.app import Gateway, Readiness, create_app, database_readiness, gateway_readiness
from bot.web.server import serve, start_web, stop_web

__all__ = [
    "Gateway",
    "Readiness",
    "create_app",
    "database_readiness",
    "gateway_readiness",
    "serve",
    "start_web",
    "stop_web",
]
