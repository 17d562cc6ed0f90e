"""American option prices: the Bjerksund-Stensland (2002) closed-form approximation, with a continuous
dividend yield.

US equity and ETF options are American: a holder can exercise any day, so a deep in-the-money put is worth
at least its intrinsic value K − S, which the European (Black-Scholes-Merton) value undercuts by up to
K·(1 − e^(−rT)). Bjerksund and Stensland value the strategy "exercise when the underlying first reaches a
flat trigger", with one trigger for the first 61.8 % of the life and another for the rest. That is a lower
bound on the true American value and close to it: on the Geske-Johnson puts (S = 40, r = 4.88 %, one to
seven months) it is at most 0.6 cents low at one month and 3 cents low at seven (0.07 % of the spot),
against a 1,000-step binomial tree in the tests.

Same units and signature as `black_scholes.price`: dollars per share; `years` is calendar time / 365;
`rate`, `vol` and `dividend_yield` are annual decimals, the rate and the yield zero or more.

- Calls with no dividend yield are never exercised early and equal the Black-Scholes-Merton price exactly.
- Puts use the Bjerksund-Stensland put-call transformation P(S, K, r, q) = C(K, S, q, r).
- The returned price is max(Bjerksund-Stensland, European, intrinsic): each is a lower bound of the true
  American value, so their maximum is the tightest of them, and the price is never below intrinsic value.
- Greeks (`greeks`) are the analytic Black-Scholes-Merton Greeks with the dividend yield, i.e. those of the
  European option, except where the approximation exercises at once and the option is worth exactly its
  intrinsic value: there they are those of intrinsic value (delta ±1, all else 0). Differentiating the
  approximation numerically would cost four to six more prices per quote, for the sensitivities of an
  early-exercise premium that is a small part of the value.

Standard-library math only: the Lambda layer carries no numpy/scipy. A put costs about 40 µs here, twenty
times a European price, most of it in up to 20 bivariate normal probabilities.
"""

from __future__ import annotations

import math

from optionflow.pricing import black_scholes as bs

# t1 = φ·T with φ = (√5 − 1)/2 splits the life where the paper puts its second trigger; the bivariate
# probabilities then all have correlation ±√(t1/T) = ±√φ, so their quadrature nodes are computed once.
_SPLIT = 0.5 * (math.sqrt(5.0) - 1.0)
_RHO = math.sqrt(_SPLIT)
# exp() overflows above ~709.8; a power factor this large belongs to a term whose true value is negligible
# beside the result, but a probability that underflowed to 0 would turn it into inf·0.
_MAX_EXPONENT = 700.0
_norm_cdf = bs.norm_cdf
_NEGLIGIBLE = 1e-15
_NODES = 8
_SQRT_HALF = math.sqrt(0.5)


def _legendre(n: int) -> tuple[tuple[float, float], ...]:
    """(node, weight) pairs of n-point Gauss-Legendre quadrature on [−1, 1], by Newton's method on P_n."""

    def legendre_and_derivative(x: float) -> tuple[float, float]:
        p0, p1 = 1.0, x
        for k in range(2, n + 1):
            p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
        return p1, n * (x * p1 - p0) / (x * x - 1.0)

    pairs = []
    for i in range(1, n + 1):
        x = math.cos(math.pi * (i - 0.25) / (n + 0.5))  # close to the i-th root, so Newton converges
        for _ in range(100):
            value, slope = legendre_and_derivative(x)
            x -= value / slope
            if abs(value / slope) < 1e-15:
                break
        _, slope = legendre_and_derivative(x)
        pairs.append((x, 2.0 / ((1.0 - x * x) * slope * slope)))
    return tuple(pairs)


