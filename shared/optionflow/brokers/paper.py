"""The paper broker's fill model: market orders fill at the far side of the quote plus slippage."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def fill_price(*, side: str, bid: Decimal, ask: Decimal, slippage_bps: int) -> Decimal:
    """Dollars per share. A buy pays the ask, a sell receives the bid, and slippage (basis points of that
    price) always goes against the trader. Never below one cent."""
    slip = Decimal(slippage_bps) / Decimal(10_000)
    if side == "BUY_TO_OPEN":
        price = ask * (1 + slip)
    elif side == "SELL_TO_CLOSE":
        price = bid * (1 - slip)
    else:
        raise ValueError(f"unknown side {side!r}")
    return max(CENT, price.quantize(CENT, rounding=ROUND_HALF_UP))


def fees(quantity: int, per_contract: Decimal) -> Decimal:
    """Commission and regulatory fees for a fill of `quantity` contracts, dollars."""
    return (per_contract * quantity).quantize(CENT, rounding=ROUND_HALF_UP)


class PaperBroker:
    """The `Broker` port over the paper fill model, with this process's slippage and fees."""

    def __init__(self, slippage_bps: int, fee_per_contract: Decimal) -> None:
        self.slippage_bps = slippage_bps
        self.fee_per_contract = fee_per_contract

    def fill_price(self, *, side: str, bid: Decimal, ask: Decimal) -> Decimal:
        return fill_price(side=side, bid=bid, ask=ask, slippage_bps=self.slippage_bps)

    def fees(self, quantity: int) -> Decimal:
        return fees(quantity, self.fee_per_contract)
