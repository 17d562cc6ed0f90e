"""Limit prices for broker orders, from the quote: where an order starts, and the re-price ladder that
walks an unfilled order towards the far side of the market. Dollars per share, always on the contract's
tick (`pricing/ticks.py`): a limit on a finer increment would be refused by the broker."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from optionflow.pricing.ticks import PENNY, to_tick

# The contract's tick at a price (e.g. `functools.partial(tick_size, ticker, ...)`).
TickRule = Callable[[Decimal], Decimal]


def _buying(side: str) -> bool:
    if side not in ("BUY_TO_OPEN", "SELL_TO_CLOSE"):
        raise ValueError(f"unknown side {side!r}")
    return side == "BUY_TO_OPEN"


def _on_tick(price: Decimal, side: str, tick: TickRule) -> Decimal:
    # a buyer's limit rounds down and a seller's up: rounding never pays more, nor takes less, than the
    # price the policy named
    return to_tick(price, tick(price), side)


def _one_tick_on(current: Decimal, buying: bool, tick: TickRule) -> Decimal:
    # the nearest valid price strictly beyond `current` towards the far side (ticks are whole cents, so
    # a cent past `current` rounded outwards lands on the next tick, across the $3.00 break too)
    if buying:
        return to_tick(current + PENNY, tick(current + PENNY), "SELL")
    return to_tick(current - PENNY, tick(current - PENNY), "BUY")


def opening_limit(
    side: str, bid: Decimal, ask: Decimal, policy: str, step: Decimal, *, tick: TickRule
) -> Decimal:
    """The first limit price: `mid`, `mid_step` (the mid moved `step` towards the far side, never past it)
    or `natural` (the ask to buy, the bid to sell), on the contract's tick."""
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
    return _on_tick(price, side, tick)


def next_limit(
    side: str, current: Decimal, bid: Decimal, ask: Decimal, step: Decimal, *, tick: TickRule
) -> Decimal | None:
    """The ladder's next rung: `step` towards the far side of the current quote and at least one tick,
    never past the far side (its nearest tick on the near side); None when the order already stands
    there, where a better price would be no price at all."""
    buying = _buying(side)
    far = _on_tick(ask if buying else bid, side, tick)
    if (buying and current >= far) or (not buying and current <= far):
        return None
    nudge = _one_tick_on(current, buying, tick)
    if buying:
        stepped = _on_tick(min(current + step, ask), side, tick)
        return min(max(stepped, nudge), far)
    stepped = _on_tick(max(current - step, bid), side, tick)
    return max(min(stepped, nudge), far)
