"""The simulated market is deterministic, continuous, cheap, and priced consistently."""

from __future__ import annotations

import itertools
import math
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optionflow.market.calendar import NEW_YORK
from optionflow.market.ports import MarketData
from optionflow.market.simulated import SimulatedMarketData
from optionflow.pricing.black_scholes import price

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=NEW_YORK)
EXPIRY = date(2026, 12, 18)


def test_simulated_market_satisfies_the_market_data_port():
    market: MarketData = SimulatedMarketData()
    assert isinstance(market.underlying_price("SPY", T0), Decimal)


def test_same_seed_gives_the_same_price_in_any_instance():
    first, second = SimulatedMarketData(7), SimulatedMarketData(7)
    assert first.underlying_price("SPY", T0) == second.underlying_price("SPY", T0)
    put = Decimal(500)
    assert first.option_quote("QQQ", "PUT", put, EXPIRY, T0) == second.option_quote(
        "QQQ", "PUT", put, EXPIRY, T0
    )


def test_the_same_instant_in_another_time_zone_has_the_same_price():
    market = SimulatedMarketData()
    assert market.underlying_price("SPY", T0) == market.underlying_price("SPY", T0.astimezone(UTC))


def test_a_different_seed_gives_a_different_price():
    seven, eight = SimulatedMarketData(7), SimulatedMarketData(8)
    assert seven.underlying_price("SPY", T0) != eight.underlying_price("SPY", T0)


def test_prices_are_cents_and_positive():
    for ticker in ("SPY", "QQQ", "ZZZZ"):
        p = SimulatedMarketData().underlying_price(ticker, T0)
        assert p > 0 and p == p.quantize(Decimal("0.01"))


def test_volatility_comes_from_the_ticker_table_with_a_default():
    market = SimulatedMarketData()
    assert market.volatility("SPY") == 0.16
    assert market.volatility("QQQ") == 0.20
    assert market.volatility("ZZZZ") == 0.30


def test_unknown_tickers_get_a_stable_base_price_from_their_name():
    assert SimulatedMarketData(1).base_price("ZZZZ") == SimulatedMarketData(2).base_price("ZZZZ")
    assert 20 <= SimulatedMarketData().base_price("ZZZZ") < 500
    assert SimulatedMarketData().base_price("ZZZZ") != SimulatedMarketData().base_price("YYYY")


@settings(max_examples=60, deadline=None)
@given(minutes=st.integers(0, 60 * 24 * 365 * 3), seed=st.integers(0, 1000))
def test_spy_moves_less_than_one_percent_in_a_minute(minutes, seed):
    market = SimulatedMarketData(seed)
    at = T0 + timedelta(minutes=minutes)
    a = market.underlying_price("SPY", at)
    b = market.underlying_price("SPY", at + timedelta(minutes=1))
    assert abs(b - a) / a < Decimal("0.01")


def test_moves_within_a_minute_are_continuous():
    market = SimulatedMarketData()
    prices = [market.underlying_price("SPY", T0 + timedelta(seconds=s)) for s in range(0, 121)]
    assert max(abs(b - a) for a, b in itertools.pairwise(prices)) <= Decimal("0.05")
    assert len(set(prices)) > 3  # it moves


def test_one_minute_log_returns_have_the_ticker_volatility():
    market = SimulatedMarketData()
    # spread samples over two years so the check covers many blocks of the walk
    starts = [T0 + timedelta(minutes=977 * i) for i in range(1500)]
    returns = [
        math.log(market._spot("SPY", t + timedelta(minutes=1)) / market._spot("SPY", t)) for t in starts
    ]
    annualised = statistics.pstdev(returns) * math.sqrt(365 * 24 * 60)
    assert annualised == pytest.approx(0.16, rel=0.1)


def test_prices_stay_near_their_base_over_years():
    market = SimulatedMarketData()
    prices = [float(market.underlying_price("SPY", T0 + timedelta(days=d))) for d in range(0, 3650, 7)]
    assert min(prices) > 600 * 0.5 and max(prices) < 600 * 2


def test_a_price_years_away_costs_no_more_than_one_nearby():
    market = SimulatedMarketData()
    started = time.perf_counter()
    for i in range(500):
        market.underlying_price("QQQ", T0 + timedelta(days=3000, minutes=7 * i))
    assert time.perf_counter() - started < 0.5


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        SimulatedMarketData().underlying_price("SPY", datetime(2026, 11, 23, 10, 0))


@pytest.mark.parametrize("kind", ["CALL", "PUT"])
@pytest.mark.parametrize("strike", [400, 520, 540, 560, 700])
def test_quotes_are_ordered_in_cents_with_a_bid_of_at_least_a_cent(kind, strike):
    quote = SimulatedMarketData().option_quote("SPY", kind, Decimal(strike), EXPIRY, T0)
    assert Decimal("0.01") <= quote.bid <= quote.mid <= quote.ask
    assert quote.ask - quote.bid <= Decimal("1.00")
    for value in (quote.bid, quote.mid, quote.ask):
        assert value == value.quantize(Decimal("0.01"))
    assert quote.as_of == T0 and quote.iv == 0.16


def test_quote_is_black_scholes_on_the_reported_underlying_to_expiry_at_four_pm():
    market = SimulatedMarketData(rate=0.04)
    quote = market.option_quote("SPY", "CALL", Decimal(540), EXPIRY, T0)
    years = (datetime(2026, 12, 18, 16, 0, tzinfo=NEW_YORK) - T0).total_seconds() / (365 * 86400)
    expected = price("CALL", float(quote.underlying), 540, years, 0.04, 0.16)
    assert abs(quote.mid - Decimal(str(expected))) <= Decimal("0.005")
    assert quote.underlying == market.underlying_price("SPY", T0)


def test_time_to_expiry_is_measured_in_real_seconds_across_daylight_saving():
    # From 10:00 EST on Nov 2 back to 10:00 EDT on Oct 30 is 3 days and 1 hour of real time.
    market = SimulatedMarketData()
    before = datetime(2026, 10, 30, 10, 0, tzinfo=NEW_YORK)
    quote = market.option_quote("SPY", "CALL", Decimal(540), date(2026, 11, 2), before)
    real_years = (datetime(2026, 11, 2, 21, 0, tzinfo=UTC) - before.astimezone(UTC)).total_seconds() / (
        365 * 86400
    )
    expected = price("CALL", float(quote.underlying), 540, real_years, market.rate, 0.16)
    assert abs(quote.mid - Decimal(str(expected))) <= Decimal("0.005")


def test_call_quote_increases_with_the_underlying():
    market = SimulatedMarketData()
    samples = [
        (market.underlying_price("SPY", t), market.option_quote("SPY", "CALL", Decimal(540), EXPIRY, t))
        for t in (T0 + timedelta(minutes=m) for m in range(0, 6 * 60, 3))
    ]
    spots = [spot for spot, _ in samples]
    assert max(spots) - min(spots) > Decimal(1)
    for spot, quote in samples:
        for other_spot, other in samples:
            if other_spot > spot + Decimal("0.50") and other.as_of - quote.as_of < timedelta(hours=1):
                assert other.mid >= quote.mid


def test_expired_option_quotes_its_intrinsic_value():
    market = SimulatedMarketData()
    at = datetime(2026, 11, 27, 17, 0, tzinfo=NEW_YORK)
    spot = market.underlying_price("SPY", at)
    quote = market.option_quote("SPY", "PUT", spot + 10, date(2026, 11, 27), at)
    assert quote.mid == Decimal(10)
    assert quote.greeks.delta == -1.0 and quote.greeks.theta_per_day == 0.0