def _sheppard_nodes(rho: float) -> tuple[float, tuple[tuple[float, float, float], ...]]:
    """(asin ρ / 4π, ((ln w, sinθ/cos²θ, 1/cos²θ), ...)): Sheppard's integral at Gauss-Legendre nodes.

    Eight nodes put the probability within 5e-11 for |ρ| = √φ ≈ 0.786 (checked in the tests against a
    one-dimensional integral on a grid out to ±10): at most a few millionths of a cent on a $1000 strike,
    over all twenty terms. Genz's general routine uses 20 to reach double precision for any |ρ| < 0.925;
    each node saved here is 5 % of a quote's cost.
    """
    angle = math.asin(rho)
    nodes = []
    for x, w in _legendre(_NODES):
        sn = math.sin(0.5 * angle * (1.0 + x))
        g = 1.0 / (1.0 - sn * sn)
        nodes.append((math.log(w), sn * g, g))
    return angle / (4.0 * math.pi), tuple(nodes)


_POSITIVE = _sheppard_nodes(_RHO)
_NEGATIVE = _sheppard_nodes(-_RHO)
_Nodes = tuple[float, tuple[tuple[float, float, float], ...]]


def _bivariate_cdf(a: float, b: float, nodes: _Nodes) -> float:
    """P(X < a, Y < b) for standard normals with the correlation `nodes` were built for (Genz 2004, BVND)."""
    return _scaled_bivariate(0.0, a, b, nodes)


def _scaled_bivariate(log_factor: float, a: float, b: float, nodes: _Nodes) -> float:
    """exp(log_factor) · P(X < a, Y < b).

    Sheppard: P = N(a)·N(b) + 1/2π ∫₀^asin ρ exp(−(a² + b² − 2ab·sinθ) / (2cos²θ)) dθ. The Fréchet
    bounds N(a) + N(b) − 1 <= P <= min(N(a), N(b)) skip the quadrature when they already pin the term down
    to 1e-15 of the strike-sized multipliers it is used with: about half the terms of a typical quote.
    """
    erfc = math.erfc
    low, high = (a, b) if a < b else (b, a)
    n_low = 0.5 * erfc(-low * _SQRT_HALF)
    above_high = 0.5 * erfc(high * _SQRT_HALF)  # 1 − N(high), without cancelling
    if log_factor < _MAX_EXPONENT:
        factor = math.exp(log_factor)
        if factor * n_low < _NEGLIGIBLE:
            return 0.0
        if factor * above_high < _NEGLIGIBLE:
            return factor * n_low
    n_high = 0.5 * erfc(-high * _SQRT_HALF) if high < 0 else 1.0 - above_high
    scale, points = nodes
    ab, half_squares = a * b, 0.5 * (a * a + b * b)
    exp = math.exp
    total = 0.0
    for ln_w, p, g in points:
        total += exp(ln_w + p * ab - g * half_squares)
    return _scaled(log_factor, max(0.0, n_low * n_high + scale * total))


def _scaled(log_factor: float, probability: float) -> float:
    """exp(log_factor) · probability, without overflow when the factor is huge and the probability tiny."""
    if log_factor < _MAX_EXPONENT:
        return math.exp(log_factor) * probability
    if probability <= 0.0:
        return 0.0
    exponent = log_factor + math.log(probability)
    if exponent > _MAX_EXPONENT:
        raise OverflowError
    return math.exp(exponent)


def _triggers(x: float, t: float, r: float, b: float, v: float) -> tuple[float, float, float]:
    """(β, I1, I2): the exponent of the perpetual call and the flat exercise triggers of the two periods,
    [0, t1] and [t1, T]. Exercising is optimal once the spot reaches I2 (the price is then S − X)."""
    v2 = v * v
    t1 = _SPLIT * t
    beta = (0.5 - b / v2) + math.sqrt((b / v2 - 0.5) ** 2 + 2.0 * r / v2)
    if beta - 1.0 < 1e-9:
        # A rate of (nearly) zero: the triggers are at infinity and early exercise is worth nothing.
        return beta, math.inf, math.inf
    b_inf = beta / (beta - 1.0) * x
    b_0 = max(x, r / (r - b) * x)
    spread = (b_inf - b_0) * b_0
    # -expm1(h) = 1 − e^h without cancelling when h is tiny (minutes to expiry)
    i1 = b_0 - (b_inf - b_0) * math.expm1(-(b * t1 + 2.0 * v * math.sqrt(t1)) * x * x / spread)
    i2 = b_0 - (b_inf - b_0) * math.expm1(-(b * t + 2.0 * v * math.sqrt(t)) * x * x / spread)
    return beta, i1, i2


