"""Listed strike increments and the at-the-money strike.

The rule here is an approximation for choosing a strike when no chain is at hand (the simulated market,
a default when the alert names none). Real listings are richer: exchanges run $1 and $2.50 strike
programmes for many actively traded and low-priced stocks, and intervals widen away from the money. A
live broker adapter should pick from the listed chain; this module only has to be right near the money
for the names it lists explicitly and conservative (a wider increment) for the rest.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Near-the-money increments of index ETFs and indices whose chains are known not to follow the classic rule.
LISTED_INCREMENTS: dict[str, Decimal] = {
    "SPY": Decimal(1),
    "QQQ": Decimal(1),
    "IWM": Decimal(1),
    "DIA": Decimal(1),
    "XSP": Decimal(1),  # mini-SPX, 1/10 of the index
    "SPX": Decimal(5),
    "SPXW": Decimal(5),
}


def strike_increment(ticker: str, spot: Decimal) -> Decimal:
    """Dollars per share between adjacent listed strikes near `spot`.

    The names in LISTED_INCREMENTS use their own interval (SPY, QQQ, IWM, DIA: $1). Everything else
    follows the classic equity listing rule: $2.50 below $25, $5 from $25 to $200, $10 above $200.
    """
    if ticker in LISTED_INCREMENTS:
        return LISTED_INCREMENTS[ticker]
    if spot < 25:
        return Decimal("2.5")
    if spot <= 200:
        return Decimal(5)
    return Decimal(10)


def atm_strike(ticker: str, spot: Decimal) -> Decimal:
    """The listed strike nearest `spot` (dollars per share); exactly halfway rounds up.

    Never below one increment: there is no zero strike, so a very cheap stock gets the lowest listed one.
    """
    if not spot > 0:
        raise ValueError(f"spot {spot}: must be a positive price")
    step = strike_increment(ticker, spot)
    strike = (spot / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return max(step, strike)
