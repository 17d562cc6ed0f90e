"""The simulated market is deterministic, continuous and priced consistently."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from optionflow.market.simulated import SimulatedMarketData

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def test_same_seed_same_price_in_any_instance_and_another_seed_differs():
    assert SimulatedMarketData(7).underlying_price("SPY", T0) == SimulatedMarketData(7).underlying_price(
        "SPY", T0
    )
    assert SimulatedMarketData(7).underlying_price("SPY", T0) != SimulatedMarketData(8).underlying_price(
        "SPY", T0
    )


@settings(max_examples=50, deadline=None)
@given(minutes=st.integers(0, 60 * 24 * 30))
def test_an_index_etf_moves_far_less_than_half_a_percent_in_a_minute(minutes):
    market = SimulatedMarketData()
    at = T0 + timedelta(minutes=minutes)
    a = market.underlying_price("SPY", at)
    b = market.underlying_price("SPY", at + timedelta(minutes=1))
    assert abs(b - a) / a < Decimal("0.002")


def test_quotes_are_ordered_and_calls_gain_when_the_underlying_rises():
    market = SimulatedMarketData()
    quote = market.option_quote("SPY", "CALL", Decimal(600), date(2026, 12, 18), T0)
    assert Decimal("0.01") <= quote.bid <= quote.mid <= quote.ask
    later = [T0 + timedelta(minutes=m) for m in range(0, 600, 7)]
    pairs = [
        (
            market.underlying_price("SPY", t),
            market.option_quote("SPY", "CALL", Decimal(600), date(2026, 12, 18), t).mid,
        )
        for t in later
    ]
    low, high = min(pairs), max(pairs)
    assert high[1] > low[1]


def test_expired_option_quotes_its_intrinsic_value():
    market = SimulatedMarketData()
    at = datetime(2026, 11, 27, 17, 0, tzinfo=ZoneInfo("America/New_York"))
    spot = market.underlying_price("SPY", at)
    quote = market.option_quote("SPY", "PUT", spot + 10, date(2026, 11, 27), at)
    assert abs(quote.mid - Decimal(10)) <= Decimal("0.01")
