"""Point discord.py at other Discord endpoints (a local fake Discord in tests).

discord.py builds every REST URL as ``discord.http.Route.BASE + path`` and a plain ``Client``
connects to ``DiscordWebSocket.DEFAULT_GATEWAY`` without asking ``/gateway/bot``, so both
class attributes have to be set; the bot calls this at start-up with ``DISCORD_API_BASE`` and
``DISCORD_GATEWAY_URL``. These are process-wide settings, hence a function and not a bot option.
"""

from __future__ import annotations

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

__all__ = ["configure_endpoints"]


def configure_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Use ``api_base`` for REST and ``gateway_url`` for the gateway; ``None`` keeps the current one.

    ``api_base`` includes the version, e.g. ``https://discord.com/api/v10``; a trailing slash
    is dropped because discord.py appends paths that start with ``/``.
    """
    if api_base is not None:
        Route.BASE = api_base.rstrip("/")
    if gateway_url is not None:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
