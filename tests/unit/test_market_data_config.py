"""MARKET_DATA picks the adapter by name; a real provider without its key refuses to start, saying which
variable is missing; the trading mode is named from the settings."""

from __future__ import annotations

import pytest
from optionflow.config import ConfigurationError, Settings, settings_from_env
from optionflow.market.alpaca import AlpacaMarketData
from optionflow.market.massive import MassiveMarketData
from optionflow.market.provider import ProcessMarketData, build_market_data, set_market_data
from optionflow.market.simulated import SimulatedMarketData
from optionflow.market.tradier import TradierMarketData
from optionflow.trading_mode import trading_mode


def test_simulated_is_the_default_and_needs_no_key():
    settings = settings_from_env({})
    assert settings.market_data == "simulated" and settings.trading_mode == "simulated"
    assert isinstance(build_market_data(settings), SimulatedMarketData)


@pytest.mark.parametrize(
    ("name", "adapter", "host"),
    [
        ("tradier", TradierMarketData, "https://api.tradier.com/v1"),
        ("massive", MassiveMarketData, "https://api.massive.com"),
        ("alpaca", AlpacaMarketData, "https://data.alpaca.markets"),
    ],
)
def test_a_real_provider_is_built_by_name_with_its_key(name, adapter, host):
    env = {"MARKET_DATA": name, "MARKET_DATA_KEY": "k3y-value", "MARKET_DATA_KEY_ID": "AKID"}
    settings = settings_from_env(env)
    market = build_market_data(settings)
    assert isinstance(market, adapter) and market.client.base_url == host
    assert settings.trading_mode == "paper-real-quotes"
    assert "k3y-value" not in repr(market) and "k3y-value" not in repr(settings)


def test_a_sandbox_host_is_configurable():
    settings = settings_from_env(
        {
            "MARKET_DATA": "tradier",
            "MARKET_DATA_KEY": "k",
            "MARKET_DATA_URL": "https://sandbox.tradier.com/v1",
        }
    )
    assert build_market_data(settings).client.base_url == "https://sandbox.tradier.com/v1"  # type: ignore[attr-defined]


def test_a_real_provider_without_its_key_says_which_variable_is_missing():
    with pytest.raises(ConfigurationError, match="MARKET_DATA=tradier needs MARKET_DATA_KEY"):
        build_market_data(settings_from_env({"MARKET_DATA": "tradier"}))
    with pytest.raises(ConfigurationError, match="MARKET_DATA_KEY_ID"):
        build_market_data(settings_from_env({"MARKET_DATA": "alpaca", "MARKET_DATA_KEY": "s"}))


def test_an_unknown_provider_is_refused_naming_the_variable():
    with pytest.raises(ConfigurationError, match="MARKET_DATA"):
        settings_from_env({"MARKET_DATA": "bloomberg"})


def test_each_run_gets_its_own_cache_over_the_same_connections():
    market = build_market_data(Settings(market_data="tradier", market_data_key="k"))
    set_market_data(market)
    try:
        first, second = ProcessMarketData(), ProcessMarketData()
        run_one, run_two = first._market(), second._market()
        assert run_one is not run_two and run_one is first._market()
        assert run_one.client is run_two.client is market.client  # type: ignore[attr-defined]
    finally:
        set_market_data(None)


@pytest.mark.parametrize(
    ("market", "broker", "mode", "expected"),
    [
        ("simulated", "paper", "PAPER", "simulated"),
        ("tradier", "paper", "PAPER", "paper-real-quotes"),
        ("alpaca", "", "PAPER", "paper-real-quotes"),
        ("alpaca", "alpaca", "PAPER", "broker-paper"),
        ("tradier", "tradier", "LIVE", "live"),
    ],
)
def test_the_trading_mode_is_named_from_market_data_broker_and_app_mode(market, broker, mode, expected):
    assert trading_mode(market, broker, mode) == expected


def test_contracts_come_from_the_chain_for_a_real_provider_and_from_the_grid_for_the_simulator():
    assert settings_from_env({}).contract_from_chain is False
    assert settings_from_env({"CONTRACT_SOURCE": "chain"}).contract_from_chain is True
    assert settings_from_env({"MARKET_DATA": "tradier"}).contract_from_chain is True
    assert (
        settings_from_env({"MARKET_DATA": "tradier", "CONTRACT_SOURCE": "grid"}).contract_from_chain is False
    )


def test_a_dte_window_upside_down_is_refused_naming_both_settings():
    with pytest.raises(ConfigurationError, match=r"^CONTRACT_MIN_DTE 9 is above CONTRACT_MAX_DTE 3$"):
        settings_from_env({"CONTRACT_MIN_DTE": "9", "CONTRACT_MAX_DTE": "3"})
    with pytest.raises(ConfigurationError, match=r"^MAX_SPREAD_SHARE: "):
        settings_from_env({"MAX_SPREAD_SHARE": "-0.1"})


def test_a_replay_with_a_real_provider_prices_on_the_simulator():
    from datetime import UTC, datetime

    from optionflow.clock import FrozenClock
    from optionflow.composition import for_replay

    from tests.fakes import RecordingBus, fake_dependencies

    at = datetime(2026, 12, 7, 15, tzinfo=UTC)
    base = fake_dependencies(at).replace(
        settings=Settings(market_data="tradier", market_data_key="k", market_seed=3)
    )
    scratch = for_replay(
        base, database_url="postgresql://unused/db", clock=FrozenClock(at), bus=RecordingBus()
    )
    assert isinstance(scratch.market, SimulatedMarketData) and scratch.market.seed == 3
    assert scratch.settings.market_data == "simulated" and scratch.settings.trading_mode == "simulated"
