"""The process's order broker: built from the settings on first use (no connection at import), and in
LIVE only after the live gate has passed (`brokers/live_gate.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optionflow.config import ConfigurationError

if TYPE_CHECKING:
    from optionflow.brokers.ports import OrderBroker
    from optionflow.config import Settings

_built: dict[tuple[str | None, ...], OrderBroker] = {}


def _key(settings: Settings) -> tuple[str | None, ...]:
    return (
        settings.broker,
        settings.app_mode,
        settings.broker_base_url,
        settings.alpaca_key_id,
        settings.alpaca_secret_key,
        settings.tradier_token,
        settings.tradier_account_id,
        str(settings.broker_timeout_seconds),
    )


def build(settings: Settings) -> OrderBroker:
    """The adapter `settings.broker` names, with its keys; ConfigurationError naming the missing ones."""
    from optionflow.http_json import Timeouts

    live = settings.app_mode == "LIVE"
    timeouts = Timeouts(
        connect=min(2.0, settings.broker_timeout_seconds), read=settings.broker_timeout_seconds
    )
    if settings.broker == "alpaca":
        from optionflow.brokers import alpaca

        if not (settings.alpaca_key_id and settings.alpaca_secret_key):
            raise ConfigurationError(
                "ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY (or ALPACA_SECRET_PARAMETER) are not set: "
                "BROKER=alpaca needs the account's API keys"
            )
        url = settings.broker_base_url or (alpaca.LIVE_URL if live else alpaca.PAPER_URL)
        return alpaca.AlpacaBroker(
            settings.alpaca_key_id, settings.alpaca_secret_key, base_url=url, timeouts=timeouts
        )
    if settings.broker == "tradier":
        from optionflow.brokers import tradier

        if not settings.tradier_token or not settings.tradier_account_id:
            raise ConfigurationError(
                "TRADIER_ACCESS_TOKEN (or TRADIER_TOKEN_PARAMETER) and TRADIER_ACCOUNT_ID are not set: "
                "BROKER=tradier needs the account's token and number"
            )
        url = settings.broker_base_url or (tradier.LIVE_URL if live else tradier.SANDBOX_URL)
        return tradier.TradierBroker(
            settings.tradier_token, settings.tradier_account_id, base_url=url, timeouts=timeouts
        )
    raise ConfigurationError(f"BROKER={settings.broker} sends no orders to a broker")


def order_broker(settings: Settings) -> OrderBroker | None:
    """None for BROKER=paper; else the adapter, built once per process (per configuration). In LIVE the
    gate runs first and a failure raises ConfigurationError saying which check failed."""
    if settings.broker == "paper":
        return None
    key = _key(settings)
    if key not in _built:
        broker = build(settings)
        if settings.app_mode == "LIVE":
            from optionflow.brokers.live_gate import require_live_ready

            require_live_ready(settings, broker)
        _built.clear()
        _built[key] = broker
    return _built[key]


def reset() -> None:
    """Forget the built broker (tests, a settings change)."""
    _built.clear()
