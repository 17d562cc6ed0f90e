"""Expiry choice. Weekly options expire on Friday, or on the trading day before when Friday is an
exchange holiday (Good Friday, Juneteenth, July 3 or Christmas on a Friday → Thursday).

Only the standard weekly (Friday) series is modelled: daily and Monday/Wednesday expiries exist for some
names but must come from the broker's listed expirations, not from a calendar rule.
"""

from __future__ import annotations

from datetime import date, timedelta

from optionflow.market.calendar import NyseCalendar

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
