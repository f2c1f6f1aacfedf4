"""Configuration from the environment (or a .env file), checked before anything starts."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    IPvAnyAddress,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.engine.knowledge import DEFAULT_DIR
from bot.storage import pgurl


class SettingsError(Exception):
    """One line a deployer can act on; the CLI prints it and exits 2."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    bot_data_dir: Path = Path("data")
    database_url: SecretStr | None = None
    bot_admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    knowledge_dir: Path = DEFAULT_DIR
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    port: int = Field(8080, ge=1, le=65535)
    webhook_listen: IPvAnyAddress = Field(  # all interfaces: Procfile platforms route $PORT
        IPv4Address("0.0.0.0"),  # there; behind your own reverse proxy use 127.0.0.1
        description="address the webhook server binds (docs/reliability.md)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    retention_days: int = Field(180, ge=1)
    reload_interval: float = Field(5.0, gt=0, description="seconds between checks of knowledge/")
    briefing_check_seconds: float = Field(
        30.0, gt=0, description="seconds between checks for scheduled briefings that are due"
    )

    @field_validator("bot_admin_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("must be comma-separated numeric Telegram user ids")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        loopback = parts.scheme == "http" and _is_loopback(parts.hostname)  # a local test API
        if not (parts.scheme == "https" and parts.hostname) and not loopback:
            raise ValueError(f"must be an https:// URL (Telegram posts only to HTTPS), not {value}")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres(cls, value: SecretStr | None) -> SecretStr | None:
        """Read once, as libpq reads it: a URL it cannot read, or reads with part of the
        password in the host, port or database name, is refused here, quoting none of it."""
        if value is not None:
            try:
                pgurl.parse(value.get_secret_value())
            except pgurl.BadDatabaseUrl as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("knowledge_dir")
    @classmethod
    def _directory(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value

    @field_validator("telegram_bot_token", "webhook_secret", "database_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            bot_id, _, rest = value.get_secret_value().partition(":")
            if not bot_id.isdigit() or not rest:
                raise ValueError("does not look like a BotFather token (digits:secret)")
        return value

    @model_validator(mode="after")
    def _secret_shape(self) -> Settings:
        if self.webhook_secret is not None:
            secret = self.webhook_secret.get_secret_value()
            if not (1 <= len(secret) <= 256) or not all(c.isalnum() or c in "_-" for c in secret):
                raise ValueError(
                    "WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
                )
        return self

    @property
    def token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None

    @property
    def database(self) -> str | None:
        return self.database_url.get_secret_value() if self.database_url else None

    @property
    def secrets(self) -> list[str]:
        """What output must never show: the token, the webhook secret, the database password."""
        found = [self.token, self.webhook_secret and self.webhook_secret.get_secret_value()]
        return [s for s in [*found, pgurl.password(self.database)] if s]


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in err["loc"]).upper() or "settings"
        raise SettingsError(f"{field}: {err['msg'].removeprefix('Value error, ')}") from None


def _is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or localhost: a test server on this machine, never the internet."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
