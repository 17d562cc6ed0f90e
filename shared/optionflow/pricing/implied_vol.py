"""Implied volatility: safeguarded Newton that cannot fail for a price strictly inside the no-arbitrage bounds.

Plain Newton from a fixed guess diverges on deep in-the-money and nearly expired options, where vega is
tiny (about 0.26 % of realistic inputs in the domain notes). Here every step keeps a bracket [low, high]
around the root; a Newton step that would leave it, or that has no usable vega, becomes a bisection step,
so each iteration either converges quadratically or halves the bracket.
"""

from __future__ import annotations

import math

from optionflow.pricing import black_scholes as bs

_MAX_ITERATIONS = 200
_MAX_DOUBLINGS = 100  # vol up to 2**100: any price below the upper bound in floating point is reached first


def no_arbitrage_bounds(
    option_type: str, spot: float, strike: float, years: float, rate: float, dividend_yield: float = 0.0
) -> tuple[float, float]:
    """(lower, upper) in dollars per share: the prices of zero and of unbounded volatility.

    Call: (max(0, S·e^(−qT) − K·e^(−rT)), S·e^(−qT)); put: (max(0, K·e^(−rT) − S·e^(−qT)), K·e^(−rT)).
    """
    call = bs.is_call(option_type)
    df_q, df_r = math.exp(-dividend_yield * years), math.exp(-rate * years)
    if call:
        return max(0.0, spot * df_q - strike * df_r), spot * df_q
    return max(0.0, strike * df_r - spot * df_q), strike * df_r


def implied_volatility(
    option_type: str,
    price: float,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    dividend_yield: float = 0.0,
) -> float:
    """The annual volatility (decimal, 0.2 = 20 %) at which Black-Scholes-Merton gives `price`.

    `price` is dollars per share. Raises ValueError naming the bound when `price` is not strictly between
    the no-arbitrage bounds (at a bound no finite positive volatility exists), or when `years <= 0`.
    """
    if not years > 0:
        raise ValueError(f"years {years}: must be positive; an expired option has no implied volatility")
    if not math.isfinite(price):
        raise ValueError(f"price {price}: must be a finite number of dollars per share")
    lower, upper = no_arbitrage_bounds(option_type, spot, strike, years, rate, dividend_yield)
    if price <= lower:
        raise ValueError(
            f"price {price} is at or below the lower no-arbitrage bound {lower:.10g} "
            "(discounted intrinsic value; zero volatility)"
        )
    if price >= upper:
        bound = "discounted spot" if bs.is_call(option_type) else "discounted strike"
        raise ValueError(f"price {price} is at or above the upper no-arbitrage bound {upper:.10g} ({bound})")

    def excess(vol: float) -> float:
        return bs.price(option_type, spot, strike, years, rate, vol, dividend_yield) - price

    # The zero-volatility price is the lower bound, so the root lies above 0; double until it is bracketed.
    low, high = 0.0, 1.0
    for _ in range(_MAX_DOUBLINGS):
        if excess(high) >= 0:
            break
        low, high = high, high * 2.0
    else:  # pragma: no cover - unreachable: at vol 2**100 the price equals the upper bound in floating point
        raise ValueError(f"price {price} is indistinguishable from the upper no-arbitrage bound {upper:.10g}")

    # Start at the inflection point of price(vol), sqrt(2|ln(F/K)|/T) (Manaster-Koehler): from there
    # Newton approaches the root monotonically. At the money that point is 0, so start just above it.
    log_moneyness = math.log(spot / strike) + (rate - dividend_yield) * years
    vol = math.sqrt(2.0 * abs(log_moneyness) / years)
    if not low < vol < high:
        vol = 0.5 * (low + high)
    vol = max(vol, 1e-3 * high)
    # Relative, so a far out-of-the-money option worth a fraction of a cent is solved as exactly as an
    # expensive one; when rounding noise makes it unreachable, the collapsing bracket ends the search.
    tolerance = 1e-12 * price
    for _ in range(_MAX_ITERATIONS):
        diff = excess(vol)
        if abs(diff) <= tolerance:
            return vol
        if diff > 0:
            high = vol
        else:
            low = vol
        if high - low <= 1e-15 * high:
            return 0.5 * (low + high)
        vega = bs.greeks(option_type, spot, strike, years, rate, vol, dividend_yield).vega_per_point * 100.0
        step = vol - diff / vega if vega > 0 else math.nan
        # NaN fails the comparison too, so a vega-less step bisects
        vol = step if low < step < high else 0.5 * (low + high)
    return vol
