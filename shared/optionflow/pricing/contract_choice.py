"""Choosing a contract from a listed chain: the expiry by a days-to-expiry window, the strike at the money,
by target delta or by steps from the money, and the liquidity guards a chosen contract must pass.

Pure functions over what a chain lists (dates, strikes, deltas, bid/ask, open interest), so they can be
tested with tables and hypothesis; `logic.orders` feeds them the provider's chain. Nothing here guesses a
grid: a strike or expiry that is not in the lists given is never returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

ATM = "atm"
DELTA = "delta"
STEPS = "steps"
METHODS = (ATM, DELTA, STEPS)


def days_to_expiry(expiry: date, today: date) -> int:
    """Calendar days from `today` (New York) to `expiry`: 0 on the expiry day."""
    return (expiry - today).days


def choose_expiry_in_window(expiries: Sequence[date], today: date, min_dte: int, max_dte: int) -> date | None:
    """The nearest listed expiry with `min_dte` <= days to expiry <= `max_dte` (0 allows today's, 0DTE);
    None when the window holds none."""
    inside = [e for e in expiries if min_dte <= days_to_expiry(e, today) <= max_dte]
    return min(inside) if inside else None


def nearest_strike(strikes: Sequence[Decimal], spot: Decimal) -> Decimal:
    """The listed strike nearest `spot` (dollars per share); exactly halfway, the higher one (as
    `strikes.atm_strike` rounds). Raises ValueError for an empty list."""
    if not strikes:
        raise ValueError("no strikes listed")
    return min(strikes, key=lambda k: (abs(k - spot), -k))


def strike_by_steps(
    strikes: Sequence[Decimal], spot: Decimal, option_type: str, steps: int
) -> Decimal | None:
    """The listed strike `steps` listed strikes from the money, out of the money for positive steps (higher
    for a call, lower for a put) and into it for negative ones; None past the end of the list."""
    ordered = sorted(set(strikes))
    index = ordered.index(nearest_strike(ordered, spot))
    index += steps if option_type == "CALL" else -steps
    return ordered[index] if 0 <= index < len(ordered) else None


def strike_by_delta(candidates: Sequence[tuple[Decimal, float | None]], target: Decimal) -> Decimal | None:
    """The listed strike whose |delta| is nearest `target` (0 to 1; puts' negative deltas count by size),
    from (strike, delta) pairs; the lower strike on a tie; None when no candidate has a delta."""
    priced = [(abs(abs(Decimal(repr(d))) - target), k) for k, d in candidates if d is not None]
    return min(priced)[1] if priced else None


def _percent(x: Decimal) -> str:
    return f"{(x * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"


def liquidity_problems(
    bid: Decimal, ask: Decimal, open_interest: int, max_spread_share: Decimal | None, min_open_interest: int
) -> list[str]:
    """Why a contract quoted `bid`/`ask` (dollars per share) with `open_interest` contracts is too thin to
    trade: a spread wider than `max_spread_share` of the mid (a fraction: 0.10 = 10 %; None: no limit) or
    open interest under `min_open_interest`; empty when it passes."""
    problems = []
    if max_spread_share is not None:
        mid = (bid + ask) / 2
        spread = ask - bid
        if mid <= 0:
            problems.append(f"no market: bid {bid}, ask {ask}")
        elif spread / mid > max_spread_share:
            problems.append(
                f"spread {spread} is {_percent(spread / mid)} of mid {mid.quantize(Decimal('0.01'), ROUND_HALF_UP)}, "
                f"above the {_percent(max_spread_share)} limit"
            )
    if open_interest < min_open_interest:
        problems.append(f"open interest {open_interest} is below the minimum of {min_open_interest}")
    return problems
