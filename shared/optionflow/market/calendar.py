"""The NYSE calendar in New York time: holidays from the `holidays` package, early closes by NYSE rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

NEW_YORK = ZoneInfo("America/New_York")
OPEN, CLOSE, EARLY_CLOSE = time(9, 30), time(16, 0), time(13, 0)


@dataclass(frozen=True)
class Session:
    date: date
    open: datetime  # aware, New York time
    close: datetime  # aware, New York time; 13:00 on early-close days

    @property
    def early_close(self) -> bool:
        return self.close.time() == EARLY_CLOSE


@lru_cache(maxsize=64)
def _closures(year: int) -> frozenset[date]:
    return frozenset(holidays.financial_holidays("NYSE", years=year))


def trading_date(at: datetime) -> date:
    """The New York calendar date of an instant."""
    return at.astimezone(NEW_YORK).date()


class NyseCalendar:
    """Sessions of the New York Stock Exchange (regular hours; options on it follow the same days)."""

    def is_trading_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in _closures(d.year)

    def is_early_close(self, d: date) -> bool:
        """NYSE closes at 13:00 on the day after Thanksgiving, on Christmas Eve and on July 3 when
        Independence Day falls Tuesday to Friday — when those days are trading days."""
        if not self.is_trading_day(d):
            return False
        if d.month == 11 and d.weekday() == 4:
            thanksgiving = d - timedelta(days=1)
            return thanksgiving in _closures(d.year) and 22 <= thanksgiving.day <= 28
        if d.month == 12 and d.day == 24:
            return True
        return d.month == 7 and d.day == 3 and date(d.year, 7, 4).weekday() in (1, 2, 3, 4)

    def session(self, d: date) -> Session | None:
        if not self.is_trading_day(d):
            return None
        close = EARLY_CLOSE if self.is_early_close(d) else CLOSE
        return Session(d, datetime.combine(d, OPEN, NEW_YORK), datetime.combine(d, close, NEW_YORK))

    def is_open(self, at: datetime) -> bool:
        if at.tzinfo is None:
            raise ValueError("is_open needs an aware datetime")
        session = self.session(trading_date(at))
        return session is not None and session.open <= at < session.close

    def next_trading_day(self, d: date) -> date:
        d += timedelta(days=1)
        while not self.is_trading_day(d):
            d += timedelta(days=1)
        return d

    def previous_trading_day(self, d: date) -> date:
        d -= timedelta(days=1)
        while not self.is_trading_day(d):
            d -= timedelta(days=1)
        return d

    def trading_days_between(self, start: date, end: date) -> int:
        """Trading days in (start, end]."""
        count, d = 0, start
        while d < end:
            d += timedelta(days=1)
            count += self.is_trading_day(d)
        return count
