"""Settings: the only module that reads the process environment.

Everything else receives a `Settings` (or asks `get_settings()`), so tests and the local stack can build
their own without touching `os.environ`.
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator


class ConfigurationError(RuntimeError):
    """A required setting is missing or malformed; the message names the variable."""


class Settings(BaseModel):
    database_url: str | None = None
    jwt_secret: str | None = None
    webhook_secret: str | None = None
    app_mode: Literal["PAPER", "LIVE"] = "PAPER"
    port: int = Field(default=3000, ge=0, le=65535)  # 0: any free port (tests)
    data_dir: Path = Path(".optionflow")
    clock_start: datetime | None = None
    event_bus_name: str | None = None
    stage: str = "dev"
    jwt_issuer: str = "optionflow"
    jwt_audience: str = "optionflow-api"
    # TradingView bodies are a few hundred bytes; anything near this limit is not an alert.
    max_webhook_bytes: int = 16 * 1024
    # The seed deduplicated alerts without an id inside a 5-minute window.
    dedupe_window_seconds: int = Field(default=300, ge=1)
    market_seed: int = 7
    # Paper fills pay the far side of the quote; this adds slippage against the trader on top.
    paper_slippage_bps: int = Field(default=0, ge=0, le=1000)
    # Where the command line finds the API (default: the local stack on `port`) and the token it sends.
    api_url: str | None = None
    api_token: str | None = None

    @field_validator("app_mode", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("app_mode")
    @classmethod
    def _no_live_without_broker(cls, value: str) -> str:
        # Refuse loudly rather than queue LIVE orders that nothing would ever send.
        if value == "LIVE":
            raise ValueError(
                "LIVE needs a live broker adapter, which this release does not include; use PAPER"
            )
        return value

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("OPTIONFLOW_CLOCK_START needs a UTC offset, e.g. 2026-11-23T10:00:00-05:00")
        return value

    def require_database_url(self) -> str:
        if not self.database_url:
            raise ConfigurationError("DATABASE_URL is not set")
        return self.database_url

    def require_jwt_secret(self) -> str:
        if not self.jwt_secret:
            raise ConfigurationError("JWT_SECRET is not set")
        return self.jwt_secret


_ENV = {
    "database_url": "DATABASE_URL",
    "jwt_secret": "JWT_SECRET",
    "webhook_secret": "WEBHOOK_SECRET",
    "app_mode": "APP_MODE",
    "port": "PORT",
    "data_dir": "OPTIONFLOW_DATA_DIR",
    "clock_start": "OPTIONFLOW_CLOCK_START",
    "event_bus_name": "EVENT_BUS_NAME",
    "stage": "STAGE",
    "market_seed": "OPTIONFLOW_MARKET_SEED",
    "paper_slippage_bps": "PAPER_SLIPPAGE_BPS",
    "api_url": "OPTIONFLOW_API_URL",
    "api_token": "OPTIONFLOW_TOKEN",
}


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from environment variables (names in `_ENV`); empty values count as unset."""
    env = os.environ if environ is None else environ
    values = {field: env[var] for field, var in _ENV.items() if env.get(var)}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise ConfigurationError(f"{_ENV.get(field, field)}: {first['msg']}") from exc


_override: list[Settings] = []


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once (per warm Lambda) unless `use_settings` installed others."""
    return _override[0] if _override else settings_from_env()


def reset_settings() -> None:
    """Forget cached and installed settings; the next call reads the environment again."""
    _override.clear()
    get_settings.cache_clear()


def use_settings(settings: Settings) -> None:
    """Install settings for this process (the local stack fills in generated secrets and its database)."""
    reset_settings()
    _override.append(settings)
