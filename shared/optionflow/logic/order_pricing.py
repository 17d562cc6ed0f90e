"""Limit prices for broker orders, from the quote: where an order starts, and the re-price ladder that
walks an unfilled order towards the far side of the market. Dollars per share, whole cents."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

CENT = Decimal("0.01")


def _buying(side: str) -> bool:
    if side not in ("BUY_TO_OPEN", "SELL_TO_CLOSE"):
        raise ValueError(f"unknown side {side!r}")
    return side == "BUY_TO_OPEN"


def _cents(price: Decimal, buying: bool) -> Decimal:
    # a half cent goes to the trader's disadvantage: a buyer pays up, a seller gives down, so the limit
    # still reaches the price the policy named
    return max(CENT, price.quantize(CENT, rounding=ROUND_CEILING if buying else ROUND_FLOOR))


def opening_limit(side: str, bid: Decimal, ask: Decimal, policy: str, step: Decimal) -> Decimal:
    """The first limit price: `mid`, `mid_step` (the mid moved `step` towards the far side, never past it)
    or `natural` (the ask to buy, the bid to sell)."""
    buying = _buying(side)
    if bid <= 0 or ask < bid:
        raise ValueError(f"no usable market: bid {bid}, ask {ask}")
    natural = ask if buying else bid
    mid = (bid + ask) / 2
    if policy == "natural":
        price = natural
    elif policy == "mid":
        price = mid
    elif policy == "mid_step":
        price = min(mid + step, natural) if buying else max(mid - step, natural)
    else:
        raise ValueError(f"unknown order price policy {policy!r}")
    return _cents(price, buying)


def next_limit(side: str, current: Decimal, bid: Decimal, ask: Decimal, step: Decimal) -> Decimal | None:
    """The ladder's next rung: `step` towards the far side of the current quote, never past it; None when
    the order already stands at (or beyond) the far side, where a better price would be no price at all."""
    buying = _buying(side)
    natural = ask if buying else bid
    if (buying and current >= natural) or (not buying and current <= natural):
        return None
    price = min(current + step, natural) if buying else max(current - step, natural)
    return _cents(price, buying)
