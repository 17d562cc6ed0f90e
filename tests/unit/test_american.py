"""American prices (Bjerksund-Stensland 2002) against published tables and a binomial tree, and their
no-arbitrage laws as properties."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.pricing import american, black_scholes

# Haug, "The Complete Guide to Option Pricing Formulas", 2nd ed. (2007), Table 3-2, p. 107: the
# Bjerksund-Stensland (2002) column for X = 100, r = 0.10, b = 0 (so q = r = 0.10), spots 90 / 100 / 110.
HAUG_TABLE_3_2 = {
    ("CALL", 0.1, 0.15): (0.0205, 1.8757, 10.0000),
    ("CALL", 0.1, 0.25): (0.3151, 3.1256, 10.3725),
    ("CALL", 0.1, 0.35): (0.9479, 4.3746, 11.1578),
    ("CALL", 0.5, 0.15): (0.8099, 4.0628, 10.7898),
    ("CALL", 0.5, 0.25): (2.7180, 6.7661, 12.9814),
    ("CALL", 0.5, 0.35): (4.9665, 9.4608, 15.5137),
    ("PUT", 0.1, 0.15): (10.0000, 1.8757, 0.0408),
    ("PUT", 0.1, 0.25): (10.2280, 3.1256, 0.4552),
    ("PUT", 0.1, 0.35): (10.8663, 4.3746, 1.2383),
    ("PUT", 0.5, 0.15): (10.5400, 4.0628, 1.0689),
    ("PUT", 0.5, 0.25): (12.4097, 6.7661, 3.2932),
    ("PUT", 0.5, 0.35): (14.6445, 9.4608, 5.8374),
}
HAUG_ROWS = [
    (kind, spot, t, vol, value)
    for (kind, t, vol), values in HAUG_TABLE_3_2.items()
    for spot, value in zip((90, 100, 110), values, strict=True)
]


@pytest.mark.parametrize(("kind", "spot", "t", "vol", "published"), HAUG_ROWS)
def test_prices_match_haug_table_3_2_to_its_four_decimals(kind, spot, t, vol, published):
    assert american.price(kind, spot, 100, t, 0.10, vol, 0.10) == pytest.approx(published, abs=5e-5)


# Ju, "An Approximate Formula for Pricing American Options", Journal of Derivatives, Winter 1999,
# Exhibit 3 (short-dated puts, S = 40, r = 4.88 %, q = 0), as listed in QuantLib's
# test-suite/americanoption.cpp: (strike, years, vol, value). Ju's values are his own approximation, a
# little closer to the true price than Bjerksund-Stensland's, which stays below them.
JU_EXHIBIT_3 = [
    (35, 0.0833, 0.2, 0.006),
    (35, 0.3333, 0.2, 0.201),
    (35, 0.5833, 0.2, 0.433),
    (40, 0.0833, 0.2, 0.851),
    (40, 0.3333, 0.2, 1.576),
    (40, 0.5833, 0.2, 1.984),
    (45, 0.0833, 0.2, 5.000),
    (45, 0.3333, 0.2, 5.084),
    (45, 0.5833, 0.2, 5.260),
    (35, 0.0833, 0.3, 0.078),
    (35, 0.3333, 0.3, 0.697),
    (35, 0.5833, 0.3, 1.218),
    (40, 0.0833, 0.3, 1.309),
    (40, 0.3333, 0.3, 2.477),
    (40, 0.5833, 0.3, 3.161),
    (45, 0.0833, 0.3, 5.059),
    (45, 0.3333, 0.3, 5.699),
    (45, 0.5833, 0.3, 6.231),
    (35, 0.0833, 0.4, 0.247),
    (35, 0.3333, 0.4, 1.344),
    (35, 0.5833, 0.4, 2.150),
    (40, 0.0833, 0.4, 1.767),
    (40, 0.3333, 0.4, 3.381),
    (40, 0.5833, 0.4, 4.342),
    (45, 0.0833, 0.4, 5.288),
    (45, 0.3333, 0.4, 6.501),
    (45, 0.5833, 0.4, 7.367),
]


@pytest.mark.parametrize(("strike", "t", "vol", "published"), JU_EXHIBIT_3)
def test_short_dated_puts_are_within_two_cents_of_ju_exhibit_3(strike, t, vol, published):
    value = american.price("PUT", 40, strike, t, 0.0488, vol)
    assert published - 0.02 <= value <= published + 0.001


def binomial_tree(
    kind: str, s: float, k: float, t: float, r: float, q: float, vol: float, steps: int
) -> float:
    """Cox-Ross-Rubinstein American price, averaged over `steps` and `steps + 1` to damp its odd-even
    oscillation: the reference the approximation is held to."""

    def tree(n: int) -> float:
        dt = t / n
        up = math.exp(vol * math.sqrt(dt))
        p = (math.exp((r - q) * dt) - 1 / up) / (up - 1 / up)
        pu, pd = math.exp(-r * dt) * p, math.exp(-r * dt) * (1 - p)
        sign = 1.0 if kind == "CALL" else -1.0
        values = [max(0.0, sign * (s * up ** (n - 2 * j) - k)) for j in range(n + 1)]
        for i in range(n - 1, -1, -1):
            for j in range(i + 1):
                values[j] = max(pu * values[j] + pd * values[j + 1], sign * (s * up ** (i - 2 * j) - k))
        return values[0]

    return 0.5 * (tree(steps) + tree(steps + 1))


@pytest.mark.parametrize(
    ("kind", "s", "k", "t", "r", "q", "vol", "shortfall"),
    [
        # Geske-Johnson puts: one month is where the simulator lives, seven months the far end
        ("PUT", 40, 40, 0.0833, 0.0488, 0.0, 0.3, 0.0002),
        ("PUT", 40, 45, 0.5833, 0.0488, 0.0, 0.3, 0.0008),
        # SPY-like: $600, 1.2 % yield, 4 % rate, 16 % vol, three weeks, at and in the money
        ("PUT", 600, 600, 21 / 365, 0.04, 0.012, 0.16, 0.0002),
        ("PUT", 600, 630, 21 / 365, 0.04, 0.012, 0.16, 0.0002),
        # a dividend payer's call is exercised early too (Ju 1999, Exhibit 6 inputs, three years)
        ("CALL", 100, 100, 3.0, 0.03, 0.07, 0.2, 0.0008),
    ],
)
def test_price_is_a_close_lower_bound_of_the_binomial_tree(kind, s, k, t, r, q, vol, shortfall):
    # `shortfall` is the largest undervaluation allowed, as a fraction of the spot (2e-4 = 12 cents on $600)
    reference = binomial_tree(kind, s, k, t, r, q, vol, 400)
    value = american.price(kind, s, k, t, r, vol, q)
    assert reference - shortfall * s <= value <= reference + 1e-3 * s / 40  # the tree is off ~1e-3 on $40


def test_a_deep_in_the_money_put_is_worth_exactly_its_intrinsic_value():
    # The European put is worth less than K − S here: 100·e^(−0.05) − 80 ≈ 15.12.
    assert black_scholes.price("PUT", 80, 100, 1.0, 0.05, 0.2) < 20
    assert american.price("PUT", 80, 100, 1.0, 0.05, 0.2) == 20
    assert american.exercise_now("PUT", 80, 100, 1.0, 0.05, 0.2)
    assert american.greeks("PUT", 80, 100, 1.0, 0.05, 0.2) == black_scholes.Greeks(-1.0, 0.0, 0.0, 0.0, 0.0)


def test_greeks_outside_the_exercise_region_are_the_black_scholes_merton_greeks():
    assert not american.exercise_now("PUT", 600, 605, 0.05, 0.04, 0.16, 0.012)
    expected = black_scholes.greeks("PUT", 600, 605, 0.05, 0.04, 0.16, 0.012)
    assert american.greeks("PUT", 600, 605, 0.05, 0.04, 0.16, 0.012) == expected


def test_expired_and_zero_volatility_options_are_worth_their_floor():
    assert american.price("PUT", 90, 100, 0.0, 0.05, 0.2) == 10
    assert american.price("CALL", 90, 100, 0.0, 0.05, 0.2) == 0
    assert american.price("PUT", 90, 100, 0.5, 0.05, 0.0) == 10  # exercise now beats the discounted forward
    assert american.exercise_now("PUT", 90, 100, 0.0, 0.05, 0.2)


def test_negative_rates_and_yields_are_refused_naming_them():
    with pytest.raises(ValueError, match="rate"):
        american.price("PUT", 100, 100, 0.5, -0.01, 0.2)
    with pytest.raises(ValueError, match="dividend_yield"):
        american.price("PUT", 100, 100, 0.5, 0.01, 0.2, -0.01)


def test_tiny_volatility_falls_back_to_the_floor_without_overflowing():
    value = american.price("PUT", 300, 100, 2.0, 0.1, 0.005)
    assert value == pytest.approx(black_scholes.price("PUT", 300, 100, 2.0, 0.1, 0.005), abs=1e-12)
    assert american.price("PUT", 100, 100, 1.0, 0.05, 0.001) >= 0.0


def test_bivariate_normal_matches_a_one_dimensional_integral():
    # P(X < a, Y < b) = ∫_{-∞}^{a} n(x)·N((b − ρx)/√(1 − ρ²)) dx, by composite Gauss-Legendre on [−12, a].
    nodes = american._legendre(16)

    def reference(a: float, b: float, rho: float) -> float:
        lo, hi, pieces = -12.0, min(a, 12.0), 400
        if hi <= lo:
            return 0.0
        h, c = (hi - lo) / pieces, math.sqrt(1 - rho * rho)
        total = 0.0
        for i in range(pieces):
            mid = lo + (i + 0.5) * h
            for x, w in nodes:
                u = mid + 0.5 * h * x
                total += 0.5 * h * w * black_scholes.norm_pdf(u) * black_scholes.norm_cdf((b - rho * u) / c)
        return total

    grid = [-10.0, -3.0, -1.0, -0.2, 0.0, 0.7, 2.0, 5.0, 10.0]
    for rho, table in ((american._RHO, american._POSITIVE), (-american._RHO, american._NEGATIVE)):
        for a in grid:
            for b in grid:
                assert american._bivariate_cdf(a, b, table) == pytest.approx(reference(a, b, rho), abs=5e-11)


def test_gauss_legendre_nodes_integrate_polynomials_exactly():
    for n in (american._NODES, 16):
        pairs = american._legendre(n)
        assert sum(w for _, w in pairs) == pytest.approx(2.0, abs=1e-14)
        for degree in range(0, 2 * n, 3):  # exact up to degree 2n − 1
            exact = 0.0 if degree % 2 else 2.0 / (degree + 1)
            assert sum(w * x**degree for x, w in pairs) == pytest.approx(exact, abs=1e-13)


def test_two_thousand_puts_price_in_well_under_a_second():
    started = time.process_time()
    for i in range(2000):
        american.price("PUT", 600.0, 570.0 + i % 60, (1 + i % 40) / 365, 0.04, 0.16, 0.012)
    assert time.process_time() - started < 1.0


# Property domain: spots $1-$2000, strikes half to twice the spot, a minute to three years, volatility 2 % to 200 %.
kinds = st.sampled_from(["CALL", "PUT"])
spots = st.floats(1, 2000)
moneyness = st.floats(0.5, 2.0)
years = st.floats(1 / (365 * 24 * 60), 3)
rates = st.floats(0, 0.10)
yields = st.floats(0, 0.08)
vols = st.floats(0.02, 2.0)
bumps = st.floats(1e-4, 0.2)


@given(kind=kinds, s=spots, m=moneyness, t=years, r=rates, q=yields, vol=vols)
def test_american_is_worth_at_least_european_and_intrinsic_and_at_most_its_bound(kind, s, m, t, r, q, vol):
    k = s * m
    value = american.price(kind, s, k, t, r, vol, q)
    assert value >= black_scholes.price(kind, s, k, t, r, vol, q)
    assert value >= (max(0.0, s - k) if kind == "CALL" else max(0.0, k - s))
    assert value <= (s if kind == "CALL" else k) * (1 + 1e-12)


@given(s=spots, m=moneyness, t=years, r=rates, vol=vols)
def test_call_without_dividends_equals_black_scholes(s, m, t, r, vol):
    assert american.price("CALL", s, s * m, t, r, vol) == pytest.approx(
        black_scholes.price("CALL", s, s * m, t, r, vol), abs=1e-6
    )


@given(kind=kinds, s=spots, m=moneyness, t=years, r=rates, q=yields, vol=vols, bump=bumps)
def test_price_is_monotone_in_spot_strike_and_volatility(kind, s, m, t, r, q, vol, bump):
    k = s * m
    value = american.price(kind, s, k, t, r, vol, q)
    sign = 1.0 if kind == "CALL" else -1.0
    tolerance = 1e-9 * s
    assert sign * (american.price(kind, s * (1 + bump), k, t, r, vol, q) - value) >= -tolerance
    assert sign * (american.price(kind, s, k * (1 + bump), t, r, vol, q) - value) <= tolerance
    assert american.price(kind, s, k, t, r, vol * (1 + bump), q) >= value - tolerance
