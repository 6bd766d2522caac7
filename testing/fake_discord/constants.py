"""Discord's numbers the fake relies on: message flags, permission bits, intents, the epoch."""

from __future__ import annotations

from typing import Any

#: A JSON object as the fake sends and receives it.
JSON = dict[str, Any]
DISCORD_EPOCH_MS = 1_420_070_400_000
ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 51) - 1
EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_COMPONENTS_V2 = 1 << 15
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)
