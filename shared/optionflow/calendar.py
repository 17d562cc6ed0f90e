"""The NYSE calendar in New York time.

Closures and 13:00 early closes both come from the `holidays` package (`financial_holidays("NYSE")`, whose
`half_day` category carries the early closes: the day after Thanksgiving, Christmas Eve when it is a
trading day, July 3 when Independence Day falls Tuesday to Friday, plus historical one-offs). One source
for both keeps them from disagreeing; tests check them against the exchange's published 2026-2027 schedule.

Regular hours only (9:30-16:00 ET). Some ETF and index options trade until 16:15 (13:15 on early-close
days); callers that care add that themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
OPEN, CLOSE, EARLY_CLOSE = time(9, 30), time(16, 0), time(13, 0)


@dataclass(frozen=True)
class Session:
    """One regular trading session; `open` and `close` are aware datetimes in New York time."""

    date: date
    open: datetime
    close: datetime  # 13:00 on early-close days

    @property
    def early_close(self) -> bool:
        return self.close.time() == EARLY_CLOSE


@lru_cache(maxsize=128)
def _named_closures(year: int) -> dict[date, str]:
    """Full closures of one year, with the holiday's name."""
    # Imported on first use: `holidays` costs ~100 ms to import, which a cold start that never
    # consults the calendar should not pay.
    import holidays

    return dict(holidays.financial_holidays("NYSE", years=year))


@lru_cache(maxsize=128)
def _year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(full closures, 13:00 early closes) of one year."""
    import holidays

    early = holidays.financial_holidays("NYSE", years=year, categories=("half_day",))
    return frozenset(_named_closures(year)), frozenset(early)


def _is_trading_day(d: date) -> bool:
    return d.weekday() < 5 and d not in _year(d.year)[0]


@lru_cache(maxsize=1024)
def _session(d: date) -> Session | None:
    """NyseCalendar.session, remembered: the pipeline asks for today's session for every signal and order
    (a Session is immutable, so one instance serves every caller)."""
    if not _is_trading_day(d):
        return None
    close = EARLY_CLOSE if d in _year(d.year)[1] else CLOSE
    # combine() with a ZoneInfo picks the right UTC offset for that date, so DST needs no special case
    return Session(d, datetime.combine(d, OPEN, NEW_YORK), datetime.combine(d, close, NEW_YORK))


def trading_date(at: datetime) -> date:
    """The New York calendar date of an aware instant (any time zone)."""
    if at.tzinfo is None:
        raise ValueError(f"{at.isoformat()} is naive: pass an aware datetime")
    return at.astimezone(NEW_YORK).date()


class NyseCalendar:
    """Regular sessions of the New York Stock Exchange; US equity options follow the same days."""

    def is_trading_day(self, d: date) -> bool:
        return _is_trading_day(d)

    def holiday_name(self, d: date) -> str | None:
        """The name of the exchange holiday on `d` (e.g. "Good Friday"), or None when it is not one."""
        return _named_closures(d.year).get(d)

    def is_early_close(self, d: date) -> bool:
        """True when `d` is a trading day that closes at 13:00 ET."""
        return self.is_trading_day(d) and d in _year(d.year)[1]

    def session(self, d: date) -> Session | None:
        """The session on `d`, or None when the exchange is closed all day."""
        return _session(d)

    def is_open(self, at: datetime) -> bool:
        """Whether regular trading is under way at the aware instant `at`: open <= at < close."""
        session = self.session(trading_date(at))
        return session is not None and session.open <= at < session.close

    def next_trading_day(self, d: date) -> date:
        """The first trading day strictly after `d`."""
        d += timedelta(days=1)
        while not self.is_trading_day(d):
            d += timedelta(days=1)
        return d

    def previous_trading_day(self, d: date) -> date:
        """The last trading day strictly before `d`."""
        d -= timedelta(days=1)
        while not self.is_trading_day(d):
            d -= timedelta(days=1)
        return d

    def trading_days_between(self, a: date, b: date) -> int:
        """Trading days in (a, b]: after `a`, up to and including `b`; negative when `b` is before `a`.

        Half-open so that counts chain: between(a, b) + between(b, c) == between(a, c).
        """
        if b < a:
            return -self.trading_days_between(b, a)
        return sum(self.is_trading_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))
