"""APP_MODE=LIVE starts only with a broker, its keys accepted, an account approved for options and the
explicit confirmation; otherwise it refuses and says which failed. In LIVE, entries are capped per order and
per day on top of the risk limits; exits are never blocked."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from optionflow import config
from optionflow.brokers import provider
from optionflow.config import LIVE_CONFIRMATION, ConfigurationError, settings_from_env

from tests.broker_fakes import FakeAlpaca, FakeTradier, broker_settings
from tests.pipeline_support import alert, one, run


def test_live_on_the_paper_broker_refuses_to_start_and_names_broker():
    with pytest.raises(ConfigurationError, match="BROKER=alpaca or BROKER=tradier"):
        settings_from_env({"APP_MODE": "LIVE"})


def test_live_without_the_exact_confirmation_refuses_to_start_and_quotes_it():
    with pytest.raises(ConfigurationError, match="LIVE_TRADING_CONFIRMED") as caught:
        settings_from_env({"APP_MODE": "LIVE", "BROKER": "alpaca", "LIVE_TRADING_CONFIRMED": "yes"})
    assert LIVE_CONFIRMATION in str(caught.value)


def live(**extra: Any) -> dict[str, Any]:
    return {"app_mode": "LIVE", "live_trading_confirmed": LIVE_CONFIRMATION, **extra}


@pytest.fixture
def fresh_broker() -> Iterator[None]:
    provider.reset()
    yield
    provider.reset()


def test_live_without_credentials_refuses_to_start_and_says_which_keys(db, settings, fresh_broker):
    config.use_settings(settings.model_copy(update=live(broker="alpaca")))
    with pytest.raises(ConfigurationError, match="ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY"):
        run("paper_executor")
    config.use_settings(settings.model_copy(update=live(broker="tradier", tradier_token="t")))
    with pytest.raises(ConfigurationError, match="TRADIER_ACCOUNT_ID"):
        run("signal_processor")


def test_live_with_keys_the_broker_refuses_says_credentials(db, settings, fresh_broker):
    with FakeAlpaca() as alpaca:
        wrong = broker_settings(alpaca) | {"alpaca_secret_key": "not-the-secret"}
        config.use_settings(settings.model_copy(update=live(**wrong)))
        with pytest.raises(ConfigurationError, match="credentials: alpaca refused the API keys"):
            run("paper_executor")


def test_live_on_an_account_not_approved_to_buy_options_says_options_approval(db, settings, fresh_broker):
    with FakeTradier(options_level=1) as tradier:
        tradier.account_active = False
        config.use_settings(settings.model_copy(update=live(**broker_settings(tradier))))
        with pytest.raises(ConfigurationError) as caught:
            run("paper_executor")
    message = str(caught.value)
    assert message.startswith("APP_MODE=LIVE refused to start")
    assert "options approval" in message and "level 1" in message and "needs level 2" in message
    assert "not active" in message


@pytest.fixture
def live_alpaca(db, settings, market, fresh_broker) -> Iterator[FakeAlpaca]:
    with FakeAlpaca() as alpaca:
        config.use_settings(settings.model_copy(update=live(**broker_settings(alpaca))))
        db.execute("UPDATE risk_limits SET risk_per_trade = 5000")
        yield alpaca


def entry_of(db: Any, signal_id: str) -> dict[str, Any]:
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    return one(db, "SELECT status, reason, limit_price, mode FROM orders WHERE signal_id = %s", signal_id)


def test_live_with_a_ready_account_trades_and_caps_each_entry_and_the_day(db, live_alpaca):
    placed = entry_of(db, alert("SPY", quantity=1))
    assert (placed["status"], placed["mode"]) == ("SUBMITTED", "LIVE")
    one_contract = placed["limit_price"] * 100
    # caps of one and a half contracts: two at once are over the order cap; a second one, over the day's
    caps = {"live_max_order_notional": one_contract * 3 / 2, "live_max_daily_notional": one_contract * 3 / 2}
    config.use_settings(config.get_settings().model_copy(update=caps))

    too_big = alert("SPY", quantity=2, timeframe="15")
    refused = entry_of(db, too_big)
    assert refused["status"] == "REJECTED" and "LIVE per-order cap" in refused["reason"]
    assert one(db, "SELECT status FROM signals WHERE id = %s", too_big)["status"] == "FAILED"

    over_the_day = entry_of(db, alert("SPY", quantity=1, timeframe="60"))
    assert over_the_day["status"] == "REJECTED" and "LIVE per-day cap" in over_the_day["reason"]
    assert len(live_alpaca.orders) == 1  # neither capped entry reached the broker


def test_exits_are_never_capped_in_live(db, live_alpaca):
    live_alpaca.next_submits("fill")
    entry_of(db, alert("SPY", quantity=1))
    run("paper_executor")
    config.use_settings(
        config.get_settings().model_copy(
            update={"live_max_order_notional": Decimal("0.01"), "live_max_daily_notional": Decimal("0.01")}
        )
    )
    closing = alert("SPY", action="CLOSE", direction=None)
    run("signal_processor")
    run("order_creator")
    run("paper_executor")
    exit_order = one(db, "SELECT status, side FROM orders WHERE purpose = 'EXIT'")
    assert exit_order == {"status": "SUBMITTED", "side": "SELL_TO_CLOSE"}
    assert one(db, "SELECT status FROM signals WHERE id = %s", closing)["status"] == "ORDERED"


def test_the_trading_mode_names_the_broker_modes():
    assert settings_from_env({"BROKER": "Alpaca"}).trading_mode == "broker-paper"
    live_env = {"APP_MODE": "LIVE", "BROKER": "tradier", "LIVE_TRADING_CONFIRMED": LIVE_CONFIRMATION}
    assert settings_from_env(live_env).trading_mode == "live"
    assert settings_from_env({}).trading_mode == "simulated"
