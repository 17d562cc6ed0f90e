"""Broker limit prices from the quote (mid, mid plus a step, natural) and the re-price ladder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.logic.order_pricing import next_limit, opening_limit

D = Decimal


@pytest.mark.parametrize(
    ("side", "policy", "expected"),
    [
        ("BUY_TO_OPEN", "mid", "2.03"),  # mid 2.025, a buyer's half cent rounds up
        ("SELL_TO_CLOSE", "mid", "2.02"),  # and a seller's down
        ("BUY_TO_OPEN", "mid_step", "2.05"),  # 2.025 + 0.05 is past the ask: capped at it
        ("SELL_TO_CLOSE", "mid_step", "2.00"),
        ("BUY_TO_OPEN", "natural", "2.05"),
        ("SELL_TO_CLOSE", "natural", "2.00"),
    ],
)
def test_the_opening_limit_follows_the_policy(side, policy, expected):
    assert opening_limit(side, D("2.00"), D("2.05"), policy, D("0.05")) == D(expected)


def test_mid_step_moves_the_mid_towards_the_far_side_on_a_wide_market():
    assert opening_limit("BUY_TO_OPEN", D("1.00"), D("1.40"), "mid_step", D("0.05")) == D("1.25")
    assert opening_limit("SELL_TO_CLOSE", D("1.00"), D("1.40"), "mid_step", D("0.05")) == D("1.15")


def test_a_crossed_or_empty_market_gives_no_price():
    with pytest.raises(ValueError, match="no usable market"):
        opening_limit("BUY_TO_OPEN", D("2.10"), D("2.00"), "mid", D("0.05"))
    with pytest.raises(ValueError, match="no usable market"):
        opening_limit("BUY_TO_OPEN", D("0"), D("0.05"), "mid", D("0.05"))


def test_the_ladder_climbs_to_the_ask_and_stops_there():
    rungs = []
    price: Decimal | None = D("1.20")
    while price is not None:
        rungs.append(price)
        price = next_limit("BUY_TO_OPEN", price, D("1.00"), D("1.40"), D("0.08"))
    assert rungs == [D("1.20"), D("1.28"), D("1.36"), D("1.40")]
    assert next_limit("SELL_TO_CLOSE", D("1.05"), D("1.00"), D("1.40"), D("0.08")) == D("1.00")


@given(
    bid=st.decimals("0.01", "50", places=2),
    width=st.decimals("0", "5", places=2),
    step=st.decimals("0.01", "1", places=2),
    side=st.sampled_from(["BUY_TO_OPEN", "SELL_TO_CLOSE"]),
    policy=st.sampled_from(["mid", "mid_step", "natural"]),
)
def test_every_price_lies_inside_the_market_and_the_ladder_ends(bid, width, step, side, policy):
    ask = bid + width
    price: Decimal | None = opening_limit(side, bid, ask, policy, step)
    rungs = 0
    while price is not None:
        assert bid <= price <= ask
        price = next_limit(side, price, bid, ask, step)
        rungs += 1
        assert rungs <= 1000
