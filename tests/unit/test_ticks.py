"""The option tick: Penny Interval Program classes quote in $0.01 below $3.00 and $0.05 at or above, the
penny-everywhere classes (SPY, QQQ, IWM) in $0.01 at every price, classes outside the program in $0.05
below $3.00 and $0.10 at or above; a limit goes onto it down to buy and up to sell."""

from __future__ import annotations

from decimal import Decimal

import pytest
from optionflow import config
from optionflow.config import ConfigurationError
from optionflow.pricing.ticks import tick_size, to_tick

D = Decimal
OUTSIDE = frozenset({"XYZ"})


def tick(ticker: str, price: Decimal) -> Decimal:
    return tick_size(ticker, price, nickel_dime=OUTSIDE)


@pytest.mark.parametrize(
    ("ticker", "price", "size", "buy", "sell"),
    [
        # a penny-program class (the default for every ticker)
        ("AAPL", "2.99", "0.01", "2.99", "2.99"),
        ("AAPL", "3.00", "0.05", "3.00", "3.00"),
        ("AAPL", "3.01", "0.05", "3.00", "3.05"),
        ("AAPL", "4.37", "0.05", "4.35", "4.40"),
        # a penny-everywhere class
        ("SPY", "2.99", "0.01", "2.99", "2.99"),
        ("SPY", "3.00", "0.01", "3.00", "3.00"),
        ("SPY", "3.01", "0.01", "3.01", "3.01"),
        ("QQQ", "4.37", "0.01", "4.37", "4.37"),
        # a class outside the program
        ("XYZ", "2.99", "0.05", "2.95", "3.00"),
        ("XYZ", "3.00", "0.10", "3.00", "3.00"),
        ("XYZ", "3.01", "0.10", "3.00", "3.10"),
        ("XYZ", "2.97", "0.05", "2.95", "3.00"),
    ],
)
def test_a_limit_goes_down_to_the_tick_to_buy_and_up_to_sell(ticker, price, size, buy, sell):
    assert tick(ticker, D(price)) == D(size)
    assert to_tick(D(price), tick(ticker, D(price)), "BUY_TO_OPEN") == D(buy)
    assert to_tick(D(price), tick(ticker, D(price)), "SELL_TO_CLOSE") == D(sell)


def test_a_half_cent_mid_rounds_to_the_traders_advantage():
    assert to_tick(D("2.025"), D("0.01"), "BUY_TO_OPEN") == D("2.02")
    assert to_tick(D("2.025"), D("0.01"), "SELL_TO_CLOSE") == D("2.03")


def test_a_limit_is_never_below_one_tick():
    assert to_tick(D("0.02"), D("0.05"), "BUY_TO_OPEN") == D("0.05")
    assert to_tick(D("0.001"), D("0.01"), "SELL_TO_CLOSE") == D("0.01")


def test_tickers_match_whatever_their_case_and_outside_the_program_wins():
    assert tick_size("spy", D("5")) == D("0.01")
    assert tick_size("SPY", D("5"), nickel_dime=frozenset({"SPY"})) == D("0.10")
    assert tick_size("TSLA", D("5"), penny_everywhere=frozenset({"TSLA"})) == D("0.01")


def test_an_unknown_side_or_a_nonpositive_tick_is_refused():
    with pytest.raises(ValueError, match="unknown side"):
        to_tick(D("1"), D("0.01"), "HOLD")
    with pytest.raises(ValueError, match="tick must be positive"):
        to_tick(D("1"), D("0"), "BUY_TO_OPEN")


def test_the_classes_come_from_the_environment():
    settings = config.settings_from_env(
        {"PENNY_EVERYWHERE_TICKERS": "spy, tsla ,", "NON_PENNY_TICKERS": "XYZ,abc", "APP_MODE": "PAPER"}
    )
    assert settings.penny_everywhere_tickers == frozenset({"SPY", "TSLA"})
    assert settings.non_penny_tickers == frozenset({"XYZ", "ABC"})
    defaults = config.settings_from_env({"APP_MODE": "PAPER"})
    assert defaults.penny_everywhere_tickers == frozenset({"SPY", "QQQ", "IWM"})
    assert defaults.non_penny_tickers == frozenset()


def test_a_malformed_ticker_list_is_refused_naming_the_setting():
    with pytest.raises(ConfigurationError, match=r"NON_PENNY_TICKERS: .*'A B'"):
        config.settings_from_env({"NON_PENNY_TICKERS": "XYZ,A B", "APP_MODE": "PAPER"})
