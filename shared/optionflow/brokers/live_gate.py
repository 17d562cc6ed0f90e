"""The LIVE gate: APP_MODE=LIVE starts only with keys the broker accepts, an account approved for the
options orders we place, and the explicit confirmation (checked in config). Each failure is named."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optionflow.brokers.ports import BrokerError
from optionflow.config import ConfigurationError

if TYPE_CHECKING:
    from optionflow.brokers.ports import Account, OrderBroker
    from optionflow.config import Settings

# Buying calls and puts to open: Alpaca level 2, Tradier level 2 (level 1 is covered calls and
# cash-secured puts only).
REQUIRED_OPTIONS_LEVEL = {"alpaca": 2, "tradier": 2}


def live_failures(settings: Settings, broker: OrderBroker) -> list[str]:
    """What stops LIVE from starting, in words; empty when it may start."""
    failures: list[str] = []
    try:
        account: Account = broker.account()
    except BrokerError as exc:
        if exc.unauthorized:
            failures.append(f"credentials: {broker.name} refused the API keys ({exc})")
        else:
            failures.append(f"credentials: the {broker.name} account could not be read ({exc})")
        return failures
    if not account.active:
        failures.append(
            f"account: {broker.name} account {account.account_id} is {account.status}, not active"
        )
    needed = REQUIRED_OPTIONS_LEVEL[broker.name]
    if account.options_level < needed:
        failures.append(
            f"options approval: {broker.name} account {account.account_id} is approved for options level "
            f"{account.options_level}; buying calls and puts needs level {needed}"
        )
    return failures


def require_live_ready(settings: Settings, broker: OrderBroker) -> None:
    """Raise ConfigurationError listing every failed check, or return when LIVE may start."""
    failures = live_failures(settings, broker)
    if failures:
        raise ConfigurationError("APP_MODE=LIVE refused to start: " + "; ".join(failures))
