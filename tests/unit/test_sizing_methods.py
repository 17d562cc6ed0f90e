"""Sizing methods: each at, under and over its budget, and (hypothesis) no method ever exceeds a cap."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.logic.sizing import METHODS, MULTIPLIER, SizingPlan, size_entry

D = Decimal


def plan(**overrides: object) -> SizingPlan:
    base: dict[str, object] = {
        "method": "DOLLAR_RISK",
        "premium": D("2.00"),
        "max_contracts": 10,
        "risk_per_trade": D("1000"),
    }
    return SizingPlan(**(base | overrides))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dollar_risk", "contracts"),
    [(D("599.99"), 2), (D("600"), 3), (D("600.01"), 3), (D("5000"), 5)],  # 5000 is capped at risk_per_trade
)
def test_dollar_risk_buys_what_the_budget_affords_at_under_and_over_a_contract(dollar_risk, contracts):
    sized = size_entry(plan(dollar_risk=dollar_risk, premium=D("2.00")))
    assert sized.contracts == contracts
    assert sized.inputs["budget"] == min(dollar_risk, D("1000"))


def test_fixed_contracts_buys_that_many_capped_by_the_per_order_limit():
    assert size_entry(plan(method="FIXED", fixed_contracts=4)).contracts == 4
    capped = size_entry(plan(method="FIXED", fixed_contracts=40))
    assert capped.contracts == 5  # $1000 at $200 a contract
    assert "capped" in capped.reason
    assert size_entry(plan(method="FIXED", fixed_contracts=40, max_contracts=3)).contracts == 3


@pytest.mark.parametrize(
    ("volatility_pct", "budget", "contracts"),
    [
        (D("50"), D("250.00"), 1),  # twice the target: half the base budget
        (D("25"), D("500.00"), 2),  # at the target: the base budget
        (D("12.5"), D("1000"), 5),  # half the target: twice the base, capped by risk_per_trade
        (D("5"), D("1000"), 5),
    ],
)
def test_volatility_scaling_shrinks_the_budget_when_the_underlying_is_wilder(
    volatility_pct, budget, contracts
):
    sized = size_entry(
        plan(
            method="VOLATILITY",
            dollar_risk=D("500"),
            vol_measure="IV",
            volatility_pct=volatility_pct,
            vol_target_pct=D("25"),
        )
    )
    assert sized.inputs["budget"] == budget
    assert sized.contracts == contracts
    assert sized.inputs["volatility_pct"] == volatility_pct and sized.inputs["vol_target_pct"] == D("25")


def test_volatility_scaling_without_a_measure_refuses_rather_than_guesses():
    sized = size_entry(
        plan(method="VOLATILITY", vol_measure="ATR", volatility_pct=None, vol_target_pct=D("2"))
    )
    assert sized.contracts == 0 and "ATR" in sized.reason


def test_equity_fraction_spends_that_share_of_equity():
    sized = size_entry(
        plan(method="EQUITY_FRACTION", equity_fraction_pct=D("0.5"), account_equity=D("100000"))
    )
    assert sized.inputs["budget"] == D("500.00")
    assert sized.contracts == 2
    over = size_entry(plan(method="EQUITY_FRACTION", equity_fraction_pct=D("5"), account_equity=D("100000")))
    assert over.inputs["budget"] == D("1000") and "capped" in over.reason


def test_an_alert_quantity_wins_when_it_fits_and_is_refused_when_it_does_not():
    assert size_entry(plan(method="FIXED", fixed_contracts=1, requested=3)).contracts == 3
    assert size_entry(plan(requested=6)).contracts == 0  # $1,200 over the $1,000 cap


def test_an_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="unknown sizing method"):
        size_entry(plan(method="KELLY"))


money = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)


@given(
    method=st.sampled_from(METHODS),
    premium=st.decimals(min_value=D("0.01"), max_value=D("50"), places=2),
    cap=money,
    max_contracts=st.integers(1, 100),
    fee=st.decimals(min_value=D("0"), max_value=D("5"), places=2),
    requested=st.none() | st.integers(1, 200),
    fixed=st.none() | st.integers(1, 500),
    dollar_risk=st.none() | money,
    vol=st.none() | st.decimals(min_value=D("0.01"), max_value=D("300"), places=2),
    target=st.none() | st.decimals(min_value=D("0.01"), max_value=D("300"), places=2),
    fraction=st.none() | st.decimals(min_value=D("0.01"), max_value=D("100"), places=2),
    equity=st.none() | money,
)
def test_no_sizing_method_ever_exceeds_the_contract_or_dollar_cap(
    method, premium, cap, max_contracts, fee, requested, fixed, dollar_risk, vol, target, fraction, equity
):
    sized = size_entry(
        SizingPlan(
            method,
            premium,
            max_contracts,
            cap,
            fee,
            requested,
            fixed,
            dollar_risk,
            "IV",
            vol,
            target,
            fraction,
            equity,
        )
    )
    assert 0 <= sized.contracts <= max_contracts
    assert sized.contracts * (premium * MULTIPLIER + fee) <= cap
    assert sized.inputs["method"] == method
