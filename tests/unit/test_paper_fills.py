"""Paper fills pay the far side of the quote, and slippage always hurts."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from optionflow.brokers.paper import fill_price


def test_buy_fills_at_the_ask_and_sell_at_the_bid():
    assert fill_price(
        side="BUY_TO_OPEN", bid=Decimal("2.00"), ask=Decimal("2.10"), slippage_bps=0
    ) == Decimal("2.10")
    assert fill_price(
        side="SELL_TO_CLOSE", bid=Decimal("2.00"), ask=Decimal("2.10"), slippage_bps=0
    ) == Decimal("2.00")


@given(
    bid=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(500), places=2),
    spread=st.decimals(min_value=Decimal(0), max_value=Decimal(5), places=2),
    bps=st.integers(0, 1000),
)
def test_slippage_moves_the_price_against_the_trader(bid, spread, bps):
    ask = bid + spread
    assert fill_price(side="BUY_TO_OPEN", bid=bid, ask=ask, slippage_bps=bps) >= ask
    sell = fill_price(side="SELL_TO_CLOSE", bid=bid, ask=ask, slippage_bps=bps)
    assert Decimal("0.01") <= sell <= bid
