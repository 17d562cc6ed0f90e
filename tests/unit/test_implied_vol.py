"""Implied volatility recovers the volatility that priced an option, and never fails inside the bounds."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from optionflow.pricing.black_scholes import price
from optionflow.pricing.implied_vol import implied_volatility, no_arbitrage_bounds


def test_hull_call_price_implies_twenty_percent():
    assert implied_volatility("CALL", 4.759422, 42, 40, 0.5, 0.10) == pytest.approx(0.20, abs=1e-5)


@given(
    kind=st.sampled_from(["CALL", "PUT"]),
    s=st.floats(10, 1000),
    m=st.floats(0.6, 1.6),
    t=st.floats(2 / 365, 2),
    r=st.floats(0, 0.08),
    vol=st.floats(0.05, 2.0),
)
def test_round_trip_recovers_the_volatility(kind, s, m, t, r, vol):
    k = s * m
    p = price(kind, s, k, t, r, vol)
    lower, upper = no_arbitrage_bounds(kind, s, k, t, r)
    assume(p - lower > 1e-6 * s and upper - p > 1e-6 * s)  # distinguishable from the bounds in floating point
    recovered = implied_volatility(kind, p, s, k, t, r)
    assert price(kind, s, k, t, r, recovered) == pytest.approx(p, abs=1e-6 * s)


@given(
    kind=st.sampled_from(["CALL", "PUT"]),
    s=st.floats(10, 1000),
    m=st.floats(0.5, 2.0),
    t=st.floats(1 / 365, 3),
    frac=st.floats(0.001, 0.999),
)
def test_any_price_strictly_inside_the_bounds_has_an_answer(kind, s, m, t, frac):
    k = s * m
    lower, upper = no_arbitrage_bounds(kind, s, k, t, 0.03)
    target = lower + frac * (upper - lower)
    assume(price(kind, s, k, t, 0.03, 10.0) > target)
    vol = implied_volatility(kind, target, s, k, t, 0.03)
    assert 0 < vol <= 10


def test_price_outside_the_bounds_is_refused_naming_them():
    with pytest.raises(ValueError, match="no-arbitrage"):
        implied_volatility("CALL", 50.0, 42, 40, 0.5, 0.10)
