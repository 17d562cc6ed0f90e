"""Implied volatility recovers the volatility that priced an option (European or American), never fails
strictly inside the no-arbitrage bounds, and says so when a price carries no time value."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from optionflow.pricing import american
from optionflow.pricing.black_scholes import greeks, price
from optionflow.pricing.implied_vol import NoTimeValue, implied_volatility, no_arbitrage_bounds


def test_hull_example_15_6_call_price_implies_twenty_percent():
    assert implied_volatility("CALL", 4.759422, 42, 40, 0.5, 0.10) == pytest.approx(0.20, abs=1e-6)


def test_hull_example_15_6_put_price_implies_twenty_percent():
    assert implied_volatility("PUT", 0.808599, 42, 40, 0.5, 0.10) == pytest.approx(0.20, abs=1e-6)


def test_dividend_yield_is_honoured():
    p = price("PUT", 100, 95, 0.5, 0.10, 0.20, 0.05)  # Haug p.4, Merton
    assert implied_volatility("PUT", p, 100, 95, 0.5, 0.10, 0.05) == pytest.approx(0.20, abs=1e-9)


@pytest.mark.parametrize(
    ("kind", "s", "k", "t", "vol"),
    [
        ("CALL", 600, 575, 2 / 365, 0.15),  # in the money, two days left: where plain Newton diverges
        ("PUT", 600, 625, 1 / 365, 0.20),
        ("CALL", 600, 660, 1 / 365, 0.30),  # far out of the money, tiny vega
        ("CALL", 100, 100, 1 / (365 * 24), 0.80),  # one hour to expiry at the money
        ("PUT", 50, 50, 3.0, 4.0),  # volatility far above the first guess
    ],
)
def test_hard_cases_recover_the_volatility(kind, s, k, t, vol):
    p = price(kind, s, k, t, 0.04, vol)
    recovered = implied_volatility(kind, p, s, k, t, 0.04)
    assert price(kind, s, k, t, 0.04, recovered) == pytest.approx(p, abs=1e-9 * s)
    assert recovered == pytest.approx(vol, rel=1e-4)


@given(
    kind=st.sampled_from(["CALL", "PUT"]),
    s=st.floats(10, 1000),
    m=st.floats(0.6, 1.6),
    t=st.floats(1 / 365, 2),
    r=st.floats(0, 0.08),
    q=st.floats(0, 0.04),
    vol=st.floats(0.05, 2.0),
)
def test_round_trip_recovers_the_volatility(kind, s, m, t, r, q, vol):
    k = s * m
    p = price(kind, s, k, t, r, vol, q)
    lower, upper = no_arbitrage_bounds(kind, s, k, t, r, q)
    assume(lower < p < upper)
    recovered = implied_volatility(kind, p, s, k, t, r, q)
    assert price(kind, s, k, t, r, recovered, q) == pytest.approx(p, abs=1e-9 * s)
    # where the price actually depends on vol, the vol itself comes back
    if greeks(kind, s, k, t, r, vol, q).vega_per_point * 100 > 1e-3 * s:
        assert recovered == pytest.approx(vol, rel=1e-6)


@given(
    kind=st.sampled_from(["CALL", "PUT"]),
    s=st.floats(1, 5000),
    m=st.floats(0.2, 5.0),
    t=st.floats(1 / (365 * 24 * 60), 5),
    r=st.floats(0, 0.10),
    frac=st.floats(1e-9, 1 - 1e-9),
)
def test_any_price_strictly_inside_the_bounds_has_an_answer(kind, s, m, t, r, frac):
    k = s * m
    lower, upper = no_arbitrage_bounds(kind, s, k, t, r)
    target = lower + frac * (upper - lower)
    assume(lower < target < upper)
    vol = implied_volatility(kind, target, s, k, t, r)
    assert vol > 0 and math.isfinite(vol)
    # the answer is right to the price's floating-point resolution
    assert price(kind, s, k, t, r, vol) == pytest.approx(target, rel=1e-7, abs=1e-9 * max(s, k))


def test_price_below_the_lower_bound_is_refused_naming_it():
    with pytest.raises(NoTimeValue, match="lower no-arbitrage bound"):
        implied_volatility("CALL", 1.0, 42, 40, 0.5, 0.10)  # worth at least 42 - 40·e^(-0.05) ≈ 3.95


def test_price_within_its_rounding_of_the_floor_has_no_time_value():
    lower, _ = no_arbitrage_bounds("CALL", 42, 40, 0.5, 0.10)
    with pytest.raises(NoTimeValue, match=r"plus its rounding 0.005: it carries no time value"):
        implied_volatility("CALL", lower + 0.004, 42, 40, 0.5, 0.10, rounding=0.005)
    # a price clear of the rounding is solved, however small the volatility it takes
    assert 0 < implied_volatility("CALL", lower + 0.006, 42, 40, 0.5, 0.10, rounding=0.005) < 0.1


def test_american_price_at_intrinsic_value_has_no_time_value():
    # Deep in the money the American put is worth exactly K − S = 20, more than the European floor of
    # 100·e^(−0.05) − 80 ≈ 15.12: a European reading would find a volatility that is not there.
    assert american.price("PUT", 80, 100, 1.0, 0.05, 0.2) == 20
    with pytest.raises(NoTimeValue, match="intrinsic value 20"):
        implied_volatility("PUT", 20.0, 80, 100, 1.0, 0.05, exercise="american")
    with pytest.raises(NoTimeValue):
        implied_volatility("PUT", 20.004, 80, 100, 1.0, 0.05, exercise="american", rounding=0.005)


def test_american_prices_imply_the_volatility_that_made_them():
    for kind, s, k, t, q in [("PUT", 600, 610, 21 / 365, 0.012), ("CALL", 600, 560, 0.75, 0.06)]:
        p = american.price(kind, s, k, t, 0.04, 0.16, q)
        assert p > price(kind, s, k, t, 0.04, 0.16, q) + 0.01  # the early-exercise premium matters here
        vol = implied_volatility(kind, p, s, k, t, 0.04, q, exercise="american")
        assert vol == pytest.approx(0.16, rel=1e-8)
        # read as European the same price implies a higher volatility
        assert implied_volatility(kind, p, s, k, t, 0.04, q) > 0.16


@given(
    kind=st.sampled_from(["CALL", "PUT"]),
    s=st.floats(10, 1000),
    m=st.floats(0.8, 1.25),
    t=st.floats(1 / 365, 1),
    r=st.floats(0, 0.08),
    q=st.floats(0, 0.04),
    vol=st.floats(0.05, 1.0),
)
def test_american_round_trip_recovers_the_volatility_where_there_is_time_value(kind, s, m, t, r, q, vol):
    k = s * m
    p = american.price(kind, s, k, t, r, vol, q)
    lower, _ = no_arbitrage_bounds(kind, s, k, t, r, q)
    assume(p > max(lower, s - k if kind == "CALL" else k - s) + 1e-6 * s)
    recovered = implied_volatility(kind, p, s, k, t, r, q, exercise="american")
    assert american.price(kind, s, k, t, r, recovered, q) == pytest.approx(p, abs=1e-9 * s)
    if greeks(kind, s, k, t, r, vol, q).vega_per_point * 100 > 1e-2 * s:
        assert recovered == pytest.approx(vol, rel=1e-6)


def test_unknown_exercise_style_is_refused():
    with pytest.raises(ValueError, match="exercise 'bermudan'"):
        implied_volatility("CALL", 4.76, 42, 40, 0.5, 0.10, exercise="bermudan")


def test_price_above_the_upper_bound_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"upper no-arbitrage bound .*\(discounted spot\)"):
        implied_volatility("CALL", 50.0, 42, 40, 0.5, 0.10)
    with pytest.raises(ValueError, match=r"upper no-arbitrage bound .*\(discounted strike\)"):
        implied_volatility("PUT", 40.0, 42, 40, 0.5, 0.10)


def test_expired_option_has_no_implied_volatility():
    with pytest.raises(ValueError, match="years"):
        implied_volatility("CALL", 2.0, 42, 40, 0.0, 0.10)


def test_bounds_are_the_zero_and_infinite_volatility_prices():
    lower, upper = no_arbitrage_bounds("CALL", 42, 40, 0.5, 0.10)
    assert lower == pytest.approx(price("CALL", 42, 40, 0.5, 0.10, 0.0))
    assert upper == pytest.approx(price("CALL", 42, 40, 0.5, 0.10, 1e4))
