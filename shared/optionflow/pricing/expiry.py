"""Expiry choice: weekly options expire on Friday, or on the trading day before when Friday is a holiday."""

from __future__ import annotations

from datetime import date, timedelta

from optionflow.market.calendar import NyseCalendar


def weekly_expiry_on_or_after(d: date, calendar: NyseCalendar) -> date:
    """The weekly expiry of the week holding `d` if it is not past, else of the next week."""
    friday = d + timedelta(days=(4 - d.weekday()) % 7)
    while True:
        expiry = friday if calendar.is_trading_day(friday) else calendar.previous_trading_day(friday)
        if expiry >= d:
            return expiry
        friday += timedelta(days=7)


def choose_expiry(today: date, min_days_to_expiry: int, calendar: NyseCalendar) -> date:
    """The nearest weekly expiry more than `min_days_to_expiry` calendar days away, so a new position is
    not born inside its own DTE time-stop window."""
    candidate = weekly_expiry_on_or_after(today, calendar)
    while (candidate - today).days <= min_days_to_expiry:
        candidate = weekly_expiry_on_or_after(candidate + timedelta(days=1), calendar)
    return candidate
