"""The simulated market is deterministic, continuous, cheap, and priced consistently."""

from __future__ import annotations

import itertools
import math
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from optionflow.calendar import NEW_YORK
from optionflow.market.ports import ContractExpired, MarketData
from optionflow.market.simulated import SimulatedMarketData
from optionflow.pricing import american
from optionflow.pricing.implied_vol import NoTimeValue, implied_volatility

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


def test_dividend_yields_come_from_the_ticker_table_with_a_default():
    market = SimulatedMarketData()
    assert market.dividend_yield("SPY") == 0.012
    assert market.dividend_yield("DIA") == 0.016
    assert market.dividend_yield("ZZZZ") == 0.0


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


def test_quote_is_the_american_price_on_the_reported_underlying_to_the_four_pm_close():
    market = SimulatedMarketData(rate=0.04)
    quote = market.option_quote("SPY", "PUT", Decimal(620), EXPIRY, T0)
    years = (datetime(2026, 12, 18, 16, 0, tzinfo=NEW_YORK) - T0).total_seconds() / (365 * 86400)
    expected = american.price("PUT", float(quote.underlying), 620, years, 0.04, 0.16, 0.012)
    assert abs(quote.mid - Decimal(str(expected))) <= Decimal("0.005")
    assert quote.underlying == market.underlying_price("SPY", T0)
    assert quote.greeks == american.greeks("PUT", float(quote.underlying), 620, years, 0.04, 0.16, 0.012)


def test_the_mid_read_as_american_implies_the_ticker_volatility_and_a_deep_put_none():
    market = SimulatedMarketData()
    years = (datetime(2026, 12, 18, 16, 0, tzinfo=NEW_YORK) - T0).total_seconds() / (365 * 86400)
    spot = market.underlying_price("SPY", T0)
    quote = market.option_quote("SPY", "PUT", spot.quantize(Decimal(1)), EXPIRY, T0)
    vol = implied_volatility(
        "PUT",
        float(quote.mid),
        float(spot),
        float(spot.quantize(Decimal(1))),
        years,
        0.04,
        0.012,
        exercise="american",
        rounding=0.005,
    )
    assert vol == pytest.approx(0.16, abs=1e-3)  # a cent's rounding over a vega of ~$0.6 per point
    deep = market.option_quote("SPY", "PUT", spot.quantize(Decimal(1)) + 200, EXPIRY, T0)
    with pytest.raises(NoTimeValue):
        implied_volatility(
            "PUT",
            float(deep.mid),
            float(spot),
            float(spot.quantize(Decimal(1)) + 200),
            years,
            0.04,
            0.012,
            exercise="american",
            rounding=0.005,
        )


def test_time_to_expiry_is_measured_in_real_seconds_across_daylight_saving():
    # From 10:00 EST on Nov 2 back to 10:00 EDT on Oct 30 is 3 days and 1 hour of real time.
    market = SimulatedMarketData()
    before = datetime(2026, 10, 30, 10, 0, tzinfo=NEW_YORK)
    quote = market.option_quote("SPY", "CALL", Decimal(540), date(2026, 11, 2), before)
    real_years = (datetime(2026, 11, 2, 21, 0, tzinfo=UTC) - before.astimezone(UTC)).total_seconds() / (
        365 * 86400
    )
    expected = american.price("CALL", float(quote.underlying), 540, real_years, market.rate, 0.16, 0.012)
    assert abs(quote.mid - Decimal(str(expected))) <= Decimal("0.005")


def test_time_value_runs_to_the_one_pm_close_on_an_early_close_day():
    # 2026-11-27, the day after Thanksgiving, closes at 13:00: one second before, an at-the-money call
    # has a second of time value left (it had $0.37 when time value ran to 16:00).
    market = SimulatedMarketData()
    at = datetime(2026, 11, 27, 12, 59, 59, tzinfo=NEW_YORK)
    spot = market.underlying_price("SPY", at)
    quote = market.option_quote("SPY", "CALL", spot.quantize(Decimal(1)), date(2026, 11, 27), at)
    assert quote.mid - max(Decimal(0), spot - spot.quantize(Decimal(1))) <= Decimal("0.01")


def test_a_contract_has_no_quote_from_its_expiry_close_on():
    market = SimulatedMarketData()
    close = datetime(2026, 11, 27, 13, 0, tzinfo=NEW_YORK)
    for at in (close, close + timedelta(hours=4), close.astimezone(UTC)):
        with pytest.raises(
            ContractExpired, match=r"SPY PUT 600 expiring 2026-11-27 expired at the 2026-11-27 13:00"
        ):
            market.option_quote("SPY", "PUT", Decimal(600), date(2026, 11, 27), at)
    with pytest.raises(ContractExpired) as raised:
        market.option_quote("SPY", "PUT", Decimal(600), date(2026, 11, 27), close)
    expired = raised.value
    assert (expired.ticker, expired.option_type, expired.strike) == ("SPY", "PUT", Decimal(600))
    assert expired.expiry == date(2026, 11, 27) and expired.expired_at == close
    assert isinstance(expired, ValueError)


def test_an_expiry_dated_on_a_closed_day_ends_at_the_previous_close():
    # Saturday-dated monthlies (the convention before 2015) stop trading at Friday's close.
    market = SimulatedMarketData()
    friday_close = datetime(2026, 12, 18, 16, 0, tzinfo=NEW_YORK)
    assert market.option_quote(
        "SPY", "CALL", Decimal(600), date(2026, 12, 19), friday_close - timedelta(minutes=1)
    )
    with pytest.raises(ContractExpired):
        market.option_quote("SPY", "CALL", Decimal(600), date(2026, 12, 19), friday_close)


@settings(max_examples=300, deadline=None)
@given(
    minutes=st.integers(0, 60 * 24 * 60),
    offset=st.integers(-40, 40),
    kind=st.sampled_from(["CALL", "PUT"]),
    ticker=st.sampled_from(["SPY", "QQQ", "IWM", "DIA", "TSLA", "ZZZZ"]),
    weeks=st.integers(0, 12),
)
def test_mid_is_never_below_intrinsic_value_and_the_bid_at_most_a_cent_below(
    minutes, offset, kind, ticker, weeks
):
    market = SimulatedMarketData()
    at = T0 + timedelta(minutes=minutes)
    spot = market.underlying_price(ticker, at)
    strike = spot.quantize(Decimal(1)) + offset
    expiry = (at + timedelta(days=1 + 7 * weeks)).date()
    assume(strike > 0)
    try:
        quote = market.option_quote(ticker, kind, strike, expiry, at)
    except ContractExpired:
        assume(False)
    intrinsic = max(Decimal(0), spot - strike if kind == "CALL" else strike - spot)
    assert quote.mid >= intrinsic
    assert quote.bid >= intrinsic - Decimal("0.01")
    assert Decimal("0.01") <= quote.bid <= quote.mid <= quote.ask


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
