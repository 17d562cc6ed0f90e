"""Implied volatility: Newton's method with a bisection fallback that cannot fail inside the bounds."""

from __future__ import annotations

import math

from optionflow.pricing.black_scholes import greeks, price

MIN_VOL, MAX_VOL = 1e-6, 10.0


def no_arbitrage_bounds(
    option_type: str, spot: float, strike: float, years: float, rate: float, dividend_yield: float = 0.0
) -> tuple[float, float]:
    """(lower, upper) price per share any volatility can produce."""
    df_q, df_r = math.exp(-dividend_yield * years), math.exp(-rate * years)
    if option_type == "CALL":
        return max(0.0, spot * df_q - strike * df_r), spot * df_q
    return max(0.0, strike * df_r - spot * df_q), strike * df_r


def implied_volatility(
    option_type: str,
    option_price: float,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    dividend_yield: float = 0.0,
    tolerance: float = 1e-10,
) -> float:
    """The annual volatility that prices the option at `option_price` (dollars per share)."""
    if years <= 0:
        raise ValueError("years must be positive: an expired option has no implied volatility")
    lower, upper = no_arbitrage_bounds(option_type, spot, strike, years, rate, dividend_yield)
    if not lower < option_price < upper:
        raise ValueError(
            f"price {option_price} is outside the no-arbitrage bounds ({lower:.6g}, {upper:.6g})"
        )
    low, high = MIN_VOL, MAX_VOL
    if price(option_type, spot, strike, years, rate, high, dividend_yield) < option_price:
        raise ValueError(f"price {option_price} needs a volatility above {MAX_VOL:.0%}")
    vol = 0.3
    for _ in range(50):
        diff = price(option_type, spot, strike, years, rate, vol, dividend_yield) - option_price
        if abs(diff) < tolerance:
            return vol
        # keep a bracket so a Newton step that leaves it falls back to bisection
        if diff > 0:
            high = vol
        else:
            low = vol
        vega = greeks(option_type, spot, strike, years, rate, vol, dividend_yield).vega_per_point * 100
        step = vol - diff / vega if vega > 1e-12 else -1.0
        vol = step if low < step < high else 0.5 * (low + high)
    for _ in range(200):  # plain bisection: slow but certain
        mid = 0.5 * (low + high)
        if price(option_type, spot, strike, years, rate, mid, dividend_yield) > option_price:
            high = mid
        else:
            low = mid
        if high - low < 1e-12:
            break
    return 0.5 * (low + high)
