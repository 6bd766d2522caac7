"""Logging, configured once at the entry point.

Every line passes :class:`Redact` on its way out: bot tokens and the interaction and webhook tokens in
Discord URLs (``discord.http`` and ``discord.webhook`` write those at DEBUG) never reach the log, and
a command's user id is written only as a keyed hash. ``LOG_FORMAT=json`` writes one object per line:
``time`` (ISO 8601, milliseconds, time zone), ``level``, ``logger``, ``message``, and on the
command-completion line ``command``, ``guild_id``, ``user_hash``, ``outcome`` and ``latency_ms``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import IO, Any

log = logging.getLogger("bot.commands")

#: Per-command fields, passed as ``extra`` on the command-completion line (see :func:`command_done`).
COMMAND_FIELDS = ("command", "guild_id", "user_hash", "outcome", "latency_ms")
REDACTED = "[redacted]"
# Interaction and webhook tokens sit in the path: /interactions/<id>/<token>/callback, /webhooks/<id>/<token>.
URL_TOKEN = re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/?#\s'\"]+")
# A bot token: base64 user id, timestamp and HMAC, dot-separated; and an Authorization header's value.
BOT_TOKEN = re.compile(r"\b[\w-]{23,28}\.[\w-]{6,7}\.[\w-]{27,}")
AUTHORIZATION = re.compile(r"(\bBot\s+)[^\s'\",}]+")
VOICE_WARNINGS = ("PyNaCl is not installed", "davey is not installed")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and token-shaped value replaced by ``[redacted]``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = URL_TOKEN.sub(rf"\g<1>{REDACTED}", text)
    text = AUTHORIZATION.sub(rf"\g<1>{REDACTED}", text)
    return BOT_TOKEN.sub(REDACTED, text)


def user_hash(user_id: int, key: bytes) -> str:
    """A stable pseudonym for a user: the same person reads the same across lines, never their id."""
    return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()[:16]


class Redact(logging.Filter):
    """A handler filter: redacts the message and traceback, and hashes a command's ``user_id``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)
        # Keyed by the deployment's own secret, so a hash cannot be matched against a list of user ids.
        self.key = hashlib.sha256("\n".join(("peninsula-brief", *self.secrets)).encode()).digest()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message, self.secrets), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        user_id = record.__dict__.pop("user_id", None)
        if isinstance(user_id, int):
            record.user_hash = user_hash(user_id, self.key)
        return True


class QuietVoice(logging.Filter):
    """Drops discord.py's "voice will NOT be supported" warnings: the bot has no voice features."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(VOICE_WARNINGS)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        time = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        payload: dict[str, Any] = {
            "time": time,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: record.__dict__[k] for k in COMMAND_FIELDS if k in record.__dict__})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exception"] = record.exc_text
        return json.dumps(payload, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s.%(msecs)03d%(tz)s %(levelname)-7s %(name)s: %(message)s"


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        record.tz = dt.datetime.fromtimestamp(record.created).astimezone().strftime("%z")
        return super().format(record)


def setup_logging(
    level: str = "INFO", fmt: str = "text", *, secrets: Iterable[str] = (), stream: IO[str] | None = None
) -> logging.Handler:
    """One handler on the root logger (standard error unless ``stream``); returns it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    client = logging.getLogger("discord.client")
    if not any(isinstance(f, QuietVoice) for f in client.filters):
        client.addFilter(QuietVoice())
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, root.level))
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    return handler


def command_done(command: str, guild_id: int | None, user_id: int, outcome: str, seconds: float) -> None:
    """The command-completion line, with its fields for JSON logs (the user id leaves only hashed)."""
    latency_ms = round(max(seconds, 0.0) * 1000)
    log.info(
        "command /%s %s in %d ms",
        command,
        outcome,
        latency_ms,
        extra={
            "command": command,
            "guild_id": guild_id,
            "user_id": user_id,
            "outcome": outcome,
            "latency_ms": latency_ms,
        },
    )
