"""Broker limit prices from the quote (mid, mid plus a step, natural) and the re-price ladder."""

from __future__ import annotations

import functools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.logic.order_pricing import next_limit, opening_limit
from optionflow.pricing.ticks import tick_size

D = Decimal
CENTS = functools.partial(tick_size, "SPY")  # a class quoted in pennies at every price


@pytest.mark.parametrize(
    ("side", "policy", "expected"),
    [
        ("BUY_TO_OPEN", "mid", "2.02"),  # mid 2.025: a buyer's half cent rounds down (pays no more)
        ("SELL_TO_CLOSE", "mid", "2.03"),  # and a seller's up (takes no less)
        ("BUY_TO_OPEN", "mid_step", "2.05"),  # 2.025 + 0.05 is past the ask: capped at it
        ("SELL_TO_CLOSE", "mid_step", "2.00"),
        ("BUY_TO_OPEN", "natural", "2.05"),
        ("SELL_TO_CLOSE", "natural", "2.00"),
    ],
)
def test_the_opening_limit_follows_the_policy(side, policy, expected):
    assert opening_limit(side, D("2.00"), D("2.05"), policy, D("0.05"), tick=CENTS) == D(expected)


def test_mid_step_moves_the_mid_towards_the_far_side_on_a_wide_market():
    assert opening_limit("BUY_TO_OPEN", D("1.00"), D("1.40"), "mid_step", D("0.05"), tick=CENTS) == D("1.25")
    assert opening_limit("SELL_TO_CLOSE", D("1.00"), D("1.40"), "mid_step", D("0.05"), tick=CENTS) == D(
        "1.15"
    )


def test_a_crossed_or_empty_market_gives_no_price():
    with pytest.raises(ValueError, match="no usable market"):
        opening_limit("BUY_TO_OPEN", D("2.10"), D("2.00"), "mid", D("0.05"), tick=CENTS)
    with pytest.raises(ValueError, match="no usable market"):
        opening_limit("BUY_TO_OPEN", D("0"), D("0.05"), "mid", D("0.05"), tick=CENTS)


def test_the_ladder_climbs_to_the_ask_and_stops_there():
    rungs = []
    price: Decimal | None = D("1.20")
    while price is not None:
        rungs.append(price)
        price = next_limit("BUY_TO_OPEN", price, D("1.00"), D("1.40"), D("0.08"), tick=CENTS)
    assert rungs == [D("1.20"), D("1.28"), D("1.36"), D("1.40")]
    assert next_limit("SELL_TO_CLOSE", D("1.05"), D("1.00"), D("1.40"), D("0.08"), tick=CENTS) == D("1.00")


@given(
    bid=st.decimals("0.01", "50", places=2),
    width=st.decimals("0", "5", places=2),
    step=st.decimals("0.01", "1", places=2),
    side=st.sampled_from(["BUY_TO_OPEN", "SELL_TO_CLOSE"]),
    policy=st.sampled_from(["mid", "mid_step", "natural"]),
)
def test_every_price_lies_inside_the_market_and_the_ladder_ends(bid, width, step, side, policy):
    ask = bid + width
    price: Decimal | None = opening_limit(side, bid, ask, policy, step, tick=CENTS)
    rungs = 0
    while price is not None:
        assert bid <= price <= ask
        price = next_limit(side, price, bid, ask, step, tick=CENTS)
        rungs += 1
        assert rungs <= 1000


RULES = {
    "penny program": functools.partial(tick_size, "AAPL"),
    "penny everywhere": functools.partial(tick_size, "SPY"),
    "outside the program": functools.partial(tick_size, "XYZ", nickel_dime=frozenset({"XYZ"})),
}


def on_tick(price: Decimal, rule) -> bool:
    return price % rule(price) == 0


def test_a_penny_program_contract_above_three_dollars_is_priced_in_nickels():
    aapl = RULES["penny program"]
    assert opening_limit("BUY_TO_OPEN", D("4.30"), D("4.44"), "mid", D("0.05"), tick=aapl) == D("4.35")
    assert opening_limit("SELL_TO_CLOSE", D("4.30"), D("4.44"), "mid", D("0.05"), tick=aapl) == D("4.40")
    spy = RULES["penny everywhere"]
    assert opening_limit("BUY_TO_OPEN", D("4.30"), D("4.44"), "mid", D("0.05"), tick=spy) == D("4.37")


def test_a_ladder_step_finer_than_the_tick_still_moves_one_tick_and_crosses_the_three_dollar_break():
    aapl = RULES["penny program"]
    rungs = []
    price: Decimal | None = D("2.98")
    while price is not None:
        rungs.append(price)
        price = next_limit("BUY_TO_OPEN", price, D("2.90"), D("3.20"), D("0.01"), tick=aapl)
    assert rungs == [D("2.98"), D("2.99"), D("3.00"), D("3.05"), D("3.10"), D("3.15"), D("3.20")]
    rungs = []
    price = D("3.10")
    while price is not None:
        rungs.append(price)
        price = next_limit("SELL_TO_CLOSE", price, D("2.97"), D("3.20"), D("0.01"), tick=aapl)
    assert rungs == [D("3.10"), D("3.05"), D("3.00"), D("2.99"), D("2.98"), D("2.97")]


def test_a_ladder_on_a_quote_off_the_tick_stops_at_the_last_tick_inside_the_market():
    aapl = RULES["penny program"]
    assert next_limit("BUY_TO_OPEN", D("4.30"), D("4.28"), D("4.38"), D("0.05"), tick=aapl) == D("4.35")
    assert next_limit("BUY_TO_OPEN", D("4.35"), D("4.28"), D("4.38"), D("0.05"), tick=aapl) is None


def _intended(side: str, bid: Decimal, ask: Decimal, policy: str, step: Decimal) -> Decimal:
    buying = side == "BUY_TO_OPEN"
    natural = ask if buying else bid
    mid = (bid + ask) / 2
    if policy == "natural":
        return natural
    if policy == "mid":
        return mid
    return min(mid + step, natural) if buying else max(mid - step, natural)


@given(
    bid=st.decimals("0.10", "20", places=2),
    width=st.decimals("0", "3", places=2),
    step=st.decimals("0.01", "0.50", places=2),
    side=st.sampled_from(["BUY_TO_OPEN", "SELL_TO_CLOSE"]),
    policy=st.sampled_from(["mid", "mid_step", "natural"]),
    kind=st.sampled_from(sorted(RULES)),
)
def test_every_limit_is_on_the_tick_and_the_ladder_walks_tick_by_tick_to_the_far_side(
    bid, width, step, side, policy, kind
):
    rule = RULES[kind]
    buying = side == "BUY_TO_OPEN"
    ask = bid + width
    intended = _intended(side, bid, ask, policy, step)
    price: Decimal | None = opening_limit(side, bid, ask, policy, step, tick=rule)
    assert price is not None
    assert on_tick(price, rule)
    assert price <= intended if buying else price >= intended  # rounding never pays more nor takes less
    far = ask if buying else bid
    last = price
    rungs = 0
    while True:
        price = next_limit(side, last, bid, ask, step, tick=rule)
        if price is None:
            break
        assert on_tick(price, rule)
        assert price <= ask if buying else price >= bid  # never past the far side
        moved = price - last if buying else last - price
        assert moved >= rule(min(price, last))  # at least one tick, even for a step finer than the tick
        last = price
        rungs += 1
        assert rungs <= 1000
    # it ends at the far side's own tick: the nearest one not past it
    assert last <= far < last + rule(last) if buying else last - rule(far) < far <= last
