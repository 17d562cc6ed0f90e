"""Contract choice from a listed chain: expiry by DTE window, strike by ATM / delta / steps, liquidity guards."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.pricing.contract_choice import (
    choose_expiry_in_window,
    days_to_expiry,
    liquidity_problems,
    nearest_strike,
    strike_by_delta,
    strike_by_steps,
)

D = Decimal
TODAY = date(2026, 12, 7)  # a Monday
LISTED = (TODAY, date(2026, 12, 9), date(2026, 12, 11), date(2026, 12, 18), date(2027, 1, 15))
STRIKES = tuple(D(k) for k in range(590, 611))


@pytest.mark.parametrize(
    ("min_dte", "max_dte", "expected"),
    [
        (0, 45, TODAY),  # 0DTE where listed
        (1, 45, date(2026, 12, 9)),
        (2, 2, date(2026, 12, 9)),  # at both ends of the window
        (3, 3, None),  # nothing listed 3 days out
        (5, 11, date(2026, 12, 18)),
        (12, 39, date(2027, 1, 15)),
        (12, 38, None),  # Jan 15 is 39 days out
    ],
)
def test_expiry_is_the_nearest_listed_inside_the_dte_window(min_dte, max_dte, expected):
    assert choose_expiry_in_window(LISTED, TODAY, min_dte, max_dte) == expected


@pytest.mark.parametrize(
    ("spot", "expected"),
    [("600.40", 600), ("600.50", 601), ("600.51", 601), ("589.10", 590), ("700", 610)],
)
def test_atm_is_the_nearest_listed_strike_halfway_rounding_up(spot, expected):
    assert nearest_strike(STRIKES, D(spot)) == D(expected)


@pytest.mark.parametrize(
    ("option_type", "steps", "expected"),
    [
        ("CALL", 2, 602),
        ("PUT", 2, 598),
        ("CALL", -3, 597),
        ("PUT", 0, 600),
        ("CALL", 10, 610),
        ("CALL", 11, None),
    ],
)
def test_steps_from_atm_go_out_of_the_money_for_positive_steps(option_type, steps, expected):
    assert strike_by_steps(STRIKES, D("600.2"), option_type, steps) == (D(expected) if expected else None)


def test_delta_choice_is_the_nearest_listed_delta_by_size_for_puts_too():
    calls = [(D(600), 0.52), (D(605), 0.33), (D(610), 0.18)]
    puts = [(D(590), -0.21), (D(595), -0.29), (D(600), -0.48)]
    assert strike_by_delta(calls, D("0.30")) == D(605)
    assert strike_by_delta(puts, D("0.30")) == D(595)
    assert strike_by_delta([(D(600), None)], D("0.30")) is None


@pytest.mark.parametrize(
    ("bid", "ask", "limit", "problem"),
    [
        ("2.09", "2.51", "0.10", "spread 0.42 is 18% of mid 2.30, above the 10% limit"),
        ("2.185", "2.415", "0.10", None),  # exactly 10 %
        ("2.20", "2.40", "0.10", None),  # under
        ("2.18", "2.42", "0.10", "spread 0.24 is 10% of mid 2.30, above the 10% limit"),  # 10.4 %
        ("0", "0.05", "0.50", "spread 0.05 is 200% of mid 0.03, above the 50% limit"),
        ("2.09", "2.51", None, None),  # no limit set
    ],
)
def test_spread_guard_at_under_and_over_the_limit(bid, ask, limit, problem):
    found = liquidity_problems(D(bid), D(ask), 1000, D(limit) if limit else None, 0)
    assert found == ([problem] if problem else [])


@pytest.mark.parametrize(("open_interest", "ok"), [(99, False), (100, True), (101, True)])
def test_open_interest_guard_at_under_and_over_the_minimum(open_interest, ok):
    found = liquidity_problems(D("2.29"), D("2.31"), open_interest, None, 100)
    assert found == ([] if ok else [f"open interest {open_interest} is below the minimum of 100"])


@st.composite
def chains(draw):
    expiries = sorted(
        draw(st.sets(st.integers(0, 400).map(lambda d: TODAY + timedelta(days=d)), min_size=1, max_size=30))
    )
    strikes = sorted(draw(st.sets(st.integers(1, 2000).map(lambda k: D(k) / 2), min_size=1, max_size=80)))
    deltas = [draw(st.one_of(st.none(), st.floats(-1, 1, allow_nan=False))) for _ in strikes]
    return expiries, strikes, deltas


@given(
    chains(),
    st.integers(0, 60),
    st.integers(0, 400),
    st.decimals("0.5", "1000", places=2),
    st.decimals("0.01", "0.99", places=2),
    st.integers(-20, 20),
    st.sampled_from(["CALL", "PUT"]),
)
def test_choice_is_always_a_listed_contract_inside_the_window_and_the_nearest_delta(
    chain, min_dte, width, spot, target, steps, option_type
):
    expiries, strikes, deltas = chain
    max_dte = min_dte + width
    expiry = choose_expiry_in_window(expiries, TODAY, min_dte, max_dte)
    inside = [e for e in expiries if min_dte <= days_to_expiry(e, TODAY) <= max_dte]
    if expiry is None:
        assert not inside
    else:
        assert expiry in expiries and min_dte <= days_to_expiry(expiry, TODAY) <= max_dte
        assert expiry == min(inside)
    assert nearest_strike(strikes, spot) in strikes
    stepped = strike_by_steps(strikes, spot, option_type, steps)
    assert stepped is None or stepped in strikes
    by_delta = strike_by_delta(list(zip(strikes, deltas, strict=True)), target)
    priced = [(k, abs(D(repr(d)))) for k, d in zip(strikes, deltas, strict=True) if d is not None]
    if not priced:
        assert by_delta is None
    else:
        assert by_delta in strikes
        chosen = dict(priced)[by_delta]
        assert all(abs(chosen - target) <= abs(d - target) for _, d in priced)
