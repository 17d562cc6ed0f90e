"""Implied volatility: safeguarded Newton that cannot fail for a price strictly inside the no-arbitrage bounds.

Plain Newton from a fixed guess diverges on deep in-the-money and nearly expired options, where vega is
tiny (about 0.26 % of realistic inputs in the domain notes). Here every step keeps a bracket [low, high]
around the root; a Newton step that would leave it, or that has no usable vega, becomes a bisection step,
so each iteration either converges quadratically or halves the bracket.

A price with no time value (at its floor: the discounted forward intrinsic value for a European option,
the intrinsic value for an American one, or within the price's rounding of it) has no implied volatility:
any volatility small enough reproduces it. That is reported as NoTimeValue, not answered with whatever
volatility the search happened to stop at.
"""

from __future__ import annotations

import math

from optionflow.pricing import american
from optionflow.pricing import black_scholes as bs

_MAX_ITERATIONS = 200
_MAX_DOUBLINGS = 100  # vol up to 2**100: any price below the upper bound in floating point is reached first


class NoTimeValue(ValueError):
    """The price is at or below its floor (intrinsic value), within its rounding: no volatility to imply."""


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
    *,
    exercise: str = "european",
    rounding: float = 0.0,
) -> float:
    """The annual volatility (decimal, 0.2 = 20 %) at which the model gives `price`.

    `price` is dollars per share. `exercise` is "european" (Black-Scholes-Merton, the default) or "american"
    (`pricing.american`, what US equity option quotes are). `rounding` is how far `price` may be from the
    value it stands for, in dollars (0.005 for a mid rounded to the cent).

    Raises NoTimeValue (a ValueError) when `price` is not above its floor by more than `rounding`: the
    lower no-arbitrage bound (the zero-volatility value) for a European option, that or the intrinsic value,
    whichever is higher, for an American one. Raises ValueError naming the bound when `price` is at or above
    the upper no-arbitrage bound, or when `years <= 0`.
    """
    if exercise not in ("european", "american"):
        raise ValueError(f"exercise {exercise!r}: use european or american")
    if not years > 0:
        raise ValueError(f"years {years}: must be positive; an expired option has no implied volatility")
    if not math.isfinite(price):
        raise ValueError(f"price {price}: must be a finite number of dollars per share")
    if not rounding >= 0:
        raise ValueError(f"rounding {rounding}: must be zero or a positive number of dollars")
    lower, upper = no_arbitrage_bounds(option_type, spot, strike, years, rate, dividend_yield)
    model = bs.price if exercise == "european" else american.price
    if exercise == "american":
        lower = max(lower, spot - strike if bs.is_call(option_type) else strike - spot)
    if price <= lower + rounding:
        floor = "lower no-arbitrage bound" if exercise == "european" else "intrinsic value"
        raise NoTimeValue(
            f"price {price} is at or below the {floor} {lower:.10g} (zero volatility)"
            + (f" plus its rounding {rounding:g}" if rounding else "")
            + ": it carries no time value, so no volatility can be implied"
        )
    if price >= upper:
        bound = "discounted spot" if bs.is_call(option_type) else "discounted strike"
        raise ValueError(f"price {price} is at or above the upper no-arbitrage bound {upper:.10g} ({bound})")

    def excess(vol: float) -> float:
        return model(option_type, spot, strike, years, rate, vol, dividend_yield) - price

    # The zero-volatility price is the floor, so the root lies above 0; double until it is bracketed.
    low, high = 0.0, 1.0
    for _ in range(_MAX_DOUBLINGS):
        if excess(high) >= 0:
            break
        low, high = high, high * 2.0
    else:  # pragma: no cover - at vol 2**100 a price equals its upper bound in floating point
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
    previous: tuple[float, float] | None = None  # (vol, diff) of the last step
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
        if exercise == "american" and previous is not None and previous[0] != vol:
            # A secant through the last two prices: the American vega has no closed form, and near the
            # exercise region it is far below the European one, which would make Newton crawl.
            slope = (diff - previous[1]) / (vol - previous[0])
        else:
            slope = (
                bs.greeks(option_type, spot, strike, years, rate, vol, dividend_yield).vega_per_point * 100.0
            )
        stalled = previous is not None and abs(diff) > 0.5 * abs(previous[1])
        previous = (vol, diff)
        step = vol - diff / slope if slope > 0 else math.nan
        # NaN fails the comparison too, so a slope-less step bisects, as does one after a step that did
        # not halve the error: the bracket then at least halves every other iteration.
        vol = step if low < step < high and not stalled else 0.5 * (low + high)
    return vol
