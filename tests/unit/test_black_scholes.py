"""Black-Scholes-Merton prices and Greeks against textbook values, and their laws as properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.pricing.black_scholes import greeks, price


@pytest.mark.parametrize(
    ("kind", "s", "k", "t", "r", "q", "vol", "expected"),
    [
        ("CALL", 42, 40, 0.5, 0.10, 0.0, 0.20, 4.7594),  # Hull, Example 15.6
        ("PUT", 42, 40, 0.5, 0.10, 0.0, 0.20, 0.8086),  # Hull, Example 15.6
        ("CALL", 60, 65, 0.25, 0.08, 0.0, 0.30, 2.1334),  # Haug p.2
        ("PUT", 100, 95, 0.5, 0.10, 0.05, 0.20, 2.4648),  # Haug p.4, Merton
        ("PUT", 75, 70, 0.5, 0.10, 0.05, 0.35, 4.0870),  # Haug
        ("CALL", 100, 100, 0.5, 0.10, 0.10, 0.25, 6.6997),  # Haug p.24
    ],
)
def test_prices_match_published_values_to_four_decimals(kind, s, k, t, r, q, vol, expected):
    assert price(kind, s, k, t, r, vol, q) == pytest.approx(expected, abs=5e-5)


def test_call_greeks_match_hull_chapter_17():
    g = greeks("CALL", 49, 50, 0.3846, 0.05, 0.20)
    assert g.delta == pytest.approx(0.5216, abs=1e-4)
    assert g.gamma == pytest.approx(0.0655, abs=1e-4)
    assert g.theta_per_day * 365 == pytest.approx(-4.3054, abs=1e-3)
    assert g.vega_per_point == pytest.approx(0.1211, abs=1e-4)
    assert g.rho_per_point == pytest.approx(0.0891, abs=1e-4)


def test_haug_greek_values():
    assert greeks("CALL", 105, 100, 0.5, 0.10, 0.36, 0.10).delta == pytest.approx(0.5946, abs=1e-4)
    assert greeks("PUT", 105, 100, 0.5, 0.10, 0.36, 0.10).delta == pytest.approx(-0.3566, abs=1e-4)
    assert greeks("CALL", 55, 60, 0.75, 0.10, 0.30).gamma == pytest.approx(0.0278, abs=1e-4)
    assert greeks("PUT", 430, 405, 1 / 12, 0.07, 0.20, 0.05).theta_per_day * 365 == pytest.approx(
        -31.1924, abs=1e-3
    )


def test_expired_option_is_worth_its_intrinsic_value():
    assert price("CALL", 105, 100, 0.0, 0.05, 0.3) == 5.0
    assert price("PUT", 105, 100, 0.0, 0.05, 0.3) == 0.0
    assert greeks("CALL", 105, 100, 0.0, 0.05, 0.3).delta == 1.0


def test_unknown_option_type_is_refused():
    with pytest.raises(ValueError, match="CALL or PUT"):
        price("STRADDLE", 100, 100, 1, 0.05, 0.2)


spot = st.floats(min_value=1, max_value=2000)
moneyness = st.floats(min_value=0.5, max_value=1.5)
years = st.floats(min_value=1 / 365, max_value=3)
rate = st.floats(min_value=0.0, max_value=0.10)
vol = st.floats(min_value=0.05, max_value=1.5)
div = st.floats(min_value=0.0, max_value=0.05)


@given(spot, moneyness, years, rate, vol, div)
def test_put_call_parity_holds(s, m, t, r, v, q):
    k = s * m
    lhs = price("CALL", s, k, t, r, v, q) - price("PUT", s, k, t, r, v, q)
    rhs = s * math.exp(-q * t) - k * math.exp(-r * t)
    assert lhs == pytest.approx(rhs, abs=1e-7 * max(s, k))


@given(spot, moneyness, years, rate, vol, div)
def test_greek_signs(s, m, t, r, v, q):
    call, put = greeks("CALL", s, s * m, t, r, v, q), greeks("PUT", s, s * m, t, r, v, q)
    assert 0 <= call.delta <= 1 and -1 <= put.delta <= 0
    assert call.gamma >= 0 and put.gamma >= 0
    assert call.vega_per_point >= 0 and put.vega_per_point >= 0
    assert call.gamma == pytest.approx(put.gamma, rel=1e-9, abs=1e-12)
    if q == 0:
        assert call.theta_per_day <= 0  # a call on a non-dividend stock loses value with time


@given(spot, moneyness, years, rate, vol)
def test_prices_stay_within_no_arbitrage_bounds(s, m, t, r, v):
    k = s * m
    call = price("CALL", s, k, t, r, v)
    assert max(0.0, s - k * math.exp(-r * t)) - 1e-9 <= call <= s + 1e-9
