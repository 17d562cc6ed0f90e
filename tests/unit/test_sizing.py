"""Sizing never spends more than the budget nor exceeds the per-order limit."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from optionflow.logic.sizing import contracts_for

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)


def test_budget_of_500_buys_two_contracts_at_2_40():
    assert contracts_for(budget=Decimal(500), premium=Decimal("2.40"), max_contracts=10).contracts == 2


def test_budget_too_small_for_one_contract_buys_none_and_says_why():
    size = contracts_for(budget=Decimal(500), premium=Decimal("6.10"), max_contracts=10)
    assert size.contracts == 0
    assert "$610.00" in size.reason


def test_requested_quantity_wins_when_allowed_and_is_refused_when_not():
    assert (
        contracts_for(budget=Decimal(500), premium=Decimal(1), max_contracts=10, requested=3).contracts == 3
    )
    assert contracts_for(budget=Decimal(500), premium=Decimal(1), max_contracts=2, requested=3).contracts == 0
    assert (
        contracts_for(budget=Decimal(100), premium=Decimal(1), max_contracts=10, requested=3).contracts == 0
    )


@given(
    budget=money,
    premium=money,
    max_contracts=st.integers(1, 50),
    requested=st.one_of(st.none(), st.integers(1, 60)),
)
def test_size_respects_budget_and_cap(budget, premium, max_contracts, requested):
    size = contracts_for(budget=budget, premium=premium, max_contracts=max_contracts, requested=requested)
    assert 0 <= size.contracts <= max_contracts
    assert size.contracts * premium * 100 <= budget
    if requested is None and size.contracts < max_contracts:
        # one more contract would not have fitted the budget
        assert (size.contracts + 1) * premium * 100 > budget
