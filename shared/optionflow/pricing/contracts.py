"""Whether a strike and expiry can name a listed contract, said in words a trader understands.

A first screen for an alert that names its own contract, before any broker is asked. It refuses only what
no standard US equity or ETF chain lists, and is lenient wherever real chains vary:

- Expiries are trading days, not in the past, and at most three years out: LEAPS, the longest equity
  options, reach a little under three years (some index options list further; they are not traded here).
  Any trading day passes: daily, Monday and Wednesday expiries exist for many names, and only the broker's
  list of expirations knows which.
- Strikes fit an OCC symbol (positive, below 100,000, at most three decimals) and sit on a standard grid:
  multiples of $0.50 below $100, and whole dollars or multiples of $2.50 from $100 up. The $1, $2.50 and
  $0.50 strike programmes make those grids common, so nothing finer is required in general.
- Near the money (within 10 % of the spot), the index ETFs and indices whose chains are known
  (`strikes.LISTED_INCREMENTS`: SPY, QQQ, IWM, DIA in $1 steps, SPX in $5) must be on their own grid. For
  other names `strikes.strike_increment`'s classic rule is a default for choosing a strike, wider than many
  chains, so it is not used to refuse one.

Strikes adjusted for a corporate action (a special dividend, a split) can sit off these grids, usually
under a new root; the broker's chain stays the authority.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

from optionflow.calendar import NyseCalendar
from optionflow.pricing.occ import occ_root
from optionflow.pricing.strikes import LISTED_INCREMENTS

LONGEST_LISTED_YEARS = 3
NEAR_THE_MONEY = Decimal("0.10")  # the band around the spot, as a fraction, where a known grid is enforced
_MAX_STRIKE = Decimal(100_000)  # 8 digits of thousandths in an OCC symbol
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def listed_contract_problems(
    ticker: str,
    option_type: str | None,
    strike: Decimal,
    expiry: date,
    today: date,
    spot: Decimal,
    calendar: NyseCalendar,
) -> list[str]:
    """Why `ticker` `option_type` `strike` (dollars per share) expiring `expiry` cannot be a listed
    contract as of `today` (a New York date) with the underlying at `spot`; empty when it can be.

    An expiry of today passes: whether its session has already closed is a question of the time of day
    (see `pricing.expiry.expiry_close`). Raises ValueError for a `spot` that is not a positive price.
    """
    if not (isinstance(spot, Decimal) and spot.is_finite() and spot > 0):
        raise ValueError(f"spot {spot!r}: must be a positive Decimal price in dollars")
    problems = []
    try:
        occ_root(ticker)
    except ValueError as refused:
        problems.append(str(refused))
    if option_type not in ("CALL", "PUT"):
        problems.append(f"option type {option_type!r} is neither CALL nor PUT")
    problems += _expiry_problems(expiry, today, calendar)
    problems += _strike_problems(ticker, strike, spot)
    return problems


def _weekday(d: date) -> str:
    return f"{_WEEKDAYS[d.weekday()]} {d.isoformat()}"


def _expiry_problems(expiry: date, today: date, calendar: NyseCalendar) -> list[str]:
    if expiry < today:
        return [f"expiry {expiry.isoformat()} has passed (today is {today.isoformat()})"]
    problems = []
    if not calendar.is_trading_day(expiry):
        previous = _weekday(calendar.previous_trading_day(expiry))
        holiday = calendar.holiday_name(expiry)
        closed = f"an exchange holiday ({holiday})" if holiday else f"a {_WEEKDAYS[expiry.weekday()]}"
        problems.append(
            f"expiry {expiry.isoformat()} is {closed}: options expire on trading days, "
            f"and that week's expire on {previous}"
        )
    try:
        horizon = today.replace(year=today.year + LONGEST_LISTED_YEARS)
    except ValueError:  # February 29
        horizon = today.replace(year=today.year + LONGEST_LISTED_YEARS, day=28)
    if expiry > horizon:
        problems.append(
            f"expiry {expiry.isoformat()} is more than {LONGEST_LISTED_YEARS} years out: the longest-dated "
            f"equity options (LEAPS) are listed to about {horizon.year}"
        )
    return problems


def _strike_problems(ticker: str, strike: Decimal, spot: Decimal) -> list[str]:
    try:
        strike = Decimal(strike)
    except (InvalidOperation, TypeError, ValueError):
        return [f"strike {strike!r} is not a number"]
    if not strike.is_finite() or strike <= 0:
        return [f"strike {strike} must be a positive price in dollars"]
    if strike >= _MAX_STRIKE:
        return [f"strike {strike} is too large for an option symbol, which holds strikes below 100,000"]
    if strike != strike.quantize(Decimal("0.001"), rounding=ROUND_FLOOR):
        return [f"strike {strike} has more than 3 decimals, finer than any option symbol can carry"]
    if strike < 100:
        if strike % Decimal("0.5"):
            return [
                f"strike {strike} is not listed: strikes below $100 are multiples of $0.50 at the finest "
                f"(nearest {_between(strike, Decimal('0.5'))})"
            ]
    elif strike % 1 and strike % Decimal("2.5"):
        return [
            f"strike {strike} is not listed: strikes of $100 and more are whole dollars or multiples of "
            f"$2.50 (nearest {_between(strike, Decimal(1))})"
        ]
    step = LISTED_INCREMENTS.get(ticker)
    if step is not None and abs(strike - spot) <= NEAR_THE_MONEY * spot and strike % step:
        return [
            f"strike {strike} is not listed: {ticker} strikes near the money (spot {spot}) are in "
            f"${step} steps (nearest {_between(strike, step)})"
        ]
    return []


def _between(strike: Decimal, step: Decimal) -> str:
    """The grid points either side of `strike`, e.g. "600 and 601" (just the upper one below the first)."""
    below = (strike / step).to_integral_value(rounding=ROUND_FLOOR) * step
    above = (strike / step).to_integral_value(rounding=ROUND_CEILING) * step
    return f"{below.normalize():f} and {above.normalize():f}" if below > 0 else f"{above.normalize():f}"
