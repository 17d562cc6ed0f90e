"""Expiry: which one to choose, when a contract stops trading, and what it is worth once it has.

Weekly options expire on Friday, or on the trading day before when Friday is an exchange holiday (Good
Friday, Juneteenth, July 3 or Christmas on a Friday → Thursday). Only the standard weekly (Friday) series
is modelled: daily and Monday/Wednesday expiries exist for some names but must come from the broker's
listed expirations, not from a calendar rule.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from optionflow.calendar import NyseCalendar
from optionflow.pricing.black_scholes import is_call

_FRIDAY = 4


def weekly_expiry_on_or_after(d: date, calendar: NyseCalendar) -> date:
    """The weekly expiry of the week holding `d` (Friday, or the last trading day before a Friday holiday);
    the next week's when that one is already before `d` (e.g. `d` is a Saturday)."""
    friday = d + timedelta(days=(_FRIDAY - d.weekday()) % 7)
    while True:
        expiry = friday if calendar.is_trading_day(friday) else calendar.previous_trading_day(friday)
        if expiry >= d:
            return expiry
        friday += timedelta(days=7)


def choose_expiry(today: date, min_days_to_expiry: int, calendar: NyseCalendar) -> date:
    """The nearest weekly expiry more than `min_days_to_expiry` calendar days after `today`.

    Strictly more, so a new position is not born inside its own days-to-expiry time-stop window and
    closed by the exit monitor on its first pass.
    """
    if min_days_to_expiry < 0:
        raise ValueError(f"min_days_to_expiry {min_days_to_expiry}: must be zero or more")
    return weekly_expiry_on_or_after(today + timedelta(days=min_days_to_expiry + 1), calendar)


def expiry_close(expiry: date, calendar: NyseCalendar) -> datetime:
    """The aware instant (New York time) a contract expiring on `expiry` stops trading and has no value
    left but its intrinsic value: the close of the expiry session, 16:00, or 13:00 on early-close days.

    An `expiry` on a day the exchange is closed (a weekend or a holiday) means the close of the trading day
    before: that is where an expiry falling on a holiday moves, and what the Saturday dates of monthly
    symbols before 2015 meant. Whether such a date names a listed contract at all is for
    `pricing.contracts.listed_contract_problems` to say.

    ETF and index options on some names trade until 16:15 (13:15 on early closes); the stock exchange's
    close is used for all, as that is when the underlying's closing price is set.
    """
    session = calendar.session(expiry) or calendar.session(calendar.previous_trading_day(expiry))
    assert session is not None  # previous_trading_day only returns trading days
    return session.close


EXERCISE_THRESHOLD = Decimal("0.01")


def settlement_value(option_type: str, strike: Decimal, underlying_close: Decimal) -> Decimal:
    """What an expired CALL or PUT is worth, in dollars per share (× the multiplier for per contract).

    The intrinsic value at the underlying's closing price on the expiry session, when the contract is in
    the money by at least $0.01 (OCC exercises those automatically); 0 otherwise. Exact: no rounding.
    """
    call = is_call(option_type)
    strike, underlying_close = Decimal(strike), Decimal(underlying_close)
    if not (strike.is_finite() and strike > 0):
        raise ValueError(f"strike {strike}: must be a positive number of dollars")
    if not (underlying_close.is_finite() and underlying_close >= 0):
        raise ValueError(f"underlying_close {underlying_close}: must be a non-negative number of dollars")
    intrinsic = underlying_close - strike if call else strike - underlying_close
    return intrinsic if intrinsic >= EXERCISE_THRESHOLD else Decimal(0)
