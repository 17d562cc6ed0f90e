"""The minimum price increment ("tick") a US listed option may be quoted and ordered in, and limit prices
moved onto it. A limit on a finer increment is refused by the broker.

Penny Interval Program classes (the default): $0.01 below $3.00, $0.05 at or above; a few classes
(SPY, QQQ, IWM by default) $0.01 at every price. Classes outside the program: $0.05 below $3.00, $0.10
at or above."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

PENNY = Decimal("0.01")
NICKEL = Decimal("0.05")
DIME = Decimal("0.10")
BREAK = Decimal("3.00")  # where the increment widens; a whole number of every tick, so valid in every class
PENNY_EVERYWHERE = frozenset({"SPY", "QQQ", "IWM"})


def tick_size(
    ticker: str,
    price: Decimal,
    *,
    penny_everywhere: frozenset[str] = PENNY_EVERYWHERE,
    nickel_dime: frozenset[str] = frozenset(),
) -> Decimal:
    """The tick of `ticker`'s options at `price` (dollars per share): `nickel_dime` names classes outside
    the Penny Interval Program, `penny_everywhere` the classes quoted in pennies at every price."""
    symbol = ticker.upper()
    if symbol in nickel_dime:
        return NICKEL if price < BREAK else DIME
    if symbol in penny_everywhere:
        return PENNY
    return PENNY if price < BREAK else NICKEL


def _buying(side: str) -> bool:
    if side.startswith("BUY"):
        return True
    if side.startswith("SELL"):
        return False
    raise ValueError(f"unknown side {side!r}")


def to_tick(price: Decimal, tick: Decimal, side: str) -> Decimal:
    """`price` on a whole number of `tick`s: a buy limit rounded down, a sell limit up, so rounding never
    pays more nor takes less than the price asked for; never below one tick."""
    if tick <= 0:
        raise ValueError(f"tick must be positive, not {tick}")
    rounding = ROUND_FLOOR if _buying(side) else ROUND_CEILING
    ticks = (price / tick).to_integral_value(rounding=rounding)
    return max(tick, ticks * tick).quantize(PENNY)
