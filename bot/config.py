"""Typed settings, read from the environment (and an optional ``.env`` file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


def default_database_url(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'peninsula-brief.db'}"


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace(";", ",").split(",")]
        return [p for p in parts if p]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    """Every setting the bot reads. Names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = None
    database_url: str = Field(default_factory=default_database_url)
    home_guild_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    #: The home guild's announcement channel that ``/alerts follow`` makes other servers follow.
    feed_channel_id: int | None = None
    curator_role: str = "Curator"
    dev_guild_id: int | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    web_enabled: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    shard_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    shard_count: int | None = Field(default=None, ge=1)
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    #: Where readers reach the web surface; absolute links in the feed and the API start with it.
    public_url: str | None = None
    #: Behind a reverse proxy that sets X-Forwarded-Proto: honour that header (and nothing else).
    trust_proxy: bool = False
    #: Seconds a server waits after one import ends before it may start the next.
    import_cooldown: float = Field(default=30.0, ge=0)
    #: Alerts one import may queue per channel; the rest become one "N more events imported".
    import_alert_cap: int = Field(default=20, ge=0)
    #: How long an alert that Discord keeps refusing (5xx, timeouts) is retried before it counts
    #: as failed (shown in /alerts list; /alerts resume retries it).
    delivery_retry_hours: float = Field(default=24.0, gt=0)
    #: Seconds Discord is trusted to remember a message nonce; an alert whose earlier attempt is
    #: older is looked for in its channel before it is posted again.
    delivery_nonce_window: float = Field(default=120.0, gt=0, le=600)
    #: Seconds between two polls of a watched source (a source's own interval overrides it).
    watch_interval: float = Field(default=900.0, gt=0)
    #: Let the watcher fetch loopback, private and link-local addresses (tests, a local feed).
    watch_allow_private: bool = False
    #: Host names the watcher may fetch although they resolve to a private address (a feed on your
    #: own network, by name); a redirect to any other private address is still refused.
    watch_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("home_guild_ids", "shard_ids", "watch_allow_hosts", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, value: str) -> str:
        if value.startswith(("postgres://", "postgresql://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not (value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://"))):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parsed = urlsplit(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
            raise ValueError("must be an absolute http(s) URL such as https://brief.example.org")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _shards(self) -> Settings:
        if self.shard_ids and self.shard_count is None:
            raise ValueError("SHARD_IDS: needs SHARD_COUNT (the total number of shards of the bot)")
        if self.shard_count is not None and any(not 0 <= i < self.shard_count for i in self.shard_ids):
            raise ValueError(f"SHARD_IDS: each must be from 0 to SHARD_COUNT - 1 ({self.shard_count - 1})")
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError("SHARD_IDS: names a shard twice")
        return self

    def token(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log line."""
        return tuple(s for s in (self.token(),) if s)

    def public_base(self) -> str:
        """PUBLIC_URL, else where the web surface listens (``http://WEB_HOST:WEB_PORT``)."""
        return self.public_url or f"http://{self.web_host}:{self.web_port}"


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a check across settings: its message starts with the variable
            raise SettingsError(first["msg"].removeprefix("Value error, ")) from None
        name = str(first["loc"][0]).upper()
        raise SettingsError(f"{name}: {first['msg']}") from None