def _call_value(s: float, x: float, t: float, r: float, b: float, v: float) -> float:
    """The Bjerksund-Stensland (2002) American call in Haug's notation (spot S, strike X, rate r, cost of
    carry b = r − q), for b < r: equation (3.2) of Haug, "The Complete Guide to Option Pricing Formulas".

    Every S^γ is taken relative to a reference (I1, I2 or S) and every power (I/S)^κ in log form, so that
    small volatilities (β in the hundreds) do not overflow; see `_scaled`.
    """
    beta, i1, i2 = _triggers(x, t, r, b, v)
    if s >= i2:
        return s - x
    if math.isinf(i2):
        return 0.0  # the floor (the European value) is the price
    v2, t1 = v * v, _SPLIT * t

    sd1, sd = v * math.sqrt(t1), v * math.sqrt(t)
    ln_s_i1, ln_i2_s, ln_s_x = math.log(s / i1), math.log(i2 / s), math.log(s / x)
    ln_i1_s, ln_s_i2 = -ln_s_i1, -ln_i2_s
    kappa_carry = 2.0 * b / v2 - 1.0  # κ = 2b/σ² + 2γ − 1
    reflect1 = 2.0 * ln_i2_s / sd1  # d − this: the reflected argument of φ
    erfc = math.erfc

    def phi(gamma: float, ln_s_h: float, ln_s_ref: float) -> float:
        """φ(S, t1, γ, H, I2) / ref^γ, with H and ref given as ln(S/H) and ln(S/ref)."""
        drift = b + (gamma - 0.5) * v2
        log_w = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2) * t1 + gamma * ln_s_ref
        d = -(ln_s_h + drift * t1) / sd1
        kappa = kappa_carry + 2.0 * gamma
        n_d, n_reflected = 0.5 * erfc(-d * _SQRT_HALF), 0.5 * erfc((reflect1 - d) * _SQRT_HALF)
        return _scaled(log_w, n_d) - _scaled(log_w + kappa * ln_i2_s, n_reflected)

    def psi(gamma: float, ln_s_hs: tuple[float, ...], ln_s_ref: float) -> list[float]:
        """ψ(S, T, γ, H, I2, I1, t1) / ref^γ for each H given as ln(S/H); ref as ln(S/ref)."""
        drift = b + (gamma - 0.5) * v2
        log_w = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2) * t + gamma * ln_s_ref
        kappa = kappa_carry + 2.0 * gamma
        e1 = -(ln_s_i1 + drift * t1) / sd1
        e2 = -(2.0 * ln_i2_s + ln_s_i1 + drift * t1) / sd1
        e3 = -(ln_s_i1 - drift * t1) / sd1
        e4 = -(2.0 * ln_i2_s + ln_s_i1 - drift * t1) / sd1
        w1, w2 = log_w, log_w + kappa * ln_i2_s
        w3, w4 = log_w + kappa * ln_i1_s, log_w + kappa * (ln_i1_s - ln_i2_s)
        values = []
        for ln_s_h in ln_s_hs:
            f1 = -(ln_s_h + drift * t) / sd
            f2 = -(2.0 * ln_i2_s + ln_s_h + drift * t) / sd
            f3 = -(2.0 * ln_i1_s + ln_s_h + drift * t) / sd
            f4 = -(ln_s_h - 2.0 * (ln_i2_s - ln_i1_s) + drift * t) / sd  # ln(S·I1² / (H·I2²))
            values.append(
                _scaled_bivariate(w1, e1, f1, _POSITIVE)
                - _scaled_bivariate(w2, e2, f2, _POSITIVE)
                - _scaled_bivariate(w3, e3, f3, _NEGATIVE)
                + _scaled_bivariate(w4, e4, f4, _NEGATIVE)
            )
        return values

    # α_j·S^β = (I_j − X)·(S/I_j)^β: the β-terms are scaled by I_j^(−β), the γ = 1 terms by S^(−1).
    a1, a2 = i1 - x, i2 - x
    (psi_beta,) = psi(beta, (ln_s_i1,), ln_s_i1)
    psi_one_i1, psi_one_x = psi(1.0, (ln_s_i1, ln_s_x), 0.0)
    psi_zero_i1, psi_zero_x = psi(0.0, (ln_s_i1, ln_s_x), 0.0)
    return (
        a2 * math.exp(beta * ln_s_i2)
        - a2 * phi(beta, ln_s_i2, ln_s_i2)
        + s * (phi(1.0, ln_s_i2, 0.0) - phi(1.0, ln_s_i1, 0.0))
        - x * (phi(0.0, ln_s_i2, 0.0) - phi(0.0, ln_s_i1, 0.0))
        + a1 * phi(beta, ln_s_i1, ln_s_i1)
        - a1 * psi_beta
        + s * (psi_one_i1 - psi_one_x)
        - x * (psi_zero_i1 - psi_zero_x)
    )


