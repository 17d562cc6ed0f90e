"""Listed strike increments and at-the-money strike choice."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Index ETFs and large names list $1 strikes near the money; the rest follow the classic listing rule.
ONE_DOLLAR_STRIKES = frozenset(
    {
        "SPY",
        "QQQ",
        "IWM",
        "DIA",
        "AAPL",
        "MSFT",
        "AMZN",
        "GOOGL",
        "META",
        "NVDA",
        "TSLA",
        "AMD",
        "XLF",
        "XLE",
        "GLD",
        "TLT",
        "SLV",
    }
)


def strike_increment(ticker: str, spot: Decimal) -> Decimal:
    """Dollars between listed strikes: $1 for the names above; else $2.50 below $25, $5 to $200, $10 above."""
    if ticker in ONE_DOLLAR_STRIKES:
        return Decimal(1)
    if spot < 25:
        return Decimal("2.5")
    if spot <= 200:
        return Decimal(5)
    return Decimal(10)


def atm_strike(ticker: str, spot: Decimal) -> Decimal:
    """The listed strike nearest the underlying price (halves round up)."""
    if spot <= 0:
        raise ValueError(f"spot {spot} must be positive")
    step = strike_increment(ticker, spot)
    strike = (spot / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return max(step, strike)
