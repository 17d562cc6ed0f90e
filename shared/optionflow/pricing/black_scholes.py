"""Generalised Black-Scholes-Merton prices and Greeks with a continuous dividend yield.

Units: prices are dollars per share (multiply by the contract multiplier, usually 100, for dollars per
contract); `years` is calendar time to expiry / 365; `rate`, `vol` and `dividend_yield` are annual decimals
(0.05 = 5 %). Theta is per calendar day, vega per volatility point (0.01 sigma), rho per rate point (0.01).

Setting `dividend_yield = rate` gives Black-76 on a future; the foreign rate gives Garman-Kohlhagen.
Standard-library math only, so the Lambda layer stays small and imports fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_2 = math.sqrt(2.0)
DAYS_PER_YEAR = 365.0


def norm_cdf(x: float) -> float:
    """Standard normal CDF. erfc keeps full relative precision in the far left tail, where 1 + erf loses it."""
    return 0.5 * math.erfc(-x / _SQRT_2)


def norm_pdf(x: float) -> float:
    """Standard normal density."""
    return math.exp(-0.5 * x * x) / _SQRT_2PI


@dataclass(frozen=True)
class Greeks:
    """Sensitivities of one option, per share (multiply by the contract multiplier for per contract)."""

    delta: float  # dollars of option value per $1 move of the underlying
    gamma: float  # change of delta per $1 move of the underlying
    theta_per_day: float  # dollars per calendar day that passes (negative for a decaying long option)
    vega_per_point: float  # dollars per 1 volatility point (sigma + 0.01)
    rho_per_point: float  # dollars per 1 rate point (rate + 0.01)


def is_call(option_type: str) -> bool:
    """True for "CALL", False for "PUT"; anything else is a ValueError naming the value."""
    if option_type == "CALL":
        return True
    if option_type == "PUT":
        return False
    raise ValueError(f"option_type {option_type!r}: use CALL or PUT")


def _check_inputs(spot: float, strike: float) -> None:
    # `not x > 0` also catches NaN, which would otherwise flow silently into a price
    if not spot > 0 or math.isinf(spot):
        raise ValueError(f"spot {spot}: must be a positive, finite price")
    if not strike > 0 or math.isinf(strike):
        raise ValueError(f"strike {strike}: must be a positive, finite price")


def _tails(
    spot: float, strike: float, years: float, rate: float, vol: float, q: float
) -> tuple[float, float, float, float, float]:
    """(d1, N(d1), N(d2), N(−d1), N(−d2)) for a live option (`years > 0`).

    The put tails are computed directly, not as 1 − N(x), which cancels catastrophically deep in the money.
    With zero volatility the probabilities take their limits: N(d1) = N(d2) = 1 when the forward is above
    the strike, 0 below, ½ exactly at it (d1 = d2 = 0 in the limit).
    """
    if vol <= 0:
        log_moneyness = math.log(spot / strike) + (rate - q) * years
        n = 1.0 if log_moneyness > 0 else 0.0 if log_moneyness < 0 else 0.5
        return 0.0, n, n, 1.0 - n, 1.0 - n
    vsqrt = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + (rate - q + 0.5 * vol * vol) * years) / vsqrt
    d2 = d1 - vsqrt
    return d1, norm_cdf(d1), norm_cdf(d2), norm_cdf(-d1), norm_cdf(-d2)


def price(
    option_type: str,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    vol: float,
    dividend_yield: float = 0.0,
) -> float:
    """European option value in dollars per share.

    At or past expiry (`years <= 0`) it is the undiscounted intrinsic value, since the payoff is now.
    With `vol <= 0` and time left it is the discounted forward intrinsic, max(0, ±(S·e^(−qT) − K·e^(−rT))),
    the zero-volatility limit of the formula rather than a division by zero.
    """
    call = is_call(option_type)
    _check_inputs(spot, strike)
    if years <= 0:
        return max(0.0, spot - strike) if call else max(0.0, strike - spot)
    q = dividend_yield
    df_q, df_r = math.exp(-q * years), math.exp(-rate * years)
    if vol <= 0:
        forward_value = spot * df_q - strike * df_r
        return max(0.0, forward_value) if call else max(0.0, -forward_value)
    _, n1, n2, m1, m2 = _tails(spot, strike, years, rate, vol, q)
    value = spot * df_q * n1 - strike * df_r * n2 if call else strike * df_r * m2 - spot * df_q * m1
    # rounding can leave a far out-of-the-money value a hair below zero
    return max(0.0, value)


def greeks(
    option_type: str,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    vol: float,
    dividend_yield: float = 0.0,
) -> Greeks:
    """Analytic Greeks per share: theta per calendar day (÷365), vega and rho per point (÷100).

    Degenerate inputs return limits instead of dividing by zero:
    - expired (`years <= 0`): delta +1/−1 in the money, 0 otherwise; every other Greek 0.
    - zero volatility with time left: delta e^(−qT)·N and rho/theta of the discounted forward payoff,
      with N = 1, 0 or ½ as the forward is above, below or at the strike; gamma and vega 0 (at the
      forward itself gamma is unbounded, and reporting 0 keeps callers' sums finite).
    """
    call = is_call(option_type)
    _check_inputs(spot, strike)
    q = dividend_yield
    if years <= 0:
        in_the_money = spot > strike if call else spot < strike
        return Greeks((1.0 if call else -1.0) if in_the_money else 0.0, 0.0, 0.0, 0.0, 0.0)
    df_q, df_r = math.exp(-q * years), math.exp(-rate * years)
    d1, n1, n2, m1, m2 = _tails(spot, strike, years, rate, vol, q)
    if vol > 0:
        sqrt_t = math.sqrt(years)
        pdf = norm_pdf(d1)
        gamma = df_q * pdf / (spot * vol * sqrt_t)
        vega = spot * df_q * pdf * sqrt_t
        decay = -spot * df_q * pdf * vol / (2.0 * sqrt_t)
    else:
        gamma = vega = decay = 0.0
    if call:
        delta = df_q * n1
        theta = decay - rate * strike * df_r * n2 + q * spot * df_q * n1
        rho = strike * years * df_r * n2
    else:
        delta = -df_q * m1
        theta = decay + rate * strike * df_r * m2 - q * spot * df_q * m1
        rho = -strike * years * df_r * m2
    return Greeks(delta, gamma, theta / DAYS_PER_YEAR, vega / 100.0, rho / 100.0)
