"""What a standard US equity or ETF option chain lists: the expiries and strikes the simulator offers, so
that contract choice runs on a listed chain in simulation as it does on a real provider's.

Expiries, as the exchanges list them (a model, not any one name's exact series):

- the weekly (Friday) series for the next `WEEKLY_WEEKS` weeks (Thursday when Friday is a holiday);
- the standard monthly (third Friday) for the next `MONTHLY_MONTHS` months;
- January LEAPS for the next `LEAPS_YEARS` years;
- for the names with daily expiries (`DAILY_EXPIRIES`: SPY, QQQ, as the exchanges list every trading day),
  every trading day of the next `DAILY_DAYS` days, so 0DTE exists where it exists in reality.

Strikes: the near-the-money grid of `strikes.strike_increment` (SPY $1, $5 for a $25-$200 stock, ...),
`STRIKES_EACH_SIDE` steps either side of a reference price (the underlying at the last close, so the listed
strikes do not move during a session). Every listed contract passes `contracts.listed_contract_problems`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from optionflow.calendar import NyseCalendar
from optionflow.pricing.expiry import weekly_expiry_on_or_after
from optionflow.pricing.strikes import strike_increment

WEEKLY_WEEKS = 8
MONTHLY_MONTHS = 12
LEAPS_YEARS = 2
DAILY_DAYS = 14
STRIKES_EACH_SIDE = 40
DAILY_EXPIRIES = frozenset({"SPY", "QQQ"})
_FRIDAY = 4


def monthly_expiry(year: int, month: int, calendar: NyseCalendar) -> date:
    """The standard monthly expiry: the third Friday, or the trading day before it when it is a holiday."""
    first = date(year, month, 1)
    friday = first + timedelta(days=(_FRIDAY - first.weekday()) % 7 + 14)
    return friday if calendar.is_trading_day(friday) else calendar.previous_trading_day(friday)


def listed_expiries(ticker: str, today: date, calendar: NyseCalendar) -> tuple[date, ...]:
    """The expiries listed for `ticker` on `today` (a New York date), today's included, ascending."""
    found: set[date] = set()
    week = weekly_expiry_on_or_after(today, calendar)
    for _ in range(WEEKLY_WEEKS):
        found.add(week)
        week = weekly_expiry_on_or_after(week + timedelta(days=1), calendar)
    year, month = today.year, today.month
    for _ in range(MONTHLY_MONTHS + 1):
        found.add(monthly_expiry(year, month, calendar))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    for years in range(1, LEAPS_YEARS + 1):
        found.add(monthly_expiry(today.year + years, 1, calendar))
    if ticker in DAILY_EXPIRIES:
        day = today
        while day <= today + timedelta(days=DAILY_DAYS):
            if calendar.is_trading_day(day):
                found.add(day)
            day += timedelta(days=1)
    return tuple(sorted(d for d in found if d >= today))


def listed_strikes(ticker: str, reference: Decimal) -> tuple[Decimal, ...]:
    """The strikes (dollars per share) listed around `reference` (dollars per share), ascending: the
    near-the-money increment, `STRIKES_EACH_SIDE` steps either side of the strike nearest `reference`,
    none at or below zero."""
    if not reference > 0:
        raise ValueError(f"reference {reference}: must be a positive price")
    step = strike_increment(ticker, reference)
    centre = (reference / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return tuple(
        centre + i * step for i in range(-STRIKES_EACH_SIDE, STRIKES_EACH_SIDE + 1) if centre + i * step > 0
    )