def _check_carry(rate: float, dividend_yield: float) -> None:
    # Negative rates or yields leave the trigger formulas' domain (a square root of a negative number).
    if not rate >= 0 or math.isinf(rate):
        raise ValueError(f"rate {rate}: must be zero or a positive, finite annual decimal")
    if not dividend_yield >= 0 or math.isinf(dividend_yield):
        raise ValueError(
            f"dividend_yield {dividend_yield}: must be zero or a positive, finite annual decimal"
        )


def _as_call(
    call: bool, spot: float, strike: float, rate: float, q: float
) -> tuple[float, float, float, float] | None:
    """(S, X, r, b) of the call problem to solve, or None when early exercise is never optimal (b ≥ r)."""
    # The put-call transformation: a put on S struck at K is valued as a call on K struck at S with the
    # rate and the dividend yield swapped, P(S, K, r, b) = C(K, S, r − b, −b).
    s, x, r, b = (spot, strike, rate, rate - q) if call else (strike, spot, q, q - rate)
    return None if b >= r else (s, x, r, b)


def price(
    option_type: str,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    vol: float,
    dividend_yield: float = 0.0,
) -> float:
    """American option value in dollars per share (Bjerksund-Stensland 2002, never below intrinsic value).

    At or past expiry (`years <= 0`) it is the intrinsic value. With `vol <= 0` it is the larger of the
    intrinsic value and the European zero-volatility value.
    """
    call = bs.is_call(option_type)
    _check_carry(rate, dividend_yield)
    european = bs.price(option_type, spot, strike, years, rate, vol, dividend_yield)  # validates inputs
    intrinsic = max(0.0, spot - strike) if call else max(0.0, strike - spot)
    floor = max(european, intrinsic)
    problem = _as_call(call, spot, strike, rate, dividend_yield)
    if years <= 0 or vol <= 0 or problem is None:
        return floor
    s, x, r, b = problem
    try:
        value = _call_value(s, x, years, r, b, vol)
    except OverflowError:
        # Only at volatilities of a few percent, far below the trigger, where the premium is negligible.
        return floor
    return max(floor, value) if math.isfinite(value) else floor


def exercise_now(
    option_type: str,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    vol: float,
    dividend_yield: float = 0.0,
) -> bool:
    """True when the approximation exercises at once: the option is then worth exactly its intrinsic
    value. At or past expiry, true when the option is in the money."""
    call = bs.is_call(option_type)
    _check_carry(rate, dividend_yield)
    in_the_money = spot > strike if call else spot < strike
    if years <= 0:
        return in_the_money
    problem = _as_call(call, spot, strike, rate, dividend_yield)
    if vol <= 0 or problem is None or not in_the_money:
        return False
    s, x, r, b = problem
    return s >= _triggers(x, years, r, b, vol)[2]


def greeks(
    option_type: str,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    vol: float,
    dividend_yield: float = 0.0,
) -> bs.Greeks:
    """Greeks per share in `black_scholes` units: those of the European option (analytic BSM with the dividend
    yield), or of intrinsic value (delta ±1, all else 0) where immediate exercise is optimal."""
    if exercise_now(option_type, spot, strike, years, rate, vol, dividend_yield):
        return bs.Greeks(1.0 if bs.is_call(option_type) else -1.0, 0.0, 0.0, 0.0, 0.0)
    return bs.greeks(option_type, spot, strike, years, rate, vol, dividend_yield)
