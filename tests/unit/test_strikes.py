"""Listed strike increments and at-the-money strike choice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.pricing.strikes import atm_strike, strike_increment


@pytest.mark.parametrize("ticker", ["SPY", "QQQ", "IWM", "DIA"])
def test_index_etfs_list_one_dollar_strikes_at_any_price(ticker):
    assert strike_increment(ticker, Decimal(20)) == 1
    assert strike_increment(ticker, Decimal(600)) == 1


@pytest.mark.parametrize(
    ("spot", "increment"),
    [
        ("0.50", "2.5"),
        ("24.99", "2.5"),
        ("25", "5"),
        ("120", "5"),
        ("200", "5"),
        ("200.01", "10"),
        ("450", "10"),
    ],
)
def test_other_tickers_follow_the_classic_listing_rule(spot, increment):
    assert strike_increment("XYZ", Decimal(spot)) == Decimal(increment)


def test_atm_strike_rounds_to_the_nearest_dollar_for_spy_with_halves_up():
    assert atm_strike("SPY", Decimal("601.49")) == 601
    assert atm_strike("SPY", Decimal("601.50")) == 602
    assert atm_strike("SPY", Decimal("601.51")) == 602


def test_atm_strike_uses_the_ticker_increment():
    assert atm_strike("XYZ", Decimal("123.40")) == 125
    assert atm_strike("XYZ", Decimal("122.50")) == 125  # halfway rounds up
    assert atm_strike("XYZ", Decimal("11.20")) == 10
    assert atm_strike("XYZ", Decimal("11.25")) == Decimal("12.5")
    assert atm_strike("XYZ", Decimal("444.99")) == 440


def test_a_very_cheap_stock_gets_the_lowest_listed_strike_not_zero():
    assert atm_strike("XYZ", Decimal("1.00")) == Decimal("2.5")


def test_non_positive_spot_is_refused():
    with pytest.raises(ValueError, match="spot"):
        atm_strike("SPY", Decimal(0))


@given(
    ticker=st.sampled_from(["SPY", "QQQ", "XYZ", "AAPL"]),
    spot=st.decimals(min_value=Decimal("1.25"), max_value=Decimal(5000), places=2),
)
def test_atm_strike_is_a_listed_strike_within_half_an_increment(ticker, spot):
    step = strike_increment(ticker, spot)
    strike = atm_strike(ticker, spot)
    assert strike % step == 0
    assert abs(strike - spot) <= step / 2
