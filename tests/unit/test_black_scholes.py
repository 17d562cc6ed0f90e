"""Black-Scholes-Merton prices and Greeks against published values (domain notes §3), and their laws as
properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.pricing.black_scholes import Greeks, greeks, norm_cdf, price


def test_call_price_matches_hull_example_15_6():
    assert price("CALL", 42, 40, 0.5, 0.10, 0.20) == pytest.approx(4.7594, abs=5e-5)
    assert price("CALL", 42, 40, 0.5, 0.10, 0.20) == pytest.approx(4.759422, abs=1e-6)


def test_put_price_matches_hull_example_15_6():
    assert price("PUT", 42, 40, 0.5, 0.10, 0.20) == pytest.approx(0.8086, abs=5e-5)
    assert price("PUT", 42, 40, 0.5, 0.10, 0.20) == pytest.approx(0.808599, abs=1e-6)


# (type, S, K, T, r, q, sigma, published): Haug 1998 rows as used by QuantLib's testValues, and vollib's docstring
PUBLISHED_PRICES = [
    ("CALL", 60, 65, 0.25, 0.08, 0.0, 0.30, 2.1334),  # Haug p.2
    ("PUT", 100, 95, 0.5, 0.10, 0.05, 0.20, 2.4648),  # Haug p.4, Merton
    ("PUT", 19, 19, 0.75, 0.10, 0.10, 0.28, 1.7011),  # Haug, Black-76 (q = r)
    ("CALL", 19, 19, 0.75, 0.10, 0.10, 0.28, 1.7011),  # Black-76 at the money: call = put
    ("CALL", 1.56, 1.60, 0.5, 0.06, 0.08, 0.12, 0.0291),  # Haug, Garman-Kohlhagen (q = foreign rate)
    ("PUT", 75, 70, 0.5, 0.10, 0.05, 0.35, 4.0870),  # Haug
    ("CALL", 100, 100, 0.5, 0.10, 0.10, 0.25, 6.6997),  # Haug p.24
    # QuantLib rows list the strike before the spot; the domain notes transcribed this one as S=100, K=110
    ("PUT", 110, 100, 0.1, 0.10, 0.10, 0.15, 0.0408),  # Haug p.24
    ("CALL", 42, 40, 0.75, 0.04, 0.08, 0.35, 5.0975),  # Haug p.27
]


@pytest.mark.parametrize(("kind", "s", "k", "t", "r", "q", "vol", "published"), PUBLISHED_PRICES)
def test_prices_match_haug_table_to_four_decimals(kind, s, k, t, r, q, vol, published):
    assert price(kind, s, k, t, r, vol, q) == pytest.approx(published, abs=1e-4)


def test_prices_match_vollib_docstring_to_nine_decimals():
    assert price("CALL", 100, 90, 0.5, 0.01, 0.20) == pytest.approx(12.111581435, abs=1e-9)
    assert price("PUT", 100, 90, 0.5, 0.01, 0.20) == pytest.approx(1.66270456231, abs=1e-9)


def test_call_greeks_match_hull_chapter_17_in_per_day_and_per_point_units():
    g = greeks("CALL", 49, 50, 0.3846, 0.05, 0.20)
    assert g.delta == pytest.approx(0.521602, abs=1e-6)  # Ex. 17.1: 0.522
    assert g.gamma == pytest.approx(0.065545, abs=1e-6)  # Ex. 17.4: 0.066
    assert g.theta_per_day == pytest.approx(-4.305390 / 365, abs=1e-7)  # Ex. 17.2: -4.31 per year
    assert g.theta_per_day == pytest.approx(-0.011796, abs=1e-6)
    assert g.vega_per_point == pytest.approx(0.121052, abs=1e-6)  # Ex. 17.6: 0.121 per 1 %
    assert g.rho_per_point == pytest.approx(0.089066, abs=1e-6)  # Ex. 17.7: 0.0891 per 1 %


def test_put_theta_matches_vollib_reference():
    assert greeks("PUT", 49, 50, 0.3846, 0.05, 0.20).theta_per_day * 365 == pytest.approx(
        -1.8530056722, abs=1e-6
    )


def test_greeks_match_haug_values_from_quantlib():
    assert greeks("CALL", 105, 100, 0.5, 0.10, 0.36, 0.10).delta == pytest.approx(0.5946, abs=1e-4)
    assert greeks("PUT", 105, 100, 0.5, 0.10, 0.36, 0.10).delta == pytest.approx(-0.3566, abs=1e-4)
    for kind in ("CALL", "PUT"):
        g = greeks(kind, 55, 60, 0.75, 0.10, 0.30)
        assert g.gamma == pytest.approx(0.0278, abs=1e-4)
        assert g.vega_per_point * 100 == pytest.approx(18.9358, abs=1e-4)
    theta = greeks("PUT", 430, 405, 1 / 12, 0.07, 0.20, 0.05).theta_per_day
    assert theta * 365 == pytest.approx(-31.1924, abs=1e-4)
    assert theta == pytest.approx(-0.0855, abs=1e-4)
    assert greeks("CALL", 72, 75, 1.0, 0.09, 0.19).rho_per_point * 100 == pytest.approx(38.7325, abs=1e-4)


def test_expired_option_is_worth_its_undiscounted_intrinsic_value():
    assert price("CALL", 105, 100, 0.0, 0.05, 0.3) == 5.0
    assert price("PUT", 105, 100, 0.0, 0.05, 0.3) == 0.0
    assert price("PUT", 95, 100, -0.01, 0.05, 0.3) == 5.0


def test_expired_option_greeks_take_their_limits():
    assert greeks("CALL", 105, 100, 0.0, 0.05, 0.3) == Greeks(1.0, 0.0, 0.0, 0.0, 0.0)
    assert greeks("PUT", 105, 100, 0.0, 0.05, 0.3) == Greeks(0.0, 0.0, 0.0, 0.0, 0.0)
    assert greeks("PUT", 95, 100, 0.0, 0.05, 0.3).delta == -1.0


def test_zero_volatility_prices_the_discounted_forward_intrinsic():
    expected = 105 - 100 * math.exp(-0.05)
    assert price("CALL", 105, 100, 1.0, 0.05, 0.0) == pytest.approx(expected, abs=1e-12)
    assert price("PUT", 105, 100, 1.0, 0.05, 0.0) == 0.0


def test_zero_volatility_greeks_are_the_limits_of_small_volatility():
    exact = greeks("CALL", 105, 100, 1.0, 0.05, 0.0, 0.01)
    near = greeks("CALL", 105, 100, 1.0, 0.05, 1e-4, 0.01)
    assert exact.delta == pytest.approx(near.delta, abs=1e-9)
    assert exact.theta_per_day == pytest.approx(near.theta_per_day, abs=1e-9)
    assert exact.rho_per_point == pytest.approx(near.rho_per_point, abs=1e-9)
    assert exact.gamma == 0.0 and exact.vega_per_point == 0.0


def test_deep_in_the_money_put_keeps_its_value_without_cancellation():
    # N(-d) as 1 - N(d) would lose this to rounding; the put is worth about K·e^(-rT) - S
    value = price("PUT", 10, 1000, 0.01, 0.0, 0.2)
    assert value == pytest.approx(990.0, abs=1e-9)
    assert norm_cdf(-30) > 0.0  # the far tail keeps relative precision instead of rounding to zero


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("STRADDLE", 100, 100, 1, 0.05, 0.2), "CALL or PUT"),
        (("CALL", 0, 100, 1, 0.05, 0.2), "spot"),
        (("CALL", 100, -1, 1, 0.05, 0.2), "strike"),
        (("CALL", math.nan, 100, 1, 0.05, 0.2), "spot"),
    ],
)
def test_bad_inputs_are_refused_naming_the_field(args, message):
    with pytest.raises(ValueError, match=message):
        price(*args)
    with pytest.raises(ValueError, match=message):
        greeks(*args)


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
    assert lhs == pytest.approx(rhs, abs=1e-9 * max(s, k))


@given(spot, moneyness, years, rate, vol, div)
def test_greek_signs_and_call_put_relations(s, m, t, r, v, q):
    call, put = greeks("CALL", s, s * m, t, r, v, q), greeks("PUT", s, s * m, t, r, v, q)
    assert 0 <= call.delta <= 1 and -1 <= put.delta <= 0
    assert call.delta - put.delta == pytest.approx(math.exp(-q * t), abs=1e-12)
    assert call.gamma >= 0 and call.gamma == pytest.approx(put.gamma, rel=1e-9, abs=1e-15)
    assert call.vega_per_point >= 0 and call.vega_per_point == pytest.approx(put.vega_per_point, abs=1e-12)
    assert call.rho_per_point >= 0 and put.rho_per_point <= 0
    if q == 0:
        assert call.theta_per_day <= 0  # a call on a non-dividend stock only loses value with time


@given(spot, moneyness, years, rate, vol, div)
def test_prices_stay_within_no_arbitrage_bounds(s, m, t, r, v, q):
    k = s * m
    df_q, df_r = math.exp(-q * t), math.exp(-r * t)
    slack = 1e-9 * max(s, k)
    call, put = price("CALL", s, k, t, r, v, q), price("PUT", s, k, t, r, v, q)
    assert max(0.0, s * df_q - k * df_r) - slack <= call <= s * df_q + slack
    assert max(0.0, k * df_r - s * df_q) - slack <= put <= k * df_r + slack


@given(spot, moneyness, years, rate, vol)
def test_delta_and_vega_are_the_slopes_of_price(s, m, t, r, v):
    k, h = s * m, 1e-4 * s
    g = greeks("CALL", s, k, t, r, v)
    bump_spot = (price("CALL", s + h, k, t, r, v) - price("CALL", s - h, k, t, r, v)) / (2 * h)
    bump_vol = (price("CALL", s, k, t, r, v + 1e-5) - price("CALL", s, k, t, r, v - 1e-5)) / 2e-5
    assert g.delta == pytest.approx(bump_spot, abs=1e-5)
    assert g.vega_per_point * 100 == pytest.approx(bump_vol, abs=1e-5 * s)
