"""Generalised Black-Scholes-Merton (continuous dividend yield) prices and Greeks.

Units: prices in dollars per share; `years` to expiry (calendar time / 365); rates and volatility as
annual decimals (0.05 = 5 %). Theta is per calendar day, vega and rho per one percentage point.
Pure standard-library math: the Lambda layer stays small and imports fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / _SQRT_2PI


@dataclass(frozen=True)
class Greeks:
    delta: float  # per $1 move of the underlying, per share
    gamma: float  # change of delta per $1 move
    theta_per_day: float  # dollars per share per calendar day
    vega_per_point: float  # dollars per share per 1 vol point (0.01 sigma)
    rho_per_point: float  # dollars per share per 1 rate point (0.01)


def _check_type(option_type: str) -> bool:
    if option_type == "CALL":
        return True
    if option_type == "PUT":
        return False
    raise ValueError(f"option_type {option_type!r}: use CALL or PUT")


def _d1_d2(
    spot: float, strike: float, years: float, rate: float, vol: float, q: float
) -> tuple[float, float]:
    vsqrt = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + (rate - q + 0.5 * vol * vol) * years) / vsqrt
    return d1, d1 - vsqrt


def price(
    option_type: str,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    vol: float,
    dividend_yield: float = 0.0,
) -> float:
    """Option value per share. At or past expiry, or with zero volatility, the discounted forward intrinsic."""
    is_call = _check_type(option_type)
    if spot <= 0 or strike <= 0:
        raise ValueError("spot and strike must be positive")
    q = dividend_yield
    if years <= 0:
        return max(0.0, spot - strike) if is_call else max(0.0, strike - spot)
    df_q, df_r = math.exp(-q * years), math.exp(-rate * years)
    if vol <= 0:
        forward_value = spot * df_q - strike * df_r
        return max(0.0, forward_value) if is_call else max(0.0, -forward_value)
    d1, d2 = _d1_d2(spot, strike, years, rate, vol, q)
    if is_call:
        return spot * df_q * norm_cdf(d1) - strike * df_r * norm_cdf(d2)
    return strike * df_r * norm_cdf(-d2) - spot * df_q * norm_cdf(-d1)


def greeks(
    option_type: str,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    vol: float,
    dividend_yield: float = 0.0,
) -> Greeks:
    """Analytic Greeks. At expiry (or zero vol) they take their limits: delta 0 or ±1, the rest 0."""
    is_call = _check_type(option_type)
    q = dividend_yield
    if years <= 0 or vol <= 0:
        itm = spot > strike if is_call else spot < strike
        delta = (1.0 if is_call else -1.0) if itm else 0.0
        return Greeks(delta, 0.0, 0.0, 0.0, 0.0)
    d1, d2 = _d1_d2(spot, strike, years, rate, vol, q)
    sqrt_t = math.sqrt(years)
    df_q, df_r = math.exp(-q * years), math.exp(-rate * years)
    pdf = norm_pdf(d1)
    gamma = df_q * pdf / (spot * vol * sqrt_t)
    vega = spot * df_q * pdf * sqrt_t
    common = -spot * df_q * pdf * vol / (2 * sqrt_t)
    if is_call:
        delta = df_q * norm_cdf(d1)
        theta = common - rate * strike * df_r * norm_cdf(d2) + q * spot * df_q * norm_cdf(d1)
        rho = strike * years * df_r * norm_cdf(d2)
    else:
        delta = -df_q * norm_cdf(-d1)
        theta = common + rate * strike * df_r * norm_cdf(-d2) - q * spot * df_q * norm_cdf(-d1)
        rho = -strike * years * df_r * norm_cdf(-d2)
    return Greeks(delta, gamma, theta / 365.0, vega / 100.0, rho / 100.0)
