"""Settings: the only module that reads the process environment.

Everything else receives a `Settings` (or asks `get_settings()`), so tests and the local stack can build
their own without touching `os.environ`.

In AWS the secrets need not sit in the environment: `DATABASE_SECRET_ARN`, `JWT_SECRET_PARAMETER`,
`WEBHOOK_SECRET_PARAMETER` and `MARKET_DATA_KEY_PARAMETER` name a Secrets Manager secret or an SSM
SecureString parameter instead, read through Powertools parameters and cached for
`SECRETS_MAX_AGE_SECONDS`; so do `ALPACA_SECRET_PARAMETER` (JSON {"key_id", "secret_key"}) and
`TRADIER_TOKEN_PARAMETER` for the broker keys (`ALPACA_API_KEY_ID` and `ALPACA_API_SECRET_KEY`,
`TRADIER_ACCESS_TOKEN` locally). A plain value (`DATABASE_URL`, `JWT_SECRET`, `WEBHOOK_SECRET`,
`MARKET_DATA_KEY`, the broker keys) always wins, so nothing is fetched locally.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from optionflow.workers import WORKERS


class ConfigurationError(RuntimeError):
    """A required setting is missing or malformed; the message names the variable."""


# What LIVE_TRADING_CONFIRMED must say, word for word, before APP_MODE=LIVE starts.
LIVE_CONFIRMATION = "I understand OptionFlow will place real orders with real money"

# An underlying's symbol as the ticker-list settings take it (BRK.B, SPY, ...).
_TICKER = re.compile(r"[A-Z0-9][A-Z0-9./-]{0,9}")


class Settings(BaseModel):
    database_url: str | None = None
    jwt_secret: str | None = None
    webhook_secret: str | None = None
    app_mode: Literal["PAPER", "LIVE"] = "PAPER"
    port: int = Field(default=3000, ge=0, le=65535)  # 0: any free port (tests)
    data_dir: Path = Path(".optionflow")
    # The local stack's API processes, each serving one request at a time as a Lambda instance does;
    # 0: one per core this process may use, at most 4.
    local_api_workers: int = Field(default=0, ge=0, le=32)
    # How much the local worker process (and its Postgres sessions, where allowed) yields the CPU to the
    # API processes: a Unix niceness, 0 (none) to 19.
    local_worker_nice: int = Field(default=10, ge=0, le=19)
    clock_start: datetime | None = None
    event_bus_name: str | None = None
    stage: str = "dev"
    jwt_issuer: str = "optionflow"
    jwt_audience: str = "optionflow-api"
    # TradingView bodies are a few hundred bytes; anything near this limit is not an alert.
    max_webhook_bytes: int = 16 * 1024
    # A byte-identical body inside this window is one of TradingView's resends (up to three, 5 s apart);
    # two identical alerts further apart are two alerts.
    dedupe_window_seconds: int = Field(default=30, ge=1, le=3600)
    market_seed: int = 7
    # Paper fills pay the far side of the quote; this adds slippage against the trader on top.
    paper_slippage_bps: int = Field(default=0, ge=0, le=1000)
    # Fees on every fill, dollars per contract: the broker's commission and the regulatory fees (ORF, OCC,
    # FINRA TAF together). $0 is allowed; sizing and realized P&L include them.
    commission_per_contract: Decimal = Field(default=Decimal(0), ge=0, le=100)
    regulatory_fee_per_contract: Decimal = Field(default=Decimal(0), ge=0, le=100)
    # In a session, a mark older than this is stale: price rules wait for a fresh one.
    mark_max_age_seconds: int = Field(default=300, ge=10, le=86400)
    # Where prices come from: the deterministic simulator, or a real provider (see optionflow.market).
    market_data: Literal["simulated", "alpaca", "tradier", "massive"] = "simulated"
    # The provider's secret (Tradier access token, Massive API key, Alpaca secret key) and, for Alpaca, the
    # key id that goes with it; never logged.
    market_data_key: str | None = Field(default=None, repr=False)
    market_data_key_id: str | None = None
    market_data_key_parameter: str | None = None
    # The provider's API host, when not its production one (Tradier's sandbox, a test server).
    market_data_url: str | None = None
    alpaca_trading_url: str | None = None  # where Alpaca lists contracts (paper or live trading host)
    alpaca_stock_feed: Literal["iex", "sip"] = "iex"
    alpaca_option_feed: Literal["indicative", "opra"] = "indicative"
    # A quote older than this (by the provider's own timestamp) is never used for a fill or a mark.
    max_quote_age_seconds: int = Field(default=60, ge=1, le=86400)
    # Contract choice for alerts that name no contract. "grid": ATM on the standard strike grid and the
    # next weekly (the simulator's default); "chain": from the provider's listed chain, by the window and
    # method below, with the liquidity guards; "auto": chain for a real provider, grid for the simulator.
    contract_source: Literal["auto", "grid", "chain"] = "auto"
    contract_min_dte: int = Field(default=1, ge=0, le=1000)  # 0 allows same-day (0DTE) expiries
    contract_max_dte: int = Field(default=45, ge=0, le=1000)
    strike_selection: Literal["atm", "delta", "steps"] = "atm"
    target_delta: Decimal = Field(
        default=Decimal("0.50"), gt=0, lt=1
    )  # by size: 0.30 is a 30-delta put or call
    strike_steps: int = Field(
        default=0, ge=-50, le=50
    )  # listed strikes from ATM; positive is out of the money
    # Liquidity guards on the chosen contract: the spread as a share of the mid (0.10 = 10 %; unset: none)
    # and the open interest, in contracts.
    max_spread_share: Decimal | None = Field(default=None, gt=0, le=2)
    min_open_interest: int = Field(default=0, ge=0)
    # Where the command line finds the API (default: the local stack on `port`) and the token it sends.
    api_url: str | None = None
    api_token: str | None = None
    # Where the secrets are kept in AWS, when not given as plain values above (see `resolve_secrets`).
    database_secret_arn: str | None = None
    database_host: str | None = None  # e.g. an RDS Proxy endpoint, instead of the secret's host
    database_name: str | None = None
    jwt_secret_parameter: str | None = None
    webhook_secret_parameter: str | None = None
    # A rotated secret reaches new connections and requests within this time.
    secrets_max_age_seconds: int = Field(default=300, ge=0)
    # The worker functions the API wakes for POST /workers/{name}/trigger: worker name -> function name or
    # ARN, from each worker's <WORKER>_FUNCTION_NAME (set by the template; see optionflow.workers).
    worker_function_names: dict[str, str] = Field(default_factory=dict)
    # Where orders go: `paper` fills them here (simulated, or paper on real quotes); `alpaca` and `tradier`
    # send them to the broker: its paper/sandbox account under APP_MODE=PAPER, the real one under LIVE.
    broker: Literal["paper", "alpaca", "tradier"] = "paper"
    broker_base_url: str | None = None  # instead of the broker's own host (a local fake, a proxy)
    # How long a broker call may wait for its answer; past it an order is looked up by client id next run.
    broker_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    alpaca_key_id: str | None = Field(default=None, repr=False)  # keys are never shown or logged
    alpaca_secret_key: str | None = Field(default=None, repr=False)
    # a Secrets Manager secret or SSM SecureString holding {"key_id": ..., "secret_key": ...}
    alpaca_secret_parameter: str | None = None
    tradier_token: str | None = Field(default=None, repr=False)
    tradier_token_parameter: str | None = None
    tradier_account_id: str | None = None
    live_trading_confirmed: str | None = None  # must be LIVE_CONFIRMATION for APP_MODE=LIVE
    # Broker orders are DAY limits priced from the quote: `mid`, `mid_step` (mid plus `order_price_step`
    # towards the far side) or `natural` (the ask to buy, the bid to sell). Dollars per share.
    order_price: Literal["mid", "mid_step", "natural"] = "mid"
    order_price_step: Decimal = Field(default=Decimal("0.05"), gt=0, le=10)
    # An unfilled order is re-priced `reprice_step` towards the far side every `reprice_after_seconds`, at
    # most `max_reprices` times (never past the far side), then cancelled.
    reprice_step: Decimal = Field(default=Decimal("0.05"), gt=0, le=10)
    max_reprices: int = Field(default=3, ge=0, le=20)
    # Every broker limit sits on the contract's tick (Penny Interval Program: $0.01 below $3.00, $0.05 at
    # or above). These classes quote in $0.01 at every price; classes named in `non_penny_tickers` are
    # outside the program and quote in $0.05 below $3.00, $0.10 at or above. Comma-separated tickers.
    penny_everywhere_tickers: frozenset[str] = frozenset({"SPY", "QQQ", "IWM"})
    non_penny_tickers: frozenset[str] = frozenset()
    reprice_after_seconds: int = Field(default=30, ge=5, le=3600)
    # LIVE only, entries only, on top of the risk limits: dollars of premium (limit × quantity × 100).
    live_max_order_notional: Decimal = Field(default=Decimal(2000), gt=0)
    live_max_daily_notional: Decimal = Field(default=Decimal(10000), gt=0)
    # Notification channels (see optionflow.notify.channels): a channel is on when its address is set.
    # Webhook URLs and the bot token are secrets: kept out of repr, and never logged; in AWS the
    # `*_parameter` fields name an SSM SecureString or a Secrets Manager secret holding them instead.
    notify_slack_webhook_url: str | None = Field(default=None, repr=False)
    notify_discord_webhook_url: str | None = Field(default=None, repr=False)
    notify_telegram_bot_token: str | None = Field(default=None, repr=False)
    notify_telegram_chat_id: str | None = None
    notify_telegram_api_url: str = "https://api.telegram.org"
    notify_webhook_url: str | None = Field(default=None, repr=False)  # plain JSON, for anything else
    notify_sns_topic_arn: str | None = None
    notify_console: bool | None = None  # print every message to the console (the local stack's default)
    notify_slack_webhook_parameter: str | None = None
    notify_discord_webhook_parameter: str | None = None
    notify_telegram_bot_token_parameter: str | None = None
    notify_webhook_parameter: str | None = None
    # A failed delivery is tried again after backoff, 2 x backoff, 4 x ... until it has been tried this
    # many times; then it is DEAD (shown by /health and `optionflow notify list`).
    notify_max_attempts: int = Field(default=8, ge=1, le=50)
    notify_backoff_seconds: int = Field(default=30, ge=1, le=3600)
    # Connect and read timeout of one webhook call, seconds: a hanging channel costs at most this per try.
    notify_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Days a notification whose every delivery was sent is kept; the notifier then deletes it. A delivery
    # that is DEAD, or still due, keeps its notification (and stays in /health) whatever its age.
    notify_retention_days: int = Field(default=30, ge=1, le=3650)

    @field_validator("market_data", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("app_mode", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("broker", mode="before")
    @classmethod
    def _lower_broker(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _live_needs_a_broker_and_a_confirmation(self) -> Settings:
        # Refuse loudly rather than queue LIVE orders nothing would send, or send them by accident. The
        # broker's own checks (keys accepted, options approval) run when the broker is first built.
        if self.app_mode == "LIVE":
            if self.broker == "paper":
                raise ValueError(
                    "APP_MODE: LIVE needs a live broker adapter: set BROKER=alpaca or BROKER=tradier"
                )
            if (self.live_trading_confirmed or "").strip() != LIVE_CONFIRMATION:
                raise ValueError(
                    f"LIVE_TRADING_CONFIRMED: APP_MODE=LIVE needs LIVE_TRADING_CONFIRMED set to exactly "
                    f"'{LIVE_CONFIRMATION}'"
                )
        return self

    @model_validator(mode="after")
    def _dte_window(self) -> Settings:
        if self.contract_min_dte > self.contract_max_dte:
            raise ValueError(
                f"CONTRACT_MIN_DTE {self.contract_min_dte} is above CONTRACT_MAX_DTE {self.contract_max_dte}"
            )
        return self

    @field_validator("penny_everywhere_tickers", "non_penny_tickers", mode="before")
    @classmethod
    def _ticker_list(cls, value: object) -> object:
        if isinstance(value, str):
            tickers = [part.strip().upper() for part in value.split(",") if part.strip()]
            bad = [t for t in tickers if not _TICKER.fullmatch(t)]
            if bad:
                raise ValueError(f"not a ticker: {bad[0]!r} (a comma-separated list like SPY,QQQ,IWM)")
            return frozenset(tickers)
        return value

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("OPTIONFLOW_CLOCK_START needs a UTC offset, e.g. 2026-11-23T10:00:00-05:00")
        return value

    def require_database_url(self) -> str:
        if not self.database_url:
            raise ConfigurationError("DATABASE_URL (or DATABASE_SECRET_ARN) is not set")
        return self.database_url

    def require_jwt_secret(self) -> str:
        if not self.jwt_secret:
            raise ConfigurationError("JWT_SECRET (or JWT_SECRET_PARAMETER) is not set")
        return self.jwt_secret

    def require_market_data_key(self) -> str:
        if not self.market_data_key:
            raise ConfigurationError(
                f"MARKET_DATA={self.market_data} needs MARKET_DATA_KEY (or MARKET_DATA_KEY_PARAMETER)"
            )
        return self.market_data_key

    @property
    def contract_from_chain(self) -> bool:
        """True when contracts are chosen from the listed chain (see `contract_source`)."""
        if self.contract_source == "auto":
            return self.market_data != "simulated"
        return self.contract_source == "chain"

    @property
    def trading_mode(self) -> str:
        """What runs, in one word: `simulated` (simulated prices, paper fills), `paper-real-quotes` (a real
        provider's quotes, paper fills at its bid/ask plus slippage and fees), and, with BROKER=alpaca|tradier,
        `broker-paper` or `live` (see `optionflow.trading_mode`)."""
        from optionflow.trading_mode import trading_mode

        return trading_mode(self.market_data, self.broker, self.app_mode)

    @property
    def fee_per_contract(self) -> Decimal:
        """Every fee charged per contract filled, dollars."""
        return self.commission_per_contract + self.regulatory_fee_per_contract

    def api_processes(self) -> int:
        """How many API processes the local stack starts (`local_api_workers`, or from the cores)."""
        if self.local_api_workers:
            return self.local_api_workers
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(1, min(4, cores))

    def worker_functions(self) -> dict[str, str]:
        """Worker name -> its Lambda function, for the workers whose function is configured."""
        return {worker: function for worker, function in self.worker_function_names.items() if function}


_ENV = {
    "database_url": "DATABASE_URL",
    "jwt_secret": "JWT_SECRET",
    "webhook_secret": "WEBHOOK_SECRET",
    "app_mode": "APP_MODE",
    "port": "PORT",
    "data_dir": "OPTIONFLOW_DATA_DIR",
    "local_api_workers": "LOCAL_API_WORKERS",
    "local_worker_nice": "LOCAL_WORKER_NICE",
    "clock_start": "OPTIONFLOW_CLOCK_START",
    "event_bus_name": "EVENT_BUS_NAME",
    "stage": "STAGE",
    "market_seed": "OPTIONFLOW_MARKET_SEED",
    "paper_slippage_bps": "PAPER_SLIPPAGE_BPS",
    "commission_per_contract": "COMMISSION_PER_CONTRACT",
    "regulatory_fee_per_contract": "REGULATORY_FEE_PER_CONTRACT",
    "mark_max_age_seconds": "MARK_MAX_AGE_SECONDS",
    "dedupe_window_seconds": "DEDUPE_WINDOW_SECONDS",
    "api_url": "OPTIONFLOW_API_URL",
    "api_token": "OPTIONFLOW_TOKEN",
    "database_secret_arn": "DATABASE_SECRET_ARN",
    "database_host": "DATABASE_HOST",
    "database_name": "DATABASE_NAME",
    "jwt_secret_parameter": "JWT_SECRET_PARAMETER",
    "webhook_secret_parameter": "WEBHOOK_SECRET_PARAMETER",
    "secrets_max_age_seconds": "SECRETS_MAX_AGE_SECONDS",
    "broker": "BROKER",
    "broker_base_url": "BROKER_BASE_URL",
    "broker_timeout_seconds": "BROKER_TIMEOUT_SECONDS",
    "alpaca_key_id": "ALPACA_API_KEY_ID",
    "alpaca_secret_key": "ALPACA_API_SECRET_KEY",
    "alpaca_secret_parameter": "ALPACA_SECRET_PARAMETER",
    "tradier_token": "TRADIER_ACCESS_TOKEN",
    "tradier_token_parameter": "TRADIER_TOKEN_PARAMETER",
    "tradier_account_id": "TRADIER_ACCOUNT_ID",
    "live_trading_confirmed": "LIVE_TRADING_CONFIRMED",
    "order_price": "ORDER_PRICE",
    "order_price_step": "ORDER_PRICE_STEP",
    "reprice_step": "REPRICE_STEP",
    "max_reprices": "MAX_REPRICES",
    "penny_everywhere_tickers": "PENNY_EVERYWHERE_TICKERS",
    "non_penny_tickers": "NON_PENNY_TICKERS",
    "reprice_after_seconds": "REPRICE_AFTER_SECONDS",
    "live_max_order_notional": "LIVE_MAX_ORDER_NOTIONAL",
    "live_max_daily_notional": "LIVE_MAX_DAILY_NOTIONAL",
    "notify_slack_webhook_url": "NOTIFY_SLACK_WEBHOOK_URL",
    "notify_discord_webhook_url": "NOTIFY_DISCORD_WEBHOOK_URL",
    "notify_telegram_bot_token": "NOTIFY_TELEGRAM_BOT_TOKEN",
    "notify_telegram_chat_id": "NOTIFY_TELEGRAM_CHAT_ID",
    "notify_telegram_api_url": "NOTIFY_TELEGRAM_API_URL",
    "notify_webhook_url": "NOTIFY_WEBHOOK_URL",
    "notify_sns_topic_arn": "NOTIFY_SNS_TOPIC_ARN",
    "notify_console": "NOTIFY_CONSOLE",
    "notify_slack_webhook_parameter": "NOTIFY_SLACK_WEBHOOK_PARAMETER",
    "notify_discord_webhook_parameter": "NOTIFY_DISCORD_WEBHOOK_PARAMETER",
    "notify_telegram_bot_token_parameter": "NOTIFY_TELEGRAM_BOT_TOKEN_PARAMETER",
    "notify_webhook_parameter": "NOTIFY_WEBHOOK_PARAMETER",
    "notify_max_attempts": "NOTIFY_MAX_ATTEMPTS",
    "notify_backoff_seconds": "NOTIFY_BACKOFF_SECONDS",
    "notify_timeout_seconds": "NOTIFY_TIMEOUT_SECONDS",
    "notify_retention_days": "NOTIFY_RETENTION_DAYS",
    "market_data": "MARKET_DATA",
    "market_data_key": "MARKET_DATA_KEY",
    "market_data_key_id": "MARKET_DATA_KEY_ID",
    "market_data_key_parameter": "MARKET_DATA_KEY_PARAMETER",
    "market_data_url": "MARKET_DATA_URL",
    "alpaca_trading_url": "ALPACA_TRADING_URL",
    "alpaca_stock_feed": "ALPACA_STOCK_FEED",
    "alpaca_option_feed": "ALPACA_OPTION_FEED",
    "max_quote_age_seconds": "MAX_QUOTE_AGE_SECONDS",
    "contract_source": "CONTRACT_SOURCE",
    "contract_min_dte": "CONTRACT_MIN_DTE",
    "contract_max_dte": "CONTRACT_MAX_DTE",
    "strike_selection": "STRIKE_SELECTION",
    "target_delta": "TARGET_DELTA",
    "strike_steps": "STRIKE_STEPS",
    "max_spread_share": "MAX_SPREAD_SHARE",
    "min_open_interest": "MIN_OPEN_INTEREST",
}

# Notification secrets given by reference (field holding the value, field naming its SSM parameter or
# secret): resolved like the JWT and webhook secrets.
_NOTIFY_SECRETS = (
    ("notify_slack_webhook_url", "notify_slack_webhook_parameter"),
    ("notify_discord_webhook_url", "notify_discord_webhook_parameter"),
    ("notify_telegram_bot_token", "notify_telegram_bot_token_parameter"),
    ("notify_webhook_url", "notify_webhook_parameter"),
)


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from environment variables (names in `_ENV`, and each worker's
    `<WORKER>_FUNCTION_NAME`); empty values count as unset."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {field: env[var] for field, var in _ENV.items() if env.get(var)}
    values["worker_function_names"] = {
        w.name: env[w.function_env] for w in WORKERS if env.get(w.function_env)
    }
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a rule across settings: its message names them
            raise ConfigurationError(str(first["msg"]).removeprefix("Value error, ")) from exc
        field = str(first["loc"][0])
        raise ConfigurationError(f"{_ENV.get(field, field)}: {first['msg']}") from exc


def resolve_secrets(settings: Settings) -> Settings:
    """Fill the database URL, JWT secret, webhook secret, the broker keys and (for a real market-data
    provider) its key from their AWS references where no plain value is set. Powertools caches each value for `secrets_max_age_seconds`, so calling this per request costs
    a dictionary lookup; without references it returns `settings` unchanged and imports nothing."""
    updates: dict[str, str] = {}
    max_age = settings.secrets_max_age_seconds
    if not settings.database_url and settings.database_secret_arn:
        secret = _fetch_secret(settings.database_secret_arn, max_age, "DATABASE_SECRET_ARN")
        updates["database_url"] = database_url_from_secret(
            secret, host=settings.database_host, dbname=settings.database_name
        )
    if not settings.jwt_secret and settings.jwt_secret_parameter:
        updates["jwt_secret"] = _fetch(settings.jwt_secret_parameter, max_age, "JWT_SECRET_PARAMETER")
    if not settings.webhook_secret and settings.webhook_secret_parameter:
        updates["webhook_secret"] = _fetch(
            settings.webhook_secret_parameter, max_age, "WEBHOOK_SECRET_PARAMETER"
        )
    if not (settings.alpaca_key_id and settings.alpaca_secret_key) and settings.alpaca_secret_parameter:
        keys = _fetch(settings.alpaca_secret_parameter, max_age, "ALPACA_SECRET_PARAMETER")
        updates.update(alpaca_keys_from_secret(keys))
    if not settings.tradier_token and settings.tradier_token_parameter:
        updates["tradier_token"] = _fetch(
            settings.tradier_token_parameter, max_age, "TRADIER_TOKEN_PARAMETER"
        )
    for value_field, reference_field in _NOTIFY_SECRETS:
        reference = getattr(settings, reference_field)
        if not getattr(settings, value_field) and reference:
            updates[value_field] = _fetch(reference, max_age, _ENV[reference_field])
    if (
        settings.market_data != "simulated"
        and not settings.market_data_key
        and settings.market_data_key_parameter
    ):
        updates["market_data_key"] = _fetch(
            settings.market_data_key_parameter, max_age, "MARKET_DATA_KEY_PARAMETER"
        )
    return settings.model_copy(update=updates) if updates else settings


def refetch_database_secret() -> bool:
    """Fetch the database secret again, past its cache: the database refused the credentials it holds (RDS
    rotated the password since). False, fetching nothing, when the database URL is not from a secret."""
    settings = _override[0] if _override else _environment_settings()
    if settings.database_url or not settings.database_secret_arn:
        return False
    from optionflow.observability import logger

    logger.warning(
        "database login refused; fetching its secret again", extra={"secret": settings.database_secret_arn}
    )
    try:
        _provider("secretsmanager").get(
            settings.database_secret_arn, max_age=settings.secrets_max_age_seconds, force_fetch=True
        )
    except Exception as exc:  # as in _fetch
        raise ConfigurationError(
            f"DATABASE_SECRET_ARN: cannot read secret {settings.database_secret_arn}: {exc}"
        ) from exc
    return True


def alpaca_keys_from_secret(secret: str) -> dict[str, str]:
    """The Alpaca key pair from a secret's JSON value: {"key_id": ..., "secret_key": ...}."""
    try:
        fields = json.loads(secret)
    except ValueError:
        fields = None
    if not isinstance(fields, dict) or not fields.get("key_id") or not fields.get("secret_key"):
        raise ConfigurationError("ALPACA_SECRET_PARAMETER: the secret is not JSON with key_id and secret_key")
    return {"alpaca_key_id": str(fields["key_id"]), "alpaca_secret_key": str(fields["secret_key"])}


def _is_secrets_manager_arn(reference: str) -> bool:
    return reference.startswith("arn:") and ":secretsmanager:" in reference


def _fetch(reference: str, max_age: int, variable: str) -> str:
    """A Secrets Manager ARN is read from Secrets Manager; anything else is an SSM parameter (name or ARN),
    decrypted when it is a SecureString."""
    if _is_secrets_manager_arn(reference):
        return _fetch_secret(reference, max_age, variable)
    try:
        value = _provider("ssm").get(reference, decrypt=True, max_age=max_age)
    except (
        Exception
    ) as exc:  # boto3 and Powertools raise many kinds; the caller needs one, naming the variable
        raise ConfigurationError(f"{variable}: cannot read SSM parameter {reference}: {exc}") from exc
    return _non_empty(value, reference, variable)


def _fetch_secret(reference: str, max_age: int, variable: str) -> str:
    try:
        value = _provider("secretsmanager").get(reference, max_age=max_age)
    except Exception as exc:  # as in _fetch
        raise ConfigurationError(f"{variable}: cannot read secret {reference}: {exc}") from exc
    return _non_empty(value, reference, variable)


# Powertools providers (each with its own cache), built on first fetch with request-path clients: a
# request that needs a secret waits on this fetch, so it gets short timeouts and one retry.
_providers: dict[str, Any] = {}


def _provider(service: Literal["ssm", "secretsmanager"]) -> Any:
    if service not in _providers:
        from aws_lambda_powertools.utilities import parameters

        from optionflow.aws_clients import request_path_client

        client = request_path_client(service, total_attempts=2)
        _providers[service] = (
            parameters.SSMProvider(boto3_client=client)
            if service == "ssm"
            else parameters.SecretsProvider(boto3_client=client)
        )
    return _providers[service]


def _non_empty(value: Any, reference: str, variable: str) -> str:
    text = value.decode() if isinstance(value, bytes) else str(value or "")
    if not text.strip():
        raise ConfigurationError(f"{variable}: {reference} is empty")
    return text.strip()


_POSTGRES_ENGINES = {"postgres", "postgresql", "aurora-postgresql"}


def database_url_from_secret(secret: str, *, host: str | None = None, dbname: str | None = None) -> str:
    """A Postgres URL from a secret's value: either a postgresql:// URL, or the JSON RDS and Secrets Manager
    rotation use ({"username", "password", "host", "port", "dbname", "engine"}; an RDS-managed master
    secret holds only username and password, so `host` and `dbname` fill the rest).

    `host` replaces the secret's host: an RDS Proxy endpoint takes the same credentials as its database.
    URLs built from JSON ask for TLS (`sslmode=require`), which RDS and RDS Proxy accept.
    """
    if secret.startswith(("postgresql://", "postgres://")):
        if not host:
            return secret
        parts = urlsplit(secret)
        credentials = parts.netloc.rpartition("@")[0]
        port = f":{parts.port}" if parts.port else ""
        netloc = f"{credentials}@{host}{port}" if credentials else f"{host}{port}"
        return urlunsplit(parts._replace(netloc=netloc))
    try:
        fields = json.loads(secret)
    except ValueError:
        fields = None
    if not isinstance(fields, dict) or not fields.get("username") or not fields.get("password"):
        raise ConfigurationError(
            "DATABASE_SECRET_ARN: the secret is neither a postgresql:// URL nor JSON with username and password"
        )
    engine = str(fields.get("engine") or "postgres").lower()
    if engine not in _POSTGRES_ENGINES:
        raise ConfigurationError(f"DATABASE_SECRET_ARN: the secret is for {engine}, not Postgres")
    server = host or fields.get("host")
    if not server:
        raise ConfigurationError("DATABASE_HOST: the secret names no host; set DATABASE_HOST")
    user = quote(str(fields["username"]), safe="")
    password = quote(str(fields["password"]), safe="")
    port_number = int(fields.get("port") or 5432)
    database = quote(str(dbname or fields.get("dbname") or "postgres"), safe="")
    return f"postgresql://{user}:{password}@{server}:{port_number}/{database}?sslmode=require"


def initialized_ahead(environ: dict[str, str] | None = None) -> bool:
    """Lambda initialises this instance before any request needs it (a SnapStart snapshot, or provisioned
    concurrency): what is imported now is not paid by a request, so nothing need wait for first use."""
    env = os.environ if environ is None else environ
    return env.get("AWS_LAMBDA_INITIALIZATION_TYPE") in ("snap-start", "provisioned-concurrency")


def tracing_enabled(environ: dict[str, str] | None = None) -> bool:
    """X-Ray tracing through Powertools: in Lambda (not SAM local), unless POWERTOOLS_TRACE_DISABLED."""
    env = os.environ if environ is None else environ
    if env.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    return bool(env.get("LAMBDA_TASK_ROOT")) and not env.get("AWS_SAM_LOCAL")


_override: list[Settings] = []


@lru_cache(maxsize=1)
def _environment_settings() -> Settings:
    return settings_from_env()


def get_settings() -> Settings:
    """The process-wide settings: the environment, read once (per warm Lambda) unless `use_settings`
    installed others, with secrets referenced in AWS filled in (cached for `secrets_max_age_seconds`)."""
    return resolve_secrets(_override[0] if _override else _environment_settings())


def reset_settings() -> None:
    """Forget cached and installed settings and fetched secrets; the next call reads the environment again."""
    _override.clear()
    _environment_settings.cache_clear()
    _providers.clear()


def use_settings(settings: Settings) -> None:
    """Install settings for this process (the local stack fills in generated secrets and its database)."""
    reset_settings()
    _override.append(settings)
